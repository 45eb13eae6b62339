import t from 'tap';
import { touchedArray } from '../src/parallel/touched-array.js';

t.test('touchedArray: a new array of zeros, or undefined when the memory cannot be had', (t) => {
  for (const length of [0, 1, 511, 512, 513, 39_760]) {
    const array = touchedArray(length);
    t.ok(array instanceof Float64Array && array.buffer instanceof ArrayBuffer, `${length}: a Float64Array`);
    t.equal(array?.length, length, `${length}: of that length`);
    t.ok(array?.every((value) => Object.is(value, 0)), `${length}: all +0`);
  }
  t.not(touchedArray(4), touchedArray(4), 'a new one each time');
  // A length no typed array takes, on any Node: the RangeError is caught.
  t.equal(touchedArray(-1), undefined);
  t.end();
});
