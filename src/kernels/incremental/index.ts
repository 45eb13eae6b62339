/** The incremental gradient kernel (exact, fast numerical gradients of the TwoLayerNet from a per-batch base): see README.md. */
export { type IncrementalBase, incrementalBaseBytes, incrementalBaseViews } from './base-layout.js';
export {
  finishIncrementalBase, prepareBaseColumns, prepareBaseSamples, prepareBaseUnits, prepareIncrementalBase, startIncrementalBase,
} from './base-build.js';
export { type IncrementalPath, incrementalGradientRange, incrementalPath } from './gradient-range.js';
