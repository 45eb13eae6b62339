/** Values of a Float64Array per 4 KiB page, the smallest the kernel maps. */
const VALUES_PER_PAGE = 4096 / Float64Array.BYTES_PER_ELEMENT;

/**
 * A new Float64Array of `length` zeros whose memory has been written once, so
 * the page faults of fresh memory are paid now (on a thread with time to
 * spare) rather than at its first real write. `undefined` when the memory
 * cannot be had: the caller allocates again later and meets the error there.
 */
export function touchedArray(length: number): Float64Array | undefined {
  let array: Float64Array;
  try {
    array = new Float64Array(length);
  } catch {
    return undefined;
  }
  for (let i = 0; i < length; i += VALUES_PER_PAGE) array[i] = 0;
  return array;
}
