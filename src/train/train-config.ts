/**
 * The configuration of a training run (what `gradpool train` takes, what
 * config.json and checkpoints record) and its defaults: the book's chapter 4
 * recipe. The Trainer and the CLI both read their defaults from here.
 */
import { z } from 'zod';
import { DEFAULT_ENGINE, ENGINES, LEGACY_ENGINE_NAMES, type Engine } from '../engine.js';
import { checkJson } from '../io/check-json.js';
import { ACTIVATIONS, type Activation } from '../kernels/two-layer.js';
import { SAMPLINGS, type Sampling } from './batch-sampler.js';
import { OPTIMIZER_NAMES, type OptimizerName } from './optimizers.js';

/**
 * A training run's configuration, every field filled in: what config.json and
 * each checkpoint record, and what a resumed run continues with (defaults:
 * {@link TRAINING_DEFAULTS}).
 */
export interface TrainConfig {
  /** A dataset spec (`mnist`, `idx:DIR`, `csv:FILE[,TEST]`, `spiral`, `xor`). */
  dataset: string;
  /** Hidden units of the TwoLayerNet, an integer from 1 and up (the book's 50). */
  hiddenSize: number;
  /** The hidden activation, `'sigmoid'` (the book's) or `'relu'`. */
  activation: Activation;
  /** Samples per mini-batch (at most the training split's rows). */
  batchSize: number;
  /** The batch size asked for, when it was more than the training split holds (and `batchSize` is that split's size). */
  requestedBatchSize?: number;
  /** The optimizer's step size η, a number above 0 (the book's 0.1). */
  learningRate: number;
  /** Total updates. */
  iterations: number;
  /** How the gradient is computed: `'incremental'` or `'naive'` (numerical, in the worker pool) or `'backprop'`. */
  engine: Engine;
  /** The optimizer by name, `'sgd'` (the book's), `'momentum'` or `'adam'`; `train()` gives it `learningRate` and leaves its other hyperparameters at their defaults. */
  optimizer: OptimizerName;
  /** How batches are drawn: `'replacement'` (the book's) or `'shuffle'`. */
  sampling: Sampling;
  /** Seed of the initial weights and of the batch sampling. */
  seed: number;
  /** Standard deviation of the normal initial weights (absent when the net was made elsewhere, as in a Trainer's own checkpoint). */
  weightInitStd?: number;
  /** Evaluate on at most this many evenly spaced samples of each split (absent: all). */
  evaluationLimit?: number;
}

/** The book's recipe: 784-50-10 sigmoid, batch 100, lr 0.1, 10,000 SGD updates, batches drawn with replacement. */
export const TRAINING_DEFAULTS: Readonly<Required<Omit<TrainConfig, 'evaluationLimit' | 'requestedBatchSize'>>> = Object.freeze({
  dataset: 'mnist',
  hiddenSize: 50,
  activation: 'sigmoid',
  batchSize: 100,
  learningRate: 0.1,
  iterations: 10_000,
  engine: DEFAULT_ENGINE,
  optimizer: 'sgd',
  sampling: 'replacement',
  seed: 0,
  weightInitStd: 0.01,
});

/** Schemas whose messages say what was expected in gradpool's words (a file's field in a one-line error), for the files that record a run. */
export const positive = z.number({ error: 'a number above 0' }).positive({ error: 'a number above 0' });
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const text = max === Number.MAX_SAFE_INTEGER ? `an integer from ${min} and up` : `an integer from ${min} to ${max}`;
  return z.int({ error: text }).min(min, { error: text }).max(max, { error: text });
};
const oneOf = <T extends string>(choices: readonly T[]) => z.enum(choices as unknown as [T, ...T[]], { error: `one of ${choices.map((c) => `"${c}"`).join(', ')}` });

/** A {@link TrainConfig} as stored in checkpoints and config.json: every field checked, unknown ones refused (a misspelt field would fall back to its default unseen). */
export const trainConfigSchema = z.strictObject({
  dataset: z.string({ error: 'a dataset spec such as "mnist"' }).min(1, { error: 'a dataset spec such as "mnist"' }),
  hiddenSize: integer(1),
  activation: oneOf(ACTIVATIONS),
  batchSize: integer(1),
  requestedBatchSize: integer(1).optional(),
  learningRate: positive,
  iterations: integer(0),
  engine: oneOf(ENGINES),
  optimizer: oneOf(OPTIMIZER_NAMES),
  sampling: oneOf(SAMPLINGS),
  seed: integer(0, 0xffffffff),
  weightInitStd: positive.optional(),
  evaluationLimit: integer(1).optional(),
}) satisfies z.ZodType<TrainConfig>;

/**
 * A run configuration read from `file` (`what`: e.g. `checkpoint`), checked
 * against {@link trainConfigSchema}; `field` names where in the file it is
 * (`config` in a checkpoint), for messages. Version 0.1's
 * `gradient: 'numerical'` is read as today's `engine: 'incremental'`. Fields
 * in `extra` (what a file records beside the configuration) are allowed and
 * dropped.
 */
export function parseTrainConfig(
  value: unknown, what: string, file: string, { field, extra = {} }: { field?: string; extra?: Record<string, z.ZodType> } = {},
): TrainConfig {
  let upgraded = value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { gradient, ...rest } = value as Record<string, unknown>;
    if (gradient !== undefined && rest.engine === undefined) rest.engine = typeof gradient === 'string' ? LEGACY_ENGINE_NAMES.get(gradient) ?? gradient : gradient;
    upgraded = rest;
  }
  const schema = trainConfigSchema.extend(extra);
  const parsed = (field === undefined
    ? checkJson(schema, upgraded, what, file)
    : checkJson(z.object({ [field]: schema }), { [field]: upgraded }, what, file)[field]) as Record<string, unknown>;
  for (const key of Object.keys(extra)) delete parsed[key];
  return parsed as unknown as TrainConfig;
}
