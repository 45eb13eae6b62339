/**
 * A typed array copied into a new SharedArrayBuffer: the form in which an
 * array reaches worker threads without being copied again per message.
 */
export function sharedCopy<T extends Float64Array | Int32Array>(array: T): T {
  const copy = new (array.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}
