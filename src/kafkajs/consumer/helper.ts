/**
 * The recycling mode for a kafkajs consumer: fetched batches are decompressed into arena leases,
 * and every lease is released once kafkajs is done with it. The design and the exact contract
 * are in docs/recycling.md.
 */
import { Arena } from '../../arena';
import { functionArg, integerArg, invalid, oneOfArg, optionsArg } from '../../validate';
import { messageObjectBytes } from '../memory';
import { enterFetchScope, outsideFetchScope, watchScopes } from '../scope';
import { AppPauses } from './app-pauses';
import { Fetch, type Held, LeaseBook } from './leases';
import { type PartitionView, type PauseReason, planPauses } from './pause-plan';
import type {
  ArenaConsumerOptions,
  ArenaConsumerStats,
  ArenaEachBatchPayload,
  ArenaRunConfig,
  EachBatchPayload,
  EachMessagePayload,
  KafkajsBatch,
  KafkajsConsumer,
  KafkajsMessage,
  TopicPartitions,
} from './types';
import { checkKafkajsVersion } from './version';

type Handler<P> = (payload: P) => Promise<void>;

/** Groups "topic|partition" keys into kafkajs's pause/resume argument. */
function byTopic(keys: readonly string[]): TopicPartitions[] {
  const out = new Map<string, number[]>();
  for (const key of keys) {
    const i = key.lastIndexOf('|');
    const topic = key.slice(0, i);
    const list = out.get(topic) ?? [];
    list.push(Number(key.slice(i + 1)));
    out.set(topic, list);
  }
  return [...out].map(([topic, partitions]) => ({ topic, partitions }));
}

/**
 * What {@link arenaConsumer} returns: `run` (kafkajs's `consumer.run` with the handlers wrapped
 * for lease release), `stats` and `close`.
 *
 * - `eachBatch`: a batch's leases are released when the handler settles (unless it called
 *   `retainBatch()`);
 * - `eachMessage`: when the partition's processing moves past the record batch;
 * - batches that reach no handler: when kafkajs starts that broker's next fetch;
 * - everything unclaimed: on rebalance, stop, crash, disconnect or close.
 *
 * Backpressure decisions are taken only when a broker's fetch starts (see pause-plan.ts), so a
 * fetch that was decoded is always delivered, however large.
 */
