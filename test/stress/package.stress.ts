/**
 * The package as a user gets it: `npm pack` of a copy of this working tree
 * (its `prepack` builds dist/), the tarball installed into an empty project
 * with `npm install --offline`, then used there: ESM import of both entries,
 * a TypeScript consumer type-checked against the shipped declarations (with
 * `@types/node`) and run, and `npx gradpool train --iters 50`.
 *
 * No network: every package comes from the npm cache that this project's own
 * `npm install` filled. Without a lockfile npm would need the registry's
 * metadata of each dependency, which a lockfile install need not fetch (nor
 * cache); the consumer gets a lockfile cut from this project's
 * package-lock.json instead: the tree of the package's dependencies (and of
 * typescript and @types/node, as its dev dependencies), at the same places,
 * with the same versions and integrities and the registry's tarball URLs, the
 * packages npm lays out for the tarball from the registry (108 both ways on
 * 2026-12-02). A package missing from the cache fails the install with ENOTCACHED.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string; seconds: number }

/**
 * The environment of a command run as a user would: without tap's loaders and
 * coverage, and without the `npm_*` variables of the `npm run` that started
 * this test (`npm_config_local_prefix` would point npm at this project), except
 * the npm cache, which is the one the project's install filled.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|NODE_V8_COVERAGE$|_TAPJS|TAP|INIT_CWD$)/i.test(key) && key.toLowerCase() !== 'npm_config_cache') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Promise<Run> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { code, stdout, stderr, seconds: (performance.now() - started) / 1000 };
}

/** npm's warnings and errors in a command's output (npm ≥ 7 writes `npm warn …`, older `npm WARN …`). */
function npmComplaints(output: Run): string[] {
  return `${output.stdout}\n${output.stderr}`.split('\n').filter((line) => /^npm (warn|error|ERR!)/i.test(line));
}

/** Disk usage of `paths` in KiB (`du -sk`), by path. */
async function diskUsage(cwd: string, paths: string[]): Promise<Map<string, number>> {
  const du = await run('du', ['-sk', ...paths], cwd);
  if (du.code !== 0) throw new Error(`du -sk failed (${du.code}): ${du.stderr.trim()}`);
  return new Map(du.stdout.trim().split('\n').map((line) => {
    const [kib, path] = line.split('\t');
    return [path, Number(kib)] as const;
  }));
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

// --- The consumer's lockfile, cut from this project's -----------------------

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  [key: string]: unknown;
}

/** Where Node finds package `name` from the package at lock path `from` ('' is the root). */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

/**
 * The lock paths that `names` (dependencies of the package at `from`) need,
 * transitively: through dependencies and required peer dependencies, and
 * through optional dependencies too when `withOptional`.
 */
function closure(packages: Record<string, LockEntry>, from: string, names: string[], withOptional: boolean): Set<string> {
  const found = new Set<string>();
  const queue: Array<[string, string, boolean]> = names.map((name) => [from, name, false]);
  while (queue.length > 0) {
    const [at, name, optional] = queue.shift()!;
    const path = locate(packages, at, name);
    if (path === undefined) {
      if (optional) continue;
      throw new Error(`Expected package-lock.json to hold \`${name}\` (needed by \`${at || 'the project'}\`), found none: run npm install`);
    }
    if (found.has(path)) continue;
    found.add(path);
    const entry = packages[path];
    for (const dependency of Object.keys(entry.dependencies ?? {})) queue.push([path, dependency, false]);
    for (const peer of Object.keys(entry.peerDependencies ?? {})) {
      if (entry.peerDependenciesMeta?.[peer]?.optional !== true) queue.push([path, peer, false]);
    }
    if (withOptional) for (const dependency of Object.keys(entry.optionalDependencies ?? {})) queue.push([path, dependency, true]);
  }
  return found;
}

/**
 * An entry of the project's lock for the consumer's: the same package, with the
 * consumer's flags. An entry without `resolved` (npm leaves it out under
 * `omit-lockfile-registry-resolved`) gets the registry's tarball URL: npm
 * would otherwise need the package's metadata from the registry to find it.
 */
