/** Finding and loading the saved model or checkpoint that a `--model` or `--resume` option names. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { TwoLayerNet } from '../nets/two-layer-net.js';
import { loadCheckpoint } from '../train/checkpoint.js';

/** A saved model (a run's model.json or checkpoint.json) as a net, with the dataset it was trained on. */
export async function loadModel(file: string): Promise<{ net: TwoLayerNet; dataset: string }> {
  const checkpoint = await loadCheckpoint(file);
  const config = checkpoint.meta.config as { dataset?: unknown };
  return {
    net: TwoLayerNet.fromParameters(checkpoint.shape, checkpoint.params),
    dataset: typeof config?.dataset === 'string' ? config.dataset : 'mnist',
  };
}

/** The model `--model` names (required), with the dataset it was trained on. */
export async function loadModelOption(model: string | undefined): Promise<{ net: TwoLayerNet; dataset: string }> {
  if (model === undefined) throw new InputError('Expected `--model FILE` (a run\'s model.json), got nothing');
  return loadModel(savedFilePath('--model', model, 'model.json'));
}

/**
 * The file a `--model` or `--resume` path means: a run directory gives its
 * `defaultName` (model.json, checkpoint.json); a checkpoint's .json or
 * .safetensors, or its stem, is itself. Anything else is an InputError naming
 * the option.
 */
export function savedFilePath(option: '--model' | '--resume', path: string, defaultName: 'model.json' | 'checkpoint.json'): string {
  const expected = `Expected \`${option}\` to be a run directory or its ${defaultName} (with the .safetensors beside it)`;
  // The .safetensors is the saved file (its .json a readable copy that a kill may have left out).
  const saved = (file: string) => existsSync(file) || existsSync(file.replace(/\.json$/i, '.safetensors'));
  if (existsSync(path) && statSync(path).isDirectory()) {
    const inside = join(path, defaultName);
    if (!saved(inside)) throw new InputError(`${expected}, got the directory \`${path}\`, which has no ${defaultName}`);
    return inside;
  }
  if (/\.(json|safetensors)$/i.test(path)) {
    if (!saved(path)) throw new InputError(`${expected}, got \`${path}\`: no such file`);
    return path;
  }
  if (existsSync(`${path}.json`)) return path; // a checkpoint's stem
  throw new InputError(existsSync(path) ? `${expected}, got \`${path}\`, which is neither` : `${expected}, got \`${path}\`: no such file or directory`);
}
