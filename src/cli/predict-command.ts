/** `gradpool predict`: classify dataset samples or a 28×28 PNG with a saved model. */
import { evenlySpacedRows } from '../data/dataset.js';
import { InputError } from '../errors.js';
import { readDigitPng } from '../io/png-image.js';
import { argmaxRow } from '../kernels/two-layer.js';
import type { CommandIo } from './io.js';
import { datasetOption, loadModelOption } from './model-option.js';
import { helpText, parseInteger, parseOptions, type OptionTable } from './options.js';

/** The options of `gradpool predict`, for parsing and `--help`. */
export const PREDICT_OPTIONS = {
  model: { type: 'string', placeholder: 'PATH', description: 'A saved model: a run directory (its model.json), or a run\'s model.json or checkpoint.json (required)' },
  image: { type: 'string', placeholder: 'PNG', description: 'Classify this 28×28 PNG (a digit; light backgrounds are inverted)' },
  dataset: { type: 'string', placeholder: 'SPEC', description: 'Dataset to take test samples from (default: the model\'s)' },
  index: { type: 'string', placeholder: 'I[,J…]', description: 'Test-split sample indices to classify (default: 10 evenly spaced, the splits being stored class by class)' },
  json: { type: 'boolean', description: 'One JSON object per prediction' },
} as const satisfies OptionTable;

interface Prediction {
  source: string;
  predicted: number;
  probability: number;
  label?: number;
}

/**
 * Runs `gradpool predict`: one line (or JSON object) per classified sample.
 *
 * @param argv - The arguments after `predict`.
 * @param io - Where to write the output.
 * @returns The exit code, 0.
 * @throws InputError for bad options, a model that does not fit the dataset or image, or an unreadable file.
 */
export async function predictCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = parseOptions('predict', PREDICT_OPTIONS, argv);
  if (options.help) {
    io.stdout.write(`${helpText('predict', 'Classify test samples of a dataset, or a 28×28 PNG image, with a saved model.', PREDICT_OPTIONS)}\n`);
    return 0;
  }
  for (const ignored of ['index', 'dataset'] as const) {
    if (options.image !== undefined && options.explicit.has(ignored)) throw new InputError(`Expected either \`--image\` or \`--${ignored}\` (samples of a dataset), got both`);
  }
  const { net, dataset: trainedOn } = await loadModelOption(options.model);
  const { inputSize, outputSize } = net.shape;
  const predictions: Prediction[] = [];
  const classify = (x: Float64Array, source: string, label?: number) => {
    const probs = net.predict(x); // one sample in, its outputSize probabilities out
    const predicted = argmaxRow(probs, 0, outputSize);
    predictions.push({ source, predicted, probability: probs[predicted], ...(label === undefined ? {} : { label }) });
  };

  if (options.image !== undefined) {
    if (inputSize !== 784) throw new InputError(`${options.model}: expected a model with 784 inputs to classify a 28×28 image, found ${inputSize}`);
    const image = await readDigitPng(options.image);
    classify(image.pixels, options.image + (image.inverted ? ' (inverted: light background)' : ''));
  } else {
    const spec = options.dataset ?? trainedOn;
    const dataset = await datasetOption(options.dataset, trainedOn);
    if (dataset.inputSize !== inputSize) throw new InputError(`${options.model}: expected a model with ${dataset.inputSize} inputs for dataset ${spec}, found ${inputSize}`);
    const indices = options.index === undefined
      ? evenlySpacedRows(Math.min(10, dataset.test.rows), dataset.test.rows)
      : options.index.split(',').map((part) => parseInteger('index', part, 0, dataset.test.rows - 1));
    for (const i of indices) classify(dataset.test.x.slice(i * inputSize, (i + 1) * inputSize), `${spec} test #${i}`, dataset.test.labels[i]);
  }

  for (const p of predictions) {
    if (options.json) io.stdout.write(`${JSON.stringify(p)}\n`);
    else io.stdout.write(`${p.source}: ${p.predicted} (p = ${p.probability.toFixed(4)})${p.label === undefined ? '' : `, label ${p.label}${p.label === p.predicted ? '' : '  ✗'}`}\n`);
  }
  return 0;
}
