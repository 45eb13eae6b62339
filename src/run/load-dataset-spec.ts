/**
 * Resolves a dataset spec (`mnist`, `idx:DIR`, `csv:FILE`, `spiral`, …) for
 * the application layer (`train()`, the CLI). The loaders live in `datasets/`,
 * which builds on the core in `src/`; importing them here, lazily and in this
 * one place, keeps the core's arrows one way and spares a caller who passes a
 * loaded Dataset the loaders' code (the PNG and IDX decoders, the bundled
 * digits).
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { InputError } from '../errors.js';

type DatasetsModule = typeof import('../../datasets/index.js');

async function datasetsModule(): Promise<DatasetsModule> {
  try {
    return await import('../../datasets/index.js');
  } catch (error) {
    // A worker thread started from the TypeScript sources under tsx (the
    // background trainer, see workers/typescript-entry.cjs) loads its modules
    // through tsx's require hook: there import() has no TypeScript loader and
    // cannot find the .ts file, while require finds it, as it found this one.
    const code = (error as NodeJS.ErrnoException).code;
    if (!import.meta.url.endsWith('.ts') || (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNKNOWN_FILE_EXTENSION')) throw error;
    return createRequire(import.meta.url)('../../datasets/index.js') as DatasetsModule;
  }
}

/** The dataset a spec names, loaded (see `datasets/index.ts` for the specs); `name` is how messages name the spec. */
export async function loadDatasetSpec(spec: string, name = '--dataset'): Promise<Dataset> {
  return (await datasetsModule()).loadDataset(spec, name);
}

/** Whether an `idx:` or `csv:` spec names a path relative to the current directory. */
function namesRelativePath(spec: string): boolean {
  const paths = spec.startsWith('idx:') ? [spec.slice('idx:'.length)] : spec.startsWith('csv:') ? spec.slice('csv:'.length).split(',') : [];
  return paths.some((path) => path !== '' && !isAbsolute(path));
}

/**
 * The dataset a run recorded, loaded. A run records its spec as given, so a
 * relative path in it is relative to the directory the run was started from:
 * when the file is not found, the message says so, and `alternative` if given
 * (what else to do, e.g. "give `--dataset`").
 */
export async function loadRecordedDatasetSpec(spec: string, name?: string, alternative?: string): Promise<Dataset> {
  try {
    return await loadDatasetSpec(spec, name);
  } catch (error) {
    if (error instanceof InputError && namesRelativePath(spec) && /found no such (file|directory)$/.test(error.message)) {
      throw new InputError(`${error.message} (the path in the run's dataset \`${spec}\` is relative to the directory the run was started from: run from there${alternative === undefined ? '' : `, or ${alternative}`})`, { cause: error });
    }
    throw error;
  }
}
