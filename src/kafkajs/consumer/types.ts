/**
 * The types of the recycling consumer. kafkajs's own payload and config types are used as they
 * are (type imports only: kafkajs is an optional peer, nothing of it is loaded at run time).
 */
import type { ConsumerRunConfig, EachBatchPayload, EachMessagePayload } from 'kafkajs';
import type { Arena } from '../../arena';

export type { EachBatchPayload, EachMessagePayload } from 'kafkajs';

/** The parts of a kafkajs message this module reads. */
export interface KafkajsMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  offset: string;
  timestamp: string;
}

/** The parts of a kafkajs Batch this module reads. */
export interface KafkajsBatch {
  topic: string;
  partition: number;
  messages: KafkajsMessage[];
  /** Every decoded message, including control records, aborted and below-offset ones. */
  rawMessages?: KafkajsMessage[];
}

/** What `eachBatch` receives in recycling mode: kafkajs's payload plus `retainBatch`. */
export interface ArenaEachBatchPayload extends EachBatchPayload {
  /**
   * Keeps this batch's memory past the handler (for a pipeline that processes it later, or an
   * asynchronous write still in progress). Returns the function that gives it back; calling it
   * more than once, or after the consumer stopped, does nothing.
   */
  retainBatch(): () => void;
}

/** `helper.run(config)`: kafkajs's run config, with `eachBatch` receiving `retainBatch` too. */
export interface ArenaRunConfig extends Omit<ConsumerRunConfig, 'eachBatch' | 'eachMessage'> {
  eachBatch?: (payload: ArenaEachBatchPayload) => Promise<void>;
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
}

/** A topic's partitions, as kafkajs's pause/resume take them. */
export interface TopicPartitions {
  topic: string;
  partitions?: number[];
}

/** The parts of a kafkajs Consumer this module uses (a kafkajs `Consumer` is one). */
export interface KafkajsConsumer {
  run(config: Record<string, unknown>): Promise<void>;
  pause(topics: TopicPartitions[]): void;
  resume(topics: TopicPartitions[]): void;
  paused(): Array<{ topic: string; partitions: number[] }>;
  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): () => void;
  events: Record<string, string>;
}

/** Options for `arenaConsumer`. */
export interface ArenaConsumerOptions {
  /** The arena fetched batches are decompressed into. */
  arena: Arena;
  /**
   * Pause the assigned partitions when the held memory passes this: the arena's leased bytes plus
   * the estimated objects of the messages this consumer handed out and has not released yet.
   * The decision is taken when a broker's next fetch starts, for that broker's partitions.
   * Default 75 % of the budget.
   */
  highWaterBytes?: number;
  /** Resume once the held memory is back at or below this. Default 40 % of the budget. */
  lowWaterBytes?: number;
  /** How often to check for resuming while paused, in ms. Default 25. */
  resumeCheckMs?: number;
  /**
   * Memory one fetch of a broker should bring at most: its decompressed bytes plus the message
   * objects kafkajs builds for them (estimated by `messageObjectBytes`). Off by default. Each
   * partition's recent size per fetch is remembered, and when a broker's fetch starts, its
   * partitions beyond this estimate are held back (paused) and rotated in at that broker's next
   * fetches, at least one partition per fetch. A partition applies once it delivered a fetch
   * (before, which broker leads it is unknown, and pausing it could drop another broker's fetch).
   */
  maxFetchBytes?: number;
  /**
   * What to do when the installed kafkajs is not a version this helper was tested with (it relies
   * on kafkajs internals; see docs/recycling.md): `'warn'` (default, a process warning),
   * `'throw'` (an `ERR_UNSUPPORTED` error), `'ignore'`.
   */
  untestedKafkajs?: 'warn' | 'throw' | 'ignore';
}

/** Counters of the consumer helper. */
export interface ArenaConsumerStats {
  /** Times the helper went into a memory pause (held memory past `highWaterBytes` at a fetch start). */
  pauses: number;
  /** Times the memory pause ended. */
  resumes: number;
  /** True while paused for memory. */
  paused: boolean;
  /** Leases decompressed into the arena for this consumer. */
  leasesCreated: number;
  /** Leases released, by the path that released them. */
  released: {
    /** When the `eachBatch` handler that received them settled, or a `retainBatch()` release. */
    handler: number;
    /** By `eachMessage` processing once the partition moved past them, or its batch ended. */
    messages: number;
    /** Delivered to no handler (control batches, aborted transactions, records below the fetch
     * offset, batches dropped by seek or by the application's pause): released once kafkajs
     * finished the fetch they came from. */
    undelivered: number;
    /** On rebalance, stop, crash, disconnect or close. */
    shutdown: number;
  };
  /** Leases held now by this consumer (decoded fetches not yet processed). */
  held: number;
  /** Highest arena leased bytes seen by this consumer. */
  highWaterBytesSeen: number;
  /** Highest held memory (leased bytes + `messageObjectBytes`) seen: what the water marks compare. */
  highWaterHeldSeen: number;
  /** Estimated heap of the kafkajs messages handed out whose leases are not released yet. */
  messageObjectBytes: number;
  /** Fetches for which `maxFetchBytes` held partitions back. */
  limitedFetches: number;
  /** Most memory one fetch delivered to the handlers (decompressed bytes + message objects). */
  largestFetchBytes: number;
  /** Fetches whose decompressed bytes passed the arena's whole budget: delivered once, then everything paused until memory drains. */
  oversizeFetches: number;
  /**
   * Decompressions by a registered codec while this helper was attached but outside every open
   * fetch scope (a consumer or producer started from a handler, or a kafkajs that no longer
   * decodes inside the FETCH_START context). They never go into the arena.
   */
  unscopedDecompressions: number;
}

/** A release path counted in {@link ArenaConsumerStats.released}. */
export type ReleasePath = keyof ArenaConsumerStats['released'];