function consumerEntry(path: string, entry: LockEntry, registry: string, flags: { dev: boolean; optional: boolean }): LockEntry {
  const { dev: _dev, optional: _optional, devOptional: _devOptional, peer: _peer, ...rest } = entry;
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const resolved = entry.resolved ?? `${registry}${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`;
  return { ...rest, resolved, ...(flags.dev ? { dev: true } : {}), ...(flags.optional ? { optional: true } : {}) };
}

// --- The test ----------------------------------------------------------------

t.test('npm pack gives a tarball that installs offline without warnings and works: ESM, TypeScript, workers, npx gradpool', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'gradpool-package-'));
  // GRADPOOL_KEEP_PACKAGE_TEST=1 keeps the tarball and the consumer project to look at.
  if (process.env.GRADPOOL_KEEP_PACKAGE_TEST === '1') t.comment(`kept: ${work}`);
  else t.teardown(() => rmSync(work, { recursive: true, force: true }));

  // 1. Pack a copy of the working tree (as a clone has it), so that the build
  //    of `prepack` never replaces this tree's dist/ under other running tests.
  const stage = join(work, 'stage');
  const skipped = new Set(['node_modules', '.git', 'dist', 'runs', '.tap', 'coverage']);
  cpSync(root, stage, { recursive: true, filter: (source) => !skipped.has(relative(root, source).split(sep)[0]) });
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const packed = await run('npm', ['pack', '--json', '--offline', '--pack-destination', work], stage);
  t.equal(packed.code, 0, 'npm pack (its prepack builds dist/) exits 0', { stdout: packed.stdout, stderr: packed.stderr });
  if (packed.code !== 0) return;
  t.same(npmComplaints(packed), [], 'npm pack warns of nothing');
  const [pack] = JSON.parse(packed.stdout) as Array<{ filename: string; size: number; unpackedSize: number; integrity: string; entryCount: number; files: Array<{ path: string }> }>;
  const files = pack.files.map((file) => file.path);
  t.comment(`tarball ${pack.filename}: ${pack.size} bytes (${mib(pack.size / 1024)}), ${pack.unpackedSize} bytes unpacked (${mib(pack.unpackedSize / 1024)}), ${pack.entryCount} files`);
  for (const needed of [
    'package.json', 'README.md', 'bin/gradpool.js',
    'dist/src/index.js', 'dist/src/index.d.ts', 'dist/datasets/index.js', 'dist/datasets/index.d.ts',
    'dist/workers/gradient.worker.js', 'dist/src/cli/main.js',
    'dist/benchmarks/bench-command.js', 'dist/benchmarks/ceiling.worker.js', 'benchmarks/numpy_naive.py',
  ]) t.ok(files.includes(needed), `the tarball ships ${needed}`);
  t.same(files.filter((path) => !/^(dist|bin|benchmarks)\//.test(path) && path !== 'package.json' && path !== 'README.md'), [], 'nothing outside dist/, bin/, benchmarks/, package.json and README.md');
  t.same(files.filter((path) => /^(test|src)\//.test(path) || /\.map$/.test(path) || (/\.ts$/.test(path) && !/\.d\.ts$/.test(path))), [], 'no tests, sources or source maps');
  const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as {
    name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string>;
    peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    scripts: Record<string, string>; bin: Record<string, string>; engines: Record<string, string>; license: string;
  };
  t.notOk('tsx' in manifest.dependencies, 'tsx is not a dependency');
  t.equal(manifest.peerDependenciesMeta?.tsx?.optional, true, 'tsx is an optional peer dependency');
  t.same(['preinstall', 'install', 'postinstall', 'prepare'].filter((script) => script in manifest.scripts), [], 'no script runs when the package is installed');

  // 2. An empty project, with a lockfile cut from the project's.
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const dependencies = Object.keys(manifest.dependencies);
  const prod = closure(lock.packages, '', dependencies, true);
  const prodRequired = closure(lock.packages, '', dependencies, false);
  const devNames = ['typescript', '@types/node'];
  const dev = [...closure(lock.packages, '', devNames, true)].filter((path) => !prod.has(path));
  const packages: Record<string, LockEntry> = {
    '': {
      name: 'consumer', version: '1.0.0',
      dependencies: { gradpool: `file:../${pack.filename}` },
      devDependencies: Object.fromEntries(devNames.map((name) => [name, manifest.devDependencies[name]])),
    },
    'node_modules/gradpool': {
      version: manifest.version, resolved: `file:../${pack.filename}`, integrity: pack.integrity, license: manifest.license,
      dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines,
      ...(manifest.peerDependencies ? { peerDependencies: manifest.peerDependencies } : {}),
      ...(manifest.peerDependenciesMeta ? { peerDependenciesMeta: manifest.peerDependenciesMeta } : {}),
    },
  };
  const registryConfig = await run('npm', ['config', 'get', 'registry'], consumer);
  t.equal(registryConfig.code, 0, 'npm config get registry exits 0', { stderr: registryConfig.stderr });
  const registry = registryConfig.stdout.trim().replace(/\/?$/, '/');
  for (const path of [...prod].sort()) packages[path] = consumerEntry(path, lock.packages[path], registry, { dev: false, optional: !prodRequired.has(path) });
  for (const path of dev.sort()) packages[path] = consumerEntry(path, lock.packages[path], registry, { dev: true, optional: false });
  writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies: packages[''].dependencies, devDependencies: packages[''].devDependencies }, null, 2)}\n`);
  writeFileSync(join(consumer, 'package-lock.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);

  // 3. Install the package alone, offline: no warning, no tsx, and its size.
  const cacheHint = 'every package must be in the npm cache that `npm install` in this project filled (ENOTCACHED: run npm install, or npm ci, here first)';
  const install = await run('npm', ['install', '--offline', '--omit=dev', '--no-audit', '--no-fund'], consumer);
  t.equal(install.code, 0, 'npm install --offline --omit=dev of the tarball exits 0', { stderr: install.stderr, hint: cacheHint });
  if (install.code !== 0) return;
  t.same(npmComplaints(install), [], 'the install warns of nothing');
  t.comment(`npm install --offline --omit=dev (${install.seconds.toFixed(1)} s): ${install.stdout.trim().split('\n').at(-1)}`);
  t.ok(existsSync(join(consumer, 'node_modules/gradpool/dist/workers/gradient.worker.js')), 'the worker file is installed');
  t.notOk(existsSync(join(consumer, 'node_modules/tsx')), 'tsx is not installed');
  t.notOk(existsSync(join(consumer, 'node_modules/esbuild')), 'nor esbuild');
  t.notOk(existsSync(join(consumer, 'node_modules/typescript')), 'nor the consumer\'s dev dependencies');
  const top = readdirSync(join(consumer, 'node_modules')).filter((name) => !name.startsWith('.'))
    .flatMap((name) => name.startsWith('@') ? readdirSync(join(consumer, 'node_modules', name)).map((inner) => `node_modules/${name}/${inner}`) : [`node_modules/${name}`]);
  // Two calls: du counts a directory once, so given node_modules it would skip the packages in it.
  const installed = (await diskUsage(consumer, ['node_modules'])).get('node_modules')!;
  const largest = [...await diskUsage(consumer, top)].sort((a, b) => b[1] - a[1]).slice(0, 6);
  t.comment(`installed size (du -sk node_modules, gradpool and its dependencies): ${installed} KiB = ${mib(installed)}, ${top.length} top-level packages; largest: ${largest.map(([path, kib]) => `${path.slice('node_modules/'.length)} ${mib(kib)}`).join(', ')}`);
  t.ok(installed < 100 * 1024, `installed size ${mib(installed)} under 100 MiB`);

  // 4. ESM import: the exported names are those of the sources.
  writeFileSync(join(consumer, 'exports.mjs'), [
    "import * as main from 'gradpool';",
    "import * as datasets from 'gradpool/datasets';",
    'console.log(JSON.stringify({ main: Object.keys(main).sort(), datasets: Object.keys(datasets).sort() }));',
  ].join('\n'));
  const imported = await run(process.execPath, ['exports.mjs'], consumer);
  t.equal(imported.code, 0, 'node exports.mjs (import * from gradpool and gradpool/datasets) exits 0', { stderr: imported.stderr });
  const names = JSON.parse(imported.stdout) as { main: string[]; datasets: string[] };
  t.same(names.main, Object.keys(await import('../../src/index.js')).sort(), 'gradpool exports what src/index.ts does');
  t.same(names.datasets, Object.keys(await import('../../datasets/index.js')).sort(), 'gradpool/datasets exports what datasets/index.ts does');
  for (const name of ['sigmoid', 'softmax', 'crossEntropyError', 'numericalGradient', 'gradientDescent', 'SimpleNet', 'TwoLayerNet', 'GradientPool', 'Trainer', 'SGD', 'Adam']) {
    t.ok(names.main.includes(name), `gradpool exports ${name}`);
  }
  for (const name of ['loadMnist', 'loadDataset', 'oneHot', 'spiral', 'xor']) t.ok(names.datasets.includes(name), `gradpool/datasets exports ${name}`);

  // 5. A TypeScript consumer: type-checked against the shipped declarations, then run.
  const devInstall = await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], consumer);
  t.equal(devInstall.code, 0, 'npm install --offline of typescript and @types/node exits 0', { stderr: devInstall.stderr, hint: cacheHint });
  if (devInstall.code !== 0) return;
  t.same(npmComplaints(devInstall), [], 'adding typescript and @types/node warns of nothing');
  writeFileSync(join(consumer, 'tsconfig.json'), `${JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false, outDir: 'build' },
    files: ['consumer.ts', 'function2.ts'],
  }, null, 2)}\n`);
  writeFileSync(join(consumer, 'function2.ts'), 'export function function2(x: Float64Array): number {\n  return x[0] ** 2 + x[1] ** 2;\n}\n');
  writeFileSync(join(consumer, 'consumer.ts'), `import { numericalGradient, TwoLayerNet, GradientPool, type NetGradient, type TwoLayerNetOptions, type FlatMatrix } from 'gradpool';
