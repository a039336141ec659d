import { EventEmitter } from 'node:events';
import { constants as bufferConstants } from 'node:buffer';
import { KafkaArenaError, LeaseError } from '../errors';
import { functionArg, integerArg, invalid, oneOfArg, optionsArg } from '../validate';
import { WaiterQueue } from './waiters';
import { classSize } from './size-classes';
import { bufferView } from '../buffer-view';
import { detachArrayBuffer } from './detach';
import { LeakDetectionLevel, LeakReport, resolveLeakLevel } from './leak';
import { arenaMemory, leaseMemory } from './internal';
import { addFree, buryOldest, canReuse, FreeList, Graveyard, inQuarantine, newFreeList, poisonReleased, ReleasePolicy, releasePolicy, takeOldest } from './quarantine';

/** Options for {@link Arena}. */
export interface ArenaOptions {
  /**
   * The memory budget in bytes: leased plus idle pooled memory stays at or below it, except for
   * `acquireSync` (which never waits) and a single oversized request (see `oversize`); while
   * leases are past it, released buffers are freed (after `quarantineMs`) rather than pooled.
   * Default 64 MiB.
   */
  maxBytes?: number;
  /**
   * What `acquire(n)` does when `n` rounds up to more than `maxBytes`:
   * - `'exclusive'` (default): wait until no other lease is out, then grant it alone. Requests
   *   behind it wait (FIFO). It never deadlocks as long as the other holders release.
   * - `'reject'`: reject with `ERR_OVER_BUDGET`.
   */
  oversize?: 'exclusive' | 'reject';
  /** Idle pooled bytes kept at most. Default `maxBytes`. */
  maxIdleBytes?: number;
  /**
   * Idle memory that stayed unused for a whole interval is dropped, so a quiet process gives it
   * back. Default 10 000 ms; 0 turns the timer off (call `trim()` yourself).
   */
  trimIntervalMs?: number;
  /**
   * Leak detection, like Netty's ResourceLeakDetector. Default from the environment variable
   * `KAFKA_ARENA_LEAK_DETECTION`, else `'simple'`.
   * Leaks are reported when the collector frees the memory of a lease that was never released.
   * - `'disabled'`: leaks are not reported (the budget still counts memory until GC frees it).
   * - `'simple'`: every leaked lease is counted and reported, without a stack.
   * - `'advanced'`: as simple, and 1 lease in `leakSamplingInterval` records its allocation stack.
   * - `'paranoid'`: every lease records its allocation stack.
   */
  leakDetection?: LeakDetectionLevel;
  /** Sampling interval for `'advanced'` leak detection. Default 128. */
  leakSamplingInterval?: number;
  /** Called for every leaked lease (in addition to the `'leak'` event). */
  onLeak?: (report: LeakReport) => void;
  /**
   * A released buffer is not reused for this long while allocating instead fits the budget, so
   * native I/O still reading a released lease (a write not awaited) is unlikely to see the next
   * tenant's bytes. Released buffers are always reused oldest first. Default 100 ms; 0 reuses
   * at once. See src/arena/quarantine.ts and docs/recycling.md.
   */
  quarantineMs?: number;
  /** Overwrite released bytes with a recognisable pattern (`POISON`). Default true. */
  poisonOnRelease?: boolean;
}

