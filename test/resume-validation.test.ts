import t from 'tap';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli/main.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { editCheckpoint } from './fixtures/edit-checkpoint.js';

/** Runs the CLI in this process: exit code and output. */
async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk, _enc, done) { append(String(chunk)); done(); } });
  const io = { stdout: sink((s) => { stdout += s; }), stderr: Object.assign(sink((s) => { stderr += s; }), { isTTY: false }) as unknown as NodeJS.WriteStream };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const edit = (file: string, change: (json: Json) => void) => {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Json;
  change(json);
  writeFileSync(file, JSON.stringify(json));
};

t.test('a resumed run\'s files are checked field by field: one line naming the file and the field, exit 2', async (t) => {
  const dir = t.testdir();
  const original = join(dir, 'original');
  const first = await run(['train', '--dataset', 'xor', '--engine', 'backprop', '--batch', '8', '--epochs', '2', '--out', original, '--quiet']);
  t.equal(first.code, 0, first.stderr);
  const savedIteration = (JSON.parse(readFileSync(join(original, 'checkpoint.json'), 'utf8')) as { iteration: number }).iteration;
  // The parser's own message, its line breaks escaped (the parser's wording is Node's).
  const parseErrorOnOneLine = (text: string) => {
    try {
      JSON.parse(text);
    } catch (error) {
      t.match((error as Error).message, /\n/, 'the parser\'s message quotes the line break');
      return (error as Error).message.replaceAll('\n', '\\n');
    }
    throw new Error(`${JSON.stringify(text)} parsed`);
  };
  const cases: Array<[string, (run: string) => void, (run: string) => string]> = [
    ['a checkpoint without its trainer section (was: "Cannot read properties of undefined", exit 1)',
      (r) => editCheckpoint(r, (j) => { delete j.trainer; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer" to be an object with the batch sampler's state and the epochs so far, got nothing`],
    ['a sampler position below 0',
      (r) => editCheckpoint(r, (j) => { j.trainer.sampler.position = -1; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.position" to be an integer from 0 and up, got \`-1\``],
    ['an unknown sampling',
      (r) => editCheckpoint(r, (j) => { j.trainer.sampler.sampling = 'sorted'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.sampling" to be one of "replacement", "shuffle", got \`"sorted"\``],
    ['a sampler of another sampling than the run\'s',
      (r) => editCheckpoint(r, (j) => { j.trainer.sampler.sampling = 'shuffle'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.sampling" to be "replacement" (the run's "sampling"), got "shuffle"`],
    ['an accuracy above 1 in the epochs',
      (r) => editCheckpoint(r, (j) => { j.trainer.epochs[1].trainAccuracy = 2; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.epochs[1].trainAccuracy" to be a number from 0 to 1, got \`2\``],
    ['a learning rate that is not a number',
      (r) => editCheckpoint(r, (j) => { j.config.learningRate = 'fast'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "config.learningRate" to be a number above 0, got \`"fast"\``],
    ['a misspelt configuration field',
      (r) => editCheckpoint(r, (j) => { j.config.lr = 0.5; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "config" to hold only known fields, got the unknown field "lr"`],
    ['a checkpoint.json edited since the save (was: its iteration trusted, the weights of another iteration run as its)',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.iteration -= 4; }),
      (r) => `Checkpoint \`${join(r, 'checkpoint.json')}\` does not match the checkpoint inside \`${join(r, 'checkpoint.safetensors')}\`: expected \`iteration\` ${savedIteration}, got ${savedIteration - 4} (the .json is only a readable copy: remove it to load the .safetensors alone)`],
    ['a checkpoint.json that is not JSON, over two lines (was: a message of two lines)',
      (r) => writeFileSync(join(r, 'checkpoint.json'), 'garbage\n'),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected JSON, got invalid JSON (${parseErrorOnOneLine('garbage\n')})`],
    ['a config.json that is not JSON, over two lines',
      (r) => writeFileSync(join(r, 'config.json'), 'nope\n{'),
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected JSON, got invalid JSON (${parseErrorOnOneLine('nope\n{')})`],
    ['a config.json edited after the checkpoint (was: the edit silently ignored)',
      (r) => edit(join(r, 'config.json'), (j) => { j.learningRate = 0.5; }),
      (r) => `Expected \`${join(r, 'config.json')}\` to match the checkpoint \`${join(r, 'checkpoint.json')}\`, got "learningRate" \`0.5\` there and \`0.1\` in the checkpoint: a run keeps its configuration when resumed; undo the edit, or give the rate to go on at (\`--lr RATE\`), or start a new run with the new value`],
    ['a config.json with a misspelt field',
      (r) => edit(join(r, 'config.json'), (j) => { j.learningrate = 0.5; }),
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected only known fields, got the unknown field "learningrate"`],
    ['a config.json whose sessions are damaged',
      (r) => edit(join(r, 'config.json'), (j) => { j.sessions[0].learningRate = 0; }),
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected "sessions[0].learningRate" to be a number above 0, got \`0\``],
    ['a config.json whose sessions are not a list',
      (r) => edit(join(r, 'config.json'), (j) => { j.sessions = 5; }),
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected "sessions" to be a list of sessions, got \`5\``],
    ['a run without a checkpoint whose config.json lacks its learning rate (was: the default used)',
      (r) => {
        for (const file of ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors']) rmSync(join(r, file));
        edit(join(r, 'config.json'), (j) => { delete j.learningRate; });
      },
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected "learningRate" to be a number above 0, got nothing`],
  ];
  for (const [what, damage, message] of cases) {
    await t.test(what, async (t) => {
      const copy = join(dir, what.replace(/\W+/g, '-'));
      cpSync(original, copy, { recursive: true });
      damage(copy);
      const resumed = await run(['train', '--resume', copy, '--epochs', '3', '--quiet']);
      t.equal(resumed.code, 2);
      t.equal(resumed.stderr, `gradpool train: ${message(copy)}\n`);
    });
  }
  await t.test('a config.json holding the rate given with --lr (a resume at that rate killed before its first save) resumes at it', async (t) => {
    const copy = join(dir, 'rate-given');
    cpSync(original, copy, { recursive: true });
    edit(join(copy, 'config.json'), (j) => { j.learningRate = 0.05; });
    const resumed = await run(['train', '--resume', copy, '--epochs', '3', '--lr', '0.05', '--quiet']);
    t.equal(resumed.code, 0, resumed.stderr);
    t.match(resumed.stderr, /^gradpool train: warning: `--lr 0\.05` replaces the run's learning rate 0\.1 from iteration \d+ on/);
    t.equal((await loadCheckpoint(join(copy, 'checkpoint.json'))).meta.config.learningRate, 0.05, 'the checkpoint records the rate it went on at');
    // config.json edited to a third rate, as a resume at it killed before its first save leaves it: a rate given is not refused for it.
    edit(join(copy, 'config.json'), (j) => { j.learningRate = 0.3; });
    const other = await run(['train', '--resume', copy, '--epochs', '4', '--lr', '0.025', '--quiet']);
    t.equal(other.code, 0, other.stderr);
    t.equal((await loadCheckpoint(join(copy, 'checkpoint.json'))).meta.config.learningRate, 0.025);
    t.equal((JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8')) as { learningRate: number }).learningRate, 0.025);
  });

  await t.test('a resume into another directory stopped before its first save is resumed again from its checkpoint, not restarted from iteration 0', async (t) => {
    const source = join(dir, 'branch-source');
    cpSync(original, source, { recursive: true });
    const whole = join(dir, 'branch-whole');
    // A relative path to the checkpoint's stem, as typed: config.json records the absolute path of its .json.
    const typed = relative(process.cwd(), join(source, 'checkpoint'));
    const first = await run(['train', '--resume', typed, '--epochs', '4', '--lr', '0.05', '--out', whole, '--quiet']);
    t.equal(first.code, 0, first.stderr);
    const sessions = (directory: string) => (JSON.parse(readFileSync(join(directory, 'config.json'), 'utf8')) as { sessions: Json[] }).sessions
      .map(({ startedAt, threads, ...rest }) => rest);
    const iteration = (await loadCheckpoint(join(source, 'checkpoint.json'))).meta.iteration;
    const expected = [{ fromIteration: 0, learningRate: 0.1 }, { fromIteration: iteration, learningRate: 0.05, resumedFrom: join(source, 'checkpoint.json') }];
    t.same(sessions(whole), expected, 'the source\'s session and the resume, its checkpoint by its absolute path');

    // What a kill before the branch's first save leaves: its config.json (written first), no checkpoint.
    const killed = join(dir, 'branch-killed');
    cpSync(whole, killed, { recursive: true });
    for (const file of ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors', 'metrics.jsonl']) rmSync(join(killed, file));
    // Neither --epochs nor --lr: it goes on to the iterations and at the rate the stopped resume was given.
    const again = await run(['train', '--resume', killed]);
    t.equal(again.code, 0, again.stderr);
    t.match(again.stderr, `gradpool train: warning: \`--resume\` \`${killed}\` holds no checkpoint: it is a resume of \`${join(source, 'checkpoint.json')}\` stopped before its first save; resuming that checkpoint again\n`);
    t.match(again.stderr, `gradpool train: warning: the stopped resume's learning rate 0.05 replaces the run's learning rate 0.1 from iteration ${iteration} on `);
    t.match(again.stderr, `gradpool: resuming ${join(source, 'checkpoint.json')} at iteration ${iteration} of `);
    const [wholeModel, againModel] = await Promise.all([loadCheckpoint(join(whole, 'model.json')), loadCheckpoint(join(killed, 'model.json'))]);
    t.equal(againModel.meta.iteration, wholeModel.meta.iteration);
    t.same(Buffer.from(againModel.params.buffer), Buffer.from(wholeModel.params.buffer), 'the weights of the uninterrupted branch, bit for bit');
    t.same(sessions(killed), expected, 'the stopped session trained nothing kept: it is left out');
    t.equal(readFileSync(join(killed, 'metrics.jsonl'), 'utf8'), readFileSync(join(whole, 'metrics.jsonl'), 'utf8'), 'and the curves are the uninterrupted branch\'s');

    const orphan = join(dir, 'branch-orphan');
    cpSync(killed, orphan, { recursive: true });
    for (const file of ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors']) rmSync(join(orphan, file));
    edit(join(orphan, 'config.json'), (j) => { j.sessions.at(-1).resumedFrom = join(dir, 'gone', 'checkpoint.json'); });
    const gone = await run(['train', '--resume', orphan, '--epochs', '4', '--quiet']);
    t.equal(gone.code, 2);
    const stopped = (directory: string, from: string) => `gradpool train: Expected \`--resume\` to be a run with a checkpoint or one to restart, got \`${directory}\`, which holds no checkpoint: it is a resume of \`${from}\` from iteration ${iteration}, stopped before its first save`;
    t.equal(gone.stderr, `${stopped(orphan, join(dir, 'gone', 'checkpoint.json'))}, and that checkpoint is gone\n`);
    // A damaged config.json naming a directory (its own, here) is not followed: once resumed, it would be resumed again without end.
    edit(join(orphan, 'config.json'), (j) => { j.sessions.at(-1).resumedFrom = orphan; });
    const self = await run(['train', '--resume', orphan, '--quiet']);
    t.equal(self.stderr, `${stopped(orphan, orphan)}, and that checkpoint is gone\n`);

    // The same stopped resume once its source has trained on: the checkpoint is no longer where the branch began.
    const movedOn = join(dir, 'branch-moved-on');
    cpSync(killed, movedOn, { recursive: true });
    for (const file of ['checkpoint.json', 'checkpoint.safetensors', 'model.json', 'model.safetensors']) rmSync(join(movedOn, file));
    const sourceOn = await run(['train', '--resume', source, '--epochs', '3', '--quiet']);
    t.equal(sourceOn.code, 0, sourceOn.stderr);
    const later = (await loadCheckpoint(join(source, 'checkpoint.json'))).meta.iteration;
    t.ok(later > iteration);
    const moved = await run(['train', '--resume', movedOn, '--quiet']);
    t.equal(moved.code, 2);
    t.equal(moved.stderr, `${stopped(movedOn, join(source, 'checkpoint.json'))}, and that checkpoint has moved on to iteration ${later}; resume it into a new directory, or start \`${movedOn}\` anew\n`);
    // A stopped resume recording its checkpoint as a stem (what a run before the .json was recorded could leave) is found.
    edit(join(movedOn, 'config.json'), (j) => { j.sessions.at(-1).resumedFrom = join(source, 'checkpoint'); j.sessions.at(-1).fromIteration = later; });
    const stem = await run(['train', '--resume', movedOn, '--iters', String(later + 8), '--quiet']);
    t.equal(stem.code, 0, stem.stderr);
    t.equal((await loadCheckpoint(join(movedOn, 'checkpoint.json'))).meta.iteration, later + 8);
  });

  await t.test('another checkpoint in a run\'s directory (a copy from an earlier iteration) does not take config.json\'s sessions, which may not be its history', async (t) => {
    const source = join(dir, 'snapshot-source');
    cpSync(original, source, { recursive: true });
    for (const extension of ['json', 'safetensors']) cpSync(join(source, `checkpoint.${extension}`), join(source, `snapshot.${extension}`));
    const on = await run(['train', '--resume', source, '--epochs', '3', '--lr', '0.05', '--quiet']);
    t.equal(on.code, 0, on.stderr);
    const out = join(dir, 'snapshot-branch');
    const branched = await run(['train', '--resume', join(source, 'snapshot.json'), '--epochs', '3', '--out', out, '--quiet']);
    t.equal(branched.code, 0, branched.stderr);
    const recorded = (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { sessions: Json[] }).sessions;
    t.same(recorded.map(({ resumedFrom, learningRate }) => ({ resumedFrom, learningRate })), [{ resumedFrom: join(source, 'snapshot.json'), learningRate: 0.1 }],
      'only its own session: the source\'s, at 0.05 from the snapshot\'s iteration on, is not this branch\'s past');
  });

  await t.test('an unchanged run resumes (the checks pass on what gradpool wrote)', async (t) => {
    const resumed = await run(['train', '--resume', original, '--epochs', '3', '--quiet']);
    t.equal(resumed.code, 0, resumed.stderr);
  });
});
