import { existsSync } from 'node:fs';
/**
 * `--with-numpy`: times the book's own numpy code (numpy_naive.py) on the same
 * batch and weights, so "faster than the book's approach" is a measured ratio.
 * The batch and weights go to a temporary directory as raw float64
 * little-endian values plus a JSON header; Python prints JSON timings. The
 * environment is passed through untouched (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE,
 * OPENBLAS_NUM_THREADS… may be set on the machine: they are recorded, never
 * changed), so numpy uses its default BLAS threading.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PreparedBatch, TwoLayerNet } from '../src/nets/two-layer-net.js';
import { extrapolateMilliseconds, type TensorName, type TensorSample } from './naive-sample.js';

// Beside this file in benchmarks/; from the compiled dist/benchmarks/, tsc does not copy
// the .py, so fall back to the source folder.
const besideThisFile = fileURLToPath(new URL('./numpy_naive.py', import.meta.url));
export const NUMPY_SCRIPT = existsSync(besideThisFile) ? besideThisFile : fileURLToPath(new URL('../../benchmarks/numpy_naive.py', import.meta.url));

export interface NumpyAvailability {
  available: boolean;
  /** Why numpy cannot be used, or null. */
  reason: string | null;
  pythonVersion: string | null;
  numpyVersion: string | null;
}

/** Whether `python -c "import numpy"` works. */
export function checkNumpy(python: string): NumpyAvailability {
  const probe = spawnSync(python, ['-c', 'import platform, numpy; print(platform.python_version(), numpy.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return { available: false, reason: `\`${python}\` could not be run (${probe.error.message})`, pythonVersion: null, numpyVersion: null };
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').pop() ?? '';
    return { available: false, reason: `\`${python} -c "import numpy"\` failed${last ? `: ${last}` : ` with exit code ${probe.status}`}`, pythonVersion: null, numpyVersion: null };
  }
  const [pythonVersion = null, numpyVersion = null] = probe.stdout.trim().split(/\s+/);
  return { available: true, reason: null, pythonVersion, numpyVersion };
}

/** What numpy_naive.py prints. */
export interface NumpyScriptOutput {
  python: string;
  numpy: string;
  blas: string | null;
  env: Record<string, string | null>;
  sampled: boolean;
  msByTensor: Record<TensorName, number[]>;
  gradient: Record<TensorName, number[]>;
  loss: number;
  cpuSeconds: number;
}

export interface NumpyRun {
  output: NumpyScriptOutput;
  /** Extrapolated milliseconds per full gradient, one per repetition. */
  extrapolatedMs: number[];
  /** The gradient at the sampled parameters, in the order of the sample. */
  values: Float64Array;
}

function littleEndian(values: readonly Float64Array[]): Buffer {
  const length = values.reduce((sum, v) => sum + v.length, 0);
  const buffer = Buffer.alloc(length * 8);
  let offset = 0;
  for (const array of values) {
    for (let i = 0; i < array.length; i++, offset += 8) buffer.writeDoubleLE(array[i], offset);
  }
  return buffer;
}

function runPython(python: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${python} ${args.join(' ')} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/**
 * Runs the book's numerical gradient in numpy on the sampled parameters of
 * `net` for `batch` (`reps` timed repetitions after `warmup`).
 */
export async function measureNumpy(
  python: string, net: TwoLayerNet, batch: PreparedBatch, samples: readonly TensorSample[], reps: number, warmup: number, h: number,
): Promise<NumpyRun> {
  if (net.shape.activation !== 'sigmoid') throw new Error('The numpy comparison implements the book\'s sigmoid net only');
  const directory = await mkdtemp(join(os.tmpdir(), 'gradpool-numpy-'));
  try {
    const { inputSize, hiddenSize, outputSize } = net.shape;
    await writeFile(join(directory, 'input.bin'), littleEndian([batch.x.subarray(0, batch.rows * inputSize), net.params]));
    const header = {
      rows: batch.rows, inputSize, hiddenSize, outputSize, h, data: 'input.bin',
      labels: Array.from(batch.labels.subarray(0, batch.rows)),
      sample: Object.fromEntries(samples.map((s) => [s.tensor, s.indices])),
      reps, warmup,
    };
    await writeFile(join(directory, 'input.json'), JSON.stringify(header));
    const output = JSON.parse(await runPython(python, [NUMPY_SCRIPT, join(directory, 'input.json')])) as NumpyScriptOutput;
    const extrapolatedMs = Array.from({ length: reps }, (_, r) => extrapolateMilliseconds(samples, samples.map((s) => output.msByTensor[s.tensor][r])));
    const values = new Float64Array(samples.flatMap((s) => output.gradient[s.tensor]));
    return { output, extrapolatedMs, values };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Largest |a − b| (NaN if the lengths differ). */
export function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Number.NaN;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

