/** `gradpool gradcheck`: the book's chapter 5 gradient check, numerical against backprop, per tensor. */
import os from 'node:os';
import { evenlySpacedRows, takeRows } from '../data/dataset.js';
import { loadDatasetSpec } from '../run/load-dataset-spec.js';
import { ACTIVATIONS } from '../kernels/two-layer.js';
import { TwoLayerNet, type NetGradient } from '../nets/two-layer-net.js';
import { GradientPool, MAX_THREADS } from '../parallel/gradient-pool.js';
import { NUMERICAL_ENGINES, type NumericalEngine } from '../engine.js';
import type { CommandIo } from './io.js';
import { helpText, parseOptions, type OptionTable } from './options.js';

export const GRADCHECK_OPTIONS = {
  dataset: { type: 'string', default: 'mnist', placeholder: 'SPEC', description: 'Dataset whose training samples (evenly spaced) are used' },
  samples: { type: 'integer', min: 1, max: 10_000, default: 3, description: 'Samples in the batch (the book uses 3)' },
  hidden: { type: 'integer', min: 1, max: 100_000, default: 50, description: 'Hidden units' },
  activation: { type: 'choice', choices: ACTIVATIONS, default: 'sigmoid', description: 'Hidden activation' },
  engine: { type: 'choice', choices: NUMERICAL_ENGINES, default: 'incremental', description: 'Numerical engine' },
  seed: { type: 'integer', min: 0, max: 0xffffffff, default: 0, description: 'Seed of the weights' },
  threads: { type: 'integer', min: 1, max: MAX_THREADS, default: os.availableParallelism(), description: 'Worker threads' },
  json: { type: 'boolean', description: 'Print the result as one JSON object' },
} as const satisfies OptionTable;

const TENSORS = ['W1', 'b1', 'W2', 'b2'] as const;

export function meanAbsoluteDifference(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Per tensor mean |numerical − backprop|, as the book's chapter 5 gradient check prints. */
export function gradientCheck(numerical: NetGradient, backprop: NetGradient): Record<(typeof TENSORS)[number], number> {
  return Object.fromEntries(TENSORS.map((name) => [name, meanAbsoluteDifference(numerical[name], backprop[name])])) as Record<(typeof TENSORS)[number], number>;
}

export async function gradcheckCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions('gradcheck', GRADCHECK_OPTIONS, argv);
  if (options.help) {
    io.stdout.write(`${helpText('gradcheck', 'The book\'s gradient check: mean |numerical − backprop| per tensor on a few training samples.', GRADCHECK_OPTIONS)}\n`);
    return 0;
  }
  const dataset = await loadDatasetSpec(options.dataset);
  const rows = Math.min(options.samples, dataset.train.rows);
  const net = new TwoLayerNet({ inputSize: dataset.inputSize, hiddenSize: options.hidden, outputSize: dataset.classes, activation: options.activation as 'sigmoid' | 'relu', seed: options.seed });
  // Evenly spaced rows: the split is stored class by class, so its first rows are all one digit; each
  // stretch's middle row, not its first (the spiral's first point of every class is the origin, whose
  // zero inputs leave every W1 gradient 0: nothing to compare).
  const picked = takeRows(dataset.train, evenlySpacedRows(rows, dataset.train.rows, true));
  const x = { data: picked.x, rows, columns: dataset.inputSize };
  const t = picked.labels;
  const pool = new GradientPool({ threads: options.threads });
  try {
    const started = performance.now();
    const numerical = await pool.numericalGradient(net, x, t, { engine: options.engine as NumericalEngine });
    const milliseconds = performance.now() - started;
    const backprop = net.gradient(x, t);
    const book = gradientCheck(numerical, backprop);
    const exact = gradientCheck(numerical, net.gradient(x, t, { exact: true }));
    // A difference of 0 where both gradients are all 0 compared nothing: said, not shown as a perfect match.
    const allZero = TENSORS.filter((name) => numerical[name].every((v) => v === 0) && backprop[name].every((v) => v === 0));
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ dataset: options.dataset, samples: rows, shape: net.shape, engine: options.engine, milliseconds, book, exact, allZero })}\n`);
    } else {
      io.stdout.write(`Gradient check, ${net.shape.inputSize}-${net.shape.hiddenSize}-${net.shape.outputSize} ${net.shape.activation}, ${rows} samples of ${options.dataset}, ${options.engine} numerical gradient (${milliseconds.toFixed(1)} ms):\n`);
      io.stdout.write('        vs book backprop   vs exact backprop (incl. the 1e-7 in the log)\n');
      for (const name of TENSORS) io.stdout.write(`  ${name.padEnd(4)}  ${book[name].toExponential(3).padStart(16)}   ${exact[name].toExponential(3).padStart(16)}\n`);
      if (allZero.length > 0) {
        io.stdout.write(`Note: every gradient of ${allZero.join(', ')} is 0 on these samples (zero inputs, or inactive units): nothing compared there; try other --samples or --seed\n`);
      }
    }
    return 0;
  } finally {
    await pool.destroy();
  }
}
