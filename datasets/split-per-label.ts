/**
 * How the loaders split a labelled set by themselves: per label, in file
 * order, 80 % to training.
 */
import { takeRows, type Split } from '../src/data/dataset.js';

/** Share of each class (or of each digit file) that goes to the training split when a loader splits by itself. */
export const TRAIN_FRACTION = 0.8;

/** How many of `n` samples of one class go to the training split: `Math.round(0.8 · n)`. */
export function trainCount(n: number): number {
  return Math.round(TRAIN_FRACTION * n);
}

/**
 * Splits rows per label in their order: the first `Math.round(0.8 · n)` rows of
 * each label (n = that label's row count) are train, the rest test. Rows keep
 * their original relative order within each split.
 */
export function splitPerLabel(all: Split): { train: Split; test: Split } {
  const counts = new Map<number, number>();
  for (let i = 0; i < all.rows; i++) counts.set(all.labels[i], (counts.get(all.labels[i]) ?? 0) + 1);
  const seen = new Map<number, number>();
  const trainRows: number[] = [];
  const testRows: number[] = [];
  for (let i = 0; i < all.rows; i++) {
    const label = all.labels[i];
    const k = seen.get(label) ?? 0;
    seen.set(label, k + 1);
    (k < trainCount(counts.get(label)!) ? trainRows : testRows).push(i);
  }
  return { train: takeRows(all, trainRows), test: takeRows(all, testRows) };
}

/** `classes` for a set of labels: largest label + 1, and at least 2. */
export function classesOf(...labelSets: Int32Array[]): number {
  let max = 0;
  for (const labels of labelSets) for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return Math.max(2, max + 1);
}
