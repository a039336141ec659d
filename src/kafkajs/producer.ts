import { WaiterQueue } from '../arena/waiters';
import { functionArg, integerArg, optionsArg } from '../validate';
import { payloadBytes } from './memory';

/** The parts of kafkajs's Producer this module uses. */
export interface KafkajsProducer {
  send(record: ProducerRecordLike): Promise<unknown>;
  sendBatch(batch: { topicMessages?: ProducerRecordLike[]; [extra: string]: unknown }): Promise<unknown>;
}

export interface MessageLike {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  [extra: string]: unknown;
}

export interface ProducerRecordLike {
  topic: string;
  messages: MessageLike[];
  [extra: string]: unknown;
}

const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

/** Options for {@link boundedProducer}. */
export interface BoundedProducerOptions {
  /**
   * Bytes (keys + values + headers) allowed in flight at once. Default 8 MiB. kafkajs holds
   * about 2.5x the payload of a send until it is acknowledged (the messages, the encoded batch and
   * the compressed batch), so the default keeps roughly 20 MiB in memory, and covers 40 MB/s at a
   * 200 ms round trip; raise it when the bandwidth x round-trip time of your link is larger.
   */
  maxInFlightBytes?: number;
}

/** Counters of a bounded producer. */
export interface BoundedProducerStats {
  inFlightBytes: number;
  inFlightRequests: number;
  /** Calls that had to wait for room. */
  waits: number;
  /** Highest in-flight bytes seen. */
  highWaterBytes: number;
  sent: number;
  failed: number;
}

/** Bytes a record set counts for: keys, values, header keys and values. */
export function recordBytes(records: ProducerRecordLike[]): number {
  let n = 0;
  for (const r of records) {
    for (const m of r.messages) {
      n += payloadBytes(m.key) + payloadBytes(m.value);
      if (m.headers) {
        for (const [k, v] of Object.entries(m.headers)) n += Buffer.byteLength(k) + payloadBytes(v);
      }
    }
  }
  return n;
}

// Set by BoundedProducer's static block: the class's constructor stays private.
let create: (producer: KafkajsProducer, options: BoundedProducerOptions | undefined) => BoundedProducer;

/**
 * Bounds what a kafkajs producer holds in flight, in bytes: `send` and `sendBatch` wait (FIFO)
 * while the bytes already sent but not yet acknowledged would pass `maxInFlightBytes`, so a
 * producer faster than the broker slows down instead of queueing without limit. A single record
 * set larger than the bound goes alone. Create one with {@link boundedProducer}.
 */
export class BoundedProducer {
  readonly maxInFlightBytes: number;
  readonly #producer: KafkajsProducer;
  #inFlight = 0;
  #requests = 0;
  /** FIFO: sends waiting for room, and `ready()` probes (which take no room). */
  readonly #waiters = new WaiterQueue<{ bytes: number; go: () => void; probe?: true }>();
  /** Every send not settled yet (waiting or in flight), as its outcome: what `flush()` waits for. */
  readonly #unsettled = new Set<Promise<Outcome>>();
  #stats = { waits: 0, highWaterBytes: 0, sent: 0, failed: 0 };

  static {
    create = (producer, options) => new BoundedProducer(producer, options);
  }

  private constructor(producer: KafkajsProducer, options: BoundedProducerOptions | undefined) {
    if (typeof producer !== 'object' || producer === null) functionArg('producer.send', undefined);
    functionArg('producer.send', producer.send);
    functionArg('producer.sendBatch', producer.sendBatch);
    const o = optionsArg<BoundedProducerOptions>('options', options);
    this.#producer = producer;
    this.maxInFlightBytes = integerArg('maxInFlightBytes', o.maxInFlightBytes, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_IN_FLIGHT_BYTES);
  }

  /** `producer.send(record)`, waiting for room first. */
  send(record: ProducerRecordLike): Promise<unknown> {
    return this.#track(this.#run(recordBytes([record]), () => this.#producer.send(record)));
  }

