/** The book's simpleNet (chapter 4): one 2 × 3 weight matrix, softmax and cross-entropy, for the numerical gradient by hand. */
import { type BatchInput, type TargetInput, toFlatMatrix } from '../batch.js';
import { crossEntropyError, softmax } from '../functions.js';
import { numericalGradient, DEFAULT_H } from '../numerical.js';
import { Random } from '../random.js';
import { assertAllFinite, describe } from '../validate.js';

/**
 * The book's `simpleNet`: a single 2×3 weight matrix, predict = x·W,
 * loss = cross-entropy of softmax(x·W). `W` is row-major and can be set.
 */
export class SimpleNet {
  static readonly inputSize = 2;
  static readonly outputSize = 3;
  /** The weights, 2×3 row-major. */
  readonly W = new Float64Array(6);

  constructor(options: { seed?: number; W?: number[][] | ArrayLike<number> } = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`Expected \`options\` to be an object such as { seed: 0 } or { W: [[…], […]] }, got ${describe(options)}`);
    }
    const { seed = 0, W } = options;
    if (W === undefined) new Random(seed).fillNormal(this.W);
    else this.setW(W);
  }

  setW(W: number[][] | ArrayLike<number>): void {
    if (typeof W !== 'object' || W === null || typeof (W as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`Expected \`W\` to be 2 × 3 (or 6 values row-major), got ${describe(W)}`);
    }
    const nested = Array.isArray(W) && Array.isArray(W[0]);
    const rowsOk = !nested || ((W as number[][]).length === 2 && (W as number[][]).every((row) => Array.isArray(row) && row.length === 3));
    const values = nested ? (W as number[][]).flat() : Array.from(W as ArrayLike<number>);
    if (!rowsOk || values.length !== 6) {
      throw new RangeError(`Expected \`W\` to be 2 × 3 (or 6 values row-major), got ${describe(W)}`);
    }
    assertAllFinite('W', values);
    this.W.set(values);
  }

  /** x·W for one sample (a 2-vector) or a batch (rows of 2). */
  predict(x: BatchInput): Float64Array {
    const flat = toFlatMatrix(x, 'x');
    if (flat.columns !== 2) throw new RangeError(`Expected \`x\` to have 2 columns, got ${flat.columns}`);
    const out = new Float64Array(flat.rows * 3);
    for (let n = 0; n < flat.rows; n++) {
      for (let k = 0; k < 3; k++) out[n * 3 + k] = flat.data[n * 2] * this.W[k] + flat.data[n * 2 + 1] * this.W[3 + k];
    }
    return out;
  }

  loss(x: BatchInput, t: TargetInput): number {
    const z = this.predict(x);
    const y = softmax({ data: z, rows: z.length / 3, columns: 3 });
    return crossEntropyError(y, t);
  }

  /** The book's `numerical_gradient(f, net.W)` with `f = w => net.loss(x, t)`: dL/dW, 2×3 row-major. */
  numericalGradient(x: BatchInput, t: TargetInput, h = DEFAULT_H): Float64Array {
    return numericalGradient(() => this.loss(x, t), this.W, h);
  }
}
