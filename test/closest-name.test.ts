/**
 * The "did you mean" hint of an unknown option: edit distances counted by
 * hand, and which names it suggests or not.
 */
import t from 'tap';
import { closestName, editDistance } from '../src/cli/closest-name.js';

t.test('edit distance: insertions, deletions, substitutions and swaps of neighbours, counted by hand', async (t) => {
  t.equal(editDistance('iter', 'iters'), 1, 'one insertion');
  t.equal(editDistance('hiden', 'hidden'), 1, 'one insertion inside');
  t.equal(editDistance('trheads', 'threads'), 1, 'one swap of neighbours');
  t.equal(editDistance('bach', 'batch'), 1);
  t.equal(editDistance('lrr', 'lr'), 1, 'one deletion');
  t.equal(editDistance('seed', 'sand'), 2, 'two substitutions');
  t.equal(editDistance('seed', 'send'), 1, 'one substitution');
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('kitten', 'sitting'), 3, 'the textbook example');
  t.equal(editDistance('same', 'same'), 0);
});

t.test('the nearest known name, when it is near and alone', async (t) => {
  const train = ['dataset', 'hidden', 'activation', 'batch', 'lr', 'iters', 'epochs', 'threads', 'seed', 'out', 'json', 'quiet'];
  t.equal(closestName('iter', train), 'iters');
  t.equal(closestName('thread', train), 'threads');
  t.equal(closestName('trheads', train), 'threads');
  t.equal(closestName('lrr', train), 'lr');
  t.equal(closestName('activ', train), 'activation', 'the only name it begins');
  t.equal(closestName('bogus', train), undefined, 'nothing near');
  t.equal(closestName('e', train), undefined, 'too short to guess');
  t.equal(closestName('set', ['seed', 'sed']), 'sed', 'one edit beats two');
  t.equal(closestName('bat', ['bag', 'bad']), undefined, 'two equally near: no guess');
  t.equal(closestName('out', ['output', 'outdir']), undefined, 'a prefix of two names, neither near: no guess');
});