/** Options for {@link Arena.acquire}. */
export interface AcquireOptions {
  /** Abort the wait. The promise rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/** A snapshot of the arena's counters. */
export interface ArenaStats {
  /** The budget. */
  maxBytes: number;
  /** Bytes of the ArrayBuffers currently leased (class sizes, which is the memory really held). */
  leasedBytes: number;
  /** Bytes callers asked for, summed over live leases (`leasedBytes` minus rounding). */
  requestedBytes: number;
  /** Live leases. */
  leasedCount: number;
  /** Idle pooled bytes, ready for reuse. */
  idleBytes: number;
  /** Idle pooled ArrayBuffers. */
  idleCount: number;
  /** Highest `leasedBytes + idleBytes` seen. */
  highWaterBytes: number;
  /** Leases granted, by any method. */
  acquires: number;
  /** Grants served from the pool, without a new ArrayBuffer. */
  poolHits: number;
  /** Grants that allocated a new ArrayBuffer. */
  allocations: number;
  /** Leases returned through `release()`. */
  releases: number;
  /** `acquire` calls that had to wait. */
  waits: number;
  /** Acquires waiting now. */
  waiting: number;
  /** Grants that went past the budget (`acquireSync`, or an oversized exclusive grant). */
  overBudget: number;
  /** Leases whose memory the garbage collector reclaimed without a release. */
  gcReclaimed: number;
  /** Leases collected without a release (reported through `'leak'`; 0 when detection is disabled). */
  leaks: number;
  /** Idle bytes dropped by trimming or eviction. */
  trimmedBytes: number;
  /**
   * Released bytes that are neither leased nor pooled (released past the budget, trimmed or
   * evicted), held until their quarantine ends and then freed. At most `maxBytes`, or one buffer
   * when a single one is larger (older ones are freed early to stay within that).
   */
  pendingFreeBytes: number;
  /** Pool hits on a buffer still in quarantine, because allocating would have passed the budget. */
  earlyReuses: number;
}

/** The memory a lease holds, shared by the lease and the arena's finalizer bookkeeping. */
interface Grant {
  capacity: number;
  requested: number;
  /** Bytes the lease exposed when granted: `truncate()` shortens `requested`, not what was written, so the poison covers these. */
  exposed: number;
  /** False once released or reclaimed, so the budget is never credited twice. */
  live: boolean;
  /** Allocation stack, for leases the leak-detection level samples. */
  stack?: string;
}

interface Waiter {
  n: number;
  capacity: number;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Largest lease: a Buffer's maximum length, and at most 4 GiB (twice Kafka's largest batch), so
 * an absurd size is an argument error rather than a failed allocation.
 */
const MAX_LEASE_BYTES = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32);
/** setInterval's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// Module-private doors between Lease and Arena, opened by their static blocks: they keep the
// constructor and the release bookkeeping out of the public surface (a user calling them would
// corrupt the budget).
let newLease: (arena: Arena, buffer: ArrayBuffer, grant: Grant) => Lease;
let grantOf: (lease: Lease) => Grant;
let recycle: (arena: Arena, lease: Lease, buffer: ArrayBuffer) => void;
let shrunk: (arena: Arena, bytes: number) => void;
/** On a pool miss, idle buffers of up to this many classes larger are used (at most +50 %, two quarter-steps). */
const REUSE_LARGER_CLASSES = 2;

/**
 * A piece of arena memory, handed out by {@link Arena}. `bytes` is a Buffer of exactly the
 * requested length. The last `release()` returns the memory to the pool and detaches the
 * ArrayBuffer, so any view kept past release reads as empty (length 0), never as the next
 * tenant's bytes.
 */
export class Lease {
  #arena: Arena;
  #buffer: ArrayBuffer;
  #bytes: Buffer;
  #refs = 1;
  readonly #grant: Grant;

  static {
    newLease = (arena, buffer, grant) => new Lease(arena, buffer, grant);
    grantOf = (lease) => lease.#grant;
  }

  /** Leases come from {@link Arena.acquire} (or `tryAcquire`, `acquireSync`). */
  private constructor(arena: Arena, buffer: ArrayBuffer, grant: Grant) {
    this.#arena = arena;
    this.#buffer = buffer;
    this.#grant = grant;
    this.#bytes = bufferView(buffer, 0, grant.requested);
  }

