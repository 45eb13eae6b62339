/**
 * The blocked finiteness checks (firstNonFinite, the number[][] copy of
 * toFlatMatrix) against plain loops that test every value on its own, on
 * random arrays with NaN, ±Infinity, non-numbers and ragged rows put in
 * random places, at block edges included.
 */
import t from 'tap';
import { toFlatMatrix } from '../src/batch.js';
import { Random } from '../src/random.js';
import { describe, firstNonFinite } from '../src/validate.js';

const BAD_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
// Finite values whose v − v or sums could go wrong if the check were careless.
const EDGE_NUMBERS = [Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -0, 1e308];
const NOT_NUMBERS: unknown[] = [null, undefined, '1', true, {}, [], 1n];

/** The reference: the first index whose value is not finite, tested one by one. */
function naiveFirstNonFinite(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

t.test('firstNonFinite equals a test of every value, at every length and place', (t) => {
  const random = new Random(12);
  let failures = 0;
  let found = 0;
  for (let trial = 0; trial < 4000; trial++) {
    // Lengths around the block (256) and its 8-value steps, and the tail after the last block.
    const length = trial < 600 ? trial : random.int(1200);
    const values = new Float64Array(length);
    for (let i = 0; i < length; i++) values[i] = random.uniform() < 0.05 ? EDGE_NUMBERS[random.int(EDGE_NUMBERS.length)] : random.normal();
    const bad = length === 0 ? 0 : random.int(4);
    for (let k = 0; k < bad; k++) values[random.int(length)] = BAD_NUMBERS[random.int(3)];
    const expected = naiveFirstNonFinite(values);
    if (expected >= 0) found++;
    if (firstNonFinite(values) !== expected) failures++;
  }
  t.equal(failures, 0, 'the same index (or -1) in all 4000 arrays');
  t.ok(found > 2000, `non-finite values were found in ${found} of them`);
  const atEdges = new Float64Array(1024);
  for (const place of [0, 7, 8, 255, 256, 257, 511, 1023]) {
    atEdges.fill(1);
    atEdges[place] = Number.NaN;
    t.equal(firstNonFinite(atEdges), place, `NaN at ${place}`);
  }
  t.end();
});

/** The reference copy: every row's shape and every value's type first, then the first non-finite value, as messages. */
function naiveFlat(rows: unknown[][]): Float64Array | string {
  const columns = rows[0].length;
  const data = new Float64Array(rows.length * columns);
  let nonFinite = -1;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== columns) return `RangeError: Expected every row of \`x\` to have ${columns} columns like row 0, got ${describe(row)} at row ${r}`;
    for (let c = 0; c < columns; c++) {
      const v = row[c];
      if (typeof v !== 'number') return `TypeError: Expected \`x\` to contain only numbers, got ${describe(v)} at row ${r}, column ${c}`;
      if (!Number.isFinite(v) && nonFinite < 0) nonFinite = r * columns + c;
      data[r * columns + c] = v;
    }
  }
  if (nonFinite >= 0) {
    const where = rows.length > 1 ? ` (row ${Math.floor(nonFinite / columns)}, column ${nonFinite % columns})` : '';
    return `RangeError: Expected \`x\` to contain only finite numbers, got \`${String(data[nonFinite])}\` at index ${nonFinite}${where}`;
  }
  return data;
}

function outcome(rows: unknown[][]): Float64Array | string {
  try {
    return toFlatMatrix(rows as number[][], 'x').data;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

t.test('toFlatMatrix of number[][] copies and rejects as a test of every value does, whatever the faults and their places', (t) => {
  const random = new Random(34);
  let failures = 0;
  const kinds = new Map<string, number>();
  for (let trial = 0; trial < 3000; trial++) {
    const rowCount = 1 + random.int(6);
    // Widths below, at and around the four-value steps of the copy.
    const columns = 1 + random.int(trial % 2 === 0 ? 9 : 40);
    const rows: unknown[][] = [];
    for (let r = 0; r < rowCount; r++) {
      rows.push(Array.from({ length: columns }, () => (random.uniform() < 0.05 ? EDGE_NUMBERS[random.int(EDGE_NUMBERS.length)] : random.normal())));
    }
    const faults = random.int(4);
    for (let k = 0; k < faults; k++) {
      const r = random.int(rowCount);
      const kind = random.int(10);
      if (kind < 6) rows[r][random.int(columns)] = BAD_NUMBERS[random.int(3)];
      else if (kind < 9) rows[r][random.int(columns)] = NOT_NUMBERS[random.int(NOT_NUMBERS.length)];
      // A ragged row after the first (the first sets the width).
      else if (r > 0) rows[r] = rows[r].slice(0, random.int(columns));
    }
    const expected = naiveFlat(rows);
    const got = outcome(rows);
    const kind = typeof expected === 'string' ? expected.slice(0, expected.indexOf(' to ')) : 'copied';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const same = typeof expected === 'string' ? got === expected
      : got instanceof Float64Array && got.length === expected.length && got.every((v, i) => Object.is(v, expected[i]));
    if (!same) {
      failures++;
      if (failures <= 3) t.fail(`trial ${trial}: expected ${typeof expected === 'string' ? expected : 'a copy'}, got ${typeof got === 'string' ? got : 'a copy'}`);
    }
  }
  t.equal(failures, 0, 'the same copy or the same error in all 3000 batches');
  // Every outcome was exercised: copies, ragged rows, non-numbers and non-finite numbers.
  t.same([...kinds.keys()].sort(), ['RangeError: Expected `x`', 'RangeError: Expected every row of `x`', 'TypeError: Expected `x`', 'copied'], `outcomes: ${JSON.stringify(Object.fromEntries(kinds))}`);
  t.end();
});

t.test('toFlatMatrix of number[][]: what it tests is what it stores, and holes and non-array rows are named', (t) => {
  // A getter that gives another value on each read: a row read twice must not keep a value it did not test.
  const flaky = (values: unknown[]) => {
    const row = [1, 2, 3, 4, 5];
    let reads = 0;
    Object.defineProperty(row, 2, { get: () => values[Math.min(reads++, values.length - 1)], enumerable: true });
    return row;
  };
  const accepted = toFlatMatrix([[0, 0, 0, 0, 0], flaky([Number.NaN, 7])], 'x');
  t.same([...accepted.data.subarray(5)], [1, 2, 7, 4, 5], 'the finite value read by the check is the one stored');
  const filled = (length: number) => new Float64Array(length).fill(9);
  t.throws(() => toFlatMatrix([flaky(['a', Number.POSITIVE_INFINITY])], 'x', filled),
    { name: 'RangeError', message: 'Expected `x` to contain only finite numbers, got `Infinity` at index 2' },
    'the non-finite value named is the one read, not what the buffer held');
  t.throws(() => toFlatMatrix([[1, 2, 3], [1, , 3]] as number[][], 'x'),
    { name: 'TypeError', message: 'Expected `x` to contain only numbers, got `undefined` at row 1, column 1' }, 'a hole is an undefined value');
  t.throws(() => toFlatMatrix([[1, 2], null] as unknown as number[][], 'x'),
    { name: 'RangeError', message: 'Expected every row of `x` to have 2 columns like row 0, got `null` at row 1' }, 'a row that is null');
  t.throws(() => toFlatMatrix([[1, 2], 3] as unknown as number[][], 'x'),
    { name: 'RangeError', message: 'Expected every row of `x` to have 2 columns like row 0, got `3` (number) at row 1' }, 'a row that is a number');
  t.end();
});
