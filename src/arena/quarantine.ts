/**
 * How released memory is reused, against native asynchronous I/O.
 *
 * Revoking a lease detaches its ArrayBuffer, so JavaScript views read as empty. But work already
 * queued in libuv (`fs.write`, `socket.write` once the kernel buffer is full) or in the zlib
 * thread pool holds a raw pointer into the memory and reads it whenever it runs. If the pool has
 * handed the memory to the next lease by then, that work reads another message's bytes. Three
 * measures make that unlikely and, when it happens anyway, recognisable:
 * - released buffers are reused oldest first (FIFO), so reuse comes as late as the pool allows;
 * - `quarantineMs`: a released buffer is not reused for that long while allocating instead stays
 *   within the budget (under budget pressure the oldest is reused early, counted in
 *   `earlyReuses`): memory is traded for time;
 * - `poisonOnRelease`: the released bytes are overwritten with {@link POISON}, so late I/O reads
 *   the pattern, not the released message.
 * Memory the pool does not keep (released past the budget, trimmed, evicted) serves the same
 * quarantine in a {@link Graveyard} before it is freed.
 * None of this is a guarantee: I/O slower than the quarantine (a stalled socket peer) can still
 * read the next tenant's bytes. A handler must await its writes, or keep the memory with
 * `retainBatch()` until they complete, or copy (docs/recycling.md).
 */
import { booleanArg, integerArg } from '../validate';
import { detachMethod } from './detach';
import { Fifo } from '../fifo';

/** The pattern released bytes are overwritten with: "kafka-arena released" read as bytes. */
export const POISON = Buffer.from('\xde\xad\xbe\xefRELEASED', 'latin1');

/** Defaults, chosen by bench/quarantine.ts (figures in docs/recycling.md). */
export const DEFAULT_QUARANTINE_MS = 100;
export const DEFAULT_POISON_ON_RELEASE = true;

/** The reuse policy of an arena. */
export interface ReleasePolicy {
  readonly quarantineMs: number;
  readonly poisonOnRelease: boolean;
}

export function releasePolicy(options: { quarantineMs?: unknown; poisonOnRelease?: unknown }): ReleasePolicy {
  return {
    quarantineMs: integerArg('quarantineMs', options.quarantineMs, 0, 3_600_000, DEFAULT_QUARANTINE_MS),
    poisonOnRelease: booleanArg('poisonOnRelease', options.poisonOnRelease, DEFAULT_POISON_ON_RELEASE),
  };
}

/** Idle buffers of one size class, oldest released first. */
export interface FreeList {
  buffers: Fifo<ArrayBuffer>;
  /** When each buffer was released (performance.now()), parallel to `buffers`. */
  releasedAt: Fifo<number>;
  /** Fewest buffers this list held since the last trim tick: those were not needed. */
  lowWater: number;
}

export function newFreeList(): FreeList {
  return { buffers: new Fifo(), releasedAt: new Fifo(), lowWater: 0 };
}

/** Overwrites the first `length` bytes of a released buffer with the poison pattern, when the policy says so; returns the bytes written. */
export function poisonReleased(policy: ReleasePolicy, buffer: ArrayBuffer, length: number): number {
  if (!policy.poisonOnRelease || length === 0) return 0;
  Buffer.from(buffer, 0, length).fill(POISON);
  return length;
}

/** Adds a released buffer at the back of its list. */
export function addFree(list: FreeList, buffer: ArrayBuffer): void {
  list.buffers.push(buffer);
  list.releasedAt.push(performance.now());
}

/**
 * Whether `list` has a buffer to reuse now: its oldest has served its quarantine, or `force`
 * (allocating instead would pass the budget).
 */
export function canReuse(policy: ReleasePolicy, list: FreeList | undefined, force: boolean): boolean {
  if (list === undefined || list.buffers.length === 0) return false;
  return force || policy.quarantineMs === 0 || performance.now() - list.releasedAt.peek()! >= policy.quarantineMs;
}

/** True when the oldest buffer of `list` is still in quarantine (a reuse of it now is early). */
export function inQuarantine(policy: ReleasePolicy, list: FreeList): boolean {
  return policy.quarantineMs > 0 && performance.now() - list.releasedAt.peek()! < policy.quarantineMs;
}

/** Takes the oldest buffer of `list` for reuse. */
export function takeOldest(list: FreeList): ArrayBuffer {
  list.releasedAt.shift();
  return list.buffers.shift()!;
}

/** Moves the `n` oldest buffers of `list` to `graveyard` (trimming, eviction), with their release times. */
export function buryOldest(list: FreeList, n: number, graveyard: Graveyard): void {
  for (let i = 0; i < n && list.buffers.length > 0; i++) graveyard.bury(list.buffers.shift()!, list.releasedAt.shift()!);
}

/** Frees an ArrayBuffer's memory at once where the runtime can (Node 22+); else the collector will. */
const free: (buffer: ArrayBuffer) => void =
  detachMethod === 'transfer' ? (buffer) => void (buffer as ArrayBuffer & { transfer(n: number): ArrayBuffer }).transfer(0) : () => {};

