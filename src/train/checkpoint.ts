/**
 * Checkpoints of a training run: a pair of files with the same stem,
 *
 *   <stem>.safetensors  the weights W1 [inputSize, hiddenSize], b1 [hiddenSize],
 *                       W2 [hiddenSize, outputSize], b2 [outputSize] and the
 *                       optimizer state (`optimizer.<name>`, flat), all F64:
 *                       loadable from Python with numpy alone
 *   <stem>.json         what the run needs to continue: shape, iteration, epoch,
 *                       config, optimizer name/hyperparameters/step, the random
 *                       generator state, metrics; plus the byte length and
 *                       SHA-256 of the .safetensors file
 *
 * The .safetensors file is the checkpoint: it also carries the whole JSON in
 * its header (`__metadata__.checkpoint`) and a SHA-256 of its tensor data, and
 * its atomic rename is the save's one commit point. The .json, written after,
 * is a readable copy: loading uses it when it matches the .safetensors (the
 * fingerprint in `tensors`) and says what the copy inside says, else that
 * copy, so a kill between the two renames leaves a checkpoint that loads (the
 * newer one); a .json of the same save edited since is refused. Files
 * written before the embedded copy existed still need their .json, checked
 * against the fingerprint. Loading always pairs `<stem>.json` with
 * `<stem>.safetensors` (`tensors.file` records the name at save time, for other
 * readers).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { makeDirectory } from '../io/make-directory.js';
import { basename, dirname } from 'node:path';
import { ArgumentRangeError, ArgumentTypeError, InputError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensorInput } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { type NetShape, parameterLayout } from '../kernels/two-layer.js';
import { validateShape } from '../nets/two-layer-net.js';
import { Random, type RandomState } from '../random.js';
import { assertInteger, describe, expectationError, invalidJson, oneLine } from '../validate.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointJson, parseCheckpointJson } from './checkpoint-json.js';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointJson } from './checkpoint-json.js';
/** The header metadata keys of the embedded checkpoint JSON and of the SHA-256 of the tensor data. */
const EMBEDDED_CHECKPOINT_KEY = 'checkpoint';
const TENSORS_SHA256_KEY = 'tensorsSha256';

/** SHA-256 of the tensors' bytes, in order (what a damaged data section would change). */
function tensorsDigest(tensors: ReadonlyArray<ArrayBufferView>): string {
  const hash = createHash('sha256');
  for (const t of tensors) hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  return hash.digest('hex');
}

/** Prefix of the optimizer state tensors in the .safetensors file: `velocity` is stored as `optimizer.velocity`. */
export const OPTIMIZER_TENSOR_PREFIX = 'optimizer.';

const PARAMETER_TENSORS = ['W1', 'b1', 'W2', 'b2'] as const;

/** The run's optimizer, as an `Optimizer` (./optimizers.ts) reports it: `name`, `hyperparameters`, `stepCount`. */
export interface CheckpointOptimizer {
  /** E.g. `'sgd'`, `'momentum'`, `'adam'`. */
  name: string;
  /** Its hyperparameters by full name, e.g. `{ learningRate: 0.1, momentum: 0.9 }`; `{}` for a saved model. */
  hyperparameters: Record<string, number | string | boolean | null>;
  /** Updates applied so far (the optimizer's step count). */
  step: number;
}

/** Everything in a checkpoint besides the tensors and the net's shape. */
export interface CheckpointMeta {
  /** Updates done when the checkpoint was taken. */
  iteration: number;
  /** Epochs completed; may be fractional (iteration / iterations per epoch). */
  epoch: number;
  /** The run's configuration (JSON-serializable), e.g. the CLI options. */
  config: Record<string, unknown>;
  /** The run's optimizer (name `'none'` for a model saved by `saveModel`); its state tensors are in the .safetensors. */
  optimizer: CheckpointOptimizer;
  /** State of the run's random stream, to continue it exactly. */
  random: RandomState;
  /** E.g. the last losses and accuracies (JSON-serializable). */
  metrics?: Record<string, unknown>;
  /**
   * Further JSON state needed to continue the run exactly, beyond `random`: e.g.
   * the trainer's batch-sampler position and its epoch history.
   */
  trainer?: Record<string, unknown>;
  /** ISO 8601 time of the save. */
  createdAt: string;
}

/** {@link CheckpointMeta} as given to {@link saveCheckpoint}: `createdAt` defaults to now. */
export type CheckpointMetaInput = Omit<CheckpointMeta, 'createdAt'> & {
  /** ISO 8601 time of the save. @default the time of the call */
  createdAt?: string;
};

