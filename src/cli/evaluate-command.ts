/** `gradpool evaluate`: accuracy and loss of a saved model on a dataset's splits. */
import { InputError } from '../errors.js';
import { evaluateSplit } from '../train/evaluate-split.js';
import type { CommandIo } from './io.js';
import { datasetOption, loadModelOption } from './model-option.js';
import { helpText, parseOptions, type OptionTable } from './options.js';

/** The options of `gradpool evaluate`, for parsing and `--help`. */
export const EVALUATE_OPTIONS = {
  model: { type: 'string', placeholder: 'PATH', description: 'A saved model: a run directory (its model.json), or a run\'s model.json or checkpoint.json (required)' },
  dataset: { type: 'string', placeholder: 'SPEC', description: 'Dataset (default: the one the model was trained on)' },
  json: { type: 'boolean', description: 'Print the result as one JSON object' },
} as const satisfies OptionTable;

/**
 * Runs `gradpool evaluate`: accuracy and mean loss of a saved model on both splits, as a line or JSON.
 *
 * @param argv - The arguments after `evaluate`.
 * @param io - Where to write the output.
 * @returns The exit code, 0.
 * @throws InputError for bad options, a model that does not fit the dataset, or an unreadable file.
 */
export async function evaluateCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions('evaluate', EVALUATE_OPTIONS, argv);
  if (options.help) {
    io.stdout.write(`${helpText('evaluate', 'Accuracy and mean loss of a saved model on the train and test splits.', EVALUATE_OPTIONS)}\n`);
    return 0;
  }
  const { net, dataset: trainedOn } = await loadModelOption(options.model);
  const spec = options.dataset ?? trainedOn;
  const dataset = await datasetOption(options.dataset, trainedOn);
  if (dataset.inputSize !== net.shape.inputSize || dataset.classes !== net.shape.outputSize) {
    throw new InputError(`${options.model}: expected a model for ${dataset.inputSize} inputs and ${dataset.classes} classes (dataset ${spec}), found ${net.shape.inputSize} and ${net.shape.outputSize}`);
  }
  const train = evaluateSplit(net, dataset.train);
  const test = evaluateSplit(net, dataset.test);
  const result = { model: options.model, dataset: spec, trainAccuracy: train.accuracy, testAccuracy: test.accuracy, trainLoss: train.loss, testLoss: test.loss, trainRows: dataset.train.rows, testRows: dataset.test.rows };
  if (options.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(`${spec}: train acc ${train.accuracy.toFixed(4)} (loss ${train.loss.toFixed(4)}, ${dataset.train.rows} samples), `
      + `test acc ${test.accuracy.toFixed(4)} (loss ${test.loss.toFixed(4)}, ${dataset.test.rows} samples)\n`);
  }
  return 0;
}
