/**
 * Where a worker's module is and how Node must start it, from the sources
 * (`.ts`, under tsx or a test runner's TypeScript loader) or from `dist/`.
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
 * The worker's `execArgv`, or undefined to let Node pass the process's own.
 * Workers of the TypeScript sources need a loader: a process that has one
 * (tsx, or ts-node under tap, so coverage maps the workers' code the same way)
 * passes it on by itself; otherwise the workers get the process's module flags
 * and tsx, resolved from here rather than from the working directory. Only
 * module flags: a worker rejects per-process ones such as `--expose-gc`.
 * `resolve` finds tsx (a parameter for the tests).
 */
export function workerExecArgv(
  filename: string,
  inherited: readonly string[] = process.execArgv,
  resolve: (specifier: string) => string = (specifier) => import.meta.resolve(specifier),
): string[] | undefined {
  const hasLoader = inherited.some((arg) => /tsx|ts-node|@tapjs[\\/]typescript/.test(arg));
  if (!filename.endsWith('.ts') || hasLoader) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < inherited.length; i++) {
    if (!MODULE_FLAG.test(inherited[i])) continue;
    kept.push(inherited[i]);
    if (!inherited[i].includes('=') && i + 1 < inherited.length) kept.push(inherited[++i]);
  }
  return [...kept, '--import', tsxLoader(filename, resolve)];
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