/**
 * One size's held buffers, in order of release (oldest first, also when a trimmed buffer released
 * before others arrives after them). `head` is the oldest: taking advances it, and the taken slots
 * are cut off in bulk, so draining a long list is linear, not one array shift per buffer.
 */
interface HeldList {
  buffers: (ArrayBuffer | undefined)[];
  releasedAt: number[];
  head: number;
}

function holdInOrder(list: HeldList, buffer: ArrayBuffer, releasedAt: number): void {
  let i = list.buffers.length;
  while (i > list.head && list.releasedAt[i - 1] > releasedAt) i--;
  list.buffers.splice(i, 0, buffer);
  list.releasedAt.splice(i, 0, releasedAt);
}

function takeHeld(list: HeldList): ArrayBuffer {
  const buffer = list.buffers[list.head]!;
  list.buffers[list.head++] = undefined;
  if (list.head === list.buffers.length) {
    list.buffers.length = list.releasedAt.length = list.head = 0;
  } else if (list.head >= 1024 && 2 * list.head >= list.buffers.length) {
    list.buffers.splice(0, list.head);
    list.releasedAt.splice(0, list.head);
    list.head = 0;
  }
  return buffer;
}

/**
 * Released memory that leaves the pool. Dropped as soon as it is released, the collector would
 * free it at a time of its choosing: maybe sooner than the quarantine (malloc may then hand it to
 * the next lease while native I/O still reads it), maybe much later (RSS carries it meanwhile).
 * Here it is held until `quarantineMs` after its release, then freed at once
 * (`ArrayBuffer.prototype.transfer(0)`; Node 20 has no such call and leaves it to the collector).
 * While held it can be taken back, oldest first, as a pooled buffer in quarantine can, when
 * allocating instead would pass the budget: a fetch past the budget that follows another reuses
 * its memory instead of doubling it. It holds at most `maxBytes` (the arena's budget) or one
 * buffer, whichever is more: past that the oldest are freed before their time, so a long
 * quarantine never turns into unbounded memory. One list per size, one timer for the oldest buffer.
 */
export class Graveyard {
  readonly #quarantineMs: number;
  readonly #maxBytes: number;
  readonly #lists = new Map<number, HeldList>();
  #bytes = 0;
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now() time). */
  #dueAt = Infinity;

  constructor(quarantineMs: number, maxBytes: number) {
    this.#quarantineMs = quarantineMs;
    this.#maxBytes = maxBytes;
  }

  /** Bytes held, waiting for their quarantine to end. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Takes `buffer`, released at `releasedAt` (performance.now()), and frees it when its quarantine is over. */
  bury(buffer: ArrayBuffer, releasedAt = performance.now()): void {
    if (performance.now() - releasedAt >= this.#quarantineMs) {
      free(buffer);
      return;
    }
    let list = this.#lists.get(buffer.byteLength);
    if (list === undefined) this.#lists.set(buffer.byteLength, (list = { buffers: [], releasedAt: [], head: 0 }));
    holdInOrder(list, buffer, releasedAt);
    this.#bytes += buffer.byteLength;
    this.#count++;
    while (this.#bytes > this.#maxBytes && this.#count > 1) this.#freeOldest();
    // A trimmed or evicted buffer can be due before the one the timer waits for.
    if (this.#timer !== undefined && releasedAt + this.#quarantineMs < this.#dueAt) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#timer === undefined && this.#count > 0) this.#schedule();
  }

  #freeOldest(): void {
    let oldest: HeldList | undefined;
    for (const list of this.#lists.values()) if (oldest === undefined || list.releasedAt[list.head] < oldest.releasedAt[oldest.head]) oldest = list;
    this.#release(oldest!);
  }

  /** Takes the oldest buffer of `list` out of the graveyard, keeping the counts. */
  #release(list: HeldList): ArrayBuffer {
    const buffer = takeHeld(list);
    if (list.buffers.length === 0) this.#lists.delete(buffer.byteLength);
    this.#bytes -= buffer.byteLength;
    this.#count--;
    return buffer;
  }

  /** The oldest held buffer of exactly `capacity` bytes, taken back for a lease, if any. */
  take(capacity: number): ArrayBuffer | undefined {
    const list = this.#lists.get(capacity);
    return list === undefined ? undefined : this.#release(list);
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#dueAt = Infinity;
    const now = performance.now();
    for (const list of this.#lists.values()) {
      while (list.buffers.length > 0 && now - list.releasedAt[list.head] >= this.#quarantineMs) free(this.#release(list));
    }
    if (this.#count > 0) this.#schedule();
  }

  #schedule(): void {
    let oldest = Infinity;
    for (const list of this.#lists.values()) oldest = Math.min(oldest, list.releasedAt[list.head]);
    this.#dueAt = oldest + this.#quarantineMs;
    // Unref'd: a process that is otherwise done exits; its memory goes with it.
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(this.#dueAt - performance.now())));
    this.#timer.unref();
  }
}
