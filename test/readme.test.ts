/**
 * The README's first example runs as written (imports pointed at the sources),
 * and the values its comments show are what it computes.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = /## A first example\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];

t.test('the README\'s first example runs and shows what it computes', async (t) => {
  t.ok(example, 'the README has a first example');
  const source = new URL('../src/index.ts', import.meta.url).href;
  const datasets = new URL('../datasets/index.ts', import.meta.url).href;
  const code = example!
    .replace("from 'gradpool/datasets'", `from '${datasets}'`)
    .replace("from 'gradpool'", `from '${source}'`)
    + '\nexport const shown = { gradient: numericalGradient(function2, new Float64Array([3, 4])), descent: gradientDescent(function2, [-3, 4], { learningRate: 0.1, stepNum: 100 }).x, params: net.params };\n';
  const file = join(t.testdir(), 'example.ts');
  writeFileSync(file, code);
  const { shown } = await import(pathToFileURL(file).href) as { shown: { gradient: Float64Array; descent: Float64Array; params: Float64Array } };
  // The comment next to numericalGradient in the README, and the book's value (book-values.md).
  const comment = /numericalGradient\(function2, new Float64Array\(\[3, 4\]\)\);\s*\/\/ Float64Array \[([^\]]+)\]/.exec(example!)?.[1];
  t.same(Array.from(shown.gradient), comment!.split(',').map(Number), 'the gradient the comment shows');
  t.same(Array.from(shown.gradient), [6.00000000000378, 7.999999999999119], 'the book\'s numerical_gradient(function_2, [3, 4])');
  t.ok(Math.abs(shown.descent[0] + 6.1e-10) < 0.05e-10 && Math.abs(shown.descent[1] - 8.1e-10) < 0.05e-10, `gradient descent ≈ [-6.1e-10, 8.1e-10] as shown: ${Array.from(shown.descent)}`);
  t.ok(shown.params.some((v, i) => i >= 784 * 50 && i < 784 * 50 + 50 && v !== 0), 'the update moved b1 off its zero start');
});

t.test('the README\'s library snippet runs and prints what its comments say', async (t) => {
  const snippet = /## The library\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(snippet, 'the library section has a snippet');
  const directory = t.testdir();
  const printed: string[] = [];
  const code = snippet!
    .replace("from 'gradpool/datasets'", `from '${new URL('../datasets/index.ts', import.meta.url).href}'`)
    .replace("from 'gradpool'", `from '${new URL('../src/index.ts', import.meta.url).href}'`)
    .replace("out: 'runs/spiral'", `out: ${JSON.stringify(join(directory, 'runs', 'spiral'))}`)
    .replaceAll('console.log(', 'print(');
  const file = join(directory, 'snippet.ts');
  // Imports stay at the top of the module; the rest runs inside main, which receives `print`.
  const imports = code.split('\n').filter((line) => line.startsWith('import '));
  const body = code.split('\n').filter((line) => !line.startsWith('import '));
  writeFileSync(file, `${imports.join('\n')}\nexport async function main(print: (...values: unknown[]) => void) {\n${body.join('\n')}\n}\n`);
  const { main } = await import(pathToFileURL(file).href) as { main: (print: (...values: unknown[]) => void) => Promise<void> };
  await main((...values) => printed.push(values.map(String).join(' ')));
  const shown = [...snippet!.matchAll(/console\.log\(.*\); \/\/ (.*?)(?::|$)/gm)].map((match) => match[1]);
  t.same(printed, shown, 'each line printed is the one its comment shows');
  // Independent values: W1 is inputSize × hiddenSize, b2 outputSize; spiral's 240 training points (80 % of 3 × 100) in batches of 20 → 12 per epoch.
  t.equal(printed[0], `${2 * 10} 3`);
  t.equal(printed[1].split(' ')[0], `${60 * Math.ceil(240 / 20)}`);
  // It learns: far above a guess among 3 classes.
  t.ok(Number(printed[1].split(' ')[1]) >= 0.9, `test accuracy ${printed[1].split(' ')[1]} ≥ 0.9`);
});
