import t from 'tap';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli/main.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';

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
  const cases: Array<[string, (run: string) => void, (run: string) => string]> = [
    ['a checkpoint without its trainer section (was: "Cannot read properties of undefined", exit 1)',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { delete j.trainer; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer" to be an object with the batch sampler's state and the epochs so far, got nothing`],
    ['a sampler position below 0',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.trainer.sampler.position = -1; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.position" to be an integer from 0 and up, got \`-1\``],
    ['an unknown sampling',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.trainer.sampler.sampling = 'sorted'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.sampling" to be one of "replacement", "shuffle", got \`"sorted"\``],
    ['a sampler of another sampling than the run\'s',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.trainer.sampler.sampling = 'shuffle'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.sampler.sampling" to be "replacement" (the run's "sampling"), got "shuffle"`],
    ['an accuracy above 1 in the epochs',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.trainer.epochs[1].trainAccuracy = 2; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "trainer.epochs[1].trainAccuracy" to be a number from 0 to 1, got \`2\``],
    ['a learning rate that is not a number',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.config.learningRate = 'fast'; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "config.learningRate" to be a number above 0, got \`"fast"\``],
    ['a misspelt configuration field',
      (r) => edit(join(r, 'checkpoint.json'), (j) => { j.config.lr = 0.5; }),
      (r) => `Invalid checkpoint \`${join(r, 'checkpoint.json')}\`: expected "config" to hold only known fields, got the unknown field "lr"`],
    ['a config.json edited after the checkpoint (was: the edit silently ignored)',
      (r) => edit(join(r, 'config.json'), (j) => { j.learningRate = 0.5; }),
      (r) => `Expected \`${join(r, 'config.json')}\` to match the checkpoint \`${join(r, 'checkpoint.json')}\`, got "learningRate" \`0.5\` there and \`0.1\` in the checkpoint: a run keeps its configuration when resumed; undo the edit, or give the rate to go on at (\`--lr RATE\`), or start a new run with the new value`],
    ['a config.json with a misspelt field',
      (r) => edit(join(r, 'config.json'), (j) => { j.learningrate = 0.5; }),
      (r) => `Invalid run configuration \`${join(r, 'config.json')}\`: expected only known fields, got the unknown field "learningrate"`],
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

  await t.test('an unchanged run resumes (the checks pass on what gradpool wrote)', async (t) => {
    const resumed = await run(['train', '--resume', original, '--epochs', '3', '--quiet']);
    t.equal(resumed.code, 0, resumed.stderr);
  });
});
