/**
 * Parameter updates, applied on the main thread once the gradient is in. Each
 * optimizer only implements its update (the book's chapter 6 forms); state is
 * exposed as named Float64Arrays so checkpoints can save and restore it exactly.
 */
import { assertFiniteInRange, assertOneOf, assertPositiveFinite } from '../validate.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'momentum', 'adam'];

export abstract class Optimizer {
  abstract readonly name: OptimizerName;
  /** Updates applied so far. */
  stepCount = 0;

  /** Hyperparameters by their full names, for logs and checkpoints. */
  abstract get hyperparameters(): Record<string, number>;

  /** params ← update(params, grad). */
  step(params: Float64Array, grad: Float64Array): void {
    if (grad.length !== params.length) throw new RangeError(`Expected the gradient to have ${params.length} values like the parameters, got ${grad.length}`);
    this.stepCount++;
    this.update(params, grad);
  }

  protected abstract update(params: Float64Array, grad: Float64Array): void;

  /** Internal state (copies), by name. */
  state(): Record<string, Float64Array> {
    return {};
  }

  /** Names of the state tensors, once at least one step has been taken. */
  protected stateNames: readonly string[] = [];

  /** Restores what {@link state} returned, and the step count. */
  loadState(state: Record<string, Float64Array>, stepCount: number): void {
    const lengths = new Set<number>();
    if (stepCount > 0) {
      for (const name of this.stateNames) {
        if (!(state[name] instanceof Float64Array)) throw new RangeError(`Expected optimizer state \`${name}\` for ${this.name} after ${stepCount} steps, got none`);
        lengths.add(state[name].length);
      }
    }
    if (lengths.size > 1) throw new RangeError(`Expected the optimizer state tensors ${this.stateNames.join(', ')} to have one length, got ${[...lengths].join(' and ')}`);
    this.restore(state);
    this.stepCount = stepCount;
  }

  /** A state tensor for `length` parameters: the existing one, or zeros on the first step. */
  protected stateFor(existing: Float64Array | null, length: number, name: string): Float64Array {
    if (existing === null) return new Float64Array(length);
    if (existing.length !== length) throw new RangeError(`Expected optimizer state \`${name}\` to have ${length} values like the parameters, got ${existing.length}`);
    return existing;
  }

  protected restore(_state: Record<string, Float64Array>): void {}
}

/** The book's SGD: W ← W − η·∂L/∂W. */
export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly learningRate: number;

  constructor({ learningRate = 0.01 }: { learningRate?: number } = {}) {
    super();
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
  readonly name = 'momentum';
  readonly learningRate: number;
  readonly momentum: number;
  #velocity: Float64Array | null = null;

  constructor({ learningRate = 0.01, momentum = 0.9 }: { learningRate?: number; momentum?: number } = {}) {
    super();
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
  readonly name = 'adam';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  #firstMoment: Float64Array | null = null;
  #secondMoment: Float64Array | null = null;

  constructor({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 }: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number } = {}) {
    super();
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

/** Builds an optimizer by name; `learningRate` undefined keeps the optimizer's default. */
export function createOptimizer(name: string, { learningRate }: { learningRate?: number } = {}): Optimizer {
  assertOneOf('optimizer', name, OPTIMIZER_NAMES);
  const options = learningRate === undefined ? {} : { learningRate };
  if (name === 'sgd') return new SGD(options);
  if (name === 'momentum') return new Momentum(options);
  return new Adam(options);
}
