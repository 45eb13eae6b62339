/**
 * The benchmark result committed in benchmarks/results/ is one this version of
 * `gradpool bench` could have written (its schema), and the README's results
 * section shows that very run: a schema change or a new run without the other
 * would leave the README quoting figures no file holds.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { BENCH_SCHEMA_VERSION, validateBenchResult, type BenchResult } from '../benchmarks/result.js';

const results = new URL('../benchmarks/results/', import.meta.url);
const latest = JSON.parse(readFileSync(new URL('latest.json', results), 'utf8')) as BenchResult;
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = /## Results on this machine\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';

t.test('the committed result is valid for this version of the bench', async (t) => {
  t.equal(latest.schemaVersion, BENCH_SCHEMA_VERSION, 'written by this schema version');
  t.same(validateBenchResult(latest), [], 'validates against the schema');
  t.ok(existsSync(new URL('latest.svg', results)) && existsSync(new URL('latest.png', results)), 'its chart is there too');
});

t.test('the README\'s benchmark block is the committed run', async (t) => {
  t.not(section, '', 'the README has a results section');
  const block = /```\n(gradpool bench:[\s\S]*?)```/.exec(section)?.[1] ?? '';
  t.not(block, '', 'the results section shows a bench run');
  const [configuration] = latest.configurations;
  const goal = (id: string) => configuration.goals.find((g) => g.id === id)?.value ?? Number.NaN;
  const kernelRatio = goal('kernelRatio');
  const serialMs = goal('serialMs');
  t.ok(Number.isFinite(kernelRatio) && Number.isFinite(serialMs), 'the run has a kernel ratio and a serial part');
  // The goals block prints these two from the JSON's values, with 3 significant digits and 3 decimals.
  t.match(block, new RegExp(`\\n {4}kernel ratio: [^\\n]*  ${kernelRatio.toFixed(2)}×  `), `the kernel ratio ${kernelRatio}`);
  t.match(block, new RegExp(`\\n {4}serial part of a pool call, Trainer's pattern \\(2 threads\\), median ms per call +${serialMs.toFixed(3)} ms`), `the serial part ${serialMs}`);
  t.match(block, `Wall time ${(latest.wallMilliseconds / 1000).toFixed(1)}s.`, 'the run\'s wall time');
});