/** Which tensor file belongs to a checkpoint's JSON, and its fingerprint. */
export interface CheckpointTensorsRef {
  /** File name of the .safetensors file at save time, relative to the JSON's directory. */
  file: string;
  bytes: number;
  /** Lowercase hex SHA-256 of the whole .safetensors file. */
  sha256: string;
}

/** What {@link saveCheckpoint} writes. */
export interface SaveCheckpointInput {
  /** All parameters, [W1 | b1 | W2 | b2] (see `parameterLayout`). */
  params: Float64Array;
  /** The net's sizes and activation; `params` must hold exactly the parameters of this shape. */
  shape: NetShape;
  /** The optimizer's state tensors by name (e.g. `{ velocity }`); default none. */
  optimizerState?: Record<string, Float64Array>;
  /** Iteration, epoch, config, optimizer, random state and the rest of the .json (see {@link CheckpointMeta}). */
  meta: CheckpointMetaInput;
  /**
   * Whether the .safetensors carries the whole checkpoint (default true), so
   * that its rename alone commits the save. A final model leaves it out: its
   * bytes then depend on the weights and the shape only, so two runs that reach
   * the same weights (one of them resumed) write the same file.
   */
  selfContained?: boolean;
}

/** A checkpoint read back by {@link loadCheckpoint}: tensors and metadata, checked. */
export interface Checkpoint {
  /** A fresh copy of all parameters, [W1 | b1 | W2 | b2]. */
  params: Float64Array;
  /** The sizes and activation of the net the parameters belong to. */
  shape: NetShape;
  /** The optimizer's state by name, without the `optimizer.` prefix. */
  optimizerState: Record<string, Float64Array>;
  /** Everything else the .json records: iteration, epoch, config, optimizer, random state, … */
  meta: CheckpointMeta;
  /** The two files it was read from. */
  files: CheckpointFiles;
  /**
   * The file its JSON was read from: `files.json`, or `files.safetensors` when
   * that .json is missing or from another save (its header holds a copy).
   */
  source: string;
}

/** The two files of one checkpoint, with the same stem. */
export interface CheckpointFiles {
  /** Path of `<stem>.json`, the readable copy of the metadata. */
  json: string;
  /** Path of `<stem>.safetensors`: the tensors and (unless saved with `selfContained: false`) the whole checkpoint in its header. */
  safetensors: string;
}

