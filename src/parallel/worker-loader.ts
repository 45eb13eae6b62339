/**
 * Where a worker's module is and how Node must start it, from the sources
 * (`.ts`, through tsx) or from `dist/`.
 */

/**
 * The URL (a string, as Piscina wants it) of the module `path` (no extension)
 * relative to `fromUrl` (an `import.meta.url`), with the caller's own
 * extension: `.ts` from the sources, `.js` from dist/.
 */
export function siblingModule(fromUrl: string, path: string): string {
  const extension = fromUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${path}${extension}`, fromUrl).href;
}

/** Flags that load or resolve modules (with their value when separate), which workers of the sources need too. */
const MODULE_FLAG = /^--(import|require|loader|experimental-loader|conditions)(=|$)|^-r$|^-C$/;

/**
 * A test runner's loaders (tap's TypeScript, mock and process-info hooks):
 * not passed on to workers, which load the sources with tsx instead. Under
 * tap a worker took 3.4 s of CPU to start with them, 0.45 s with tsx and 0.16 s
 * from dist/ (one worker, its first call, 2026-12-06); `npm test` went from
 * 5:44 to 3:04 wall, at the price of the workers' code no longer counting
 * towards the suite's coverage (see {@link workerStart} and .taprc).
 */
const TEST_RUNNER_LOADER = /@tapjs[\\/]/;

/**
 * The worker's `execArgv`, or undefined to let Node pass the process's own.
 * Workers of the TypeScript sources need a loader: a process that has tsx
 * (or ts-node) passes it on by itself; otherwise the workers get the
 * process's module flags, less a test runner's loaders, and tsx, resolved
 * from here rather than from the working directory. Only module flags: a
 * worker rejects per-process ones such as `--expose-gc`. `resolve` finds tsx
 * (a parameter for the tests).
 */
export function workerExecArgv(
  filename: string,
  inherited: readonly string[] = process.execArgv,
  resolve: (specifier: string) => string = (specifier) => import.meta.resolve(specifier),
): string[] | undefined {
  const hasLoader = inherited.some((arg) => /tsx|ts-node/.test(arg) && !TEST_RUNNER_LOADER.test(arg));
  if (!filename.endsWith('.ts') || hasLoader) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < inherited.length; i++) {
    if (!MODULE_FLAG.test(inherited[i])) continue;
    const flag = inherited.slice(i, inherited[i].includes('=') || i + 1 >= inherited.length ? i + 1 : i + 2);
    i += flag.length - 1;
    if (!flag.some((arg) => TEST_RUNNER_LOADER.test(arg))) kept.push(...flag);
  }
  return [...kept, '--import', tsxLoader(filename, resolve)];
}

/**
 * How Node must start a worker of `filename`: its `execArgv`
 * ({@link workerExecArgv}) and its environment, undefined to let Node copy the
 * process's. When a test runner's loaders are left out, the environment is the
 * process's without them: tap also loads its process-info hook through
 * `NODE_OPTIONS`, which workers honour, and that hook would take the worker's
 * coverage of the sources as tsx transformed them and merge it into tap's own
 * with the wrong line map (comment lines counted as uncovered: the suite's
 * functions figure fell from 96 to 80 % in one run, 2026-12-06).
 */
export function workerStart(
  filename: string,
  inherited: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
  resolve?: (specifier: string) => string,
): { execArgv: string[] | undefined; env: NodeJS.ProcessEnv | undefined } {
  const execArgv = workerExecArgv(filename, inherited, resolve);
  const runnerLeftOut = execArgv !== undefined && inherited.some((arg) => TEST_RUNNER_LOADER.test(arg));
  if (!runnerLeftOut) return { execArgv, env: undefined };
  const withoutRunner: NodeJS.ProcessEnv = { ...env };
  delete withoutRunner.NODE_V8_COVERAGE;
  const nodeOptions = withoutRunnerLoaders(env.NODE_OPTIONS ?? '');
  if (nodeOptions === '') delete withoutRunner.NODE_OPTIONS;
  else withoutRunner.NODE_OPTIONS = nodeOptions;
  return { execArgv, env: withoutRunner };
}

/** `NODE_OPTIONS` less a test runner's loaders, in either form (`--import=X` or `--import X`, X quoted or not). */
function withoutRunnerLoaders(nodeOptions: string): string {
  const words = nodeOptions.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const kept: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const separateValue = MODULE_FLAG.test(words[i].replace(/^"/, '')) && !words[i].includes('=') && i + 1 < words.length;
    const flag = words.slice(i, separateValue ? i + 2 : i + 1);
    i += flag.length - 1;
    if (!flag.some((word) => TEST_RUNNER_LOADER.test(word))) kept.push(...flag);
  }
  return kept.join(' ');
}

/**
 * The URL of tsx's loader, to load the TypeScript module `filename`. tsx is an
 * optional peer dependency of the package (only TypeScript modules need it):
 * when it is not installed, one line naming the module and the fix.
 */
function tsxLoader(filename: string, resolve: (specifier: string) => string): string {
  try {
    return resolve('tsx');
  } catch (error) {
    throw new Error(`Expected the \`tsx\` package to load the TypeScript module \`${filename}\`: install it with npm install tsx`, { cause: error });
  }
}
