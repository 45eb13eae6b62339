/**
 * Parameter updates, applied on the main thread once the gradient is in. Each
 * optimizer only implements its update (the book's chapter 6 forms); state is
 * exposed as named Float64Arrays so checkpoints can save and restore it exactly.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../errors.js';
import {
  assertFiniteInRange, assertInteger, assertKnownKeys, assertOneOf, assertOptionsObject, assertPositiveFinite, describe,
} from '../validate.js';

/** An optimizer's name: {@link SGD}, {@link Momentum} or {@link Adam}, as `--optimizer` and {@link createOptimizer} take it. */
export type OptimizerName = 'sgd' | 'momentum' | 'adam';
/** Every {@link OptimizerName}, for checking a name from a config file or the command line. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'momentum', 'adam'];

/** Options of {@link SGD}. */
export interface SGDOptions {
  /**
   * η, the step size: W ← W − η·∂L/∂W. A finite number greater than 0.
   * @default 0.01
   */
  learningRate?: number;
}

/** Options of {@link Momentum}. */
export interface MomentumOptions {
  /**
   * η, the step size: v ← αv − η·∂L/∂W. A finite number greater than 0.
   * @default 0.01
   */
  learningRate?: number;
  /**
   * α, the fraction of the last update kept (the book's `momentum`). A number from 0 up to but not including 1.
   * @default 0.9
   */
  momentum?: number;
}

/** Options of {@link Adam}. */
export interface AdamOptions {
  /**
   * The step size before bias correction (the book's `lr`). A finite number greater than 0.
   * @default 0.001
   */
  learningRate?: number;
  /**
   * Decay rate of the first moment (the mean of the gradients). A number from 0 up to but not including 1.
   * @default 0.9
   */
  beta1?: number;
  /**
   * Decay rate of the second moment (the mean of the squared gradients). A number from 0 up to but not including 1.
   * @default 0.999
   */
  beta2?: number;
  /**
   * Added to √v before dividing, so a zero second moment does not divide by zero (the book's `1e-7`). A finite number greater than 0.
   * @default 1e-7
   */
  epsilon?: number;
}

/** The options of each optimizer, by name: what {@link createOptimizer} takes. */
export interface OptimizerOptionsByName {
  /** The options of `createOptimizer('sgd')`. */
  sgd: SGDOptions;
  /** The options of `createOptimizer('momentum')`. */
  momentum: MomentumOptions;
  /** The options of `createOptimizer('adam')`. */
  adam: AdamOptions;
}

/** The options of any optimizer (each one accepts only its own keys). */
export type OptimizerOptions = SGDOptions | MomentumOptions | AdamOptions;

/** Each optimizer's option names; `satisfies` keeps them in step with the interfaces. */
const OPTION_KEYS = {
  sgd: Object.keys({ learningRate: true } satisfies Record<keyof SGDOptions, true>),
  momentum: Object.keys({ learningRate: true, momentum: true } satisfies Record<keyof MomentumOptions, true>),
  adam: Object.keys({ learningRate: true, beta1: true, beta2: true, epsilon: true } satisfies Record<keyof AdamOptions, true>),
} as const satisfies Record<OptimizerName, readonly string[]>;

/** Checks an optimizer's options object (`undefined` is none): an object naming only its own keys. */
function checkedOptions(name: OptimizerName, options: unknown, owner: string): Record<string, unknown> {
  if (options === undefined) return {};
  assertOptionsObject('options', options, '{ learningRate: 0.01 }');
  assertKnownKeys('options', options, OPTION_KEYS[name], owner);
  return options;
}

/**
 * A parameter update: `step(params, grad)` applies it in place. Each optimizer
 * validates its hyperparameters at construction and exposes its state by name
 * for checkpoints (`state()`, `loadState()`).
 */
export abstract class Optimizer {
  /** Which optimizer this is (`'sgd'`, `'momentum'`, `'adam'`): the name a checkpoint records. */
  abstract readonly name: OptimizerName;
  /** Updates applied so far. */
  stepCount = 0;

  /** Hyperparameters by their full names, for logs and checkpoints. */
  abstract get hyperparameters(): Record<string, number>;

