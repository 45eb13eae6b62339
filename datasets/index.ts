/** The `gradpool/datasets` entry: the loaders and the row helpers, re-exported. */
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
