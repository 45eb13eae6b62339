/**
 * What gradpool says about the npm script that ran it, from environments
 * written by hand as npm sets them (npm 11: `npm run gradpool train --iters 5`
 * sets `npm_config_iters=true` and passes only `5`; `--engine` becomes
 * `npm_config_engine_strict`).
 */
import t from 'tap';
import { npmTookOptions, trainInvocation } from '../src/cli/npm-script.js';
import { parseOptions, type OptionTable } from '../src/cli/options.js';

t.test('the command a run suggests goes through the npm script of this package that ran it', async (t) => {
  t.equal(trainInvocation({ npm_package_name: 'gradpool', npm_lifecycle_event: 'start' }), 'npm start --', 'npm start is gradpool train with the defaults: its options come after --');
  t.equal(trainInvocation({ npm_package_name: 'gradpool', npm_lifecycle_event: 'gradpool' }), 'npm run gradpool -- train', 'npm run gradpool takes the command after --');
  t.equal(trainInvocation({ npm_package_name: 'my-app', npm_lifecycle_event: 'start' }), 'gradpool train', 'another package\'s start script may hold options --resume refuses: the installed command');
  t.equal(trainInvocation({ npm_package_name: 'gradpool', npm_lifecycle_event: 'test' }), 'gradpool train', 'another script');
  t.equal(trainInvocation({}), 'gradpool train', 'not run by npm');
});

const names = ['dataset', 'engine', 'lr', 'iters', 'json', 'weight-init-std'];

t.test('the options npm took are named, with where the -- goes', async (t) => {
  t.equal(npmTookOptions(names, 'train', { npm_package_name: 'gradpool', npm_lifecycle_event: 'gradpool', npm_config_iters: 'true' }),
    'npm took `--iters` for itself; put `--` before gradpool\'s options: `npm run gradpool -- train --iters …`');
  t.equal(npmTookOptions(names, 'train', { npm_package_name: 'gradpool', npm_lifecycle_event: 'start', npm_config_lr: 'true', npm_config_weight_init_std: 'true' }),
    'npm took `--lr`, `--weight-init-std` for itself; put `--` before gradpool\'s options: `npm start -- --lr …`', 'dashes are underscores in npm\'s names');
  t.equal(npmTookOptions(names, 'evaluate', { npm_package_name: 'my-app', npm_lifecycle_event: 'eval', npm_config_engine_strict: 'true' }),
    'npm took `--engine` for itself; put `--` before gradpool\'s options: `npm run eval -- --engine …`', 'npm expands --engine to --engine-strict; another package\'s script');
});

t.test('nothing to say when npm took none, or did not run it', async (t) => {
  t.equal(npmTookOptions(names, 'train', { npm_lifecycle_event: 'gradpool', npm_config_cache: '/root/.npm', npm_config_yes: '' }), undefined, 'npm\'s own settings are not ours');
  t.equal(npmTookOptions(names, 'train', { npm_lifecycle_event: 'gradpool', npm_config_json: 'false' }), undefined, 'only the value npm sets for an option it took');
  t.equal(npmTookOptions(names, 'train', { npm_config_iters: 'true' }), undefined, 'not run through an npm script');
});

t.test('the refusal of the value npm left behind says so', async (t) => {
  const table: OptionTable = { iters: { type: 'integer', min: 0, default: 1, description: 'Iterations' } };
  const saved = { event: process.env.npm_lifecycle_event, iters: process.env.npm_config_iters, name: process.env.npm_package_name };
  t.teardown(() => {
    for (const [key, value] of [['npm_lifecycle_event', saved.event], ['npm_config_iters', saved.iters], ['npm_package_name', saved.name]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  Object.assign(process.env, { npm_lifecycle_event: 'gradpool', npm_config_iters: 'true', npm_package_name: 'gradpool' });
  t.throws(() => parseOptions('train', table, ['5']), { message: 'Unexpected argument `5` for `gradpool train`; npm took `--iters` for itself; put `--` before gradpool\'s options: `npm run gradpool -- train --iters …`' });
  delete process.env.npm_config_iters;
  t.throws(() => parseOptions('train', table, ['5']), { message: 'Unexpected argument `5` for `gradpool train`; options take the form `--name value`' });
});
