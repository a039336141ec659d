import type { Arena, Lease } from '../arena';
import { ArgumentError } from '../errors';
import { FetchScope, fetchScope } from './codecs';
import { messageObjectBytes } from './memory';

/** The parts of a kafkajs message this module reads. */
export interface KafkajsMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  offset: string;
  timestamp: string;
  [extra: string]: unknown;
}

/** The parts of a kafkajs Batch this module reads. */
export interface KafkajsBatch {
  topic: string;
  partition: number;
  messages: KafkajsMessage[];
  /** Every decoded message, including control records, aborted and below-offset ones. */
  rawMessages?: KafkajsMessage[];
  [extra: string]: unknown;
}

export interface EachBatchPayload {
  batch: KafkajsBatch;
  [extra: string]: unknown;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkajsMessage;
  [extra: string]: unknown;
}

/** What `eachBatch` receives in recycling mode: kafkajs's payload plus `retainBatch`. */
export interface ArenaEachBatchPayload extends EachBatchPayload {
  /**
   * Keeps this batch's memory past the handler (for a pipeline that processes it later).
   * Returns the function that gives it back; call it exactly once.
   */
  retainBatch(): () => void;
}

/** The parts of a kafkajs Consumer this module uses. */
export interface KafkajsConsumer {
  run(config: Record<string, unknown>): Promise<void>;
  pause(topics: Array<{ topic: string; partitions?: number[] }>): void;
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void;
  paused(): Array<{ topic: string; partitions: number[] }>;
  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): () => void;
  events: Record<string, string>;
}

/** Options for {@link arenaConsumer}. */
export interface ArenaConsumerOptions {
  /** The arena fetched batches are decompressed into. */
  arena: Arena;
  /**
   * Pause the assigned partitions when the held memory passes this: the arena's leased bytes plus
   * the estimated objects of the messages this consumer handed out and has not released yet.
   * Default 75 % of the budget.
   */
  highWaterBytes?: number;
  /** Resume once the held memory is back below this. Default 40 % of the budget. */
  lowWaterBytes?: number;
  /** How often to check for resuming while paused, in ms. Default 25. */
  resumeCheckMs?: number;
  /**
   * Memory one fetch of a broker should bring at most: its decompressed bytes plus the message
   * objects kafkajs builds for them (estimated by `messageObjectBytes`, about 310 B a record).
   * Off by default. A fetch is bounded by `maxBytes` compressed, which can decompress to many
   * times the budget; with this set, each partition's recent size per fetch is remembered, and
   * when a broker's fetch starts, its partitions beyond this estimate are held back (paused) and
   * rotated in at that broker's next fetches, at least one partition per fetch. A partition not
   * seen yet counts as this whole amount. The memory bound becomes `highWaterBytes` + about this
   * much (or one partition's fetch, if larger) per broker.
   */
  maxFetchBytes?: number;
}

/** Counters of the consumer helper. */
export interface ArenaConsumerStats {
  /** Times the assigned partitions were paused for memory. */
  pauses: number;
  /** Times they were resumed. */
  resumes: number;
  /** True while paused for memory. */
  paused: boolean;
  /** Leases decompressed into the arena for this consumer. */
  leasesCreated: number;
  /** Leases released, by the path that released them. */
  released: {
    /** When the `eachBatch` handler that received them settled. */
    handler: number;
    /** By `eachMessage` processing once the partition moved past them, or its batch ended. */
    messages: number;
    /** Delivered to no handler (control batches, aborted transactions, records below the fetch
     * offset, batches dropped by seek, pause or a revoked assignment): released once kafkajs
     * finished the fetch they came from. */
    undelivered: number;
    /** On rebalance, stop, crash or disconnect. */
    shutdown: number;
  };
  /** Leases held now by this consumer (decoded fetches not yet processed). */
  held: number;
  /** Highest arena leased bytes seen by this consumer's checks. */
  highWaterBytesSeen: number;
  /** Highest held memory (leased bytes + `messageObjectBytes`) seen: what the water marks compare. */
  highWaterHeldSeen: number;
  /**
   * Estimated heap of the kafkajs messages handed to the handlers whose leases are not released
   * yet (`messageObjectBytes` each). Counted with the leased bytes against the water marks.
   */
  messageObjectBytes: number;
  /** Fetches for which `maxFetchBytes` held partitions back. */
  limitedFetches: number;
  /**
   * Most memory one fetch delivered to the handlers: decompressed bytes plus message objects, as
   * `maxFetchBytes` counts it (counted when the broker's next fetch starts).
   */
  largestFetchBytes: number;
}