import { spiral, type Dataset } from 'gradpool/datasets';
import { function2 } from './function2.js';

const book: Float64Array = numericalGradient(function2, new Float64Array([3, 4]));
const data: Dataset = spiral({ pointsPerClass: 20, seed: 1 });
const options: TwoLayerNetOptions = { inputSize: data.inputSize, hiddenSize: 4, outputSize: data.classes, seed: 1 };
const net = new TwoLayerNet(options);
const batch: FlatMatrix = { data: data.train.x.subarray(0, 10 * data.inputSize), rows: 10, columns: data.inputSize };
const labels: Int32Array = data.train.labels.subarray(0, 10);
const pool = new GradientPool({ threads: 2 });
let parallel: NetGradient;
let fromModule: Float64Array;
try {
  parallel = await pool.numericalGradient(net, batch, labels);
  // The user's function, from a module the workers import (compiled to build/function2.js).
  fromModule = await pool.functionGradient({ module: new URL('./function2.js', import.meta.url), exportName: 'function2', x: [3, 4] });
} finally {
  await pool.destroy();
}
const serial: NetGradient = net.numericalGradient(batch, labels);
const maxDifference = Math.max(...parallel.flat.map((value, i) => Math.abs(value - serial.flat[i])));

// A TypeScript worker module needs the optional tsx, which is not installed.
let typeScriptWorker = 'constructed';
try {
  await new GradientPool({ threads: 1, workerModule: new URL('./my.worker.ts', import.meta.url).href }).destroy();
} catch (error) {
  typeScriptWorker = (error as Error).message;
}
// So does a TypeScript module of functionGradient.
let typeScriptFunction = 'computed';
const onePool = new GradientPool({ threads: 1 });
try {
  await onePool.functionGradient({ module: new URL('../function2.ts', import.meta.url), exportName: 'function2', x: [3, 4] });
} catch (error) {
  typeScriptFunction = (error as Error).message;
} finally {
  await onePool.destroy();
}
console.log(JSON.stringify({ book: Array.from(book), length: parallel.flat.length, maxDifference, fromModule: Array.from(fromModule), typeScriptWorker, typeScriptFunction }));

