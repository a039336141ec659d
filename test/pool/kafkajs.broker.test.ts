/**
 * registerCodecs(CompressionCodecs, { pool }) against the mock broker: librdkafka (kcat) writes
 * batches with each codec, kafkajs reads them with the decompression on the pool, in plain mode
 * (Buffers) and in recycling mode (arenaConsumer: arena leases, released after the handler).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, Kafka } from 'kafkajs';
import { Arena, WorkerPool, type CodecName } from '../../src';
import { arenaConsumer, codecStats, registerCodecs } from '../../src/kafkajs';
import { POOL_MIN_BYTES } from '../../src/pool/small-batches';
import { brokerSkipReason, kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName, waitUntil, type Broker } from '../broker/harness';
import { kcatProduce } from '../broker/kcat';
import { checksum, errorLog, jsonEvent, Ledger, prng } from '../kafkajs/broker-support';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const skip = brokerSkipReason();
const CODECS: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const PARTITIONS = 2;

describe('kafkajs with registerCodecs({ pool }) against the mock broker', { skip, concurrency: false }, () => {
  let broker: Broker;
  let pool: WorkerPool;
  const topics = new Map<CodecName, string>();
  const produced = new Map<string, string[]>();
  before(async () => {
    broker = await startBroker({ brokers: 2 });
    pool = new WorkerPool({ workers: 2 });
    registerCodecs(CompressionCodecs, { pool });
    const rand = prng(21);
    for (const codec of CODECS) {
      const topic = uniqueName(`pool-${codec}`);
      topics.set(codec, topic);
      await broker.createTopic(topic, PARTITIONS);
      for (let p = 0; p < PARTITIONS; p++) {
        // Batches of up to 400 records of 2-4 KB (librdkafka caps a batch at 1 MB): compressed,
        // every one is well above its codec's pool threshold (checked below).
        const values = Array.from({ length: 1200 }, (_, i) => jsonEvent(rand, i, `${codec}-${p}`, 2000 + Math.floor(rand() * 2000)));
        await kcatProduce({ bootstrap: broker.bootstrap, topic, partition: p, codec, messages: values, properties: { 'batch.num.messages': 400, 'linger.ms': 200 } });
        produced.set(`${topic}|${p}`, values);
      }
    }
  });
  after(async () => {
    await pool?.close();
    await broker?.stop();
  });

  async function consume(recycle: boolean): Promise<{ ledgers: Map<string, Ledger>; arena?: Arena; kept?: Buffer; leasedInHandler: boolean }> {
    const log = errorLog();
    const consumer = new Kafka(kafkajsClientConfig(broker, { logCreator: log.logCreator })).consumer(kafkajsConsumerConfig(uniqueName('g-pool')));
    const arena = recycle ? new Arena({ maxBytes: 64 << 20 }) : undefined;
    const helper = arena ? arenaConsumer(consumer, { arena }) : undefined;
    const ledgers = new Map<string, Ledger>([...topics.values()].map((t) => [t, new Ledger()]));
    const total = [...produced.values()].reduce((n, v) => n + v.length, 0);
    const received = () => [...ledgers.values()].reduce((n, l) => n + l.size, 0);
    let kept: Buffer | undefined;
    let leasedInHandler = true;
    const eachBatch = async ({ batch }: { batch: { topic: string; partition: number; messages: Array<{ offset: string; value: Buffer | null }> } }) => {
      if (arena && arena.stats().leasedCount === 0) leasedInHandler = false;
      kept ??= batch.messages[0]?.value ?? undefined;
      const ledger = ledgers.get(batch.topic)!;
      for (const m of batch.messages) ledger.add(batch.partition, m.offset, recycle ? m.value : m.value);
    };
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics.values()], fromBeginning: true });
      if (helper) await helper.run({ eachBatch });
      else await consumer.run({ eachBatch });
      await waitUntil(() => received() >= total, 60000, `kafkajs to consume ${total} records (errors: ${JSON.stringify(log.entries.map((e) => e.log.message))})`);
    } finally {
      await consumer.disconnect();
      helper?.close();
    }
    return { ledgers, arena, kept, leasedInHandler };
  }

  function checkContent(ledgers: Map<string, Ledger>): void {
    for (const codec of CODECS) {
      const topic = topics.get(codec)!;
      for (let p = 0; p < PARTITIONS; p++) {
        const want = produced.get(`${topic}|${p}`)!;
        const ledger = ledgers.get(topic)!;
        assert.deepEqual(ledger.offsets(p), want.map((_, i) => i), `${codec}/${p}: offsets`);
        assert.equal(checksum(ledger.values(p)), checksum(want), `${codec}/${p}: checksum`);
      }
    }
  }

  test('plain mode: every record intact, the large batches decompressed on the pool', async () => {
    const before = pool.stats();
    const stats0 = codecStats();
    const { ledgers, kept } = await consume(false);
    checkContent(ledgers);
    const s = pool.stats();
    const stats1 = codecStats();
    let calls = 0;
    for (const c of CODECS) calls += stats1[c].decompressCalls - stats0[c].decompressCalls;
    assert.ok(calls >= CODECS.length * PARTITIONS * 3, `decompress calls ${calls}`);
    // Every batch of this test is above the threshold, so every decompression went to the pool.
    for (const c of CODECS) {
      const d = stats1[c].decompressCalls - stats0[c].decompressCalls;
      const smallest = (stats1[c].decompressBytesIn - stats0[c].decompressBytesIn) / d / 2;
      assert.ok(smallest > POOL_MIN_BYTES[c], `${c}: batches of ~${smallest * 2} compressed bytes on average, threshold ${POOL_MIN_BYTES[c]}`);
    }
    assert.equal(s.completed - before.completed, calls, 'jobs on the pool = decompressions');
    assert.equal(s.failed, before.failed);
    assert.ok(kept !== undefined && kept.length > 0, 'plain mode hands out Buffers the application owns');
  });

  test('recycling mode (arenaConsumer): leases filled on the workers, revoked after the handler, all back', async () => {
    const before = pool.stats();
    const { ledgers, arena, kept, leasedInHandler } = await consume(true);
    checkContent(ledgers);
    const s = pool.stats();
    assert.ok(s.completed - before.completed >= CODECS.length * PARTITIONS * 3, 'jobs on the pool');
    assert.ok(leasedInHandler, 'values were leases while the handler ran');
    assert.ok(kept !== undefined);
    assert.equal(kept.length, 0, 'a value kept past its handler reads as empty');
    const a = arena!.stats();
    assert.equal(a.leasedBytes, 0);
    assert.equal(a.leasedCount, 0);
    assert.ok(a.releases >= CODECS.length * PARTITIONS * 3);
    arena!.close();
  });
});
