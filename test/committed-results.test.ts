/**
 * The benchmark result committed in benchmarks/results/ is one this version of
 * `gradpool bench` could have written (its schema), and the README's results
 * section shows that very run: its bench block, and the last column of its
 * table of runs ("run 4 (above)"), typed by hand, hold the JSON's figures. A
 * schema change or a new run without the other would leave the README quoting
 * figures no file holds.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { BENCH_SCHEMA_VERSION, validateBenchResult, type BenchResult } from '../benchmarks/result.js';
import { formatDuration } from '../src/report/format-duration.js';

const results = new URL('../benchmarks/results/', import.meta.url);
const latest = JSON.parse(readFileSync(new URL('latest.json', results), 'utf8')) as BenchResult;
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\r\n/g, '\n');
const section = /## Results on this machine\n([\s\S]*?)(?=\n## |$)/.exec(readme)?.[1] ?? '';
const [configuration] = latest.configurations;
const goal = (id: string) => configuration.goals.find((g) => g.id === id)?.value ?? Number.NaN;

t.test('the committed result is valid for this version of the bench', async (t) => {
  t.equal(latest.schemaVersion, BENCH_SCHEMA_VERSION, 'written by this schema version');
  t.same(validateBenchResult(latest), [], 'validates against the schema');
  t.ok(existsSync(new URL('latest.svg', results)) && existsSync(new URL('latest.png', results)), 'its chart is there too');
});

t.test('the README\'s benchmark block is the committed run', async (t) => {
  t.not(section, '', 'the README has a results section');
  const block = /```\n(gradpool bench:[\s\S]*?)```/.exec(section)?.[1] ?? '';
  t.not(block, '', 'the results section shows a bench run');
  const kernelRatio = goal('kernelRatio');
  t.ok(Number.isFinite(kernelRatio), 'the run has a kernel ratio');
  // The goals block prints the ratio with 2 decimals, as the table below does.
  t.match(block, new RegExp(`\\n {4}kernel ratio: [^\\n]*  ${kernelRatio.toFixed(2)}×  `), `the kernel ratio ${kernelRatio}`);
  t.ok(block.includes(`\nWall time ${formatDuration(latest.wallMilliseconds)}.\n`), 'the run\'s wall time');
});

t.test('the last column of the README\'s table of runs is the committed run', async (t) => {
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length > 3 && cells[0] === '' && !cells[1].startsWith('-')) rows.set(cells[1], cells.at(-2)!);
  }
  const cell = (label: string) => [...rows].find(([figure]) => figure.startsWith(label))?.[1];
  const epoch = (engine: string, threads: number) => configuration.epochs.find((e) => e.engine === engine && e.threads === threads)?.epochMs ?? Number.NaN;
  const backprop = configuration.measurements.find((m) => m.engine === 'backprop')?.msPerGradient.median ?? Number.NaN;
  const serialThreads = configuration.serial.find((part) => part.pattern === 'trainer')?.threads;
  const firstPlace = configuration.measurements.find((m) => m.engine === 'incremental' && m.where === 'pool' && m.threads === serialThreads)?.overheadMsByBlockPosition?.[0] ?? Number.NaN;
  const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;
  const expected: [label: string, shown: string][] = [
    ['backprop on the main thread, one gradient', backprop.toFixed(3)],
    ['kernel ratio', `${goal('kernelRatio').toFixed(2)}×`],
    ['serial part of a pool call, Trainer', goal('serialMs').toFixed(3)],
    ['… the first place of a block', firstPlace.toFixed(3)],
    ['… the host\'s wake-up of threads asleep as long', goal('wakeAfterRoundMs').toFixed(3)],
    ['… the round they slept', String(Math.round(configuration.wakeAfterRound?.pauseMs ?? Number.NaN))],
    ['… the last place of a block', goal('serialMsBackToBack').toFixed(3)],
    ['… the Trainer\'s own calls', goal('serialMsTrainerRun').toFixed(3)],
    ['Amdahl\'s law at 16 threads from', `${goal('amdahlAt16').toFixed(1)}×`],
    ['… were the serial part only the threads\' wake-ups', `${goal('amdahlAt16WakeUpsOnly').toFixed(1)}×`],
    ['of ceiling at 2 threads, Trainer', percent(goal('ofCeilingTrainer'))],
    ['of ceiling at 2 threads, library', percent(goal('ofCeilingLibrary'))],
    ['… its tasks and wake-ups alone', percent(goal('ofCeilingFloorLibrary'))],
    ['epoch, incremental at 2 threads', String(Math.round(epoch('incremental', 2)))],
    ['epoch, incremental at its best', String(Math.round(goal('epochIncremental')))],
    ['epoch, backprop on the main thread', String(Math.round(goal('epochBackprop')))],
    ['epoch, @tensorflow/tfjs', String(Math.round(goal('epochPeer')))],
  ];
  t.equal(rows.size - 1, expected.length, 'a figure for every row of the table (and its header)');
  for (const [label, shown] of expected) t.equal(cell(label), shown, label);
});
