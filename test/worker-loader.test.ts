import t from 'tap';
import { spawn } from 'node:child_process';
import { siblingModule, workerExecArgv, workerStart } from '../src/parallel/worker-loader.js';
import { childEnv } from './fixtures/child-env.js';

t.test('siblingModule keeps the caller\'s extension', async (t) => {
  t.equal(siblingModule('file:///app/src/parallel/pool.ts', '../../workers/gradient.worker'), 'file:///app/workers/gradient.worker.ts');
  t.equal(siblingModule('file:///app/dist/src/parallel/pool.js', '../../workers/gradient.worker'), 'file:///app/dist/workers/gradient.worker.js');
});

t.test('workerExecArgv: Node\'s own inheritance when it works, module flags and tsx when it would not', async (t) => {
  t.equal(workerExecArgv('file:///app/w.js', ['--expose-gc']), undefined, 'compiled workers need no loader');
  t.equal(workerExecArgv('file:///app/w.ts', ['--import', 'tsx']), undefined, 'the process\'s tsx reaches the workers');
  // Under tap: its loaders are left out (a worker took 3.4 s of CPU to start with them), tsx loads the sources.
  const underTap = workerExecArgv('file:///app/w.ts', [
    '--import=file:///x/node_modules/@tapjs/typescript/dist/esm/import.mjs', '--import', 'file:///x/node_modules/@tapjs/mock/dist/esm/import.mjs',
    '--enable-source-maps', '--import', './setup.mjs', '--import=file:///x/node_modules/@tapjs/processinfo/dist/esm/import.mjs',
  ]);
  t.same(underTap?.slice(0, -2), ['--import', './setup.mjs'], 'a test runner\'s loaders are not passed on, other module flags are');
  t.match(underTap?.slice(-2), ['--import', /^file:\/\/.*\/tsx\/.*\.mjs$/], 'tsx instead');
  const argv = workerExecArgv('file:///app/w.ts', ['--expose-gc', '--import', './setup.mjs', '--conditions=development', '--max-old-space-size=100', '-r', './hook.cjs']);
  t.same(argv?.slice(0, -2), ['--import', './setup.mjs', '--conditions=development', '-r', './hook.cjs'], 'module flags kept, per-process flags dropped');
  t.equal(argv?.at(-2), '--import');
  t.match(argv?.at(-1), /^file:\/\/.*\/tsx\/.*\.mjs$/, 'tsx, resolved from the package');
});

t.test('workerStart: under a test runner, a worker\'s environment without the runner\'s hooks; otherwise Node\'s own', async (t) => {
  const tapArgv = ['--import=file:///x/node_modules/@tapjs/typescript/dist/esm/import.mjs', '--enable-source-maps'];
  const env = {
    PATH: '/bin', NODE_V8_COVERAGE: '/tmp/cov',
    NODE_OPTIONS: '"--import=file:///x/node_modules/@tapjs/processinfo/dist/esm/import.mjs" --max-old-space-size=500 --import file:///x/node_modules/@tapjs/mock/dist/esm/import.mjs --require ./hook.cjs',
  };
  const underTap = workerStart('file:///app/w.ts', tapArgv, env);
  t.same(underTap.env, { PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=500 --require ./hook.cjs' }, 'the runner\'s hooks and coverage directory left out, the rest kept');
  t.same(workerStart('file:///app/w.ts', tapArgv, { PATH: '/bin', NODE_OPTIONS: '"--import=file:///x/node_modules/@tapjs/processinfo/dist/esm/import.mjs"' }).env,
    { PATH: '/bin' }, 'NODE_OPTIONS dropped when nothing else is in it');
  t.same(workerStart('file:///app/w.ts', tapArgv, env).execArgv, workerExecArgv('file:///app/w.ts', tapArgv), 'execArgv as workerExecArgv');
  t.same(workerStart('file:///app/w.js', tapArgv, env), { execArgv: undefined, env: undefined }, 'a compiled worker keeps the runner\'s hooks (nothing to transform twice)');
  t.same(workerStart('file:///app/w.ts', ['--import', 'tsx'], env), { execArgv: undefined, env: undefined }, 'outside a test runner, Node\'s inheritance');
});

t.test('workerExecArgv: without tsx installed, a TypeScript worker is one line naming the module and the fix', async (t) => {
  const missing = (specifier: string): string => {
    throw Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/gradpool/dist/src/parallel/worker-loader.js`), { code: 'ERR_MODULE_NOT_FOUND' });
  };
  t.throws(() => workerExecArgv('file:///app/w.ts', [], missing), {
    message: 'Expected the `tsx` package to load the TypeScript module `file:///app/w.ts`: install it with npm install tsx',
    cause: { code: 'ERR_MODULE_NOT_FOUND' },
  });
  t.equal(workerExecArgv('file:///app/w.js', [], missing), undefined, 'a JavaScript worker never asks for tsx');
  t.equal(workerExecArgv('file:///app/w.ts', ['--import', 'tsx'], missing), undefined, 'nor does one whose process has a loader');
});

/** Runs node with `args` from the project root; resolves to exit code, stdout and stderr. */
async function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

t.test('a process started with per-process flags still runs gradients in workers', async (t) => {
  // The CLI (from dist/ when built: npm run build, npm start, npm pack; else the sources through tsx).
  const cli = await runNode(['--expose-gc', 'bin/gradpool.js', 'gradcheck', '--hidden', '2', '--threads', '2', '--json']);
  t.equal(cli.code, 0, cli.stderr);
  t.ok((JSON.parse(cli.stdout) as { book: Record<string, number> }).book.W1 < 1e-6);
  // The sources with tsx registered through its API: the workers get tsx, not --expose-gc.
  const sources = await runNode(['--expose-gc', '--max-old-space-size=200', 'test/fixtures/sources-child.mjs']);
  t.equal(sources.code, 0, sources.stderr);
  t.same(JSON.parse(sources.stdout), { length: 3 * 2 + 2 + 2 * 2 + 2 });
});

t.test('under node --import tsx, a user function in a .ts module runs in the workers', async (t) => {
  // Node 20 gives worker threads tsx's require hook but not its ESM hooks: import() of .ts fails there.
  const child = await runNode(['--import', 'tsx', 'test/fixtures/tsx-function-child.ts']);
  t.equal(child.code, 0, child.stderr);
  // The book's numerical_gradient(function_2, [3, 4]) (book-values.md).
  t.same(JSON.parse(child.stdout), [6.00000000000378, 7.999999999999119]);
});