/** The two files of the checkpoint at `path` (a stem, or either file). */
export function checkpointFiles(path: string): CheckpointFiles {
  if (typeof path !== 'string' || path === '') throw new ArgumentTypeError(expectationError('path', 'a non-empty string', path));
  const stem = path.replace(/\.(json|safetensors)$/, '');
  return { json: `${stem}.json`, safetensors: `${stem}.safetensors` };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function validateRandomState(name: string, random: unknown): asserts random is RandomState {
  if (!isObject(random) || !Array.isArray(random.generator) || !random.generator.every((n) => Number.isSafeInteger(n))) {
    throw new ArgumentTypeError(expectationError(name, 'a RandomState ({ generator: integers, spareNormal })', random));
  }
  if (random.spareNormal !== null && typeof random.spareNormal !== 'number') {
    throw new ArgumentTypeError(expectationError(`${name}.spareNormal`, 'a number or null', random.spareNormal));
  }
  try {
    Random.fromState(random as unknown as RandomState); // the generator's own checks (4 32-bit integers, a finite spare)
  } catch (error) {
    throw new ArgumentRangeError(`Expected \`${name}\` to be a state from Random#getState(): ${(error as Error).message}`);
  }
}

/** Checks the meta given to {@link saveCheckpoint} (programming errors: ArgumentTypeError/ArgumentRangeError). */
function validateMetaInput(meta: unknown): asserts meta is CheckpointMetaInput {
  if (!isObject(meta)) throw new ArgumentTypeError(expectationError('meta', 'an object', meta));
  assertInteger('meta.iteration', meta.iteration, 0);
  if (typeof meta.epoch !== 'number' || !Number.isFinite(meta.epoch) || meta.epoch < 0) {
    throw new (typeof meta.epoch === 'number' ? ArgumentRangeError : ArgumentTypeError)(expectationError('meta.epoch', 'a finite number from 0 and up', meta.epoch));
  }
  if (!isObject(meta.config)) throw new ArgumentTypeError(expectationError('meta.config', 'an object', meta.config));
  const { optimizer } = meta;
  if (!isObject(optimizer)) throw new ArgumentTypeError(expectationError('meta.optimizer', 'an object with name, hyperparameters and step', optimizer));
  if (typeof optimizer.name !== 'string' || optimizer.name === '') throw new ArgumentTypeError(expectationError('meta.optimizer.name', 'a non-empty string', optimizer.name));
  if (!isObject(optimizer.hyperparameters)) throw new ArgumentTypeError(expectationError('meta.optimizer.hyperparameters', 'an object', optimizer.hyperparameters));
  assertInteger('meta.optimizer.step', optimizer.step, 0);
  validateRandomState('meta.random', meta.random);
  if (meta.metrics !== undefined && !isObject(meta.metrics)) throw new ArgumentTypeError(expectationError('meta.metrics', 'an object or undefined', meta.metrics));
  if (meta.trainer !== undefined && !isObject(meta.trainer)) throw new ArgumentTypeError(expectationError('meta.trainer', 'an object or undefined', meta.trainer));
  if (meta.createdAt !== undefined && typeof meta.createdAt !== 'string') throw new ArgumentTypeError(expectationError('meta.createdAt', 'a string or undefined', meta.createdAt));
}

/**
 * Writes `<path>.safetensors` then `<path>.json`, each atomically, creating the
 * directory if needed. `path` is the stem (a `.json`/`.safetensors` extension is
 * dropped).
 */
export async function saveCheckpoint(path: string, checkpoint: SaveCheckpointInput): Promise<CheckpointFiles> {
  const files = checkpointFiles(path);
  if (!isObject(checkpoint)) throw new ArgumentTypeError(expectationError('checkpoint', 'an object with params, shape, optimizerState and meta', checkpoint));
  const { params, optimizerState = {}, meta, selfContained = true } = checkpoint;
  const shape = validateShape(checkpoint.shape ?? {}, 'shape.');
  const layout = parameterLayout(shape);
  if (!(params instanceof Float64Array)) throw new ArgumentTypeError(expectationError('params', 'a Float64Array', params));
  if (params.length !== layout.size) {
    throw new ArgumentRangeError(`Expected \`params\` to have ${layout.size} values for ${shape.inputSize}-${shape.hiddenSize}-${shape.outputSize}, got ${params.length}`);
  }
  if (!isObject(optimizerState)) throw new ArgumentTypeError(expectationError('optimizerState', 'an object of Float64Arrays', optimizerState));
  validateMetaInput(meta);

  const tensors: Record<string, SafetensorsTensorInput> = {
    W1: { dtype: 'F64', shape: [shape.inputSize, shape.hiddenSize], data: params.subarray(layout.W1, layout.b1) },
    b1: { dtype: 'F64', shape: [shape.hiddenSize], data: params.subarray(layout.b1, layout.W2) },
    W2: { dtype: 'F64', shape: [shape.hiddenSize, shape.outputSize], data: params.subarray(layout.W2, layout.b2) },
    b2: { dtype: 'F64', shape: [shape.outputSize], data: params.subarray(layout.b2, layout.size) },
  };
  for (const [name, values] of Object.entries(optimizerState)) {
    if (name === '') throw new ArgumentRangeError(`Expected optimizer state names to be non-empty, got ${describe(name)}`);
    if (!(values instanceof Float64Array)) throw new ArgumentTypeError(expectationError(`optimizerState.${name}`, 'a Float64Array', values));
    Object.defineProperty(tensors, OPTIMIZER_TENSOR_PREFIX + name, {
      value: { dtype: 'F64', shape: [values.length], data: values }, enumerable: true, writable: true, configurable: true,
    });
  }
  const embedded: Omit<CheckpointJson, 'tensors'> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: meta.createdAt ?? new Date().toISOString(),
    shape,
    iteration: meta.iteration,
    epoch: meta.epoch,
    optimizer: { name: meta.optimizer.name, hyperparameters: meta.optimizer.hyperparameters, step: meta.optimizer.step },
    random: { generator: [...meta.random.generator], spareNormal: meta.random.spareNormal },
    config: meta.config,
    ...(meta.metrics === undefined ? {} : { metrics: meta.metrics }),
    ...(meta.trainer === undefined ? {} : { trainer: meta.trainer }),
  };
  // Without the save time, so the same state always gives the same bytes (runs are compared byte for byte).
  const { createdAt: _createdAt, ...timeless } = embedded;
  const embeddedText = JSON.stringify(timeless); // before writing anything: it throws on e.g. a BigInt in config
  const bytes = encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    inputSize: String(shape.inputSize),
    hiddenSize: String(shape.hiddenSize),
    outputSize: String(shape.outputSize),
    activation: shape.activation,
    iteration: String(meta.iteration),
    ...(selfContained ? {
      [EMBEDDED_CHECKPOINT_KEY]: embeddedText,
      [TENSORS_SHA256_KEY]: tensorsDigest(Object.values(tensors).map((tensor) => tensor.data)),
    } : {}),
  });
  const json: CheckpointJson = { ...embedded, tensors: { file: basename(files.safetensors), bytes: bytes.byteLength, sha256: sha256(bytes) } };
  // Written out before the first await, as the embedded copy was: the caller's objects may change meanwhile.
  const jsonText = `${JSON.stringify(json, null, 2)}\n`;
  await makeDirectory(dirname(files.json));
  const step = basename(files.json, '.json');
  await writeFileAtomic(files.safetensors, bytes, step); // the commit point
  await writeFileAtomic(files.json, jsonText, `${step}-json`);
  return files;
}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new InputError(`Cannot read ${what} \`${path}\`: ${reason}`);
  }
}

