/**
 * The JSON of a checkpoint (`<stem>.json`, and the copy inside its
 * `.safetensors` header) as a zod schema, and the parse that checks a file
 * against it: every defect is an {@link InputError} naming the file and the
 * field. The schemas of the Trainer's own section (`trainer`: where the batch
 * sampler is, the epochs so far) live here too, checked when a Trainer is
 * restored from a checkpoint.
 */
import { z } from 'zod';
import { ArgumentTypeError, InputError } from '../errors.js';
import { brief, checkJson } from '../io/check-json.js';
import type { NetShape } from '../kernels/two-layer.js';
import { validateShape } from '../nets/two-layer-net.js';
import type { RandomState } from '../random.js';
import { SAMPLINGS, type SamplerState } from './batch-sampler.js';
import { expectationError } from '../validate.js';

export const CHECKPOINT_FORMAT = 'gradpool-checkpoint';
export const CHECKPOINT_VERSION = 1;

const count = z.int({ error: 'an integer from 0 and up' }).min(0, { error: 'an integer from 0 and up' });
const object = z.record(z.string(), z.unknown(), { error: 'an object' });

/** A {@link RandomState}: what `Random#getState()` returns. */
export const randomStateSchema = z.object({
  generator: z.array(z.int({ error: 'a 32-bit integer' }).min(-0x80000000, { error: 'a 32-bit integer' }).max(0xffffffff, { error: 'a 32-bit integer' }), {
    error: '4 32-bit integers (a random generator\'s state)',
  }).length(4, { error: '4 32-bit integers (a random generator\'s state)' }),
  spareNormal: z.number({ error: 'a finite number or null' }).nullable(),
}, { error: 'a random state ({ generator, spareNormal })' }) satisfies z.ZodType<RandomState>;

/** The checkpoint's fields besides `format`, `version` and `shape` (checked first, with their own messages). */
const checkpointFieldsSchema = z.object({
  iteration: count,
  epoch: z.number({ error: 'a number from 0 and up' }).min(0, { error: 'a number from 0 and up' }),
  config: object,
  optimizer: z.object({
    name: z.string({ error: 'a string' }),
    hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()], { error: 'a number, string, boolean or null' }), { error: 'an object of numbers, strings and booleans' }),
    step: count,
  }, { error: 'an object' }),
  random: randomStateSchema,
  metrics: object.optional(),
  trainer: object.optional(),
  createdAt: z.string({ error: 'a string' }),
  tensors: z.object({
    file: z.string({ error: 'a file name' }),
    bytes: count,
    sha256: z.string({ error: '64 lowercase hex digits' }).regex(/^[0-9a-f]{64}$/, { error: '64 lowercase hex digits' }),
  }, { error: 'an object' }),
});

/** The content of `<stem>.json` (see checkpoint.ts). */
export type CheckpointJson = z.output<typeof checkpointFieldsSchema> & {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  shape: NetShape;
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the parsed JSON of a checkpoint: every defect is an InputError naming `file` and the field. */
export function parseCheckpointJson(value: unknown, file: string): CheckpointJson {
  const invalid = (expected: string, found: string) => new InputError(`Invalid checkpoint \`${file}\`: expected ${expected}, got ${found}`);
  // What kind of file it is comes first: a different file should be called that, not "a bad iteration".
  if (!isObject(value) || value.format !== CHECKPOINT_FORMAT) {
    throw invalid(`"format": "${CHECKPOINT_FORMAT}" (a gradpool checkpoint)`, isObject(value) ? `"format": ${brief(value.format)}` : brief(value));
  }
  if (value.version !== CHECKPOINT_VERSION) {
    const newer = typeof value.version === 'number' && value.version > CHECKPOINT_VERSION ? ' (written by a newer gradpool)' : '';
    throw invalid(`version ${CHECKPOINT_VERSION}`, `${brief(value.version)}${newer}`);
  }
  let shape: NetShape;
  try {
    if (!isObject(value.shape)) throw new ArgumentTypeError(expectationError('shape', 'an object', value.shape));
    shape = validateShape(value.shape, 'shape.');
  } catch (error) {
    throw new InputError(`Invalid checkpoint \`${file}\`: ${(error as Error).message}`);
  }
  const fields = checkJson(checkpointFieldsSchema, value, 'checkpoint', file);
  return { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, shape, ...fields };
}

const accuracy = z.number({ error: 'a number from 0 to 1' }).min(0, { error: 'a number from 0 to 1' }).max(1, { error: 'a number from 0 to 1' });
const loss = z.number({ error: 'a finite number from 0 and up' }).min(0, { error: 'a finite number from 0 and up' });

/** A {@link SamplerState}: where a BatchSampler is in its stream. */
export const samplerStateSchema = z.object({
  sampling: z.enum(SAMPLINGS, { error: `one of ${SAMPLINGS.map((s) => `"${s}"`).join(', ')}` }),
  random: randomStateSchema,
  position: count,
}, { error: 'an object (the batch sampler\'s state)' }) satisfies z.ZodType<SamplerState>;

/** One epoch's evaluation, as the Trainer's `epoch` event gives it. */
export const epochEventSchema = z.object({
  epoch: z.number({ error: 'a number from 0 and up' }).min(0, { error: 'a number from 0 and up' }),
  iteration: count,
  trainAccuracy: accuracy,
  testAccuracy: accuracy,
  trainLoss: loss,
  testLoss: loss,
}, { error: 'an epoch record' });

/** A checkpoint's `trainer` section: what a Trainer needs beyond the weights, the optimizer and `random`. */
export const trainerSectionSchema = z.object({
  sampler: samplerStateSchema,
  epochs: z.array(epochEventSchema, { error: 'an array of epoch records' }),
}, { error: 'an object with the batch sampler\'s state and the epochs so far' });

export type TrainerSection = z.output<typeof trainerSectionSchema>;

/** A checkpoint's `trainer` section, checked: an InputError naming `file` and the field otherwise. */
export function parseTrainerSection(value: unknown, file: string): TrainerSection {
  const { trainer } = checkJson(z.object({ trainer: trainerSectionSchema }), { trainer: value }, 'checkpoint', file);
  return trainer;
}
