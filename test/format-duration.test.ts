// formatDuration: each range of the one duration style, checked by hand.
import t from 'tap';
import { formatDuration } from '../src/report/format-duration.js';

t.test('formatDuration: ms, seconds with decimals, minutes and hours', (t) => {
  const cases: Array<[number, string]> = [
    [0, '0s'], [-5, '0s'], [0.4, '0ms'], [123.4, '123ms'], [999.4, '999ms'], [999.6, '1.00s'],
    [4214, '4.21s'], [9994, '9.99s'], [9996, '10.0s'], [45_240, '45.2s'], [59_949, '59.9s'], [59_951, '1m00s'],
    [141_000, '2m21s'], [3_599_499, '59m59s'], [3_599_500, '1h00m'], [3_720_000, '1h02m'], [90_000_000, '25h00m'],
    [Number.NaN, '?'], [Number.POSITIVE_INFINITY, '?'],
  ];
  for (const [ms, text] of cases) t.equal(formatDuration(ms), text, `${ms} ms`);
  t.end();
});
