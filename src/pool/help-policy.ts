/**
 * Whether the thread that waits for a batch (the caller of `pool.decodeRecordBatches`) should
 * decode a later batch itself, one no worker has started yet, instead of waiting. With fewer
 * workers than cores a core is the caller's; while it waits that core idles, and the workers
 * are the slower side. But a batch decoded by the caller costs it the whole batch (about as long
 * as a worker's job, more than the caller's own work per batch), so helping too much makes the
 * caller the slower side. The rule: help while the work left to the workers, spread over them,
 * exceeds the work left to the caller (its own per batch for every batch read ahead, plus
 * the batch it would decode).
 *
 * The times are moving averages the pool keeps (src/pool/pool.ts): a worker's job, the caller's
 * time between two batches, a batch decoded by the caller. Pure functions, property-tested in
 * test/pool/help-policy.test.ts.
 */

/** What the read-ahead knows when the caller waits. */
export interface HelpState {
  /** Batches read ahead that the workers still have to decompress (queued or running), the awaited one included. */
  jobsLeft: number;
  /** Batches read ahead and not handed out yet, the awaited one included. */
  batchesLeft: number;
  workers: number;
  /** A worker's time per job, ms. */
  jobMs: number;
  /** The caller's own time per batch (between taking one and asking for the next), ms. */
  consumeMs: number;
  /** The caller's time to decode a batch itself, ms. */
  helpMs: number;
}

/** Whether to decode a queued batch on the waiting thread now. */
export function shouldHelp(s: HelpState): boolean {
  return (s.jobsLeft * s.jobMs) / s.workers > s.batchesLeft * s.consumeMs + s.helpMs;
}

/** Weight of a new sample in the moving averages. */
export const AVERAGE_WEIGHT = 0.2;

/** The moving average after one more sample (the first sample sets it). */
export function nextAverage(average: number | undefined, sample: number): number {
  return average === undefined ? sample : average + AVERAGE_WEIGHT * (sample - average);
}