  /**
   * params ← update(params, grad), in place.
   *
   * @throws {ArgumentTypeError} when `params` or `grad` is not a Float64Array.
   * @throws {ArgumentRangeError} ``Expected the gradient to have 2 values like the parameters, got 3``; also when the
   * state restored by {@link loadState} does not have one value per parameter.
   */
  step(params: Float64Array, grad: Float64Array): void {
    if (!(params instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`params\` to be a Float64Array, got ${describe(params)}`);
    if (!(grad instanceof Float64Array)) throw new ArgumentTypeError(`Expected \`grad\` to be a Float64Array, got ${describe(grad)}`);
    if (grad.length !== params.length) throw new ArgumentRangeError(`Expected the gradient to have ${params.length} values like the parameters, got ${grad.length}`);
    this.stepCount++;
    this.update(params, grad);
  }

  /** The optimizer's own rule, params ← update(params, grad) in place: called by {@link step} once the arguments are checked and `stepCount` counts this step. */
  protected abstract update(params: Float64Array, grad: Float64Array): void;

  /** Internal state (copies), by name. */
  state(): Record<string, Float64Array> {
    return {};
  }

  /** Names of the state tensors, once at least one step has been taken. */
  protected stateNames: readonly string[] = [];

  /**
   * Restores what `state()` returned, and the step count.
   *
   * @param state - the state tensors by name (copied).
   * @param stepCount - the updates applied so far, an integer from 0 and up.
   * @throws {ArgumentTypeError} when `state` is not an object or `stepCount` not a number.
   * @throws {ArgumentRangeError} when a state tensor is missing after a step, or they differ in length.
   */
  loadState(state: Record<string, Float64Array>, stepCount: number): void {
    assertOptionsObject('state', state, '{ velocity: Float64Array } from state()');
    assertInteger('stepCount', stepCount, 0);
    const lengths = new Set<number>();
    if (stepCount > 0) {
      for (const name of this.stateNames) {
        if (!(state[name] instanceof Float64Array)) throw new ArgumentRangeError(`Expected optimizer state \`${name}\` for ${this.name} after ${stepCount} steps, got none`);
        lengths.add(state[name].length);
      }
    }
    if (lengths.size > 1) throw new ArgumentRangeError(`Expected the optimizer state tensors ${this.stateNames.join(', ')} to have one length, got ${[...lengths].join(' and ')}`);
    this.restore(state);
    this.stepCount = stepCount;
  }

  /** A state tensor for `length` parameters: the existing one, or zeros on the first step. */
  protected stateFor(existing: Float64Array | null, length: number, name: string): Float64Array {
    if (existing === null) return new Float64Array(length);
    if (existing.length !== length) throw new ArgumentRangeError(`Expected optimizer state \`${name}\` to have ${length} values like the parameters, got ${existing.length}`);
    return existing;
  }

  /** Takes copies of the state tensors {@link loadState} checked (a missing one: zeros at the next step); an optimizer without state ignores them. */
  protected restore(_state: Record<string, Float64Array>): void {}
}

/** The book's SGD: W ← W − η·∂L/∂W. */
export class SGD extends Optimizer {
  /** Always `'sgd'`: the name checkpoints record and `createOptimizer` takes. */
  readonly name = 'sgd';
  /** η, the step size: a finite number greater than 0 (see {@link SGDOptions.learningRate}). */
  readonly learningRate: number;

  /**
   * @param options - see {@link SGDOptions}; every key may be left out.
   * @throws {ArgumentTypeError} when `options` is not an object, or `learningRate` not a number.
   * @throws {ArgumentRangeError} ``Expected `learningRate` to be a finite number greater than 0, got `0` (number)``;
   * ``Expected `options` of SGD to have only the keys `learningRate`, got the key `momentum` ``.
   */
  constructor(options: SGDOptions = {}) {
    super();
    const { learningRate = 0.01 } = checkedOptions('sgd', options, 'SGD') as SGDOptions;
    assertPositiveFinite('learningRate', learningRate);
    this.learningRate = learningRate;
  }

  get hyperparameters(): Record<string, number> {
    return { learningRate: this.learningRate };
  }

  protected update(params: Float64Array, grad: Float64Array): void {
    const lr = this.learningRate;
    for (let i = 0; i < params.length; i++) params[i] -= lr * grad[i];
  }
}

/** Momentum (book chapter 6): v ← αv − η·∂L/∂W; W ← W + v. */
export class Momentum extends Optimizer {
  /** Always `'momentum'`: the name checkpoints record and `createOptimizer` takes. */
  readonly name = 'momentum';
  /** η, the step size: a finite number greater than 0 (see {@link MomentumOptions.learningRate}). */
  readonly learningRate: number;
  /** α, the fraction of the last update kept, from 0 up to but not including 1 (see {@link MomentumOptions.momentum}). */
  readonly momentum: number;
  #velocity: Float64Array | null = null;

  /**
   * @param options - see {@link MomentumOptions}; every key may be left out.
   * @throws {ArgumentTypeError} when `options` is not an object, or a hyperparameter not a number.
   * @throws {ArgumentRangeError} ``Expected `momentum` to be a finite number from 0 up to but not including 1, got `1` (number)``;
   * a `learningRate` that is not greater than 0; a key other than `learningRate` and `momentum`.
   */
  constructor(options: MomentumOptions = {}) {
    super();
    const { learningRate = 0.01, momentum = 0.9 } = checkedOptions('momentum', options, 'Momentum') as MomentumOptions;
    assertPositiveFinite('learningRate', learningRate);
    assertFiniteInRange('momentum', momentum, 0, 1);
    this.learningRate = learningRate;
    this.momentum = momentum;
  }

  get hyperparameters(): Record<string, number> {
    return { learningRate: this.learningRate, momentum: this.momentum };
  }

  protected override stateNames = ['velocity'];

