import t from 'tap';
import { ArgumentRangeError, ArgumentTypeError } from '../src/errors.js';
import { Adam, Momentum, SGD, createOptimizer } from '../src/train/optimizers.js';

t.test('SGD is W ← W − η·g (hand computation)', async (t) => {
  const params = Float64Array.from([1, -2, 0.5]);
  new SGD({ learningRate: 0.1 }).step(params, Float64Array.from([0.5, -1, 2]));
  t.same([...params], [1 - 0.1 * 0.5, -2 - 0.1 * -1, 0.5 - 0.1 * 2]);
});

t.test('Momentum follows the book\'s v ← αv − ηg, W ← W + v over two steps', async (t) => {
  const params = Float64Array.from([1]);
  const optimizer = new Momentum({ learningRate: 0.1, momentum: 0.9 });
  optimizer.step(params, Float64Array.from([2]));
  const v1 = -0.1 * 2;
  t.equal(params[0], 1 + v1);
  optimizer.step(params, Float64Array.from([-1]));
  const v2 = 0.9 * v1 - 0.1 * -1;
  t.equal(params[0], 1 + v1 + v2);
  t.equal(optimizer.stepCount, 2);
});

t.test('Adam matches a plain reference implementation of the book\'s update', async (t) => {
  const grads = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.05]];
  const params = Float64Array.from([0.2, -0.7]);
  const optimizer = new Adam({ learningRate: 0.01 });
  const ref = [0.2, -0.7];
  const m = [0, 0];
  const v = [0, 0];
  grads.forEach((g, step) => {
    optimizer.step(params, Float64Array.from(g));
    const iter = step + 1;
    const lrT = 0.01 * Math.sqrt(1 - 0.999 ** iter) / (1 - 0.9 ** iter);
    for (let i = 0; i < 2; i++) {
      m[i] += (1 - 0.9) * (g[i] - m[i]);
      v[i] += (1 - 0.999) * (g[i] ** 2 - v[i]);
      ref[i] -= lrT * m[i] / (Math.sqrt(v[i]) + 1e-7);
    }
  });
  t.same([...params], ref);
});

t.test('state round-trips: a restored optimizer continues identically', async (t) => {
  for (const name of ['sgd', 'momentum', 'adam']) {
    const a = createOptimizer(name, { learningRate: 0.05 });
    const pa = Float64Array.from([1, 2, 3]);
    a.step(pa, Float64Array.from([0.1, -0.2, 0.3]));
    const b = createOptimizer(name, { learningRate: 0.05 });
    b.loadState(a.state(), a.stepCount);
    const pb = pa.slice();
    a.step(pa, Float64Array.from([0.4, 0.5, -0.6]));
    b.step(pb, Float64Array.from([0.4, 0.5, -0.6]));
    t.same([...pb], [...pa], name);
    t.equal(b.stepCount, 2);
  }
});

