/**
 * A trained net on disk: the `model.safetensors` + `model.json` pair a run
 * writes (the checkpoint format, see checkpoint.ts), saved and loaded from
 * code, and finding the file a user's path means (a run directory, a
 * checkpoint's .json or .safetensors, or its stem).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { Random } from '../random.js';
import { argumentTypeError, assertInteger, assertOptionsObject, expectationError } from '../validate.js';
import { type CheckpointFiles, loadCheckpoint, saveCheckpoint } from './checkpoint.js';

/** What {@link loadModel} gives back. */
export interface LoadedModel {
  /** The net rebuilt from the file: its shape and activation as saved, its weights a fresh copy. */
  net: TwoLayerNet;
  /** The dataset spec the model was trained on (its recorded `config.dataset`; `mnist` when it has none). */
  dataset: string;
  /** The run configuration recorded with the model (e.g. a run's TrainConfig); `{}` when none. */
  config: Record<string, unknown>;
  /** Updates the model had when saved. */
  iteration: number;
}

/** What {@link saveModel} records beside the weights. */
export interface SaveModelOptions {
  /** The run configuration to record (JSON-serializable), e.g. `{ dataset: 'mnist' }`. @default `{}` */
  config?: Record<string, unknown>;
  /** Updates done. @default 0 */
  iteration?: number;
}

/**
 * Saves `net` as `<stem>.safetensors` + `<stem>.json` (a `.json`/`.safetensors`
 * extension on `path` is dropped), each written atomically: the files
 * `gradpool evaluate --model` and `predict --model` read, and {@link loadModel}.
 *
 * @example
 * await saveModel('runs/mine/model', net, { config: { dataset: 'mnist' } });
 * const { net: again } = await loadModel('runs/mine/model.json');
 * @throws {ArgumentTypeError} when `net` is not a TwoLayerNet; a write error (ENOSPC, EACCES, …) as the file system reports it.
 */
export async function saveModel(path: string, net: TwoLayerNet, options: SaveModelOptions = {}): Promise<CheckpointFiles> {
  if (!(net instanceof TwoLayerNet)) throw argumentTypeError('net', 'a TwoLayerNet', net);
  assertOptionsObject('options', options, '{ config, iteration }');
  const { config = {}, iteration = 0 } = options as SaveModelOptions;
  assertInteger('iteration', iteration, 0);
  return saveCheckpoint(path, {
    params: net.params,
    shape: net.shape,
    meta: {
      iteration,
      epoch: 0,
      config,
      optimizer: { name: 'none', hyperparameters: {}, step: iteration },
      random: new Random(0).getState(),
    },
    // Only the weights and the shape decide the bytes, as for a run's final model.
    selfContained: false,
  });
}

/**
 * Loads a saved model: a run directory (its model.json), a model's or a
 * checkpoint's .json or .safetensors, or their stem.
 *
 * @throws {InputError} naming the file, for a missing or damaged one.
 */
export async function loadModel(path: string): Promise<LoadedModel> {
  const checkpoint = await loadCheckpoint(savedFilePath('path', path, 'model.json'));
  const { config } = checkpoint.meta;
  return {
    net: TwoLayerNet.fromParameters(checkpoint.shape, checkpoint.params),
    dataset: typeof config.dataset === 'string' ? config.dataset : 'mnist',
    config,
    iteration: checkpoint.meta.iteration,
  };
}

/**
 * The file a path to saved weights means: a run directory gives its
 * `defaultName` (model.json, checkpoint.json); a checkpoint's .json or
 * .safetensors, or its stem, is itself. Anything else is an InputError naming
 * `option` (how the caller calls the path: `--model`, `resume`, …).
 */
export function savedFilePath(option: string, path: string, defaultName: 'model.json' | 'checkpoint.json'): string {
  // A model can be read from any checkpoint too (its weights are the same file format).
  const what = defaultName === 'model.json' ? 'a run directory, its model.json or a checkpoint.json' : `a run directory or its ${defaultName}`;
  if (typeof path !== 'string' || path === '') throw new InputError(expectationError(option, what, path));
  const expected = `Expected \`${option}\` to be ${what} (with the .safetensors beside it)`;
  // The .safetensors is the saved file (its .json a readable copy that a kill may have left out).
  const saved = (file: string) => existsSync(file) || existsSync(file.replace(/\.json$/i, '.safetensors'));
  if (existsSync(path) && statSync(path).isDirectory()) {
    const inside = join(path, defaultName);
    if (!saved(inside)) {
      // An unfinished run has checkpoints but no model yet: say where its weights are.
      const checkpoint = join(path, 'checkpoint.json');
      const instead = defaultName === 'model.json' && saved(checkpoint) ? ` (the run did not finish: its last checkpoint is \`${checkpoint}\`)` : '';
      throw new InputError(`${expected}, got the directory \`${path}\`, which has no ${defaultName}${instead}`);
    }
    return inside;
  }
  if (/\.(json|safetensors)$/i.test(path)) {
    if (!saved(path)) throw new InputError(`${expected}, got \`${path}\`: no such file`);
    return path;
  }
  if (existsSync(`${path}.json`) || existsSync(`${path}.safetensors`)) return path; // a checkpoint's stem
  throw new InputError(existsSync(path) ? `${expected}, got \`${path}\`, which is neither` : `${expected}, got \`${path}\`: no such file or directory`);
}
