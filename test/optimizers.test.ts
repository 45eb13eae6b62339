import t from 'tap';
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
