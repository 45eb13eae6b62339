/**
 * How long this thread may still block in pool calls before its event loop
 * must turn. A served call (serving.ts) waits for its last worker in a
 * blocking `Atomics.wait`, not in `Atomics.waitAsync`: a thread asleep in
 * the first is woken by the futex itself, while the second's wake-up goes
 * through a task posted to the event loop. On this 2-vCPU host that took
 * 0.04–0.05 ms off the serial part of every call (2026-12-05, `gradpool bench
 * --threads 1,2 --epoch-iters 0`, two alternating pairs of runs: 0.173 and
 * 0.182 ms → 0.121 and 0.131 ms at 2 threads); in one process, blocks of
 * calls alternating (benchmarks/wait-ab.ts, 2026-12-06), 0.013–0.041 ms at
 * 2 threads and 0.155 ms at 1, of the serial part. Blocking stops timers,
 * signals and I/O, so a run of calls blocks for at most the pool's
 * `maxBlockMilliseconds` ({@link MAX_BLOCK_MILLISECONDS} by default) before
 * a call lets the event loop turn. The count is this module's, one per
 * thread (a second copy of the package keeps its own).
 */

/** The default of `maxBlockMilliseconds`: the longest a thread's pool calls block in a row without letting its event loop turn. */
export const MAX_BLOCK_MILLISECONDS = 10;

/** When this thread's calls began to block, since its event loop last turned; undefined: not blocking. */
let blockingSince: number | undefined;

function turned(): void {
  blockingSince = undefined;
}

/**
 * Milliseconds a call starting to wait at `now` (`performance.now()`) may
 * block under a cap of `maxMilliseconds`: the cap less the time since this
 * thread's first call after its event loop last turned (≤ 0: the call must
 * let the loop turn first), so that a whole run of calls between two turns,
 * their work included, stays within the cap. The first call after a turn
 * starts the count and asks to hear of the next turn. (The Trainer yields
 * every few milliseconds, so its calls block, but for a session's first.)
 */
export function blockingBudget(now: number, maxMilliseconds: number = MAX_BLOCK_MILLISECONDS): number {
  if (blockingSince === undefined) {
    blockingSince = now;
    // Runs once the event loop has gone round (its check phase), whatever the caller awaited meanwhile.
    setImmediate(turned);
  }
  return blockingSince + maxMilliseconds - now;
}
