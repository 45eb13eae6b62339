/**
 * The one vocabulary for how a TwoLayerNet gradient is computed, shared by the
 * pool, the Trainer, the CLI (`--engine`), config files and checkpoints.
 */

/**
 * How a TwoLayerNet gradient is computed (the `engine` option of the pool, the
 * Trainer and `train`, `--engine` on the command line):
 *
 * - `incremental`: the book's central differences, computed exactly from a
 *   cached forward pass, in the worker pool (the default).
 * - `naive`: the book's central differences by two full forward passes per
 *   parameter, in the worker pool (the reference; very slow).
 * - `backprop`: the book's chapter 5 backward pass, on the calling thread.
 */
export type Engine = 'incremental' | 'naive' | 'backprop';

/** Every {@link Engine}, for checking a name from a config file or the command line. */
export const ENGINES: readonly Engine[] = ['incremental', 'naive', 'backprop'];

/** The engines that compute numerical gradients, in a GradientPool. */
export type NumericalEngine = Exclude<Engine, 'backprop'>;

/** Every {@link NumericalEngine}: the values of {@link PoolGradientOptions.engine}. */
export const NUMERICAL_ENGINES: readonly NumericalEngine[] = ['naive', 'incremental'];

/** The engine every API and the CLI use when none is named. */
export const DEFAULT_ENGINE: NumericalEngine = 'incremental';

/**
 * Names of version 0.1, still accepted from the CLI (`--grad numerical`) and
 * from the checkpoints it saved (`"gradient": "numerical"` in their config):
 * `numerical` is `incremental`, the other names are unchanged.
 */
export const LEGACY_ENGINE_NAMES: ReadonlyMap<string, Engine> = new Map([['numerical', 'incremental']]);

/** A one-line description of an engine, for progress lines and chart titles. */
export function describeEngine(engine: Engine): string {
  return engine === 'incremental' ? 'exact numerical gradient (incremental)'
    : engine === 'naive' ? 'naive numerical gradient (the book\'s method)' : 'backprop gradient';
}
