/**
 * The soak scenarios: the real-world ways a Node Kafka consumer or producer runs out of memory,
 * each run once with plain kafkajs (+ the usual peer codecs) and once with kafka-arena.
 *
 * Facts about the mock broker (librdkafka's mock cluster) that shape these settings:
 * - it returns at most ONE record batch per partition per Fetch, whatever maxBytes says (maxBytes
 *   only stops adding further partitions), so the data in one fetch is set by the producer's
 *   batch size x the partitions; a "larger fetch" has to come with larger batches;
 * - it keeps about 5 MiB per partition, so volume is spread over partitions;
 * - `rtt` delays every response of a broker (requests are still pipelined).
 */

export type SetupName = 'kafkajs' | 'kafka-arena';
export const SETUPS: SetupName[] = ['kafkajs', 'kafka-arena'];

export type ScenarioName = 'slow-consumer' | 'large-fetch' | 'kept-keys' | 'pipeline-queue' | 'producer-rtt';

export interface Scenario {
  name: ScenarioName;
  title: string;
  /** What the two setups do, for the report. */
  description: string;
  partitions: number;
  /** Continuous kcat producer (scenarios 1-4). */
  kcat?: {
    mbPerSec: number;
    keys?: boolean;
    properties: Record<string, string | number>;
  };
  /** Injected response delay on every broker (scenario 5). */
  rttMs?: number;
  /** kafkajs consumer fetch limits. */
  maxBytes?: number;
  maxBytesPerPartition?: number;
}

const MiB = 1024 * 1024;

/** Messages per second the "slow" handlers get through (about 5.6 MB/s of these events). */
export const SLOW_HANDLER_MSGS_PER_SEC = 20000;
/** Entries in the scenario-3 dedupe cache. */
export const DEDUPE_CACHE_ENTRIES = 50000;
/** ByteQueue capacity in scenario 4 (kafka-arena): batches count as batchMemoryBytes() (payload + message objects). */
export const PIPELINE_QUEUE_BYTES = 16 * MiB;
/**
 * kafka-arena's per-fetch allowance (arenaConsumer maxFetchBytes): the default budget (64 MiB)
 * minus the default high-water mark (75 % of it), so leases stay within the budget.
 */
export const MAX_FETCH_BYTES = 16 * MiB;
/** Records per send in scenario 5. */
export const PRODUCER_RECORD_MESSAGES = 500;

export const SCENARIOS: Scenario[] = [
  {
    name: 'slow-consumer',
    title: '1. Production outpaces a slow consumer (zstd)',
    description:
      'kcat produces zstd JSON events at 16 MB/s over 8 partitions (1 MB batches); the eachBatch handler sleeps per batch ' +
      `(${SLOW_HANDLER_MSGS_PER_SEC.toLocaleString('en-US')} msgs/s), so the consumer falls further behind all the time. kafkajs defaults ` +
      '(maxBytes 10 MiB, maxBytesPerPartition 1 MiB).',
    partitions: 8,
    kcat: { mbPerSec: 16, properties: { 'batch.size': 1000000, 'linger.ms': 1000 } },
  },
  {
    name: 'large-fetch',
    title: '2. Larger fetch size under a slow consumer (maxBytes x10)',
    description:
      'As scenario 1 with maxBytes 100 MiB and maxBytesPerPartition 10 MiB. The mock returns one record batch per partition per ' +
      'fetch whatever the limits, so the producer makes 8 MB batches (batch.size 8 MB) so that a fetch really carries ~10x the data.',
    partitions: 8,
    kcat: { mbPerSec: 16, properties: {
        'batch.size': 8000000,
        'linger.ms': 5000,
        'message.max.bytes': 10000000,
        // 8 partitions x 8 MB lingering batches must fit in kcat's queue, or it throttles the rate.
        'queue.buffering.max.kbytes': 262144,
      },
    },
    maxBytes: 100 * MiB,
    maxBytesPerPartition: 10 * MiB,
  },
  {
    name: 'kept-keys',
    title: '3. The consumer keeps small parts of messages (dedupe cache of keys)',
    description:
      `kcat produces keyed zstd events at 8 MB/s over 8 partitions; eachMessage keeps the key of every purchase event (1 in 8) in a ` +
      `${DEDUPE_CACHE_ENTRIES.toLocaleString('en-US')}-entry dedupe cache (Map, oldest evicted). kafkajs keeps message.key as is ` +
      '(a view into the decompressed batch); kafka-arena copies it (Buffer.from), as its contract requires.',
    partitions: 8,
    kcat: { mbPerSec: 8, keys: true, properties: { 'batch.size': 1000000, 'linger.ms': 500 } },
  },
  {
    name: 'pipeline-queue',
    title: '4. A queue between fetching and processing',
    description:
      `kcat produces zstd events at 12 MB/s over 8 partitions; eachBatch hands batches to a processor that handles ` +
      `${SLOW_HANDLER_MSGS_PER_SEC.toLocaleString('en-US')} msgs/s. kafkajs: an unbounded array. kafka-arena: a ByteQueue of ` +
      `${PIPELINE_QUEUE_BYTES / MiB} MiB with retainBatch() (leases travel through the queue; each batch counts its bytes plus kafkajs's ` +
      'objects for its messages, batchMemoryBytes()), plus arena backpressure.',
    partitions: 8,
    kcat: { mbPerSec: 12, properties: { 'batch.size': 1000000, 'linger.ms': 1000 } },
  },
  {
    name: 'producer-rtt',
    title: '5. A producer faster than the broker accepts (200 ms RTT)',
    description:
      `The process produces zstd JSON events (${PRODUCER_RECORD_MESSAGES} per send) as fast as it can to 8 partitions; every broker ` +
      'response is delayed 200 ms and the producer keeps one request in flight per connection (maxInFlightRequests: 1, as ' +
      "kafkajs's idempotent producer requires and ordered producers use; the mock pipelines requests, so without it RTT would not " +
      'limit what the broker accepts). Both set-ups run the same loop: build a record, send it without awaiting, yield to I/O. ' +
      'kafka-arena adds `await bounded.ready()` (boundedProducer, default 8 MiB in flight) before building the next record.',
    partitions: 8,
    rttMs: 200,
  },
];

/** What the parent passes to a worker. */
export interface WorkerConfig {
  scenario: ScenarioName;
  setup: SetupName;
  bootstrap: string[];
  topic: string;
  groupId: string;
  /** Sampling period. */
  sampleMs: number;
}

/** One sample, sent by the worker every `sampleMs`. */
export interface Sample {
  /** Seconds since the worker started. */
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  consumed: number;
  produced: number;
  /** Scenario-specific gauges (arena leased bytes, queue length, cache size, ...). */
  extra: Record<string, number>;
}

export type WorkerMessage =
  | { type: 'sample'; sample: Sample }
  | { type: 'ready' }
  | { type: 'done'; consumed: number; produced: number; extra: Record<string, unknown> }
  | { type: 'error'; message: string };
