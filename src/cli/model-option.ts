/** The saved model a `--model` option names. */
import type { Dataset } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { loadDatasetSpec, loadRecordedDatasetSpec } from '../run/load-dataset-spec.js';
import { loadModel, savedFilePath, type LoadedModel } from '../train/model-file.js';

/** The model `--model` names (required): a run directory, its model.json or a checkpoint.json, with the dataset it was trained on. */
export async function loadModelOption(model: string | undefined): Promise<LoadedModel> {
  if (model === undefined) throw new InputError('Expected `--model PATH` (a run directory, its model.json or a checkpoint.json), got nothing');
  return loadModel(savedFilePath('--model', model, 'model.json'));
}

/** The dataset `--dataset` names, else the one the model was trained on (a relative path in it, not found, is said to be relative to where that run started). */
export async function datasetOption(given: string | undefined, trainedOn: string): Promise<Dataset> {
  return given === undefined ? loadRecordedDatasetSpec(trainedOn, '--dataset', 'give `--dataset`') : loadDatasetSpec(given);
}