t.test('hyperparameters are validated at construction', async (t) => {
  t.throws(() => new SGD({ learningRate: 0 }), { name: 'RangeError', message: 'Expected `learningRate` to be a finite number greater than 0, got `0` (number)' });
  t.throws(() => new Momentum({ momentum: 1 }), { name: 'RangeError', message: 'Expected `momentum` to be a finite number from 0 up to but not including 1, got `1` (number)' });
  t.throws(() => new Adam({ beta2: -0.1 }), { name: 'RangeError', message: /Expected `beta2`/ });
  t.throws(() => createOptimizer('rmsprop'), { name: 'RangeError', message: 'Expected `optimizer` to be one of `sgd`, `momentum`, `adam`, got `"rmsprop"` (string)' });
  t.throws(() => new SGD().step(new Float64Array(2), new Float64Array(3)), { name: 'RangeError', message: 'Expected the gradient to have 2 values like the parameters, got 3' });
  const restored = new Momentum();
  restored.loadState({ velocity: new Float64Array(3) }, 1);
  t.throws(() => restored.step(new Float64Array(2), new Float64Array(2)), { name: 'RangeError', message: 'Expected optimizer state `velocity` to have 2 values like the parameters, got 3' });
  t.throws(() => new Momentum().loadState({}, 4), { name: 'RangeError', message: 'Expected optimizer state `velocity` for momentum after 4 steps, got none' });
  t.throws(() => new Adam().loadState({ firstMoment: new Float64Array(2), secondMoment: new Float64Array(3) }, 1), { name: 'RangeError', message: 'Expected the optimizer state tensors firstMoment, secondMoment to have one length, got 2 and 3' });
  t.same(new Adam().hyperparameters, { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
});

t.test('createOptimizer passes every option through (hand computation of one step each)', async (t) => {
  // Momentum, α = 0.5, η = 0.2: v = −0.2·g, W ← W + v; then v = 0.5·v − 0.2·g.
  const momentum = createOptimizer('momentum', { learningRate: 0.2, momentum: 0.5 });
  t.ok(momentum instanceof Momentum);
  const p = Float64Array.of(1);
  momentum.step(p, Float64Array.of(1));
  momentum.step(p, Float64Array.of(1));
  t.equal(p[0], 1 + -0.2 + (0.5 * -0.2 - 0.2), 'the second step keeps half the first');
  // Adam, first step: m = (1−β1)g, v = (1−β2)g², step size η·√(1−β2)/(1−β1), W −= step size · m/(√v + ε).
  const [lr, beta1, beta2, epsilon, g] = [0.1, 0.5, 0.75, 0.25, 2];
  const adam = createOptimizer('adam', { learningRate: lr, beta1, beta2, epsilon });
  t.same(adam.hyperparameters, { learningRate: 0.1, beta1: 0.5, beta2: 0.75, epsilon: 0.25 });
  const q = Float64Array.of(3);
  adam.step(q, Float64Array.of(g));
  const m = (1 - beta1) * g; // 1
  const v = (1 - beta2) * g * g; // 1
  const stepSize = (lr * Math.sqrt(1 - beta2)) / (1 - beta1); // 0.1 · 0.5 / 0.5 = 0.1
  t.equal(q[0], 3 - (stepSize * m) / (Math.sqrt(v) + epsilon), '3 − 0.1·1/(1 + 0.25) = 2.92');
  t.ok(Math.abs(q[0] - 2.92) < 1e-15);
  t.same(createOptimizer('sgd', { learningRate: 0.3 }).hyperparameters, { learningRate: 0.3 });
  // Left out or undefined: the optimizer's own defaults.
  t.same(createOptimizer('adam', { learningRate: undefined, beta2: undefined }).hyperparameters, new Adam().hyperparameters);
  t.same(createOptimizer('momentum').hyperparameters, { learningRate: 0.01, momentum: 0.9 });
});

t.test('createOptimizer refuses an option of another optimizer (it used to be ignored)', async (t) => {
  t.throws(() => createOptimizer('sgd', { momentum: 0.9 } as never), { name: 'RangeError', message: "Expected `options` of createOptimizer('sgd') to have only the keys `learningRate`, got the key `momentum`" });
  t.throws(() => createOptimizer('momentum', { learningRate: 0.1, beta1: 0.9 } as never), { name: 'RangeError', message: "Expected `options` of createOptimizer('momentum') to have only the keys `learningRate`, `momentum`, got the key `beta1`" });
  t.throws(() => createOptimizer('adam', { lr: 0.1 } as never), { name: 'RangeError', message: "Expected `options` of createOptimizer('adam') to have only the keys `learningRate`, `beta1`, `beta2`, `epsilon`, got the key `lr`" });
  // A key given as undefined is one left out, as for the known keys.
  t.same(createOptimizer('sgd', { momentum: undefined } as never).hyperparameters, { learningRate: 0.01 });
});

t.test('optimizer constructors refuse unknown keys and options that are not objects', async (t) => {
  t.throws(() => new SGD({ learningrate: 0.1 } as never), { name: 'RangeError', message: 'Expected `options` of SGD to have only the keys `learningRate`, got the key `learningrate`' });
  t.throws(() => new Momentum({ beta1: 0.9 } as never), { name: 'RangeError', message: 'Expected `options` of Momentum to have only the keys `learningRate`, `momentum`, got the key `beta1`' });
  t.throws(() => new Adam({ momentum: 0.9 } as never), { name: 'RangeError', message: 'Expected `options` of Adam to have only the keys `learningRate`, `beta1`, `beta2`, `epsilon`, got the key `momentum`' });
  t.throws(() => new SGD(null as never), { name: 'TypeError', message: 'Expected `options` to be an object such as { learningRate: 0.01 }, got `null`' });
  t.throws(() => createOptimizer('adam', 0.01 as never), { name: 'TypeError', message: 'Expected `options` to be an object such as { learningRate: 0.01 }, got `0.01` (number)' });
  t.throws(() => new Momentum([0.1] as never), { name: 'TypeError', message: 'Expected `options` to be an object such as { learningRate: 0.01 }, got an array of length 1' });
});

t.test('every hyperparameter is checked, with its name and value', async (t) => {
  const positive = (name: string, got: string) => `Expected \`${name}\` to be a finite number greater than 0, got ${got}`;
  const fraction = (name: string, got: string) => `Expected \`${name}\` to be a finite number from 0 up to but not including 1, got ${got}`;
  const cases: Array<[() => unknown, 'TypeError' | 'RangeError', string]> = [
    [() => new SGD({ learningRate: '0.1' as never }), 'TypeError', positive('learningRate', '`"0.1"` (string)')],
    [() => new SGD({ learningRate: Infinity }), 'RangeError', positive('learningRate', '`Infinity` (number)')],
    [() => new Momentum({ learningRate: -1 }), 'RangeError', positive('learningRate', '`-1` (number)')],
    [() => new Momentum({ momentum: -0.5 }), 'RangeError', fraction('momentum', '`-0.5` (number)')],
    [() => new Momentum({ momentum: NaN }), 'RangeError', fraction('momentum', '`NaN` (number)')],
    [() => new Adam({ learningRate: 0 }), 'RangeError', positive('learningRate', '`0` (number)')],
    [() => new Adam({ beta1: 1 }), 'RangeError', fraction('beta1', '`1` (number)')],
    [() => new Adam({ beta2: -0.1 }), 'RangeError', fraction('beta2', '`-0.1` (number)')],
    [() => new Adam({ epsilon: 0 }), 'RangeError', positive('epsilon', '`0` (number)')],
    [() => new Adam({ epsilon: null as never }), 'TypeError', positive('epsilon', '`null`')],
    [() => createOptimizer('momentum', { momentum: 1.5 }), 'RangeError', fraction('momentum', '`1.5` (number)')],
    [() => createOptimizer('adam', { beta1: '0.9' as never }), 'TypeError', fraction('beta1', '`"0.9"` (string)')],
    [() => createOptimizer(7 as never), 'TypeError', 'Expected `optimizer` to be one of `sgd`, `momentum`, `adam`, got `7` (number)'],
  ];
  for (const [fn, name, message] of cases) {
    const error = (() => { try { fn(); } catch (e) { return e as Error; } return undefined; })();
    t.equal(error?.message, message);
    t.equal(error?.name, name, `${name}: ${message}`);
    t.ok(name === 'TypeError' ? error instanceof ArgumentTypeError : error instanceof ArgumentRangeError, 'an argument error by class');
  }
});

t.test('step and loadState check their arguments', async (t) => {
  t.throws(() => new SGD().step([1, 2] as never, new Float64Array(2)), { name: 'TypeError', message: 'Expected `params` to be a Float64Array, got an array of length 2' });
  t.throws(() => new SGD().step(new Float64Array(2), Float32Array.of(1, 2) as never), { name: 'TypeError', message: 'Expected `grad` to be a Float64Array, got a Float32Array of length 2' });
  t.throws(() => new Adam().loadState({}, -1), { name: 'RangeError', message: 'Expected `stepCount` to be an integer from 0 and up, got `-1` (number)' });
  t.throws(() => new Adam().loadState({}, 1.5), { name: 'RangeError', message: 'Expected `stepCount` to be an integer from 0 and up, got `1.5` (number)' });
  t.throws(() => new Momentum().loadState(null as never, 0), { name: 'TypeError', message: 'Expected `state` to be an object such as { velocity: Float64Array } from state(), got `null`' });
  const mismatch = (() => { try { new SGD().step(new Float64Array(2), new Float64Array(3)); } catch (e) { return e; } return undefined; })();
  t.ok(mismatch instanceof ArgumentRangeError && mismatch instanceof RangeError, 'a length mismatch is an ArgumentRangeError, still a RangeError');
});
