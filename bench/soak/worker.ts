/**
 * One soak setup in a fresh process (forked by run.ts with an IPC channel): the scenario's
 * consumer or producer, with either plain kafkajs + the usual peer codecs or kafka-arena.
 * Samples process.memoryUsage() every second and sends it to the parent; on 'stop' it shuts
 * down, reports its totals and exits.
 */
import { Kafka, CompressionTypes, CompressionCodecs, type Consumer, type Producer, type KafkaMessage } from 'kafkajs';
import { Arena, ByteQueue } from '../../src';
import { arenaConsumer, batchMemoryBytes, boundedProducer, registerCodecs, type ArenaConsumer } from '../../src/kafkajs';
import { kafkajsClientConfig, kafkajsConsumerConfig, type Broker } from '../../test/broker/harness';
import { jsonEvent, prng } from '../lib';
import {
  DEDUPE_CACHE_ENTRIES,
  PIPELINE_QUEUE_BYTES,
  MAX_FETCH_BYTES,
  PRODUCER_RECORD_MESSAGES,
  SCENARIOS,
  SLOW_HANDLER_MSGS_PER_SEC,
  type Sample,
  type WorkerConfig,
  type WorkerMessage,
} from './scenarios';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/* eslint-disable @typescript-eslint/no-var-requires */
/** The codecs a kafkajs user installs: kafkajs-lz4, kafkajs-snappy and a zstd-napi wrapper (GZIP is built in). */
export function registerPeerCodecs(): void {
  const LZ4Codec = require('kafkajs-lz4');
  const SnappyCodec = require('kafkajs-snappy');
  const zstdNapi = require('zstd-napi');
  const codecs = CompressionCodecs as unknown as Record<number, unknown>;
  codecs[CompressionTypes.LZ4] = new LZ4Codec().codec;
  codecs[CompressionTypes.Snappy] = SnappyCodec;
  // What @kafkajs/zstd and the hand-written wrappers in the wild do: native one-shot calls.
  const zstdCodec = {
    async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
      return zstdNapi.compress(encoder.buffer, { compressionLevel: 3 });
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      return zstdNapi.decompress(buffer);
    },
  };
  codecs[CompressionTypes.ZSTD] = () => zstdCodec;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function send(msg: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

interface Running {
  consumed: () => number;
  produced: () => number;
  extra: () => Record<string, number>;
  stop: () => Promise<Record<string, unknown>>;
}

const PURCHASE = Buffer.from('"event":"purchase"');

async function main(config: WorkerConfig): Promise<void> {
  const scenario = SCENARIOS.find((s) => s.name === config.scenario);
  if (!scenario) throw new Error(`unknown scenario ${config.scenario}`);
  const arenaMode = config.setup === 'kafka-arena';
  if (arenaMode) registerCodecs(CompressionCodecs as unknown as Record<number, never>);
  else registerPeerCodecs();

  const t0 = performance.now();
  const fakeBroker = { bootstrap: config.bootstrap } as unknown as Broker;
  const kafka = new Kafka(kafkajsClientConfig(fakeBroker, { clientId: `soak-${config.setup}` }));
  const arena = arenaMode ? new Arena() : undefined;

  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    const sample: Sample = {
      t: (performance.now() - t0) / 1000,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      consumed: running?.consumed() ?? 0,
      produced: running?.produced() ?? 0,
      extra: { ...(running?.extra() ?? {}), ...(arena ? arenaGauges(arena) : {}) },
    };
    void send({ type: 'sample', sample });
  }, config.sampleMs);

  let running: Running | undefined;
  if (scenario.name === 'producer-rtt') running = await runProducer(kafka, config, arenaMode);
  else running = await runConsumer(kafka, config, arena);

  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(sampler);
  const extra = await running.stop();
  await send({ type: 'done', consumed: running.consumed(), produced: running.produced(), extra });
}

function arenaGauges(arena: Arena): Record<string, number> {
  const s = arena.stats();
  return { arenaLeasedBytes: s.leasedBytes, arenaIdleBytes: s.idleBytes, arenaOverBudget: s.overBudget };
}

