/**
 * `npm run gradpool train --iters 5` hands `--iters` to npm (as
 * `npm_config_iters`) and only `5` to gradpool: the refusal of the stray `5`
 * says which options npm took. Environments written by hand, as npm sets them.
 */
import t from 'tap';
import { npmTookOptions } from '../src/cli/options.js';

const names = ['dataset', 'lr', 'iters', 'weight-init-std'];

t.test('through npm, the options npm took are named', async (t) => {
  t.equal(npmTookOptions(names, { npm_lifecycle_event: 'gradpool', npm_config_iters: 'true' }),
    ' (npm took `--iters` for itself: put `--` before gradpool\'s options, as in `npm start -- --iters 500` or `npm run gradpool -- train --iters 500`)');
  t.match(npmTookOptions(names, { npm_lifecycle_event: 'start', npm_config_lr: 'true', npm_config_weight_init_std: 'true' }), /^ \(npm took `--lr`, `--weight-init-std` for itself/, 'dashes are underscores in npm\'s names');
});

t.test('nothing to say when npm took none, or did not run it', async (t) => {
  t.equal(npmTookOptions(names, { npm_lifecycle_event: 'gradpool', npm_config_cache: '/root/.npm' }), '', 'npm\'s own settings are not ours');
  t.equal(npmTookOptions(names, { npm_config_iters: 'true' }), '', 'not run through an npm script');
});