/** The parsed JSON of a checkpoint's text, or an InputError naming `file`. */
function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`Invalid checkpoint \`${file}\`: expected JSON, got ${invalidJson(error)}`);
  }
}

const SHOWN_CHARACTERS = 60;

/** Two differing values for a message, as JSON cut short, around where their texts first differ (long paths share a long start). */
function shownPair(own: unknown, copy: unknown): { expected: string; got: string } {
  const a = own === undefined ? 'nothing' : oneLine(JSON.stringify(own));
  const b = copy === undefined ? 'nothing' : oneLine(JSON.stringify(copy));
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const start = at < SHOWN_CHARACTERS - 10 ? 0 : at - 10;
  const cut = (text: string) => {
    const shown = text.slice(start, start + SHOWN_CHARACTERS);
    return `${start > 0 ? '…' : ''}${shown}${start + SHOWN_CHARACTERS < text.length ? '…' : ''}`;
  };
  return { expected: cut(a), got: cut(b) };
}

/**
 * Where the readable copy `copy` first differs from the checkpoint `own`
 * carries (the save time aside, which the embedded copy leaves out, and the
 * fingerprint, already checked): a dotted path and both values; undefined
 * when they agree. Key order does not matter.
 */
export function firstDifference(own: unknown, copy: unknown, path = ''): { path: string; expected: string; got: string } | undefined {
  const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
  if (isRecord(own) && isRecord(copy) && Array.isArray(own) === Array.isArray(copy)) {
    const keys = [...new Set([...Object.keys(own), ...Object.keys(copy)])];
    for (const key of keys) {
      if (path === '' && (key === 'createdAt' || key === 'tensors')) continue;
      const found = firstDifference(own[key], copy[key], Array.isArray(own) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  // === : a −0 written by hand is the 0 JSON writes.
  return own === copy ? undefined : { path: `\`${oneLine(path)}\``, ...shownPair(own, copy) };
}

/**
 * The .json beside a checkpoint's tensors when it exists and belongs to them
 * (its fingerprint matches); undefined when it is missing or from another save
 * (a kill between the two renames). A damaged .json is an error all the same.
 */
async function matchingJson(files: CheckpointFiles, bytes: Uint8Array): Promise<CheckpointJson | undefined> {
  let text: string;
  try {
    text = await readFile(files.json, 'utf8');
  } catch {
    return undefined;
  }
  const json = parseCheckpointJson(parseJsonText(text, files.json), files.json);
  return json.tensors.bytes === bytes.byteLength && json.tensors.sha256 === sha256(bytes) ? json : undefined;
}

/**
 * Reads a checkpoint from its stem (`run/checkpoint`) or either of its files,
 * verifying that the two files belong together and that the tensors match the
 * recorded shape. Every defect is an {@link InputError} naming the file.
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const files = checkpointFiles(path);
  if (!existsSync(files.safetensors) && existsSync(files.json)) {
    throw new InputError(`Invalid checkpoint \`${files.json}\`: expected its tensors in \`${files.safetensors}\` beside it, found no such file`);
  }
  const bytes = await readInput(files.safetensors, 'checkpoint tensors');
  const { tensors, metadata } = decodeSafetensors(bytes, files.safetensors);
  let json: CheckpointJson;
  let source = files.json;
  if (Object.hasOwn(metadata, EMBEDDED_CHECKPOINT_KEY)) {
    // The .safetensors is the checkpoint; its tensors must be the ones it was saved with.
    const digest = tensorsDigest(Object.values(tensors).map((tensor) => tensor.data));
    if (metadata[TENSORS_SHA256_KEY] !== digest) {
      throw new InputError(`Invalid checkpoint \`${files.safetensors}\`: expected tensor data with SHA-256 ${String(metadata[TENSORS_SHA256_KEY]).slice(0, 12)}…, got ${digest.slice(0, 12)}… (the file is damaged)`);
    }
    const fingerprint = { file: basename(files.safetensors), bytes: bytes.byteLength, sha256: sha256(bytes) };
    const savedAt = (await stat(files.safetensors)).mtime.toISOString();
    const own = parseCheckpointJson({ createdAt: savedAt, ...(parseJsonText(metadata[EMBEDDED_CHECKPOINT_KEY], files.safetensors) as object), tensors: fingerprint }, files.safetensors);
    const beside = await matchingJson(files, bytes);
    // The copy of this very save, edited since: resuming from it would run the weights of one iteration as another's.
    const difference = beside === undefined ? undefined : firstDifference(own, beside);
    if (difference !== undefined) {
      throw new InputError(`Checkpoint \`${files.json}\` does not match the checkpoint inside \`${files.safetensors}\`: expected ${difference.path} ${difference.expected}, got ${difference.got} (the .json is only a readable copy: remove it to load the .safetensors alone)`);
    }
    source = beside === undefined ? files.safetensors : files.json;
    json = beside ?? own;
  } else {
    json = parseCheckpointJson(parseJsonText((await readInput(files.json, 'checkpoint')).toString('utf8'), files.json), files.json);
    const fingerprint = `${json.tensors.bytes} bytes with SHA-256 ${json.tensors.sha256.slice(0, 12)}…`;
    if (bytes.byteLength !== json.tensors.bytes) {
      throw new InputError(`Checkpoint \`${files.json}\` does not match \`${files.safetensors}\`: expected ${fingerprint}, got ${bytes.byteLength} bytes (the files are from different saves, or one is damaged)`);
    }
    const digest = sha256(bytes);
    if (digest !== json.tensors.sha256) {
      throw new InputError(`Checkpoint \`${files.json}\` does not match \`${files.safetensors}\`: expected ${fingerprint}, got SHA-256 ${digest.slice(0, 12)}… (the files are from different saves, or one is damaged)`);
    }
  }

  const { shape } = json;
  const layout = parameterLayout(shape);
  const expectedShapes: Record<(typeof PARAMETER_TENSORS)[number], number[]> = {
    W1: [shape.inputSize, shape.hiddenSize],
    b1: [shape.hiddenSize],
    W2: [shape.hiddenSize, shape.outputSize],
    b2: [shape.outputSize],
  };
  const params = new Float64Array(layout.size);
  const wrongTensor = (expected: string, found: string) =>
    new InputError(`Invalid checkpoint tensors \`${files.safetensors}\`: expected ${expected}, got ${found}`);
  for (const name of PARAMETER_TENSORS) {
    const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    const expected = expectedShapes[name];
    const expectation = `tensor "${name}" to be F64 with shape [${expected.join(', ')}] (the shape in \`${files.json}\`)`;
    if (tensor === undefined) throw wrongTensor(expectation, 'no such tensor');
    if (tensor.dtype !== 'F64' || tensor.shape.length !== expected.length || tensor.shape.some((n, i) => n !== expected[i])) {
      throw wrongTensor(expectation, `${tensor.dtype} with shape [${tensor.shape.join(', ')}]`);
    }
    params.set(tensor.data, layout[name]);
  }
  const optimizerState: Record<string, Float64Array> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if ((PARAMETER_TENSORS as readonly string[]).includes(name)) continue;
    if (!name.startsWith(OPTIMIZER_TENSOR_PREFIX) || name.length === OPTIMIZER_TENSOR_PREFIX.length) {
      throw wrongTensor(`only W1, b1, W2, b2 and "${OPTIMIZER_TENSOR_PREFIX}*" tensors`, `a tensor named ${JSON.stringify(name)}`);
    }
    if (tensor.dtype !== 'F64' || tensor.shape.length !== 1) {
      throw wrongTensor(`tensor ${JSON.stringify(name)} to be F64 with one dimension`, `${tensor.dtype} with shape [${tensor.shape.join(', ')}]`);
    }
    Object.defineProperty(optimizerState, name.slice(OPTIMIZER_TENSOR_PREFIX.length), {
      value: tensor.data, enumerable: true, writable: true, configurable: true,
    });
  }

  const { format: _format, version: _version, shape: _shape, tensors: _tensors, ...meta } = json;
  return { params, shape, optimizerState, meta, files, source };
}
