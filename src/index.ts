/**
 * The `gradpool` package entry: re-exports only (see ARCHITECTURE.md for where each piece lives).
 * @module gradpool
 */
export { sigmoid, relu, softmax, crossEntropyError, sumSquaredError, meanSquaredError, CROSS_ENTROPY_DELTA } from './functions.js';
export { numericalDiff, numericalGradient, gradientDescent, DEFAULT_H } from './numerical.js';
export type { GradientDescentOptions, GradientDescentResult } from './numerical.js';
export { SimpleNet } from './nets/simple-net.js';
export type { SimpleNetGradient } from './nets/simple-net.js';
export { TwoLayerNet } from './nets/two-layer-net.js';
export type { TwoLayerNetOptions, NetGradient, PreparedBatch, GradientOptions } from './nets/two-layer-net.js';
export type { Activation, NetShape, ParameterLayout } from './kernels/two-layer.js';
export { Random } from './random.js';
export type { RandomState } from './random.js';
export { toFlatMatrix, toMatrix, toLabels } from './batch.js';
export type { FlatMatrix, BatchInput, BatchOutput, VectorInput, NumericTypedArray, TargetInput } from './batch.js';
export { InputError, ArgumentTypeError, ArgumentRangeError, isArgumentError, DivergenceError } from './errors.js';
export type { ArgumentError } from './errors.js';
export { GradientPoolError, GradientTimeoutError, GradientAbortError } from './errors.js';
export { GradientPool, MAX_THREADS } from './parallel/gradient-pool.js';
export { MAX_BLOCK_MILLISECONDS } from './parallel/blocking-budget.js';
export type { GradientPoolOptions, PoolGradientOptions, PoolCallStatistics, PoolCallTimeline, FunctionGradientOptions, PoolEvaluationOptions, SplitScore } from './parallel/gradient-pool.js';
export { ENGINES, NUMERICAL_ENGINES, DEFAULT_ENGINE } from './engine.js';
export type { Engine, NumericalEngine } from './engine.js';
export { Trainer } from './train/trainer.js';
export { evaluateSplit } from './train/evaluate-split.js';
export type { TrainerOptions, IterationEvent, EpochEvent, TrainerState, TrainingSummary, StepOptions } from './train/trainer.js';
export type { RestoreTrainerOptions } from './train/trainer-checkpoint.js';
export { Optimizer, SGD, Momentum, Adam, createOptimizer, OPTIMIZER_NAMES } from './train/optimizers.js';
export type { OptimizerName, OptimizerOptions, OptimizerOptionsByName, SGDOptions, MomentumOptions, AdamOptions } from './train/optimizers.js';
export { BatchSampler, SAMPLINGS } from './train/batch-sampler.js';
export type { Sampling, SamplerState } from './train/batch-sampler.js';
export { saveCheckpoint, loadCheckpoint } from './train/checkpoint.js';
export type { Checkpoint, CheckpointMeta, CheckpointMetaInput, CheckpointOptimizer, CheckpointFiles, SaveCheckpointInput } from './train/checkpoint.js';
export { saveModel, loadModel } from './train/model-file.js';
export type { LoadedModel, SaveModelOptions } from './train/model-file.js';
export { TRAINING_DEFAULTS } from './train/train-config.js';
export type { TrainConfig } from './train/train-config.js';
export type { Split, Dataset } from './data/dataset.js';
export { train } from './run/train.js';
export { RunSaveError, RunDivergedError } from './run/run-errors.js';
export type { TrainOptions, TrainResult, RunEvent, RunControl, OptionNames } from './run/train-options.js';
export { trainInBackground } from './run/train-in-background.js';
export type { BackgroundTrainOptions, BackgroundTraining, LiveRun } from './run/train-in-background.js';
export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, SAFETENSORS_DTYPES } from './io/safetensors.js';
export type { SafetensorsDtype, SafetensorsTensor, SafetensorsTensorInput, DecodedSafetensors } from './io/safetensors.js';
