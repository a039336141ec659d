/**
 * The recycling consumer under pressure against the mock broker (issue 11): a fetch larger than
 * the whole arena is delivered (no pause/refetch livelock), and stop/disconnect while paused for
 * memory is quiet.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { Arena } from '../../src';
import { arenaConsumer, registerCodecs } from '../../src/kafkajs';
import { brokerSkipReason, kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName, waitUntil, type Broker } from '../broker/harness';
import { checksum, errorLog, jsonEvent, Ledger, prng, sleep } from './broker-support';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const skip = brokerSkipReason();
registerCodecs(CompressionCodecs);

describe('recycling consumer under pressure on the mock broker', { skip, concurrency: false }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker({ brokers: 1 });
  });
  after(async () => {
    await broker?.stop();
  });

  /** Produces `perPartition` JSON events to each partition in zstd batches of `batch` records. */
  async function produce(topic: string, partitions: number, perPartition: number, batch: number, seed: number): Promise<Map<number, string[]>> {
    await broker.createTopic(topic, partitions);
    const rand = prng(seed);
    const produced = new Map<number, string[]>();
    const producer = new Kafka(kafkajsClientConfig(broker)).producer();
    await producer.connect();
    try {
      for (let p = 0; p < partitions; p++) {
        const values = Array.from({ length: perPartition }, (_, i) => jsonEvent(rand, i, `p${p}`, 900 + Math.floor(rand() * 200)));
        produced.set(p, values);
        for (let i = 0; i < perPartition; i += batch) {
          await producer.send({ topic, compression: CompressionTypes.ZSTD, messages: values.slice(i, i + batch).map((value) => ({ partition: p, value })) });
        }
      }
    } finally {
      await producer.disconnect();
    }
    return produced;
  }

  test('one fetch about 3x the arena (1 MiB, default water marks) is delivered: every record, in order, once', async (t) => {
    const topic = uniqueName('pr-big');
    const PARTITIONS = 4;
    const PER_PARTITION = 1500;
    // Batches of 750 records, ~750 KB decompressed: a fetch of the four partitions is ~3 MB.
    const produced = await produce(topic, PARTITIONS, PER_PARTITION, 750, 41);
    const arena = new Arena({ maxBytes: 1 << 20 });
    const log = errorLog();
    const kafka = new Kafka(kafkajsClientConfig(broker, { logLevel: logLevel.ERROR, logCreator: log.logCreator }));
    const consumer = kafka.consumer(kafkajsConsumerConfig(uniqueName('g-pr-big'), { maxBytesPerPartition: 1 << 20, maxBytes: 10 << 20 }));
    const helper = arenaConsumer(consumer, { arena, resumeCheckMs: 5 });
    const ledger = new Ledger();
    let fetches = 0;
    consumer.on(consumer.events.FETCH_START, () => void fetches++);
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await helper.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) ledger.add(batch.partition, m.offset, m.value);
        },
      });
      await waitUntil(() => ledger.size >= PARTITIONS * PER_PARTITION, 30000, `all records (have ${ledger.size} after ${fetches} fetches, ${JSON.stringify(helper.stats())})`);
    } finally {
      await consumer.disconnect();
      helper.close();
    }
    const h = helper.stats();
    t.diagnostic(`fetches ${fetches}; helper ${JSON.stringify(h)}; arena ${JSON.stringify(arena.stats())}`);
    assert.deepEqual(ledger.redeliveries, []);
    for (const [p, want] of produced) {
      assert.deepEqual(ledger.offsets(p), want.map((_, i) => i), `partition ${p}: offsets`);
      assert.equal(checksum(ledger.values(p)), checksum(want), `partition ${p}: sha256`);
    }
    assert.ok(h.oversizeFetches >= 1, 'a fetch passed the whole budget');
    assert.ok(h.pauses <= fetches, `no pause/resume storm: ${h.pauses} pauses in ${fetches} fetches`);
    assert.equal(h.unscopedDecompressions, 0);
    assert.equal(arena.stats().leasedBytes, 0);
    assert.equal(log.entries.length, 0, JSON.stringify(log.entries));
  });

  test('stop() and disconnect() while paused for memory resolve, leave nothing leased and raise nothing', async () => {
    const topic = uniqueName('pr-stop');
    await produce(topic, 2, 600, 100, 42);
    const arena = new Arena({ maxBytes: 2 << 20 });
    const kafka = new Kafka(kafkajsClientConfig(broker));
    const consumer = kafka.consumer(kafkajsConsumerConfig(uniqueName('g-pr-stop'), { maxBytesPerPartition: 256 << 10 }));
    const helper = arenaConsumer(consumer, { arena, highWaterBytes: 512 << 10, lowWaterBytes: 256 << 10, resumeCheckMs: 2 });
    const errors: unknown[] = [];
    const onError = (e: unknown) => void errors.push(e);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    const keep: Array<() => void> = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await helper.run({ eachBatch: async ({ retainBatch }) => void keep.push(retainBatch()) });
      await waitUntil(() => helper.stats().paused, 20000, 'a memory pause');
      await consumer.stop();
      await consumer.disconnect();
      assert.equal(helper.stats().held, 0);
      for (const release of keep) release();
      for (const release of keep) release();
      await sleep(50);
      await consumer.disconnect();
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      helper.close();
    }
    assert.deepEqual(errors, []);
    assert.equal(arena.stats().leasedCount, 0);
  });
});
