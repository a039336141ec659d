/**
 * Where a batch's records are first walked: on the worker that decompressed it (it builds the
 * record index while the bytes are in its cache, see protocol/record-index.ts) or on the main
 * thread when the batch is iterated. The index costs the worker about as much as it saves the
 * main thread, minus the cache misses of reading fresh bytes on another core. So:
 *
 * - When the threads outnumber the cores (workers + 1 > cores), every cycle spent is one some
 *   thread waits for: build the index, the cheaper total.
 * - Otherwise each side has a core, and the index helps only when the workers have slack,
 *   which each job's answer tells: how long its worker sat idle before it (no job was queued)
 *   against how long it ran. A score moves one step per job toward the recent side, within
 *   +-SCORE_LIMIT, so a few jobs of the other kind do not flip the choice. (Whether the main
 *   thread found a job finished is no signal: results arrive only when it returns to the event
 *   loop, which a `for await` over settled promises does not.)
 *
 * Pure functions, property-tested in test/pool/index-policy.test.ts.
 */

/** How far the score moves before it stops: the hysteresis, in batches. */
export const SCORE_LIMIT = 8;

/** A worker idle for more than this share of a job's run time before it had slack. */
export const SLACK_SHARE = 0.25;

/** Whether a worker that waited `idleMs` for a job it then ran for `busyMs` had slack. */
export function workerHadSlack(idleMs: number, busyMs: number): boolean {
  return idleMs > busyMs * SLACK_SHARE;
}

/** The score after one more job: whether its worker had slack. */
export function nextIndexScore(score: number, slack: boolean): number {
  return slack ? Math.min(SCORE_LIMIT, score + 1) : Math.max(-SCORE_LIMIT, score - 1);
}

/** Whether the next batch sent to the workers should come back with its record index. */
export function indexOnWorkers(score: number, workers: number, cores: number): boolean {
  return workers + 1 > cores || score > 0;
}
