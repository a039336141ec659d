/**
 * @internal Not part of the public API (not re-exported by ./index.ts): the hooks the worker pool
 * (src/pool) needs to send a lease's ArrayBuffer to a worker thread and put the one that comes
 * back into the same lease. arena.ts fills them in from inside the Lease and Arena classes, where
 * the private fields are visible.
 *
 * Sending: `postMessage(job, [lease.bytes.buffer])` detaches the lease's buffer (its views read
 * as empty) while the lease object keeps the detached original alive, so the arena's leak
 * watcher does not mistake the job for a leak. Nothing else is needed for that half.
 */
import type { Lease } from './arena';

export interface LeaseMemoryHooks {
  /**
   * Puts `buffer` (the one that came back from the worker, of the lease's capacity) into `lease`
   * in place of its detached one: `bytes` views it again, and the arena's leak watcher follows
   * the new buffer. A job that failed or was abandoned (its buffer lost with a crashed worker)
   * restores a fresh `new ArrayBuffer(lease.capacity)` and then releases the lease, which credits
   * the budget back.
   */
  restore(lease: Lease, buffer: ArrayBuffer): void;
  /**
   * Releases a lease no one wrote into since it was granted (a job taken back or closed out
   * before a worker had it, a batch whose CRC the worker refused, a lost buffer replaced by a
   * fresh one): its memory holds zeros or the poison of its last release already, so the
   * release skips the poison pass. The lease must have one reference (never handed out).
   */
  discard(lease: Lease): void;
}

const unset = (): never => {
  throw new Error('kafka-arena internal: lease hooks not installed');
};

export const leaseMemory: LeaseMemoryHooks = { restore: unset, discard: unset };

/** @internal Filled in by the Arena class: watch `buffer` for the grant instead of its old buffer. */
export const arenaMemory: { rewatch(arena: unknown, grant: unknown, buffer: ArrayBuffer): void } = { rewatch: unset };
