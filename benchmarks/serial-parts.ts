/**
 * Where the serial part of a pool call goes: a served call's timeline
 * (`onStatistics`) split into what the main thread does, what waking the
 * threads costs and what collecting costs, so that the bench can put the
 * serial part beside the machine's floor (wake-round-trip.ts) in the same run.
 */
import type { PoolCallStatistics } from '../src/parallel/gradient-pool.js';
import { summarize } from './stats.js';

/**
 * One call's serial part (wall − its slowest task), in milliseconds, split
 * along the worker of that task; the first six add up to it, and `wakeUpsMs`
 * sums the three that are threads waking. Over many calls, the median of each
 * (medians need not add up to the median serial part).
 */
export interface SerialParts {
  /** Main thread, from the call to posting it: the checks, its turn, the batch into shared memory, the work board (and a session's start, on its first call). */
  postMs: number;
  /** Main thread, in `Atomics.notify` waking the workers that slept (and any time a woken worker took its core meanwhile). */
  notifyMs: number;
  /** From then until the worker of the slowest task saw the call (negative when it was polling, or woke on the main thread's core, and saw it first). */
  wakeMs: number;
  /** From that worker's report to the last worker's (the others woke later). */
  tailMs: number;
  /** From the last report until the main thread saw it. */
  seenMs: number;
  /** From then until the caller had the result. */
  returnMs: number;
  /**
   * notifyMs + wakeMs + seenMs: the threads waking (the workers, then the main
   * thread); what the serial part cannot go below on this machine while the
   * threads sleep between calls. Not quite free of the call's own code: work the
   * main thread does while the workers compute (a library call's new result
   * array) and has not finished by the last report lands in seenMs.
   */
  wakeUpsMs: number;
}

/** The serial part of one call of `wallMs` split as {@link SerialParts} says, from its statistics. */
export function splitSerialPart({ taskMilliseconds, timeline }: Required<PoolCallStatistics>, wallMs: number): SerialParts {
  const { woke, reported } = timeline;
  // The slowest task, as the serial part (wall − slowest task) takes it.
  const slowest = taskMilliseconds.indexOf(Math.max(...taskMilliseconds));
  const lastReport = Math.max(...reported);
  const notifyMs = timeline.notified - timeline.posted;
  const wakeMs = woke[slowest] - timeline.notified;
  const seenMs = timeline.collected - lastReport;
  return {
    postMs: timeline.posted,
    notifyMs,
    wakeMs,
    tailMs: lastReport - reported[slowest],
    seenMs,
    returnMs: wallMs - timeline.collected,
    wakeUpsMs: notifyMs + wakeMs + seenMs,
  };
}

/** The median of each part over `calls`; null for none. */
export function medianSerialParts(calls: readonly SerialParts[]): SerialParts | null {
  if (calls.length === 0) return null;
  const median = (key: keyof SerialParts) => summarize(calls.map((parts) => parts[key])).median;
  return {
    postMs: median('postMs'), notifyMs: median('notifyMs'), wakeMs: median('wakeMs'),
    tailMs: median('tailMs'), seenMs: median('seenMs'), returnMs: median('returnMs'), wakeUpsMs: median('wakeUpsMs'),
  };
}
