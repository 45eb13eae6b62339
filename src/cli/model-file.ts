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