async function runConsumer(kafka: Kafka, config: WorkerConfig, arena: Arena | undefined): Promise<Running> {
  const scenario = SCENARIOS.find((s) => s.name === config.scenario)!;
  const consumer: Consumer = kafka.consumer(
    kafkajsConsumerConfig(config.groupId, {
      ...(scenario.maxBytes ? { maxBytes: scenario.maxBytes } : {}),
      ...(scenario.maxBytesPerPartition ? { maxBytesPerPartition: scenario.maxBytesPerPartition } : {}),
    }),
  );
  let consumed = 0;
  let crashes = 0;
  consumer.on(consumer.events.CRASH, () => crashes++);
  await consumer.connect();
  await consumer.subscribe({ topic: config.topic, fromBeginning: true });
  const ac: ArenaConsumer | undefined = arena ? arenaConsumer(consumer, { arena, maxFetchBytes: MAX_FETCH_BYTES }) : undefined;
  // In recycling mode the handlers go through the helper (lease release, retainBatch).
  const run = (cfg: Record<string, unknown>) => (ac ? ac.run(cfg) : consumer.run(cfg));
  const gauges: Record<string, () => number> = {};
  const cleanup: Array<() => Promise<void> | void> = [];

  switch (config.scenario) {
    case 'slow-consumer':
    case 'large-fetch': {
      await run({
        eachBatch: async ({ batch, heartbeat }: { batch: { messages: KafkaMessage[] }; heartbeat: () => Promise<void> }) => {
          let bytes = 0;
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
          if (bytes < 0) throw new Error('unreachable');
          // One sleep per batch, as long as the batch takes at the handler's speed.
          await sleep((batch.messages.length / SLOW_HANDLER_MSGS_PER_SEC) * 1000);
          consumed += batch.messages.length;
          await heartbeat();
        },
      });
      break;
    }
    case 'kept-keys': {
      const cache = new Map<string, Buffer>();
      let duplicates = 0;
      gauges.cacheEntries = () => cache.size;
      gauges.duplicates = () => duplicates;
      await run({
        eachMessage: async ({ message }: { message: KafkaMessage }) => {
          consumed++;
          if (!message.key || !message.value || !message.value.includes(PURCHASE)) return;
          const id = message.key.toString('latin1');
          if (cache.has(id)) {
            duplicates++;
            return;
          }
          // The baseline keeps the view kafkajs hands out; kafka-arena's contract says copy.
          cache.set(id, arena ? Buffer.from(message.key) : message.key);
          if (cache.size > DEDUPE_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
        },
      });
      break;
    }
    case 'pipeline-queue': {
      let stopped = false;
      if (arena) {
        interface Item {
          messages: KafkaMessage[];
          release: () => void;
        }
        const queue = new ByteQueue<Item>({ capacityBytes: PIPELINE_QUEUE_BYTES });
        gauges.queueBytes = () => queue.bytes;
        gauges.queueMessages = () => {
          let n = 0;
          // ByteQueue has no per-item view; report batches instead of messages.
          n = queue.length;
          return n;
        };
        const processor = (async () => {
          for (;;) {
            const item = await queue.shift();
            if (item === undefined) return;
            await processMessages(item.messages.length, (n) => (consumed += n), () => stopped);
            item.release();
          }
        })();
        await run({
          eachBatch: async ({
            batch,
            retainBatch,
            heartbeat,
          }: {
            batch: { messages: KafkaMessage[] };
            retainBatch: () => () => void;
            heartbeat: () => Promise<void>;
          }) => {
            // What the batch keeps alive: its bytes and kafkajs's objects for its messages.
            const release = retainBatch();
            const pushed = queue.push({ messages: batch.messages, release }, batchMemoryBytes(batch.messages));
            // Waiting for room can take longer than a heartbeat interval: keep the session alive.
            const hb = setInterval(() => void heartbeat().catch(() => undefined), 1000);
            try {
              await pushed;
            } catch (err) {
              release();
              throw err;
            } finally {
              clearInterval(hb);
            }
          },
        });
        cleanup.push(async () => {
          stopped = true;
          queue.close();
          for (const item of queue.drain()) item.release();
          await processor;
        });
      } else {
        const queue: KafkaMessage[] = [];
        let head = 0;
        gauges.queueMessages = () => queue.length - head;
        const processor = (async () => {
          while (!stopped) {
            const n = Math.min(1000, queue.length - head);
            if (n === 0) {
              await sleep(10);
              continue;
            }
            // Drop references as they are processed (compact now and then).
            for (let i = 0; i < n; i++) (queue as Array<KafkaMessage | undefined>)[head + i] = undefined;
            head += n;
            if (head > 100000 && head * 2 > queue.length) {
              queue.splice(0, head);
              head = 0;
            }
            await processMessages(n, (k) => (consumed += k), () => stopped);
          }
        })();
        await run({
          eachBatch: async ({ batch }: { batch: { messages: KafkaMessage[] } }) => {
            for (const m of batch.messages) queue.push(m);
          },
        });
        cleanup.push(async () => {
          stopped = true;
          await processor;
        });
      }
      break;
    }
    default:
      throw new Error(`no consumer for ${config.scenario}`);
  }

  return {
    consumed: () => consumed,
    produced: () => 0,
    extra: () => {
      const out: Record<string, number> = { crashes };
      for (const [k, f] of Object.entries(gauges)) out[k] = f();
      if (ac) {
        const s = ac.stats();
        out.pauses = s.pauses;
        out.leasesHeld = s.held;
      }
      return out;
    },
    stop: async () => {
      for (const c of cleanup) await c();
      await consumer.disconnect();
      const extra: Record<string, unknown> = { crashes };
      if (ac) {
        extra.arenaConsumer = ac.stats();
        ac.close();
      }
      if (arena) extra.arena = arena.stats();
      return extra;
    },
  };
}

/** The processor's work: `n` messages at SLOW_HANDLER_MSGS_PER_SEC, in slices of 1000. */
async function processMessages(n: number, done: (k: number) => void, stopped: () => boolean): Promise<void> {
  for (let i = 0; i < n && !stopped(); i += 1000) {
    const k = Math.min(1000, n - i);
    await sleep((k / SLOW_HANDLER_MSGS_PER_SEC) * 1000);
    done(k);
  }
}

async function runProducer(kafka: Kafka, config: WorkerConfig, arenaMode: boolean): Promise<Running> {
  // One request in flight per connection: with the RTT, the broker accepts one send per 200 ms.
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
  await producer.connect();
  // A pool of distinct events; every send carries fresh Buffers, as data read from a source would.
  const rand = prng(11);
  const pool: string[] = [];
  for (let i = 0; i < 20000; i++) pool.push(jsonEvent(rand, i));
  let cursor = 0;
  const record = () => {
    const messages = new Array(PRODUCER_RECORD_MESSAGES);
    for (let i = 0; i < PRODUCER_RECORD_MESSAGES; i++) {
      messages[i] = { value: Buffer.from(pool[cursor]!) };
      cursor = (cursor + 1) % pool.length;
    }
    return { topic: config.topic, compression: CompressionTypes.ZSTD, messages };
  };
  let acked = 0;
  let failed = 0;
  let pending = 0;
  let stopped = false;
  const bounded = arenaMode ? boundedProducer(producer) : undefined;

  // The same source loop for both set-ups: build a record, send it without awaiting the send,
  // yield to I/O. kafka-arena's only difference is `await bounded.ready()` before building the
  // next record, which waits while maxInFlightBytes are unacknowledged.
  const sender = bounded ?? producer;
  const loop = (async () => {
    while (!stopped) {
      if (bounded) await bounded.ready();
      pending++;
      sender.send(record()).then(
        () => {
          pending--;
          acked += PRODUCER_RECORD_MESSAGES;
        },
        () => {
          pending--;
          failed += PRODUCER_RECORD_MESSAGES;
        },
      );
      // Yield to I/O between sends, as a source loop reading input would.
      await new Promise((r) => setImmediate(r));
    }
  })();

  return {
    consumed: () => 0,
    produced: () => acked,
    extra: () => {
      const out: Record<string, number> = { failedMessages: failed, pendingSends: pending };
      if (bounded) {
        const s = bounded.stats();
        out.inFlightBytes = s.inFlightBytes;
        out.inFlightRequests = s.inFlightRequests;
      }
      return out;
    },
    stop: async () => {
      stopped = true;
      // Sends still pending are abandoned: the point is the memory they held, not their fate.
      await Promise.race([loop, sleep(2000)]);
      await Promise.race([producer.disconnect(), sleep(3000)]);
      return { failedMessages: failed, pendingSends: pending, bounded: bounded?.stats() };
    },
  };
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
  process.on('disconnect', () => process.exit(0));
  main(config).then(
    () => process.exit(0),
    async (err: unknown) => {
      await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.exit(1);
    },
  );
}