/** A lease this consumer adopted. */
interface Held {
  readonly lease: Lease;
  /** The fetch it came from, until a handler claims it. */
  scope: Scope | undefined;
  /** Estimated heap of the messages handed out from it (messageObjectBytes each). */
  objectBytes: number;
}

/** eachMessage: the lease a partition's messages are being handed out from. */
interface Current {
  readonly held: Held;
  readonly scope: Scope;
}

class Scope implements FetchScope {
  readonly arena: Arena;
  readonly leases = new Set<Lease>();
  /** Memory this fetch delivered (decompressed bytes + message objects), by "topic|partition". */
  readonly bytesByPartition = new Map<string, number>();
  constructor(private readonly owner: ArenaConsumer) {
    this.arena = owner.arena;
  }
  delivered(key: string, bytes: number): void {
    this.bytesByPartition.set(key, (this.bytesByPartition.get(key) ?? 0) + bytes);
  }
  adopt(lease: Lease): void {
    this.leases.add(lease);
    this.owner._adopted(lease, this);
  }
}

/**
 * The recycling mode for a kafkajs consumer: fetched batches are decompressed into `arena`
 * leases, and every lease is released once kafkajs is done with it:
 * - `eachBatch`: when the handler settles (unless it called `retainBatch()`);
 * - `eachMessage`: when the partition's processing moves past the record batch;
 * - batches that reach no handler (control batches, aborted transactions, records below the
 *   fetch offset, data dropped by seek, pause or rebalance): when kafkajs starts that broker's
 *   next fetch, which it only does after the previous fetch was fully processed;
 * - everything left: on rebalance, stop, crash or disconnect.
 *
 * **The contract:** `message.key`, `message.value` and header values are views of arena memory,
 * valid until the handler settles. Keep data past that with {@link detachMessage} or
 * `Buffer.from(view)`; a view kept without copying reads as empty after release, never as
 * another message's bytes.
 *
 * **Backpressure:** when the held memory (the arena's leased bytes plus the estimated objects of
 * the messages handed out and not released yet) passes `highWaterBytes`, the assigned partitions
 * are paused (only those the application had not paused itself), and resumed below
 * `lowWaterBytes`. kafkajs's decode is never blocked: leases are taken with `acquireSync`, so a
 * fetch larger than the budget still completes. Memory stays within
 * `highWaterBytes + one fetch's decompressed size per broker` (kafkajs keeps one fetch in flight
 * per broker; a fetch is at most `maxBytes` compressed).
 *
 * Register the codecs first with `registerCodecs(CompressionCodecs)`.
 */