// Never called: each line must be a type error, so the declarations are real types, not any.
export function typeErrors(): void {
  // @ts-expect-error inputSize is a number
  new TwoLayerNet({ inputSize: '2', hiddenSize: 4, outputSize: 3 });
  // @ts-expect-error the pool's gradient is a promise
  const notAwaited: NetGradient = pool.numericalGradient(net, batch, labels);
  // @ts-expect-error a dataset's labels are integers
  const labelsAsStrings: string[] = data.train.labels;
  void notAwaited;
  void labelsAsStrings;
}
`);
  const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], consumer);
  t.equal(tsc.code, 0, 'tsc -p tsconfig.json in the consumer exits 0', { stdout: tsc.stdout, stderr: tsc.stderr });
  t.comment(`tsc of the consumer against the shipped declarations: exit ${tsc.code} in ${tsc.seconds.toFixed(1)} s`);
  const consumerRun = await run(process.execPath, ['build/consumer.js'], consumer);
  t.equal(consumerRun.code, 0, 'node build/consumer.js exits 0', { stderr: consumerRun.stderr });
  const result = JSON.parse(consumerRun.stdout) as { book: number[]; length: number; maxDifference: number; fromModule: number[]; typeScriptWorker: string; typeScriptFunction: string };
  t.same(result.book, [6.00000000000378, 7.999999999999119], 'the book\'s numerical_gradient(function_2, [3, 4])');
  t.same(result.fromModule, result.book, 'the same through the pool\'s workers, from the user\'s module');
  t.equal(result.length, 2 * 4 + 4 + 4 * 3 + 3, 'one partial derivative per parameter, from the installed worker files');
  t.ok(result.maxDifference < 1e-9, `the pool's gradient matches the serial one (max difference ${result.maxDifference})`);
  t.equal(result.typeScriptWorker, `Expected the \`tsx\` package to load the TypeScript module \`${pathToFileURL(join(consumer, 'build/my.worker.ts')).href}\`: install it with npm install tsx`, 'a TypeScript worker without tsx: one line naming the module and the fix');
  t.match(result.typeScriptFunction, `Expected the \`tsx\` package to load the TypeScript module \`${pathToFileURL(join(consumer, 'function2.ts')).href}\`: install it with npm install tsx and run your program with node --import tsx`, 'a TypeScript function module without tsx: the same, in the pool\'s error');
  t.notMatch(result.typeScriptFunction, /\n/, 'in one line');

  // 6. The command line, as the issue runs it.
  const train = await run('npx', ['gradpool', 'train', '--iters', '50'], consumer, userEnv({ npm_config_offline: 'true' }));
  t.equal(train.code, 0, 'npx gradpool train --iters 50 exits 0', { stdout: train.stdout, stderr: train.stderr });
  const done = train.stdout.split('\n').find((line) => line.startsWith('Done:'));
  t.match(done, /^Done: 50 iterations in .*; train acc 0\.\d+, test acc 0\.\d+\. Run saved in /, 'it prints Done:');
  t.comment(`npx gradpool train --iters 50 (${train.seconds.toFixed(1)} s): ${done}`);
  const runs = readdirSync(join(consumer, 'runs'));
  t.equal(runs.length, 1, 'one run directory');
  for (const file of ['config.json', 'metrics.csv', 'model.safetensors', 'model.json', 'checkpoint.safetensors', 'training.svg', 'training.png']) {
    t.ok(existsSync(join(consumer, 'runs', runs[0], file)), `the run leaves ${file}`);
  }
});
