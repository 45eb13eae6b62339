/**
 * Which shared buffers each worker already keeps, so that a task sends a
 * buffer only to a thread that lacks it (protocol.ts, `SharedRef`): a buffer
 * sent in every message arrives as a new object every time, and the views a
 * worker rebuilt over it each call made its memory grow.
 */
import { MAX_RECEIVED_BUFFERS, type GradientTask, type GradientTaskResult, type SharedRef, type SharedView } from './protocol.js';

export class BufferRegistry {
  /** The id each SharedArrayBuffer is sent under. */
  #ids = new WeakMap<SharedArrayBuffer, number>();
  #nextId = 1;
  /** By worker `threadId`: the ids of the buffers it keeps, as far as this thread knows (those of the tasks it ran). */
  #kept = new Map<number, Set<number>>();

  /**
   * A predicate for the tasks about to run on `threads` (worker `threadId`s):
   * whether buffer `id` must go with them. The pool cannot choose which thread
   * runs which task, so a buffer goes until every thread is known to keep it.
   */
  attachFor(threads: readonly number[]): (id: number) => boolean {
    for (const threadId of this.#kept.keys()) if (!threads.includes(threadId)) this.#kept.delete(threadId);
    return (id) => !(threads.length > 0 && threads.every((threadId) => this.#kept.get(threadId)?.has(id) === true));
  }

  /** Records that the thread which ran a task keeps the buffers `ids`; a task that found one missing forgets the thread's set. */
  record(result: GradientTaskResult, ids: readonly number[]): void {
    if (result.missing === true) {
      this.#kept.delete(result.threadId);
      return;
    }
    let kept = this.#kept.get(result.threadId);
    // The worker evicts beyond MAX_RECEIVED_BUFFERS: a set much larger is stale.
    if (kept === undefined || kept.size > 2 * MAX_RECEIVED_BUFFERS) this.#kept.set(result.threadId, kept = new Set());
    for (const id of ids) kept.add(id);
  }

  /**
   * `task` as sent, in slot `slot` with the call's `status` buffer: its shared
   * buffers by reference, each with the buffer attached when `attach(id)`;
   * the ids go into `ids`. A user function's arrays are new every call and go
   * as they are.
   */
  wire(task: GradientTask, slot: number, status: SharedArrayBuffer, attach: (id: number) => boolean, ids: number[]): GradientTask {
    const ref = (buffer: SharedArrayBuffer | SharedRef): SharedRef => {
      if (!(buffer instanceof SharedArrayBuffer)) return buffer;
      let id = this.#ids.get(buffer);
      if (id === undefined) this.#ids.set(buffer, id = this.#nextId++);
      ids.push(id);
      return attach(id) ? { id, buffer } : { id };
    };
    const view = (array: Float64Array | Int32Array | SharedView): SharedView => (ArrayBuffer.isView(array)
      ? { ref: ref(array.buffer as SharedArrayBuffer), byteOffset: array.byteOffset, length: array.length }
      : array);
    const statusRef = ref(status);
    if (task.kind === 'function') return { ...task, status: statusRef, slot };
    if (task.kind === 'evaluate') {
      return {
        ...task,
        params: view(task.params),
        splits: task.splits.map((split) => ({ ...split, x: view(split.x), labels: view(split.labels) })),
        results: view(task.results),
        counter: view(task.counter),
        status: statusRef,
        slot,
      };
    }
    const arrays = { params: view(task.params), x: view(task.x), labels: view(task.labels), gradient: view(task.gradient) };
    if (task.kind === 'naive') return { ...task, ...arrays, status: statusRef, slot };
    return { ...task, ...arrays, base: ref(task.base), board: ref(task.board), status: statusRef, slot };
  }
}