export class ArenaConsumer {
  readonly arena: Arena;
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  readonly #consumer: KafkajsConsumer;
  readonly #resumeCheckMs: number;
  readonly #byBuffer = new WeakMap<ArrayBufferLike, Held>();
  readonly #scopes = new Map<number, Scope>();
  readonly #current = new Map<string, Current>();
  readonly #removers: Array<() => void> = [];
  #assignment = new Map<string, number[]>();
  /** Partitions paused by this helper (not by the application), by topic. */
  readonly #pausedByUs = new Map<string, Set<number>>();
  readonly #maxFetchBytes: number | undefined;
  /** maxFetchBytes: each partition's recent memory per fetch (bytes + message objects, a decaying maximum), and its broker. */
  readonly #recentFetchBytes = new Map<string, number>();
  readonly #broker = new Map<string, number>();
  /** maxFetchBytes: where each broker's rotation starts next. */
  readonly #rotation = new Map<number, number>();
  /** maxFetchBytes: partitions held back (paused) to keep a fetch small, by "topic|partition", with the broker whose fetch held them. */
  readonly #heldBack = new Map<string, { topic: string; partition: number; by: number }>();
  #resumeTimer: NodeJS.Timeout | undefined;
  #stats: ArenaConsumerStats = {
    pauses: 0,
    resumes: 0,
    paused: false,
    leasesCreated: 0,
    released: { handler: 0, messages: 0, undelivered: 0, shutdown: 0 },
    held: 0,
    highWaterBytesSeen: 0,
    highWaterHeldSeen: 0,
    messageObjectBytes: 0,
    limitedFetches: 0,
    largestFetchBytes: 0,
  };

  constructor(consumer: KafkajsConsumer, options: ArenaConsumerOptions) {
    if (!options?.arena) throw new ArgumentError('arenaConsumer needs an arena');
    this.arena = options.arena;
    this.#consumer = consumer;
    this.highWaterBytes = options.highWaterBytes ?? Math.floor(this.arena.maxBytes * 0.75);
    this.lowWaterBytes = options.lowWaterBytes ?? Math.floor(this.arena.maxBytes * 0.4);
    if (this.lowWaterBytes > this.highWaterBytes) throw new ArgumentError('lowWaterBytes must not exceed highWaterBytes');
    this.#resumeCheckMs = options.resumeCheckMs ?? 25;
    this.#maxFetchBytes = options.maxFetchBytes;
    if (this.#maxFetchBytes !== undefined && !(Number.isSafeInteger(this.#maxFetchBytes) && this.#maxFetchBytes > 0)) {
      throw new ArgumentError(`maxFetchBytes must be a positive integer, got ${this.#maxFetchBytes}`);
    }
    const ev = consumer.events;
    this.#removers.push(
      consumer.on(ev.FETCH_START, (e) => this.#onFetchStart(Number(e.payload.nodeId))),
      consumer.on(ev.GROUP_JOIN, (e) => this.#onGroupJoin(e.payload.memberAssignment as Record<string, number[]> | undefined)),
      consumer.on(ev.END_BATCH_PROCESS, (e) => this.#releaseCurrent(`${e.payload.topic}|${e.payload.partition}`)),
      // After these kafkajs has stopped every fetcher and waited for its batches.
      consumer.on(ev.REBALANCING, () => this.#releaseAll()),
      consumer.on(ev.STOP, () => this.#stopped()),
      consumer.on(ev.CRASH, () => this.#stopped()),
      consumer.on(ev.DISCONNECT, () => this.#stopped()),
    );
  }

  /**
   * `consumer.run(config)` with the handlers wrapped for lease release. Takes the same config as
   * kafkajs; `eachBatch` receives `retainBatch()` in addition.
   */
  run(config: Record<string, unknown> & {
    eachBatch?: (payload: ArenaEachBatchPayload) => Promise<void>;
    eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  }): Promise<void> {
    const wrapped: Record<string, unknown> = { ...config };
    if (config.eachBatch) {
      const user = config.eachBatch;
      wrapped.eachBatch = async (payload: EachBatchPayload) => {
        const leases = this.#claim(payload.batch, `${payload.batch.topic}|${payload.batch.partition}`);
        const retainBatch = () => {
          const kept = leases.map((l) => l.retain());
          let done = false;
          return () => {
            if (done) return;
            done = true;
            for (const l of kept) this.#release(l, 'handler');
          };
        };
        try {
          await user({ ...payload, retainBatch });
        } finally {
          for (const l of leases) this.#release(l, 'handler');
        }
      };
    }
    if (config.eachMessage) {
      const user = config.eachMessage;
      wrapped.eachMessage = async (payload: EachMessagePayload) => {
        this.#advance(`${payload.topic}|${payload.partition}`, payload.message);
        await user(payload);
      };
    }
    return this.#consumer.run(wrapped);
  }

  /** Counters; see {@link ArenaConsumerStats}. */
  stats(): ArenaConsumerStats {
    return { ...this.#stats, released: { ...this.#stats.released } };
  }

  /** Removes the event listeners and releases whatever is still held. */
  close(): void {
    for (const remove of this.#removers.splice(0)) remove();
    this.#releaseAll();
    this.#stopResumeTimer();
    this.#releaseHeldBack();
  }

  // ---- internals ----

  /** @internal A decompression in one of this consumer's fetches produced `lease`. */
  _adopted(lease: Lease, scope: Scope): void {
    this.#byBuffer.set(lease.bytes.buffer, { lease, scope, objectBytes: 0 });
    this.#stats.leasesCreated++;
    this.#stats.held++;
    this.#checkPressure();
  }

  #onFetchStart(nodeId: number): void {
    // kafkajs starts a broker's next fetch only after every batch of the previous one was
    // processed, so what that fetch still holds reached no handler: release it.
    const previous = this.#scopes.get(nodeId);
    if (previous) {
      let total = 0;
      for (const [key, bytes] of previous.bytesByPartition) {
        // A decaying maximum: one small fetch (a producer's short batch) must not let several
        // partitions in at once just before their full batches arrive.
        this.#recentFetchBytes.set(key, Math.max(bytes, Math.floor(((this.#recentFetchBytes.get(key) ?? 0) * 3) / 4)));
        this.#broker.set(key, nodeId);
        total += bytes;
      }
      if (total > this.#stats.largestFetchBytes) this.#stats.largestFetchBytes = total;
      this.#closeScope(previous, 'undelivered');
    }
    // Still before kafkajs reads which partitions are paused for this fetch.
    if (this.#maxFetchBytes !== undefined) this.#limitFetch(nodeId, this.#maxFetchBytes);
    const scope = new Scope(this);
    this.#scopes.set(nodeId, scope);
    // FETCH_START is emitted synchronously right before kafkajs calls consumerGroup.fetch, so the
    // fetch and the decode of its response run inside this context.
    fetchScope.enterWith(scope);
  }

  #onGroupJoin(assignment: Record<string, number[]> | undefined): void {
    this.#assignment = new Map(Object.entries(assignment ?? {}));
    // A new assignment starts every rotation afresh; the next fetches hold back again.
    this.#releaseHeldBack();
    // kafkajs keeps pause state across rebalances (its SubscriptionState is not reset on assign):
    // what we paused is still paused, including partitions that left this member and may come
    // back. So the record of our pauses is kept as is, and a pause in force is extended to the
    // partitions this member has just been given.
    if (this.#stats.paused) this.#pauseAssigned();
  }

  /** The lease a message's bytes live in, if this consumer adopted it (value first: a record's key is in the same lease). */
  #lookup(message: KafkajsMessage): Held | undefined {
    const buf = message.value ?? message.key;
    return buf ? this.#byBuffer.get(buf.buffer) : undefined;
  }

  /**
   * Moves the batch's leases from their fetch to the handler, and counts the objects of the
   * messages in them (messageObjectBytes) towards the held memory.
   */
  #claim(batch: KafkajsBatch, key: string): Lease[] {
    const leases: Lease[] = [];
    const messages = batch.rawMessages ?? batch.messages;
    let last: ArrayBufferLike | undefined;
    // The lease claimed for the last message's bytes, and the fetch it came from.
    let held: Held | undefined;
    let scope: Scope | undefined;
    let objects = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      const buf = message.value ?? message.key;
      // Records of one record batch share a lease: one WeakMap lookup per lease, not per record.
      if (buf && buf.buffer !== last) {
        last = buf.buffer;
        if (held) this.#countObjects(held, scope!, key, objects);
        held = undefined;
        objects = 0;
        const entry = this.#byBuffer.get(last);
        if (entry?.scope && entry.scope.leases.delete(entry.lease)) {
          held = entry;
          scope = entry.scope;
          entry.scope = undefined;
          scope.delivered(key, entry.lease.length);
          leases.push(entry.lease);
        }
      }
      if (held) objects += messageObjectBytes(message);
    }
    if (held) this.#countObjects(held, scope!, key, objects);
    this.#checkPressure();
    return leases;
  }

  /** Counts the objects of messages handed out from a claimed lease, for its fetch and the held memory. */
  #countObjects(held: Held, scope: Scope, key: string, objects: number): void {
    held.objectBytes += objects;
    this.#stats.messageObjectBytes += objects;
    scope.delivered(key, objects);
  }

  /** eachMessage: once a partition moves to a new record batch, the previous one is done. */
  #advance(key: string, message: KafkajsMessage): void {
    const entry = this.#lookup(message);
    if (!entry) return;
    let current = this.#current.get(key);
    if (current?.held !== entry) {
      if (!entry.scope || !entry.scope.leases.delete(entry.lease)) return;
      const scope = entry.scope;
      entry.scope = undefined;
      if (current) this.#release(current.held.lease, 'messages');
      current = { held: entry, scope };
      this.#current.set(key, current);
      scope.delivered(key, entry.lease.length);
      this.#checkPressure();
    }
    // kafkajs decoded the whole fetch already; a message's objects are counted when it is handed out.
    this.#countObjects(entry, current.scope, key, messageObjectBytes(message));
  }

  #releaseCurrent(key: string): void {
    const current = this.#current.get(key);
    if (!current) return;
    this.#current.delete(key);
    this.#release(current.held.lease, 'messages');
  }

  #release(lease: Lease, path: keyof ArenaConsumerStats['released']): void {
    if (lease.released) return;
    const entry = this.#byBuffer.get(lease.bytes.buffer);
    if (lease.release()) {
      this.#stats.released[path]++;
      this.#stats.held--;
      if (entry?.lease === lease) {
        this.#stats.messageObjectBytes -= entry.objectBytes;
        entry.objectBytes = 0;
      }
    }
    this.#checkPressure();
  }

  #closeScope(scope: Scope, path: keyof ArenaConsumerStats['released']): void {
    for (const lease of scope.leases) {
      const entry = this.#byBuffer.get(lease.bytes.buffer);
      if (entry) entry.scope = undefined;
      this.#release(lease, path);
    }
    scope.leases.clear();
  }

  #releaseAll(): void {
    for (const scope of this.#scopes.values()) this.#closeScope(scope, 'shutdown');
    this.#scopes.clear();
    const current = [...this.#current.values()];
    this.#current.clear();
    for (const c of current) this.#release(c.held.lease, 'shutdown');
  }

  #checkPressure(): void {
    const leased = this.arena.leasedBytes;
    if (leased > this.#stats.highWaterBytesSeen) this.#stats.highWaterBytesSeen = leased;
    // The messages' objects live as long as their leases: they count against the same marks.
    const held = leased + this.#stats.messageObjectBytes;
    if (held > this.#stats.highWaterHeldSeen) this.#stats.highWaterHeldSeen = held;
    if (!this.#stats.paused && held > this.highWaterBytes) this.#pause();
    else if (this.#stats.paused && held <= this.lowWaterBytes) this.#resume();
  }

  #pause(): void {
    this.#stats.paused = true;
    this.#stats.pauses++;
    this.#pauseAssigned();
    this.#startResumeTimer();
  }

  /** Pauses the assigned partitions not paused yet (by the application or by us), and records them as ours. */
  #pauseAssigned(): void {
    const alreadyPaused = this.#pausedNow();
    const toPause: Array<{ topic: string; partitions: number[] }> = [];
    for (const [topic, partitions] of this.#assignment) {
      const mine = partitions.filter((p) => !alreadyPaused.get(topic)?.has(p));
      if (mine.length === 0) continue;
      toPause.push({ topic, partitions: mine });
      const ours = this.#pausedByUs.get(topic) ?? new Set<number>();
      for (const p of mine) ours.add(p);
      this.#pausedByUs.set(topic, ours);
    }
    if (toPause.length > 0) this.#consumer.pause(toPause);
  }

  /** What kafkajs has paused now (by the application or by us), by topic. */
  #pausedNow(): Map<string, Set<number>> {
    return new Map(this.#consumer.paused().map((p) => [p.topic, new Set(p.partitions)]));
  }

  #resume(): void {
    this.#stats.paused = false;
    this.#stats.resumes++;
    // Every partition we paused, assigned now or not: one that left keeps kafkajs's pause flag
    // and would come back paused.
    const toResume = [...this.#pausedByUs].map(([topic, set]) => ({ topic, partitions: [...set] }));
    this.#pausedByUs.clear();
    if (toResume.length > 0) this.#consumer.resume(toResume);
    this.#stopResumeTimer();
  }

  /**
   * maxFetchBytes, at the start of `nodeId`'s fetch: walks that broker's partitions (and those
   * not seen yet) in rotation, lets them in while their recent fetch sizes fit `max` (always the
   * first), pauses the rest, and resumes what it held back and now lets in. Partitions the
   * application paused, and a memory pause in force, are left alone.
   */
  #limitFetch(nodeId: number, max: number): void {
    if (this.#stats.paused) return;
    const pausedNow = this.#pausedNow();
    const candidates: Array<[string, number, string]> = [];
    for (const [topic, partitions] of this.#assignment) {
      for (const p of partitions) {
        const key = `${topic}|${p}`;
        const broker = this.#broker.get(key);
        const heldBy = this.#heldBack.get(key)?.by;
        // Another broker's partition, or one another broker's fetch holds back until it learns
        // whose it is: not ours to decide.
        if (broker !== undefined ? broker !== nodeId : heldBy !== undefined && heldBy !== nodeId) continue;
        if (heldBy === undefined && pausedNow.get(topic)?.has(p)) continue; // the application's pause
        candidates.push([topic, p, key]);
      }
    }
    if (candidates.length === 0) return;
    const start = (this.#rotation.get(nodeId) ?? 0) % candidates.length;
    let admitted = 0;
    let bytes = 0;
    const toResume: Array<{ topic: string; partitions: number[] }> = [];
    const toPause: Array<{ topic: string; partitions: number[] }> = [];
    for (let k = 0; k < candidates.length; k++) {
      const [topic, p, key] = candidates[(start + k) % candidates.length];
      // A partition not fetched yet counts as the whole allowance.
      const size = this.#recentFetchBytes.get(key) ?? max;
      const held = this.#heldBack.has(key);
      if (admitted === k && (admitted === 0 || bytes + size <= max)) {
        admitted++;
        bytes += size;
        if (held) {
          this.#heldBack.delete(key);
          toResume.push({ topic, partitions: [p] });
        }
      } else {
        if (!held) toPause.push({ topic, partitions: [p] });
        this.#heldBack.set(key, { topic, partition: p, by: nodeId });
      }
    }
    this.#rotation.set(nodeId, start + admitted);
    if (admitted < candidates.length) this.#stats.limitedFetches++;
    if (toResume.length > 0) this.#consumer.resume(toResume);
    if (toPause.length > 0) this.#consumer.pause(toPause);
  }

  #releaseHeldBack(): void {
    const toResume = [...this.#heldBack.values()].map((h) => ({ topic: h.topic, partitions: [h.partition] }));
    this.#heldBack.clear();
    if (toResume.length === 0) return;
    try {
      this.#consumer.resume(toResume);
    } catch {
      // A stopped kafkajs consumer has no group (it throws "consumer#run must be called first"),
      // and with it went its pause state: nothing is left to resume.
    }
  }

  /** The consumer stopped, crashed or disconnected: its next run starts with nothing paused. */
  #stopped(): void {
    this.#releaseAll();
    this.#heldBack.clear();
    this.#rotation.clear();
  }

  #startResumeTimer(): void {
    // Releases by the application (retainBatch, arena leases elsewhere) do not pass through
    // here, so poll while paused.
    if (this.#resumeTimer) return;
    this.#resumeTimer = setInterval(() => this.#checkPressure(), this.#resumeCheckMs);
    this.#resumeTimer.unref();
  }

  #stopResumeTimer(): void {
    if (!this.#resumeTimer) return;
    clearInterval(this.#resumeTimer);
    this.#resumeTimer = undefined;
  }
}

/** Creates the recycling mode for `consumer`; see {@link ArenaConsumer}. */
export function arenaConsumer(consumer: KafkajsConsumer, options: ArenaConsumerOptions): ArenaConsumer {
  return new ArenaConsumer(consumer, options);
}

/**
 * A copy of a kafkajs message whose key, value and header values the caller owns: use it for
 * what must outlive the handler in recycling mode.
 */
export function detachMessage<M extends KafkajsMessage>(message: M): M {
  const copy = (b: Buffer | string | null | undefined) => (Buffer.isBuffer(b) ? Buffer.from(b) : b);
  let headers: KafkajsMessage['headers'];
  if (message.headers) {
    headers = {};
    for (const [k, v] of Object.entries(message.headers)) headers[k] = Array.isArray(v) ? v.map((x) => copy(x)!) : copy(v)!;
  }
  return { ...message, key: copy(message.key) as Buffer | null, value: copy(message.value) as Buffer | null, headers };
}