  /** The leased bytes. Throws `ERR_LEASE_RELEASED` after the last release. */
  get bytes(): Buffer {
    if (this.#refs === 0) throw released('bytes');
    return this.#bytes;
  }

  /** Length of `bytes`. */
  get length(): number {
    return this.#bytes.length;
  }

  /** Size of the pooled ArrayBuffer behind the lease (the size class). */
  get capacity(): number {
    return this.#grant.capacity;
  }

  /** Outstanding references: 1 after acquire, +1 per `retain()`, −1 per `release()`. */
  get refCount(): number {
    return this.#refs;
  }

  /** True once the last reference was released. */
  get released(): boolean {
    return this.#refs === 0;
  }

  /** Adds a reference; each needs its own `release()`. Returns `this`. */
  retain(): this {
    if (this.#refs === 0) throw released('retain()');
    this.#refs++;
    return this;
  }

  /**
   * Drops a reference. The last one recycles the memory and revokes every view of it.
   * Returns true when this call freed the memory. Throws `ERR_DOUBLE_RELEASE` when the lease was
   * already released.
   */
  release(): boolean {
    if (this.#refs === 0) {
      throw new LeaseError('ERR_DOUBLE_RELEASE', 'lease released more times than it was acquired and retained');
    }
    if (--this.#refs > 0) return false;
    const buffer = this.#buffer;
    this.#buffer = EMPTY;
    recycle(this.#arena, this, buffer);
    return true;
  }

  /**
   * Shrinks `bytes` to its first `n` bytes (for decoders that sized the lease from an upper
   * bound). The capacity is unchanged.
   */
  truncate(n: number): void {
    if (this.#refs === 0) throw released('truncate()');
    integerArg('n', n, 0, this.#bytes.length);
    shrunk(this.#arena, this.#grant.requested - n);
    this.#bytes = this.#bytes.subarray(0, n);
    this.#grant.requested = n;
  }

  /** A copy of `bytes` that the caller owns and that survives release. */
  copy(): Buffer {
    return Buffer.from(this.bytes);
  }

  // @internal The worker pool's hook (see ./internal.ts): not on the public type.
  static {
    leaseMemory.restore = (lease, buffer) => {
      if (lease.#refs === 0) throw released('restore');
      if (buffer.byteLength !== lease.#grant.capacity) invalid('buffer', `an ArrayBuffer of the lease's ${lease.#grant.capacity} bytes`, buffer);
      lease.#buffer = buffer;
      lease.#bytes = bufferView(buffer, 0, lease.#grant.requested);
      arenaMemory.rewatch(lease.#arena, lease.#grant, buffer);
    };
    leaseMemory.discard = (lease) => {
      if (lease.#refs !== 1) throw new Error(`kafka-arena internal: discard() of a lease with ${lease.#refs} references (one expected)`);
      lease.#grant.exposed = 0;
      lease.release();
    };
  }
}

const EMPTY = new ArrayBuffer(0);

function released(what: string): LeaseError {
  return new LeaseError('ERR_LEASE_RELEASED', `${what} used after the lease was released`);
}

/**
 * A pool of ArrayBuffers in size classes with a memory budget.
 *
 * - `await acquire(n)` waits (FIFO) while the budget is full: that is the backpressure.
 * - `tryAcquire(n)` returns `undefined` instead of waiting.
 * - `acquireSync(n)` never waits and may exceed the budget (for code that cannot wait, such as a
 *   decoder called by a client library; apply backpressure upstream of it).
 *
 * Emits `'leak'` with a {@link LeakReport} for each lease that became unreachable unreleased.
 */
export class Arena extends EventEmitter {
  readonly maxBytes: number;
  readonly maxIdleBytes: number;
  readonly leakDetection: LeakDetectionLevel;
  readonly #oversize: 'exclusive' | 'reject';
  readonly #samplingInterval: number;
  readonly #onLeak?: (report: LeakReport) => void;
  readonly #trimIntervalMs: number;
  readonly #policy: ReleasePolicy;
  readonly #graveyard: Graveyard;

  readonly #free = new Map<number, FreeList>();
  readonly #waiters = new WaiterQueue<Waiter>((gone, signal) => {
    for (const w of gone) w.reject(aborted(signal));
    this.#pump();
  });
  #closed = false;
  #trimTimer: NodeJS.Timeout | undefined;
  #sample = 0;
  #warnedLeaks = 0;

  #leasedBytes = 0;
  #requestedBytes = 0;
  #leasedCount = 0;
  #idleBytes = 0;
  #idleCount = 0;
  #highWater = 0;
  #acquires = 0;
  #poolHits = 0;
  #allocations = 0;
  #releases = 0;
  #waits = 0;
  #overBudget = 0;
  #gcReclaimed = 0;
  #leaks = 0;
  #trimmed = 0;
  #earlyReuses = 0;
  /** @internal For tests: bytes overwritten with the poison on release, in all. */
  _poisonedBytes = 0;

  /**
   * Watches what really holds a lease's memory, its ArrayBuffer: when the collector frees one
   * that was never released, the budget is credited and the leak reported. (A lease whose Lease
   * object is gone while a view of its bytes lives on still holds memory, so it counts until the
   * view dies too.) One registration per lease keeps acquire/release cheap.
   */
  readonly #memoryRegistry = new FinalizationRegistry<Grant>((grant) => this.#reclaimed(grant));

  static {
    recycle = (arena, lease, buffer) => arena.#recycle(lease, buffer);
    shrunk = (arena, bytes) => {
      arena.#requestedBytes -= bytes;
    };
  }

  constructor(options?: ArenaOptions) {
    super();
    const o = optionsArg<ArenaOptions>('options', options);
    const maxBytes = integerArg('maxBytes', o.maxBytes, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_BYTES);
    this.maxBytes = maxBytes;
    this.maxIdleBytes = Math.min(integerArg('maxIdleBytes', o.maxIdleBytes, 0, Number.MAX_SAFE_INTEGER, maxBytes), maxBytes);
    this.#oversize = oneOfArg('oversize', o.oversize, ['exclusive', 'reject'], 'exclusive');
    this.leakDetection = resolveLeakLevel(o.leakDetection);
    this.#samplingInterval = integerArg('leakSamplingInterval', o.leakSamplingInterval, 1, Number.MAX_SAFE_INTEGER, 128);
    this.#onLeak = functionArg<(report: LeakReport) => void>('onLeak', o.onLeak, true);
    this.#trimIntervalMs = integerArg('trimIntervalMs', o.trimIntervalMs, 0, MAX_TIMER_MS, 10_000);
    this.#policy = releasePolicy(o);
    this.#graveyard = new Graveyard(this.#policy.quarantineMs, this.maxBytes);
  }

  /**
   * Leases `n` bytes, waiting while the budget is full. Waiters are served in FIFO order.
   * A request above `maxBytes` waits until the arena has no other lease out (see `oversize`).
   */
  acquire(n: number, options?: AcquireOptions): Promise<Lease> {
    let capacity: number;
    let signal: AbortSignal | undefined;
    try {
      capacity = this.#check(n);
      signal = optionsArg<AcquireOptions>('options', options).signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) invalid('signal', 'an AbortSignal', signal);
    } catch (err) {
      // A promise-returning function reports every failure through its promise.
      return Promise.reject(err);
    }
    if (this.#oversize === 'reject' && capacity > this.maxBytes) {
      return Promise.reject(new KafkaArenaError('ERR_OVER_BUDGET', `request of ${n} bytes exceeds the arena budget of ${this.maxBytes} bytes`));
    }
    if (this.#waiters.size === 0 && this.#fits(capacity)) {
      return Promise.resolve(this.#grant(n, capacity));
    }
    if (signal?.aborted) return Promise.reject(aborted(signal));
    this.#waits++;
    return new Promise<Lease>((resolve, reject) => this.#waiters.push({ n, capacity, resolve, reject }, signal));
  }

  /** Leases `n` bytes if that fits the budget now and nobody is waiting; otherwise `undefined`. */
  tryAcquire(n: number): Lease | undefined {
    const capacity = this.#check(n);
    if (this.#waiters.size !== 0 || !this.#fits(capacity) || capacity > this.maxBytes) return undefined;
    return this.#grant(n, capacity);
  }

  /**
   * Leases `n` bytes now, even past the budget (counted in `stats().overBudget`). For code that
   * must not wait; pair it with backpressure upstream (see the kafkajs consumer helper).
   */
  acquireSync(n: number): Lease {
    return this.#grant(n, this.#check(n));
  }

  /** Counters; see {@link ArenaStats}. */
  stats(): ArenaStats {
    return {
      maxBytes: this.maxBytes,
      leasedBytes: this.#leasedBytes,
      requestedBytes: this.#requestedBytes,
      leasedCount: this.#leasedCount,
      idleBytes: this.#idleBytes,
      idleCount: this.#idleCount,
      highWaterBytes: this.#highWater,
      acquires: this.#acquires,
      poolHits: this.#poolHits,
      allocations: this.#allocations,
      releases: this.#releases,
      waits: this.#waits,
      waiting: this.#waiters.size,
      overBudget: this.#overBudget,
      gcReclaimed: this.#gcReclaimed,
      leaks: this.#leaks,
      trimmedBytes: this.#trimmed,
      pendingFreeBytes: this.#graveyard.bytes,
      earlyReuses: this.#earlyReuses,
    };
  }

  /** Bytes currently leased (class sizes). */
  get leasedBytes(): number {
    return this.#leasedBytes;
  }

  /**
   * Drops idle memory. With `all` (default true) every idle buffer goes; otherwise only buffers
   * that stayed unused since the previous trim (what the periodic timer does).
   */
  trim(all = true): number {
    let dropped = 0;
    for (const [size, list] of this.#free) {
      const drop = all ? list.buffers.length : Math.min(list.lowWater, list.buffers.length);
      buryOldest(list, drop, this.#graveyard);
      dropped += drop * size;
      this.#idleCount -= drop;
      list.lowWater = list.buffers.length;
      if (list.buffers.length === 0) this.#free.delete(size);
    }
    this.#idleBytes -= dropped;
    this.#trimmed += dropped;
    if (this.#idleCount === 0) this.#stopTrimTimer();
    return dropped;
  }

  /** Rejects waiting acquires with `ERR_ARENA_CLOSED`, drops idle memory and stops the timer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.clear()) w.reject(new LeaseError('ERR_ARENA_CLOSED', 'arena closed while waiting for memory'));
    this.trim(true);
  }

  // ---- internals ----

  #check(n: number): number {
    if (this.#closed) throw new LeaseError('ERR_ARENA_CLOSED', 'arena is closed');
    return classSize(integerArg('n', n, 0, MAX_LEASE_BYTES));
  }

  #fits(capacity: number): boolean {
    if (capacity > this.maxBytes) return this.#leasedBytes === 0;
    return this.#leasedBytes + capacity <= this.maxBytes;
  }

  #grant(n: number, requestedClass: number): Lease {
    // Counted once per grant, against the class asked for: acquireSync past the budget, or an
    // oversized exclusive grant. (A pool hit of a larger class adds no memory.)
    if (this.#leasedBytes + requestedClass > this.maxBytes) this.#overBudget++;
    let buffer: ArrayBuffer | undefined;
    let capacity = requestedClass;
    // Reuse before the quarantine is over only when allocating would pass the budget.
    const force = this.#leasedBytes + this.#idleBytes + capacity > this.maxBytes;
    // The free list this grant reuses from, decided once: its own class, else one a little larger.
    const own = this.#free.get(capacity);
    let reuse = canReuse(this.#policy, own, force) ? own : undefined;
    if (reuse === undefined) {
      // A miss: take an idle buffer of one of the next classes up before allocating. Batches of a
      // topic vary a little in size, and a pool that keeps a buffer in each neighbouring class
      // holds several times what is leased at once.
      for (let k = 0, c = capacity; k < REUSE_LARGER_CLASSES; k++) {
        c = classSize(c + 1);
        const larger = this.#free.get(c);
        // Reusing idle memory never adds memory; the lease counts the larger capacity it holds.
        if (canReuse(this.#policy, larger, force)) {
          reuse = larger;
          capacity = c;
          break;
        }
      }
    }
    if (reuse !== undefined) {
      if (inQuarantine(this.#policy, reuse)) this.#earlyReuses++;
      buffer = takeOldest(reuse);
      if (reuse.buffers.length < reuse.lowWater) reuse.lowWater = reuse.buffers.length;
      this.#idleBytes -= capacity;
      this.#idleCount--;
      this.#poolHits++;
    } else {
      // Keep leased + idle within the budget: drop idle buffers of other classes first.
      const excess = this.#leasedBytes + this.#idleBytes + capacity - this.maxBytes;
      if (excess > 0 && this.#idleBytes > 0) this.#evict(excess);
      // Past the budget, take back memory released past it and still in quarantine (same class:
      // it adds exactly what allocating would) rather than allocate more.
      buffer = force ? this.#graveyard.take(capacity) : undefined;
      if (buffer !== undefined) {
        this.#earlyReuses++;
        this.#poolHits++;
      } else {
        buffer = new ArrayBuffer(capacity);
        this.#allocations++;
      }
    }
    const grant: Grant = { capacity, requested: n, exposed: n, live: true };
    const lease = newLease(this, buffer, grant);
    this.#leasedBytes += capacity;
    this.#requestedBytes += n;
    this.#leasedCount++;
    this.#acquires++;
    const total = this.#leasedBytes + this.#idleBytes;
    if (total > this.#highWater) this.#highWater = total;
    if (this.leakDetection === 'paranoid' || (this.leakDetection === 'advanced' && this.#sample++ % this.#samplingInterval === 0)) {
      grant.stack = new Error('lease acquired here').stack;
    }
    this.#memoryRegistry.register(buffer, grant, grant);
    return lease;
  }

  /** Called by the lease's last release. */
  #recycle(lease: Lease, buffer: ArrayBuffer): void {
    const grant = grantOf(lease);
    this.#memoryRegistry.unregister(grant);
    grant.live = false;
    this.#leasedBytes -= grant.capacity;
    this.#requestedBytes -= grant.requested;
    this.#leasedCount--;
    this.#releases++;
    // Detach: every view of `buffer` now reads as empty; the memory lives on in `fresh`.
    const fresh = detachArrayBuffer(buffer);
    this._poisonedBytes += poisonReleased(this.#policy, fresh, grant.exposed);
    const capacity = grant.capacity;
    // Pool it only while leased + idle stays within the budget: leases granted past it (an
    // oversize fetch through acquireSync) give their memory back instead of also keeping it idle.
    const withinBudget = this.#leasedBytes + this.#idleBytes + capacity <= this.maxBytes;
    if (!this.#closed && withinBudget && this.#idleBytes + capacity <= this.maxIdleBytes) {
      let list = this.#free.get(capacity);
      if (list === undefined) {
        list = newFreeList();
        this.#free.set(capacity, list);
      }
      addFree(list, fresh);
      this.#idleBytes += capacity;
      this.#idleCount++;
      this.#startTrimTimer();
    } else {
      this.#graveyard.bury(fresh);
    }
    this.#pump();
  }

  // @internal The worker pool's hook (see ./internal.ts): a lease's memory came back in a new ArrayBuffer.
  static {
    arenaMemory.rewatch = (arena, grant, buffer) => {
      const a = arena as Arena;
      a.#memoryRegistry.unregister(grant as Grant);
      a.#memoryRegistry.register(buffer, grant as Grant, grant as Grant);
    };
  }

  #reclaimed(grant: Grant): void {
    if (!grant.live) return;
    grant.live = false;
    this.#leasedBytes -= grant.capacity;
    this.#requestedBytes -= grant.requested;
    this.#leasedCount--;
    this.#gcReclaimed++;
    if (this.leakDetection !== 'disabled') this.#leaked(grant);
    this.#pump();
  }

  #leaked(grant: Grant): void {
    this.#leaks++;
    const report: LeakReport = { capacity: grant.capacity, length: grant.requested, stack: grant.stack };
    this.#onLeak?.(report);
    if (this.listenerCount('leak') > 0) {
      this.emit('leak', report);
    } else if (this.#onLeak === undefined && this.#warnedLeaks < 10) {
      this.#warnedLeaks++;
      process.emitWarning(
        `kafka-arena: a lease of ${report.length} bytes was garbage-collected without release()` +
          (report.stack ? `\n${report.stack}` : ' (set KAFKA_ARENA_LEAK_DETECTION=paranoid for its allocation stack)'),
        { code: 'KAFKA_ARENA_LEAK' },
      );
    }
  }

  /** Grants waiting requests, in order, while they fit. */
  #pump(): void {
    for (let w = this.#waiters.peek(); w !== undefined && this.#fits(w.capacity); w = this.#waiters.peek()) {
      this.#waiters.shift();
      w.resolve(this.#grant(w.n, w.capacity));
    }
  }

  #evict(bytes: number): void {
    // Largest classes first: fewest buffers dropped for the room needed.
    const sizes = [...this.#free.keys()].sort((a, b) => b - a);
    let freed = 0;
    for (const size of sizes) {
      const list = this.#free.get(size)!;
      const drop = Math.min(list.buffers.length, Math.ceil((bytes - freed) / size));
      buryOldest(list, drop, this.#graveyard);
      freed += drop * size;
      this.#idleCount -= drop;
      if (list.lowWater > list.buffers.length) list.lowWater = list.buffers.length;
      if (list.buffers.length === 0) this.#free.delete(size);
      if (freed >= bytes) break;
    }
    this.#idleBytes -= freed;
    this.#trimmed += freed;
  }

  #startTrimTimer(): void {
    if (this.#trimTimer !== undefined || this.#trimIntervalMs <= 0) return;
    this.#trimTimer = setInterval(() => this.trim(false), this.#trimIntervalMs);
    this.#trimTimer.unref();
  }

  #stopTrimTimer(): void {
    if (this.#trimTimer === undefined) return;
    clearInterval(this.#trimTimer);
    this.#trimTimer = undefined;
  }
}

function aborted(signal: AbortSignal): KafkaArenaError {
  return new KafkaArenaError('ERR_ABORTED', 'acquire aborted', { cause: signal.reason });
}
