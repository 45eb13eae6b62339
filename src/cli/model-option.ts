/** The saved model a `--model` option names. */
import { InputError } from '../errors.js';
import { loadModel, savedFilePath, type LoadedModel } from '../train/model-file.js';

/** The model `--model` names (required): a run directory or its model.json, with the dataset it was trained on. */
export async function loadModelOption(model: string | undefined): Promise<LoadedModel> {
  if (model === undefined) throw new InputError('Expected `--model PATH` (a run directory or its model.json), got nothing');
  return loadModel(savedFilePath('--model', model, 'model.json'));
}
