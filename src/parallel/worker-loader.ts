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
 */
export function workerExecArgv(filename: string, inherited: readonly string[] = process.execArgv): string[] | undefined {
  const hasLoader = inherited.some((arg) => /tsx|ts-node|@tapjs[\\/]typescript/.test(arg));
  if (!filename.endsWith('.ts') || hasLoader) return undefined;
  const kept: string[] = [];
  for (let i = 0; i < inherited.length; i++) {
    if (!MODULE_FLAG.test(inherited[i])) continue;
    kept.push(inherited[i]);
    if (!inherited[i].includes('=') && i + 1 < inherited.length) kept.push(inherited[++i]);
  }
  return [...kept, '--import', import.meta.resolve('tsx')];
}
