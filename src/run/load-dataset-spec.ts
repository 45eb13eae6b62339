/**
 * Resolves a dataset spec (`mnist`, `idx:DIR`, `csv:FILE`, `spiral`, …) for
 * the application layer (`train()`, the CLI). The loaders live in `datasets/`,
 * which builds on the core in `src/`; importing them here, lazily and in this
 * one place, keeps the core's arrows one way and spares a caller who passes a
 * loaded Dataset the loaders' code (the PNG and IDX decoders, the bundled
 * digits).
 */
import type { Dataset } from '../data/dataset.js';

/** The dataset a spec names, loaded (see `datasets/index.ts` for the specs). */
export async function loadDatasetSpec(spec: string): Promise<Dataset> {
  const { loadDataset } = await import('../../datasets/index.js');
  return loadDataset(spec);
}
