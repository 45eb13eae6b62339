/**
 * Where the serial part of a pool call goes: a served call's timeline
 * (`onStatistics`) split into what the main thread does, what waking the
 * threads costs and what collecting costs, so that the bench can put the
 * serial part beside the machine's floor (wake-round-trip.ts) in the same run.
 */
import type { PoolCallTimeline } from '../src/parallel/gradient-pool.js';
import { summarize } from './stats.js';

/**
 * One call's serial part (wall − its slowest task), in milliseconds, split
 * along the worker of that task; the six add up to it. Over many calls, the
 * median of each.
 */
export interface SerialParts {
  /** Main thread, from the call to posting it: the checks, the batch into shared memory, the work board. */
  postMs: number;
  /** Main thread, in `Atomics.notify` waking the workers that slept. */
  notifyMs: number;
  /** From then until the worker of the slowest task saw the call (negative when it was polling and saw it first). */
  wakeMs: number;
  /** From that worker's report to the last worker's (the others woke later). */
  tailMs: number;
  /** From the last report until the main thread saw it. */
  seenMs: number;
  /** From then until the caller had the result. */
  returnMs: number;
}

/** The serial part of one call of `wallMs` split as {@link SerialParts} says, from its timeline. */
export function splitSerialPart(timeline: PoolCallTimeline, wallMs: number): SerialParts {
  const { woke, reported } = timeline;
  // The slowest task, as the serial part (wall − slowest task) takes it.
  let slowest = 0;
  for (let slot = 1; slot < woke.length; slot++) {
    if (reported[slot] - woke[slot] > reported[slowest] - woke[slowest]) slowest = slot;
  }
  const lastReport = Math.max(...reported);
  return {
    postMs: timeline.posted,
    notifyMs: timeline.notified - timeline.posted,
    wakeMs: woke[slowest] - timeline.notified,
    tailMs: lastReport - reported[slowest],
    seenMs: timeline.collected - lastReport,
    returnMs: wallMs - timeline.collected,
  };
}

/** The median of each part over `calls`; null for none. */
export function medianSerialParts(calls: readonly SerialParts[]): SerialParts | null {
  if (calls.length === 0) return null;
  const median = (key: keyof SerialParts) => summarize(calls.map((parts) => parts[key])).median;
  return {
    postMs: median('postMs'), notifyMs: median('notifyMs'), wakeMs: median('wakeMs'),
    tailMs: median('tailMs'), seenMs: median('seenMs'), returnMs: median('returnMs'),
  };
}
