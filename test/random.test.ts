/**
 * Seeded random numbers: reproducible streams, exact continuation from a saved
 * state, and the distributions (checked statistically with tolerances of 5
 * standard errors, i.e. a false alarm about once in 1.7 million runs per check,
 * and deterministic anyway since the seeds are fixed).
 */
import t from 'tap';
import { Random } from '../src/index.js';

/** A mixed sequence of draws, as training uses them. */
function mixedDraws(random: Random, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0: out.push(random.uniform()); break;
      case 1: out.push(random.normal()); break;
      case 2: out.push(random.int(1000)); break;
      default: out.push(...random.permutation(5)); break;
    }
  }
  return out;
}

t.test('the same seed gives the same stream; other seeds give other streams', (t) => {
  t.same(mixedDraws(new Random(7), 400), mixedDraws(new Random(7), 400), 'seed 7 twice');
  const streams = [0, 1, 2, 2 ** 31, 2 ** 32 - 1].map((seed) => mixedDraws(new Random(seed), 40));
  for (let a = 0; a < streams.length; a++) {
    for (let b = a + 1; b < streams.length; b++) t.notSame(streams[a], streams[b], `seed index ${a} vs ${b} differ`);
  }
  t.same(mixedDraws(new Random(), 20), mixedDraws(new Random(0), 20), 'the default seed is 0');
  t.end();
});

t.test('getState/fromState continues the exact same stream', (t) => {
  const random = new Random(11);
  mixedDraws(random, 37);
  const state = random.getState();
  const expected = mixedDraws(random, 200);
  t.same(mixedDraws(Random.fromState(state), 200), expected, 'restored from the state object');
  t.same(mixedDraws(Random.fromState(JSON.parse(JSON.stringify(state))), 200), expected, 'restored after a JSON round trip (checkpoints)');
  t.end();
});

t.test('getState/fromState keeps a pending spare normal', (t) => {
  const random = new Random(12);
  const first = random.normal(); // the polar method makes two: one is kept
  const state = random.getState();
  t.type(state.spareNormal, 'number', 'a spare normal is pending');
  t.not(state.spareNormal, first);
  const restored = Random.fromState(state);
  const next = random.normal();
  t.equal(next, state.spareNormal, 'the next normal is the spare');
  t.equal(restored.normal(), next, 'the restored generator returns the same spare');
  t.same(mixedDraws(restored, 50), mixedDraws(random, 50), 'and continues identically after it');
  if (random.getState().spareNormal !== null) random.normal(); // use up a pending spare
  t.equal(random.getState().spareNormal, null, 'no spare once it is used');
  const afterPair = random.getState();
  random.normal();
  random.normal();
  t.equal(random.getState().spareNormal, null, 'none after another pair either');
  t.equal(Random.fromState(afterPair).normal(), Random.fromState(afterPair).normal(), 'restoring twice gives the same draws');
  t.end();
});

t.test('getState returns a snapshot, not a live view', (t) => {
  const random = new Random(13);
  const state = random.getState();
  const before = JSON.stringify(state);
  random.uniform();
  random.normal();
  t.equal(JSON.stringify(state), before, 'drawing does not change an earlier state');
  state.generator[0] ^= 1;
  t.not(JSON.stringify(random.getState()), JSON.stringify(state), 'editing the snapshot does not change the generator');
  t.end();
});

t.test('uniform is in [0, 1) on the 2^-53 grid with mean ≈ 1/2', (t) => {
  const random = new Random(21);
  const n = 100_000;
  let sum = 0;
  let inRange = true;
  let onGrid = true;
  for (let i = 0; i < n; i++) {
    const u = random.uniform();
    if (!(u >= 0 && u < 1)) inRange = false;
    if (!Number.isInteger(u * 2 ** 53)) onGrid = false;
    sum += u;
  }
  t.ok(inRange, 'every draw in [0, 1)');
  t.ok(onGrid, 'every draw a multiple of 2^-53');
  // Standard error of the mean of U(0, 1): 1/√(12n) ≈ 9.1e-4.
  t.ok(Math.abs(sum / n - 0.5) < 5 / Math.sqrt(12 * n), `mean ${sum / n} within 5 SE of 0.5`);
  t.end();
});

