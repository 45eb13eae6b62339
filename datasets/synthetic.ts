/** Small seeded 2-D datasets (spiral, xor) for quick runs and tests. */
import { Random } from '../src/random.js';
import { argumentRangeError, argumentTypeError, assertInteger } from '../src/validate.js';
import { takeRows, type Dataset, type Split } from '../src/data/dataset.js';
import { trainCount } from './split-per-label.js';

/** Options of {@link spiral}: the size of the set and its noise. */
export interface SpiralOptions {
  /**
   * Points of each class (arm), 3 to 1,000,000: at least 3 so that each class
   * has test points.
   *
   * @default 100
   */
  pointsPerClass?: number;
  /**
   * Number of arms (classes), 2 to 1000.
   *
   * @default 3
   */
  classes?: number;
  /**
   * Seed of the angle noise, an integer from 0 to 2³² − 1: the same seed gives the same points.
   *
   * @default 0
   */
  seed?: number;
  /**
   * Standard deviation of the angle noise, in radians, 0 and up (0: points exactly on the arms).
   *
   * @default 0.2
   */
  noise?: number;
}

/** Options of {@link xor}: the size of the set and its noise. */
export interface XorOptions {
  /**
   * Points of each class, 3 to 1,000,000.
   *
   * @default 100
   */
  pointsPerClass?: number;
  /**
   * Seed of the noise, an integer from 0 to 2³² − 1: the same seed gives the same points.
   *
   * @default 0
   */
  seed?: number;
  /**
   * Standard deviation of the Gaussian noise around each corner, 0 and up.
   *
   * @default 0.15
   */
  noise?: number;
}

const MAX_POINTS_PER_CLASS = 1_000_000;

/**
 * The classic CS231n spiral: `classes` arms of `pointsPerClass` 2-D points. For
 * arm j, point i (of N) has radius r = i / (N − 1) and angle
 * θ = 4j + 4i / (N − 1) + noise · N(0, 1), and is (r sin θ, r cos θ) with label j.
 * Seeded by `seed`; the split is deterministic: in each class, 20 % of the
 * points (N − round(0.8 N)), evenly spaced along the arm, are test points, the
 * rest train. Rows are ordered by class, then along the arm. Small, yet not
 * linearly separable: a quick check that a net and its training work.
 *
 * @param options - `pointsPerClass` (default 100), `classes` (default 3), `seed` (default 0), `noise` (default 0.2).
 * @returns The dataset `spiral`: `inputSize` 2, 80 % of each arm to train.
 * @throws {ArgumentRangeError} ``Expected `pointsPerClass` to be an integer from 3 to 1000000, got `2` (number)``, and likewise for `classes` and `seed` (an ArgumentTypeError for a non-number).
 * @throws {RangeError} ``Expected `noise` to be a finite number from 0 and up, got `-1` (number)`` (a TypeError for a non-number).
 * @example
 * const { train, test } = spiral(); // 240 train and 60 test points of 3 classes
 */
export function spiral(options: SpiralOptions = {}): Dataset {
  const { pointsPerClass = 100, classes = 3, seed = 0, noise = 0.2 } = options;
  checkCommon(pointsPerClass, seed, noise);
  assertInteger('classes', classes, 2, 1000);
  const random = new Random(seed);
  const n = pointsPerClass;
  const all = emptySplit(n * classes);
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < n; i++) {
      const row = j * n + i;
      const r = i / (n - 1);
      const theta = 4 * j + (4 * i) / (n - 1) + noise * random.normal();
      all.x[2 * row] = r * Math.sin(theta);
      all.x[2 * row + 1] = r * Math.cos(theta);
      all.labels[row] = j;
    }
  }
  return { name: 'spiral', inputSize: 2, classes, ...evenSplit(all, classes, n) };
}

/**
 * The XOR problem (the book's chapter 2 gate) as a point cloud: class
 * x1 XOR x2 around the four corners (x1, x2) ∈ {0, 1}² — class 0 at (0, 0) and
 * (1, 1), class 1 at (0, 1) and (1, 0), alternating between a class's two
 * corners — each point the corner plus `noise` · N(0, 1) per coordinate. Seeded
 * by `seed`; split deterministically like {@link spiral} (20 % of each class,
 * evenly spaced, are test points). Rows are ordered by class. The problem a
 * single layer cannot solve, so it shows the hidden layer at work.
 *
 * @param options - `pointsPerClass` (default 100), `seed` (default 0), `noise` (default 0.15).
 * @returns The dataset `xor`: `inputSize` 2, `classes` 2.
 * @throws {ArgumentRangeError} ``Expected `pointsPerClass` to be an integer from 3 to 1000000, got `2` (number)``, and likewise for `seed` (an ArgumentTypeError for a non-number).
 * @throws {RangeError} ``Expected `noise` to be a finite number from 0 and up, got `-1` (number)`` (a TypeError for a non-number).
 * @example
 * const { train, test } = xor({ pointsPerClass: 50 }); // 80 train and 20 test points
 */
export function xor(options: XorOptions = {}): Dataset {
  const { pointsPerClass = 100, seed = 0, noise = 0.15 } = options;
  checkCommon(pointsPerClass, seed, noise);
  const random = new Random(seed);
  const n = pointsPerClass;
  const corners = [[[0, 0], [1, 1]], [[0, 1], [1, 0]]];
  const all = emptySplit(2 * n);
  for (let label = 0; label < 2; label++) {
    for (let i = 0; i < n; i++) {
      const row = label * n + i;
      const [cx, cy] = corners[label][i % 2];
      all.x[2 * row] = cx + noise * random.normal();
      all.x[2 * row + 1] = cy + noise * random.normal();
      all.labels[row] = label;
    }
  }
  return { name: 'xor', inputSize: 2, classes: 2, ...evenSplit(all, 2, n) };
}

function checkCommon(pointsPerClass: number, seed: number, noise: number): void {
  assertInteger('pointsPerClass', pointsPerClass, 3, MAX_POINTS_PER_CLASS);
  assertInteger('seed', seed, 0, 0xffffffff);
  if (typeof noise !== 'number') throw argumentTypeError('noise', 'a finite number from 0 and up', noise);
  if (!Number.isFinite(noise) || noise < 0) throw argumentRangeError('noise', 'a finite number from 0 and up', noise);
}

function emptySplit(rows: number): Split {
  return { x: new Float64Array(rows * 2), labels: new Int32Array(rows), rows };
}

/**
 * Splits `classes` consecutive blocks of `n` rows: in each block, n − round(0.8 n)
 * test rows spread evenly (row i is a test row when round((i + 1) t / n) steps
 * past round(i t / n)), the others train.
 */
function evenSplit(all: Split, classes: number, n: number): { train: Split; test: Split } {
  const testPerClass = n - trainCount(n);
  const trainRows: number[] = [];
  const testRows: number[] = [];
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < n; i++) {
      const isTest = Math.round(((i + 1) * testPerClass) / n) > Math.round((i * testPerClass) / n);
      (isTest ? testRows : trainRows).push(j * n + i);
    }
  }
  return { train: takeRows(all, trainRows), test: takeRows(all, testRows) };
}
