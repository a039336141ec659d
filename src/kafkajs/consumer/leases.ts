/**
 * Lease ownership of the recycling consumer: which fetch each decompressed lease came from,
 * which handler claimed it, and releasing each exactly once, whatever path gets there first.
 */
import type { Arena, Lease } from '../../arena';
import { messageObjectBytes } from '../memory';
import type { FetchScope } from '../scope';
import type { ArenaConsumerStats, KafkajsMessage, ReleasePath } from './types';

/** A lease the helper adopted. */
export interface Held {
  readonly lease: Lease;
  /** The fetch it came from, until a handler claims it. */
  fetch: Fetch | undefined;
  /** Estimated heap of the messages handed out from it (messageObjectBytes each). */
  objectBytes: number;
  /** Set once the helper gave its reference back: never released twice, never read again. */
  done: boolean;
}

/** One broker fetch: the scope its decompressions adopt their leases into. */
export class Fetch implements FetchScope {
  readonly leases = new Set<Held>();
  /** Memory this fetch delivered (decompressed bytes + message objects), by "topic|partition". */
  readonly bytesByPartition = new Map<string, number>();
  open = true;
  /** Partitions this fetch requested whose leader was not known: those it brings no records for are not this broker's. */
  unknownRequested: string[] = [];
  #bytes = 0;
  #oversize = false;
  constructor(
    readonly book: LeaseBook,
    readonly nodeId: number,
  ) {}
  get arena(): Arena {
    return this.book.arena;
  }
  adopt(lease: Lease): void {
    this.#bytes += lease.capacity;
    const oversize = !this.#oversize && this.#bytes > this.book.arena.maxBytes;
    if (oversize) this.#oversize = true;
    this.book.adopt(lease, this, oversize);
  }
  delivered(key: string, bytes: number): void {
    this.bytesByPartition.set(key, (this.bytesByPartition.get(key) ?? 0) + bytes);
  }
}

/** The first Buffer of a message: value, key, then header values (a headers-only record has only those). */
function firstView(message: KafkajsMessage): Buffer | undefined {
  if (message.value) return message.value;
  if (message.key) return message.key;
  if (message.headers) {
    for (const v of Object.values(message.headers)) {
      if (Buffer.isBuffer(v)) return v;
      if (Array.isArray(v)) for (const x of v) if (Buffer.isBuffer(x)) return x;
    }
  }
  return undefined;
}

export class LeaseBook {
  readonly #byBuffer = new WeakMap<ArrayBufferLike, Held>();
  /** Every lease not given back yet, for shutdown. */
  readonly #live = new Set<Held>();

  constructor(
    readonly arena: Arena,
    private readonly stats: ArenaConsumerStats,
    /** Called after adoptions and releases, to record high-water marks and resume when memory drains. */
    private readonly changed: () => void,
  ) {}

  adopt(lease: Lease, fetch: Fetch, oversize: boolean): void {
    const held: Held = { lease, fetch, objectBytes: 0, done: false };
    this.#byBuffer.set(lease.bytes.buffer, held);
    this.#live.add(held);
    fetch.leases.add(held);
    this.stats.leasesCreated++;
    this.stats.held++;
    if (oversize) this.stats.oversizeFetches++;
    this.changed();
  }

  /** The live lease a message's bytes live in, if this helper adopted it. */
  lookup(message: KafkajsMessage): Held | undefined {
    const view = firstView(message);
    const held = view ? this.#byBuffer.get(view.buffer) : undefined;
    return held && !held.done ? held : undefined;
  }

  /**
   * Moves the leases of `messages` from their fetch to a handler and counts the messages'
   * objects towards the held memory. Records of one record batch share a lease: one lookup per
   * change of lease, not per record.
   */
  claim(messages: readonly KafkajsMessage[], key: string): Held[] {
    const claimed: Held[] = [];
    let last: ArrayBufferLike | undefined;
    let current: Held | undefined;
    let fetch: Fetch | undefined;
    let objects = 0;
    for (const message of messages) {
      const view = firstView(message);
      if (view && view.buffer !== last) {
        last = view.buffer;
        if (current) this.countObjects(current, fetch!, key, objects);
        current = undefined;
        objects = 0;
        const held = this.#byBuffer.get(last);
        if (held && !held.done && held.fetch) {
          fetch = this.take(held, key);
          current = held;
          claimed.push(held);
        }
      }
      if (current) objects += messageObjectBytes(message);
    }
    if (current) this.countObjects(current, fetch!, key, objects);
    this.changed();
    return claimed;
  }

  /** Takes an unclaimed lease out of its fetch for partition `key`; returns the fetch. */
  take(held: Held, key: string): Fetch {
    const fetch = held.fetch!;
    fetch.leases.delete(held);
    held.fetch = undefined;
    fetch.delivered(key, held.lease.length);
    return fetch;
  }

  countObjects(held: Held, fetch: Fetch, key: string, objects: number): void {
    held.objectBytes += objects;
    this.stats.messageObjectBytes += objects;
    fetch.delivered(key, objects);
  }

  /** Gives the helper's reference back (once). Never throws. */
  release(held: Held, path: ReleasePath): void {
    if (held.done) return;
    held.done = true;
    this.#live.delete(held);
    held.fetch?.leases.delete(held);
    held.fetch = undefined;
    this.stats.held--;
    // A lease retained by the application lives on, and so do its messages' objects.
    if (!held.lease.released && held.lease.release()) {
      this.stats.released[path]++;
      this.#freed(held);
    }
    this.changed();
  }

  /** A `retainBatch()` reference to `helds`: its release function is idempotent and safe after stop. */
  retain(helds: readonly Held[]): () => void {
    const kept = helds.filter((h) => !h.lease.released);
    for (const h of kept) h.lease.retain();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const h of kept) {
        if (!h.lease.released && h.lease.release()) {
          this.stats.released.handler++;
          this.#freed(h);
        }
      }
      this.changed();
    };
  }

  #freed(held: Held): void {
    this.stats.messageObjectBytes -= held.objectBytes;
    held.objectBytes = 0;
  }

  /** Ends a fetch: what no handler claimed is released. */
  closeFetch(fetch: Fetch, path: ReleasePath): void {
    fetch.open = false;
    for (const held of [...fetch.leases]) this.release(held, path);
  }

  /**
   * Releases every lease no handler has claimed, and closes their fetches. (A running `eachBatch`
   * handler's leases go when it settles: its views stay valid until then.)
   */
  releaseUnclaimed(path: ReleasePath): void {
    for (const held of [...this.#live]) {
      if (held.fetch === undefined) continue;
      held.fetch.open = false;
      this.release(held, path);
    }
  }
}