t.test('normal draws: mean ≈ 0, std ≈ 1 over 100k draws, normal shape', (t) => {
  const random = new Random(22);
  const n = 100_000;
  const draws = new Float64Array(n);
  for (let i = 0; i < n; i++) draws[i] = random.normal();
  let sum = 0;
  for (const v of draws) sum += v;
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let within1 = 0;
  let within2 = 0;
  for (const v of draws) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    if (Math.abs(v) < 1) within1++;
    if (Math.abs(v) < 2) within2++;
  }
  const std = Math.sqrt(m2 / (n - 1));
  const skew = m3 / n / std ** 3;
  // Standard errors for n N(0, 1) draws: mean 1/√n ≈ 3.2e-3; sample std
  // ≈ 1/√(2n) ≈ 2.2e-3; skewness √(6/n) ≈ 7.7e-3; a fraction p: √(p(1−p)/n).
  t.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean} within 5 SE (${(5 / Math.sqrt(n)).toFixed(4)}) of 0`);
  t.ok(Math.abs(std - 1) < 5 / Math.sqrt(2 * n), `std ${std} within 5 SE (${(5 / Math.sqrt(2 * n)).toFixed(4)}) of 1`);
  t.ok(Math.abs(skew) < 5 * Math.sqrt(6 / n), `skewness ${skew} within 5 SE of 0`);
  const p1 = 0.6826894921370859; // P(|Z| < 1) = erf(1/√2)
  const p2 = 0.9544997361036416; // P(|Z| < 2) = erf(√2)
  t.ok(Math.abs(within1 / n - p1) < 5 * Math.sqrt((p1 * (1 - p1)) / n), `P(|z| < 1) = ${within1 / n} ≈ ${p1}`);
  t.ok(Math.abs(within2 / n - p2) < 5 * Math.sqrt((p2 * (1 - p2)) / n), `P(|z| < 2) = ${within2 / n} ≈ ${p2}`);
  t.ok(draws.every(Number.isFinite), 'all finite');
  t.end();
});

t.test('fillNormal(out, std) is std times the normal stream', (t) => {
  const filled = new Random(23).fillNormal(new Float64Array(7), 0.5);
  const plain = new Random(23);
  t.same(Array.from(filled), Array.from({ length: 7 }, () => 0.5 * plain.normal()));
  const unit = new Random(23).fillNormal(new Float64Array(3));
  const plain1 = new Random(23);
  t.same(Array.from(unit), [plain1.normal(), plain1.normal(), plain1.normal()], 'default std 1');
  t.end();
});

t.test('permutation is a permutation', (t) => {
  const random = new Random(24);
  for (const n of [0, 1, 2, 10, 1000]) {
    const order = random.permutation(n);
    t.type(order, Int32Array);
    t.same(Array.from(order).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `n = ${n}: each of 0..${n - 1} once`);
  }
  t.notSame(Array.from(new Random(1).permutation(50)), Array.from(new Random(2).permutation(50)), 'different seeds shuffle differently');
  t.notSame(Array.from(random.permutation(50)), Array.from({ length: 50 }, (_, i) => i), 'not the identity');
  t.end();
});

t.test('permutations of 3 are uniform', (t) => {
  const random = new Random(25);
  const n = 60_000;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = random.permutation(3).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  t.same([...counts.keys()].sort(), ['012', '021', '102', '120', '201', '210'], 'all 6 orders occur');
  // Each order: binomial(n, 1/6), SE √(n·(1/6)·(5/6)) ≈ 91.
  const se = Math.sqrt(n * (1 / 6) * (5 / 6));
  for (const [key, count] of counts) t.ok(Math.abs(count - n / 6) < 5 * se, `${key}: ${count} ≈ ${n / 6}`);
  t.end();
});

t.test('int(n) is an integer in [0, n)', (t) => {
  const random = new Random(26);
  for (const n of [1, 2, 7, 1000, 2 ** 32, 2 ** 32 + 5, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    let ok = true;
    let max = 0;
    for (let i = 0; i < 2000; i++) {
      const v = random.int(n);
      if (!Number.isInteger(v) || v < 0 || v >= n) ok = false;
      max = Math.max(max, v);
    }
    t.ok(ok, `int(${n}): 2000 draws in range`);
    if (n >= 1000) t.ok(max > n / 2, `int(${n}): draws reach the upper half (max ${max})`);
  }
  t.equal(random.int(1), 0, 'int(1) is 0');
  t.end();
});

t.test('int(7) is uniform', (t) => {
  const random = new Random(27);
  const n = 70_000;
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < n; i++) counts[random.int(7)]++;
  // Each value: binomial(n, 1/7), SE √(n·(1/7)·(6/7)) ≈ 93.
  const se = Math.sqrt(n * (1 / 7) * (6 / 7));
  counts.forEach((count, value) => t.ok(Math.abs(count - n / 7) < 5 * se, `${value}: ${count} ≈ ${n / 7}`));
  t.end();
});