  /** `producer.sendBatch(batch)`, waiting for room first. */
  sendBatch(batch: { topicMessages?: ProducerRecordLike[]; [extra: string]: unknown }): Promise<unknown> {
    return this.#track(this.#run(recordBytes(batch.topicMessages ?? []), () => this.#producer.sendBatch(batch)));
  }

  /**
   * Resolves once the producer has room under the bound, after every send already waiting, and
   * sends nothing. A source loop waits here before it reads or builds its next record, so data it
   * has not sent is not held in memory while it waits, and can then send without awaiting:
   *
   * ```ts
   * for (;;) {
   *   await bounded.ready();
   *   bounded.send(await nextRecord()).catch(onError);
   * }
   * ```
   */
  ready(): Promise<void> {
    if (this.#waiters.size === 0 && this.#inFlight < this.maxInFlightBytes) return Promise.resolve();
    this.#stats.waits++;
    return new Promise<void>((go) => this.#waiters.push({ bytes: 0, go, probe: true }));
  }

  /**
   * Waits for every `send` and `sendBatch` called so far, those in flight and those still waiting
   * for room, to settle. Resolves when all were acknowledged; rejects with the first failure (in
   * the order they failed) once all have settled, so nothing sent before the call is still in
   * flight either way. Sends made after the call are not waited for.
   */
  flush(): Promise<void> {
    if (this.#unsettled.size === 0) return Promise.resolve();
    const outcomes = [...this.#unsettled];
    return new Promise<void>((resolve, reject) => {
      let left = outcomes.length;
      let failure: Outcome;
      for (const outcome of outcomes) {
        void outcome.then((o) => {
          failure ??= o;
          if (--left > 0) return;
          if (failure === undefined) resolve();
          else reject(failure.error);
        });
      }
    });
  }

  /** Counters. */
  stats(): BoundedProducerStats {
    return { inFlightBytes: this.#inFlight, inFlightRequests: this.#requests, ...this.#stats };
  }

  #track(result: Promise<unknown>): Promise<unknown> {
    const outcome: Promise<Outcome> = result.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    this.#unsettled.add(outcome);
    void outcome.then(() => this.#unsettled.delete(outcome));
    return result;
  }

  async #run(bytes: number, call: () => Promise<unknown>): Promise<unknown> {
    if (this.#waiters.size > 0 || !this.#fits(bytes)) {
      this.#stats.waits++;
      await new Promise<void>((go) => this.#waiters.push({ bytes, go }));
    } else {
      this.#take(bytes);
    }
    try {
      const result = await call();
      this.#stats.sent++;
      return result;
    } catch (err) {
      this.#stats.failed++;
      throw err;
    } finally {
      this.#inFlight -= bytes;
      this.#requests--;
      this.#wake();
    }
  }

  #fits(bytes: number): boolean {
    return this.#inFlight + bytes <= this.maxInFlightBytes || this.#inFlight === 0;
  }

  #take(bytes: number): void {
    this.#inFlight += bytes;
    this.#requests++;
    if (this.#inFlight > this.#stats.highWaterBytes) this.#stats.highWaterBytes = this.#inFlight;
  }

  #wake(): void {
    for (let w = this.#waiters.peek(); w !== undefined; w = this.#waiters.peek()) {
      if (w.probe ? this.#inFlight >= this.maxInFlightBytes : !this.#fits(w.bytes)) return;
      this.#waiters.shift();
      if (!w.probe) this.#take(w.bytes);
      w.go();
    }
  }
}

/** How a send ended, for `flush()`: undefined when acknowledged. */
type Outcome = { error: unknown } | undefined;

/** Wraps `producer` with a byte bound on in-flight sends; see {@link BoundedProducer}. */
export function boundedProducer(producer: KafkajsProducer, options?: BoundedProducerOptions): BoundedProducer {
  return create(producer, options);
}