export class ArenaConsumer {
  readonly arena: Arena;
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  readonly #consumer: KafkajsConsumer;
  readonly #resumeCheckMs: number;
  readonly #maxFetchBytes: number | undefined;
  readonly #stats: ArenaConsumerStats = {
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
    oversizeFetches: 0,
    unscopedDecompressions: 0,
  };
  readonly #book: LeaseBook;
  /** Each broker's fetch in progress or last completed. */
  readonly #fetches = new Map<number, Fetch>();
  /** eachMessage: the lease each partition's messages are being handed out from. */
  readonly #current = new Map<string, { held: Held; fetch: Fetch }>();
  readonly #removers: Array<() => void> = [];
  #assignment = new Map<string, number[]>();
  readonly #app = new AppPauses();
  /** The partitions this helper holds paused, and why. */
  #ours = new Map<string, PauseReason>();
  /** Each partition's recent memory per fetch (a decaying maximum) and its leader. */
  readonly #recentBytes = new Map<string, number>();
  readonly #broker = new Map<string, number>();
  /** Leader unknown: brokers whose fetch included the partition without bringing its records. */
  readonly #notLeader = new Map<string, Set<number>>();
  /** Brokers whose fetch is in flight (FETCH_START until FETCH). */
  readonly #inFlight = new Set<number>();
  readonly #rotation = new Map<number, number>();
  readonly #kafkajsPause: (topics: TopicPartitions[]) => void;
  readonly #kafkajsResume: (topics: TopicPartitions[]) => void;
  readonly #appPause = (topics: TopicPartitions[]): void => {
    this.#kafkajsPause(topics);
    this.#app.pause(topics);
  };
  readonly #appResume = (topics: TopicPartitions[]): void => {
    this.#app.resume(topics);
    this.#kafkajsResume(topics);
    // The application's resume lifts kafkajs's one flag; what this helper holds stays paused.
    // (It was paused, so no fetch in flight includes it: pausing it again drops nothing.)
    const again = [...this.#ours.keys()].filter((key) => {
      const i = key.lastIndexOf('|');
      const topic = key.slice(0, i);
      const p = Number(key.slice(i + 1));
      return topics.some((t) => t.topic === topic && (t.partitions === undefined || t.partitions.includes(p)));
    });
    if (again.length > 0) this.#kafkajsPause(byTopic(again));
  };
  #resumeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(consumer: KafkajsConsumer, options: ArenaConsumerOptions) {
    const o = optionsArg<ArenaConsumerOptions>('options', options);
    if (!(o.arena instanceof Arena)) invalid('arena', 'an Arena', o.arena);
    this.arena = o.arena;
    this.#consumer = consumer;
    const max = Number.MAX_SAFE_INTEGER;
    this.highWaterBytes = integerArg('highWaterBytes', o.highWaterBytes, 0, max, Math.floor(this.arena.maxBytes * 0.75));
    this.lowWaterBytes = integerArg('lowWaterBytes', o.lowWaterBytes, 0, this.highWaterBytes, Math.min(this.highWaterBytes, Math.floor(this.arena.maxBytes * 0.4)));
    this.#resumeCheckMs = integerArg('resumeCheckMs', o.resumeCheckMs, 1, 60_000, 25);
    this.#maxFetchBytes = o.maxFetchBytes === undefined ? undefined : integerArg('maxFetchBytes', o.maxFetchBytes, 1, max);
    checkKafkajsVersion(oneOfArg('untestedKafkajs', o.untestedKafkajs, ['warn', 'throw', 'ignore'] as const, 'warn'));
    this.#book = new LeaseBook(this.arena, this.#stats, () => this.#changed());

    // The application's pauses go through these, so they are told apart from the helper's.
    this.#kafkajsPause = consumer.pause.bind(consumer);
    this.#kafkajsResume = consumer.resume.bind(consumer);
    consumer.pause = this.#appPause;
    consumer.resume = this.#appResume;

    const ev = consumer.events;
    this.#removers.push(
      consumer.on(ev.FETCH_START, (e) => this.#onFetchStart(Number(e.payload.nodeId))),
      consumer.on(ev.FETCH, (e) => void this.#inFlight.delete(Number(e.payload.nodeId))),
      consumer.on(ev.GROUP_JOIN, (e) => this.#onGroupJoin(e.payload.memberAssignment as Record<string, number[]> | undefined)),
      consumer.on(ev.END_BATCH_PROCESS, (e) => this.#releaseCurrent(`${e.payload.topic}|${e.payload.partition}`)),
      // After these kafkajs has stopped every fetcher and waited for its batches.
      consumer.on(ev.REBALANCING, () => {
        this.#inFlight.clear();
        this.#releaseUnclaimed();
      }),
      consumer.on(ev.STOP, () => this.#stopped()),
      consumer.on(ev.CRASH, () => this.#stopped()),
      consumer.on(ev.DISCONNECT, () => this.#stopped()),
      watchScopes({ unscoped: () => void this.#stats.unscopedDecompressions++ }),
    );
  }

  /**
   * `consumer.run(config)` with the handlers wrapped for lease release. Takes kafkajs's run config;
   * `eachBatch` receives `retainBatch()` in addition. Handlers run outside the helper's fetch
   * scope: what they start (another consumer, a producer) never decompresses into its arena.
   */
  run(config: ArenaRunConfig): Promise<void> {
    const c = optionsArg<ArenaRunConfig>('config', config);
    const eachBatch = functionArg<Handler<ArenaEachBatchPayload>>('config.eachBatch', c.eachBatch, true);
    const eachMessage = functionArg<Handler<EachMessagePayload>>('config.eachMessage', c.eachMessage, true);
    if (eachBatch === undefined && eachMessage === undefined) invalid('config', 'a run config with eachBatch or eachMessage', config);
    const wrapped: Record<string, unknown> = { ...c };
    if (eachBatch) wrapped.eachBatch = (payload: EachBatchPayload) => this.#eachBatch(eachBatch, payload);
    if (eachMessage) wrapped.eachMessage = (payload: EachMessagePayload) => this.#eachMessage(eachMessage, payload);
    return this.#consumer.run(wrapped);
  }

  /** Counters; see {@link ArenaConsumerStats}. */
  stats(): ArenaConsumerStats {
    return { ...this.#stats, released: { ...this.#stats.released } };
  }

  /**
   * Detaches the helper: removes its listeners, gives the consumer its own pause/resume back,
   * releases whatever it still holds and resumes what it paused (never the application's pauses).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const remove of this.#removers.splice(0)) remove();
    if (this.#consumer.pause === this.#appPause) this.#consumer.pause = this.#kafkajsPause;
    if (this.#consumer.resume === this.#appResume) this.#consumer.resume = this.#kafkajsResume;
    this.#releaseUnclaimed();
    this.#stopResumeTimer();
    const ours = [...this.#ours].filter(([key]) => !this.#appPaused(key)).map(([key]) => key);
    this.#ours.clear();
    this.#stats.paused = false;
    this.#call(this.#kafkajsResume, ours);
  }

  // ---- handlers ----

  async #eachBatch(user: Handler<ArenaEachBatchPayload>, payload: EachBatchPayload): Promise<void> {
    const batch = payload.batch as unknown as KafkajsBatch;
    const claimed = this.#book.claim(batch.rawMessages ?? batch.messages, `${batch.topic}|${batch.partition}`);
    const retainBatch = () => this.#book.retain(claimed);
    try {
      await outsideFetchScope(() => user({ ...payload, retainBatch }));
    } finally {
      for (const held of claimed) this.#book.release(held, 'handler');
    }
  }

  async #eachMessage(user: Handler<EachMessagePayload>, payload: EachMessagePayload): Promise<void> {
    this.#advance(`${payload.topic}|${payload.partition}`, payload.message as unknown as KafkajsMessage);
    await outsideFetchScope(() => user(payload));
  }

  /** eachMessage: once a partition moves to a new record batch, the previous one is done. */
  #advance(key: string, message: KafkajsMessage): void {
    const held = this.#book.lookup(message);
    if (!held) return;
    let current = this.#current.get(key);
    if (current?.held !== held) {
      if (!held.fetch) return; // claimed elsewhere
      const fetch = this.#book.take(held, key);
      if (current) this.#book.release(current.held, 'messages');
      current = { held, fetch };
      this.#current.set(key, current);
    }
    // kafkajs decoded the whole fetch already; a message's objects are counted when it is handed out.
    this.#book.countObjects(held, current.fetch, key, messageObjectBytes(message));
  }

  #releaseCurrent(key: string): void {
    const current = this.#current.get(key);
    if (!current) return;
    this.#current.delete(key);
    this.#book.release(current.held, 'messages');
  }

  // ---- fetches and pauses ----

  #onFetchStart(nodeId: number): void {
    // kafkajs starts a broker's next fetch only after every batch of the previous one was
    // processed, so what that fetch still holds reached no handler: release it.
    const previous = this.#fetches.get(nodeId);
    if (previous) {
      let total = 0;
      for (const [key, bytes] of previous.bytesByPartition) {
        // A decaying maximum: one small fetch must not let several partitions in at once just
        // before their full batches arrive.
        this.#recentBytes.set(key, Math.max(bytes, Math.floor(((this.#recentBytes.get(key) ?? 0) * 3) / 4)));
        this.#broker.set(key, nodeId);
        total += bytes;
      }
      for (const key of previous.unknownRequested) {
        if (previous.bytesByPartition.has(key) || this.#broker.has(key)) continue;
        const not = this.#notLeader.get(key) ?? new Set<number>();
        not.add(nodeId);
        this.#notLeader.set(key, not);
      }
      if (total > this.#stats.largestFetchBytes) this.#stats.largestFetchBytes = total;
      this.#book.closeFetch(previous, 'undelivered');
    }
    // Still before kafkajs reads which partitions are paused for this fetch.
    const othersInFlight = this.#inFlight.size > 0 && !(this.#inFlight.size === 1 && this.#inFlight.has(nodeId));
    this.#plan(nodeId, othersInFlight);
    this.#inFlight.add(nodeId);
    const fetch = new Fetch(this.#book, nodeId);
    for (const [topic, partitions] of this.#assignment) {
      for (const p of partitions) {
        const key = `${topic}|${p}`;
        if (!this.#broker.has(key) && !this.#ours.has(key) && !this.#appPaused(key)) fetch.unknownRequested.push(key);
      }
    }
    this.#fetches.set(nodeId, fetch);
    // FETCH_START is emitted synchronously right before kafkajs calls consumerGroup.fetch, so the
    // fetch and the decode of its response run inside this context.
    enterFetchScope(fetch);
  }

  #onGroupJoin(assignment: Record<string, number[]> | undefined): void {
    this.#assignment = new Map(Object.entries(assignment ?? {}));
    // kafkajs keeps pause state across rebalances; the planner resumes held-back partitions that
    // left the assignment, and each broker's next fetch decides for the new ones.
    this.#plan(undefined);
  }

  #appPaused(key: string): boolean {
    const i = key.lastIndexOf('|');
    return this.#app.isPaused(key.slice(0, i), Number(key.slice(i + 1)));
  }

  /** Runs the planner (at `fetchOf`'s fetch start, or with undefined for resumes only) and applies it. */
  #plan(fetchOf: number | undefined, othersInFlight = true): void {
    if (this.#closed) return;
    const held = this.arena.leasedBytes + this.#stats.messageObjectBytes;
    // Paused in kafkajs but neither recorded as the application's nor ours: the application
    // paused it before the helper existed (or kafkajs kept it); never ours to resume.
    const pausedNow = new Set<string>();
    for (const t of this.#safe(() => this.#consumer.paused(), [])) for (const p of t.partitions) pausedNow.add(`${t.topic}|${p}`);
    // Assignment order first: the maxFetchBytes rotation walks a stable list.
    const keys = new Set<string>();
    for (const [topic, partitions] of this.#assignment) for (const p of partitions) keys.add(`${topic}|${p}`);
    for (const key of this.#ours.keys()) keys.add(key);
    const partitions: PartitionView[] = [];
    for (const key of keys) {
      const ours = this.#ours.get(key);
      const i = key.lastIndexOf('|');
      partitions.push({
        key,
        broker: this.#broker.get(key),
        mayLead: fetchOf !== undefined && !othersInFlight && !this.#notLeader.get(key)?.has(fetchOf),
        assigned: this.#assignment.get(key.slice(0, i))?.includes(Number(key.slice(i + 1))) ?? false,
        appPaused: this.#appPaused(key) || (pausedNow.has(key) && ours === undefined),
        ours,
        recentBytes: this.#recentBytes.get(key),
      });
    }
    const plan = planPauses({
      fetchOf,
      held,
      highWaterBytes: this.highWaterBytes,
      lowWaterBytes: this.lowWaterBytes,
      memoryPaused: this.#stats.paused,
      maxFetchBytes: this.#maxFetchBytes,
      rotation: fetchOf === undefined ? 0 : (this.#rotation.get(fetchOf) ?? 0),
      partitions,
    });
    this.#ours = plan.ours;
    if (fetchOf !== undefined) this.#rotation.set(fetchOf, plan.rotation);
    if (plan.limited) this.#stats.limitedFetches++;
    if (plan.memoryPaused !== this.#stats.paused) {
      this.#stats.paused = plan.memoryPaused;
      if (plan.memoryPaused) {
        this.#stats.pauses++;
        this.#startResumeTimer();
      } else {
        this.#stats.resumes++;
        this.#stopResumeTimer();
      }
    }
    this.#call(this.#kafkajsResume, plan.resume);
    this.#call(this.#kafkajsPause, plan.pause);
  }

  /** After adoptions and releases: high-water marks, and the end of a memory pause. */
  #changed(): void {
    const leased = this.arena.leasedBytes;
    if (leased > this.#stats.highWaterBytesSeen) this.#stats.highWaterBytesSeen = leased;
    const held = leased + this.#stats.messageObjectBytes;
    if (held > this.#stats.highWaterHeldSeen) this.#stats.highWaterHeldSeen = held;
    // Pauses wait for a fetch start; resuming is safe at any time.
    if (this.#stats.paused && held <= this.lowWaterBytes) this.#plan(undefined);
  }

  /** Calls kafkajs's pause or resume; a consumer without a group (stopped) has nothing to change. */
  #call(fn: (topics: TopicPartitions[]) => void, keys: readonly string[]): void {
    if (keys.length === 0) return;
    this.#safe(() => fn(byTopic(keys)), undefined);
  }

  #safe<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch {
      // kafkajs throws "Consumer group was not initialized" once stopped or disconnected.
      return fallback;
    }
  }

  #releaseUnclaimed(): void {
    this.#book.releaseUnclaimed('shutdown');
    for (const fetch of this.#fetches.values()) fetch.open = false;
    this.#fetches.clear();
    const current = [...this.#current.values()];
    this.#current.clear();
    for (const c of current) this.#book.release(c.held, 'shutdown');
  }

  /** The consumer stopped, crashed or disconnected: its next run has a new group, with nothing paused. */
  #stopped(): void {
    this.#releaseUnclaimed();
    this.#stopResumeTimer();
    this.#inFlight.clear();
    this.#ours.clear();
    this.#app.clear();
    this.#rotation.clear();
    this.#stats.paused = false;
  }

  #startResumeTimer(): void {
    // Releases elsewhere (other arena leases) do not pass through here, so poll while paused.
    if (this.#resumeTimer) return;
    this.#resumeTimer = setInterval(() => this.#changed(), this.#resumeCheckMs);
    this.#resumeTimer.unref();
  }

  #stopResumeTimer(): void {
    if (!this.#resumeTimer) return;
    clearInterval(this.#resumeTimer);
    this.#resumeTimer = undefined;
  }
}

const CONSUMER_METHODS = ['run', 'pause', 'resume', 'paused', 'on'] as const;

/**
 * The recycling mode for a kafkajs `consumer` (register the codecs first with
 * `registerCodecs(CompressionCodecs)`); see docs/recycling.md for the contract.
 */
export function arenaConsumer(consumer: KafkajsConsumer, options: ArenaConsumerOptions): ArenaConsumer {
  if (typeof consumer !== 'object' || consumer === null) invalid('consumer', 'a kafkajs Consumer', consumer);
  for (const m of CONSUMER_METHODS) {
    if (typeof (consumer as unknown as Record<string, unknown>)[m] !== 'function') invalid('consumer', `a kafkajs Consumer (with ${m}())`, consumer);
  }
  if (typeof consumer.events !== 'object' || consumer.events === null) invalid('consumer', 'a kafkajs Consumer (with events)', consumer);
  return new ArenaConsumer(consumer, options);
}

/**
 * A copy of a kafkajs message whose key, value and header values the caller owns: use it for
 * what must outlive the handler in recycling mode.
 */
export function detachMessage<M extends KafkajsMessage>(message: M): M {
  if (typeof message !== 'object' || message === null) invalid('message', 'a kafkajs message', message);
  const copy = (b: Buffer | string | null | undefined) => (Buffer.isBuffer(b) ? Buffer.from(b) : b);
  let headers: KafkajsMessage['headers'];
  if (message.headers) {
    headers = {};
    for (const [k, v] of Object.entries(message.headers)) headers[k] = Array.isArray(v) ? v.map((x) => copy(x)!) : copy(v)!;
  }
  return { ...message, key: copy(message.key) as Buffer | null, value: copy(message.value) as Buffer | null, headers };
}
