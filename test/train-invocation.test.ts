/**
 * The command a run suggests to run `gradpool train` again is one the user
 * can type where they are: through the npm script that ran it in a checkout.
 */
import t from 'tap';
import { trainInvocation } from '../src/cli/train-invocation.js';

t.test('npm start and npm run gradpool pass their options on after --', async (t) => {
  t.equal(trainInvocation('start'), 'npm start --', 'npm start is gradpool train with the defaults: its options come after --');
  t.equal(trainInvocation('gradpool'), 'npm run gradpool -- train', 'npm run gradpool takes the command after --');
});

t.test('anything else is the installed command', async (t) => {
  t.equal(trainInvocation(undefined), 'gradpool train', 'not run by npm');
  t.equal(trainInvocation('npx'), 'gradpool train', 'npx gradpool');
  t.equal(trainInvocation('test'), 'gradpool train', 'another script');
});
