import { ArgumentError, KafkaArenaError } from '../errors';
import { functionArg, integerArg, optionsArg } from '../validate';
import { Lease } from './arena';
import { WaiterQueue } from './waiters';
import { Fifo } from '../fifo';

/** Options for {@link ByteQueue}. */
export interface ByteQueueOptions<T> {
  /** Bound on the bytes of the queued items. */
  capacityBytes: number;
  /**
   * Bytes an item counts for. Default: a Lease counts its capacity; a Buffer / TypedArray /
   * ArrayBuffer its byteLength; an object with a `lease` (or `leases` array) counts those.
   * `push(item, bytes)` overrides it per item.
   */
  sizeOf?: (item: T) => number;
}

interface Pusher<T> {
  item: T;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * An async FIFO queue bounded in bytes, not items, for the hand-off between fetching and
 * processing. `push` waits while the queue is full; `shift` waits while it is empty. An item
 * larger than the capacity is admitted when the queue is empty, so it never deadlocks.
 *
 * Counting items is not enough: 1024 batches × 500 records × 12 KB is about 6 GB.
 */
export class ByteQueue<T> implements AsyncIterable<T> {
  readonly capacityBytes: number;
  readonly #sizeOf: (item: T) => number;
  readonly #items = new Fifo<T>();
  /** The bytes each queued item counts for, parallel to `#items`. */
  readonly #sizes = new Fifo<number>();
  #bytes = 0;
  #closed = false;
  readonly #pushers = new WaiterQueue<Pusher<T>>();
  readonly #shifters = new WaiterQueue<(item: T | undefined) => void>();
  #highWater = 0;
  #pushWaits = 0;

  constructor(options: ByteQueueOptions<T>) {
    const o = optionsArg<ByteQueueOptions<T>>('options', options);
    this.capacityBytes = integerArg('capacityBytes', o.capacityBytes, 1, Number.MAX_SAFE_INTEGER);
    this.#sizeOf = functionArg<(item: T) => number>('sizeOf', o.sizeOf, true) ?? defaultSizeOf;
  }

  /** Bytes queued now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Items queued now. */
  get length(): number {
    return this.#items.length;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queue counters. */
  stats(): { bytes: number; length: number; highWaterBytes: number; pushWaits: number; waitingPushers: number } {
    return { bytes: this.#bytes, length: this.length, highWaterBytes: this.#highWater, pushWaits: this.#pushWaits, waitingPushers: this.#pushers.size };
  }

  /**
   * Adds an item, waiting while it does not fit. Rejects with `ERR_QUEUE_CLOSED` if the queue is
   * or gets closed before the item is admitted.
   */
  async push(item: T, bytes?: number): Promise<void> {
    const size = this.#size(item, bytes);
    if (this.#closed) throw closedError();
    if (this.#pushers.size > 0 || !this.#fits(size)) {
      this.#pushWaits++;
      // The waker enqueues the item for us, so its bytes are reserved the moment it fits.
      await new Promise<void>((resolve, reject) => this.#pushers.push({ item, bytes: size, resolve, reject }));
      return;
    }
    this.#enqueue(item, size);
  }

  /** Adds an item if it fits now; returns false otherwise. */
  tryPush(item: T, bytes?: number): boolean {
    const size = this.#size(item, bytes);
    if (this.#closed) throw closedError();
    if (this.#pushers.size > 0 || !this.#fits(size)) return false;
    this.#enqueue(item, size);
    return true;
  }

  /** Takes the oldest item, waiting while empty. Resolves `undefined` once closed and drained. */
  shift(): Promise<T | undefined> {
    if (this.length > 0) return Promise.resolve(this.#dequeue());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#shifters.push(resolve));
  }

  /** Takes the oldest item if any. */
  tryShift(): T | undefined {
    return this.length > 0 ? this.#dequeue() : undefined;
  }

  /**
   * Stops accepting items. Queued items can still be shifted; waiting pushers reject with
   * `ERR_QUEUE_CLOSED`, waiting shifters resolve `undefined`.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pushers.clear()) p.reject(closedError());
    for (const s of this.#shifters.clear()) s(undefined);
  }

  /** Removes and returns every queued item (for example to release their leases on shutdown). */
  drain(): T[] {
    const items = this.#items.drain();
    this.#sizes.drain();
    this.#bytes = 0;
    this.#wakePushers();
    return items;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.shift();
      if (item === undefined && this.#closed && this.length === 0) return;
      yield item as T;
    }
  }

  #size(item: T, bytes: number | undefined): number {
    if (bytes !== undefined) return integerArg('bytes', bytes, 0, Number.MAX_SAFE_INTEGER);
    return integerArg('sizeOf(item)', this.#sizeOf(item), 0, Number.MAX_SAFE_INTEGER);
  }

  #fits(size: number): boolean {
    return this.#bytes + size <= this.capacityBytes || this.#bytes === 0;
  }

  #enqueue(item: T, size: number): void {
    const shifter = this.#shifters.shift();
    if (shifter !== undefined) {
      // A consumer is already waiting: hand over directly, the item never occupies the queue.
      shifter(item);
      return;
    }
    this.#items.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
    if (this.#bytes > this.#highWater) this.#highWater = this.#bytes;
  }

  #dequeue(): T {
    const item = this.#items.shift()!;
    this.#bytes -= this.#sizes.shift()!;
    this.#wakePushers();
    return item;
  }

  #wakePushers(): void {
    // Admit waiting pushers in order while they fit.
    for (let p = this.#pushers.peek(); p !== undefined && this.#fits(p.bytes); p = this.#pushers.peek()) {
      this.#pushers.shift();
      this.#enqueue(p.item, p.bytes);
      p.resolve();
    }
  }
}

function closedError(): KafkaArenaError {
  return new KafkaArenaError('ERR_QUEUE_CLOSED', 'queue is closed');
}

function defaultSizeOf(item: unknown): number {
  if (item instanceof Lease) return item.capacity;
  if (ArrayBuffer.isView(item)) return item.byteLength;
  if (item instanceof ArrayBuffer) return item.byteLength;
  if (item !== null && typeof item === 'object') {
    const o = item as { lease?: unknown; leases?: unknown; byteLength?: unknown };
    if (o.lease instanceof Lease) return o.lease.capacity;
    if (Array.isArray(o.leases)) return o.leases.reduce((sum: number, l: unknown) => sum + (l instanceof Lease ? l.capacity : 0), 0);
    if (typeof o.byteLength === 'number') return o.byteLength;
  }
  throw new ArgumentError('ByteQueue cannot size this item: pass sizeOf in the options or bytes to push()', 'item');
}