  protected update(params: Float64Array, grad: Float64Array): void {
    const v = (this.#velocity = this.stateFor(this.#velocity, params.length, 'velocity'));
    for (let i = 0; i < params.length; i++) {
      v[i] = this.momentum * v[i] - this.learningRate * grad[i];
      params[i] += v[i];
    }
  }

  override state(): Record<string, Float64Array> {
    return this.#velocity === null ? {} : { velocity: this.#velocity.slice() };
  }

  protected override restore(state: Record<string, Float64Array>): void {
    this.#velocity = state.velocity ? state.velocity.slice() : null;
  }
}

/** Adam (book chapter 6 form, with the bias correction folded into the step size). */
export class Adam extends Optimizer {
  /** Always `'adam'`: the name checkpoints record and `createOptimizer` takes. */
  readonly name = 'adam';
  /** The step size before bias correction, greater than 0 (see {@link AdamOptions.learningRate}). */
  readonly learningRate: number;
  /** Decay rate of the first moment, from 0 up to but not including 1 (see {@link AdamOptions.beta1}). */
  readonly beta1: number;
  /** Decay rate of the second moment, from 0 up to but not including 1 (see {@link AdamOptions.beta2}). */
  readonly beta2: number;
  /** Added to √v before dividing, greater than 0 (see {@link AdamOptions.epsilon}). */
  readonly epsilon: number;
  #firstMoment: Float64Array | null = null;
  #secondMoment: Float64Array | null = null;

  /**
   * @param options - see {@link AdamOptions}; every key may be left out.
   * @throws {ArgumentTypeError} when `options` is not an object, or a hyperparameter not a number.
   * @throws {ArgumentRangeError} ``Expected `beta2` to be a finite number from 0 up to but not including 1, got `-0.1` (number)``;
   * a `learningRate` or `epsilon` that is not greater than 0; a key other than `learningRate`, `beta1`, `beta2` and `epsilon`.
   */
  constructor(options: AdamOptions = {}) {
    super();
    const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = checkedOptions('adam', options, 'Adam') as AdamOptions;
    assertPositiveFinite('learningRate', learningRate);
    assertFiniteInRange('beta1', beta1, 0, 1);
    assertFiniteInRange('beta2', beta2, 0, 1);
    assertPositiveFinite('epsilon', epsilon);
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  get hyperparameters(): Record<string, number> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected override stateNames = ['firstMoment', 'secondMoment'];

  protected update(params: Float64Array, grad: Float64Array): void {
    const m = (this.#firstMoment = this.stateFor(this.#firstMoment, params.length, 'firstMoment'));
    const v = (this.#secondMoment = this.stateFor(this.#secondMoment, params.length, 'secondMoment'));
    const t = this.stepCount;
    const stepSize = (this.learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    for (let i = 0; i < params.length; i++) {
      const g = grad[i];
      m[i] += (1 - this.beta1) * (g - m[i]);
      v[i] += (1 - this.beta2) * (g * g - v[i]);
      params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + this.epsilon);
    }
  }

  override state(): Record<string, Float64Array> {
    return this.#firstMoment === null || this.#secondMoment === null ? {} : { firstMoment: this.#firstMoment.slice(), secondMoment: this.#secondMoment.slice() };
  }

  protected override restore(state: Record<string, Float64Array>): void {
    this.#firstMoment = state.firstMoment ? state.firstMoment.slice() : null;
    this.#secondMoment = state.secondMoment ? state.secondMoment.slice() : null;
  }
}

/**
 * Builds an optimizer by name with its options, all passed through; an option
 * left out or `undefined` keeps the optimizer's default.
 *
 * @param name - `'sgd'`, `'momentum'` or `'adam'` (see {@link OPTIMIZER_NAMES}).
 * @param options - that optimizer's options ({@link SGDOptions}, {@link MomentumOptions}, {@link AdamOptions}), and only those.
 * @throws {ArgumentTypeError} when `name` is not a string, `options` not an object, or a hyperparameter not a number.
 * @throws {ArgumentRangeError} ``Expected `optimizer` to be one of `sgd`, `momentum`, `adam`, got `"rmsprop"` (string)``;
 * ``Expected `options` of createOptimizer('sgd') to have only the keys `learningRate`, got the key `momentum` ``; a hyperparameter out of range.
 *
 * @example
 * createOptimizer('adam', { learningRate: 0.01, beta2: 0.99 }); // the same as new Adam({ learningRate: 0.01, beta2: 0.99 })
 */
export function createOptimizer(name: 'sgd', options?: SGDOptions): SGD;
export function createOptimizer(name: 'momentum', options?: MomentumOptions): Momentum;
export function createOptimizer(name: 'adam', options?: AdamOptions): Adam;
export function createOptimizer(name: string, options?: OptimizerOptions): Optimizer;
export function createOptimizer(name: string, options: OptimizerOptions = {}): Optimizer {
  assertOneOf('optimizer', name, OPTIMIZER_NAMES);
  // Checked here too, so the message names the call that was made.
  checkedOptions(name, options, `createOptimizer('${name}')`);
  if (name === 'sgd') return new SGD(options);
  if (name === 'momentum') return new Momentum(options);
  return new Adam(options);
}
