import t from 'tap';
import { shellWord } from '../src/cli/shell-word.js';

t.test('shellWord: a path as one shell word, quoted only when it must be', (t) => {
  t.equal(shellWord('runs/2026-12-03T20-30-31/checkpoint.json'), 'runs/2026-12-03T20-30-31/checkpoint.json');
  t.equal(shellWord('/tmp/a_b@c%d+e=f:g,h'), '/tmp/a_b@c%d+e=f:g,h');
  t.equal(shellWord('my runs/a'), "'my runs/a'");
  t.equal(shellWord('$HOME/x'), "'$HOME/x'");
  t.equal(shellWord("it's"), "'it'\\''s'", 'a single quote closes, escapes and reopens');
  t.equal(shellWord(''), "''", 'an empty word is still a word');
  t.end();
});
