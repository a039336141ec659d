/**
 * The kafkajs adapter's codecs against a real Kafka-protocol broker (librdkafka's mock cluster)
 * and librdkafka itself (kcat), in both directions, for gzip, snappy, lz4 and zstd:
 * - kafkajs produces through our codecs and librdkafka reads identical content;
 * - librdkafka produces, kafkajs in recycling mode (arena leases) reads identical content, and
 *   every lease comes back;
 * - the raw record batches librdkafka wrote decode with our own `decodeRecordBatches`.
 * Consumer groups, backpressure, faults and the bounded producer are in *.broker.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, CompressionTypes, Kafka } from 'kafkajs';
import { Arena, BATCH_HEADER_BYTES, decodeRecordBatches, type CodecName, type RecordBatch } from '../../src';
import { arenaConsumer, codecStats, registerCodecs, type CodecStats } from '../../src/kafkajs';
import { brokerSkipReason, kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName, waitUntil, type Broker } from '../broker/harness';
import { kcatConsume, kcatProduce } from '../broker/kcat';
import { checksum, errorLog, jsonEvent, Ledger, prng, rawFetch } from './broker-support';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const skip = brokerSkipReason();

registerCodecs(CompressionCodecs);

const CODECS: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const KAFKAJS_TYPE: Record<CodecName, CompressionTypes> = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};
const BROKERS = 2;
const PARTITIONS = 2;

function delta(after: Record<CodecName, CodecStats>, before: Record<CodecName, CodecStats>, codec: CodecName): CodecStats {
  const a = after[codec];
  const b = before[codec];
  const out = {} as CodecStats;
  for (const k of Object.keys(a) as Array<keyof CodecStats>) out[k] = a[k] - b[k];
  return out;
}

/** Every record batch of a partition, fetched raw from its leader (partition p is led by broker p % n + 1). */
async function rawBatches(broker: Broker, topic: string, partition: number): Promise<Buffer[]> {
  const leader = broker.bootstrap[partition % broker.brokerCount]!;
  const out: Buffer[] = [];
  let offset = 0n;
  for (;;) {
    const r = await rawFetch(leader, topic, partition, offset);
    assert.equal(r.errorCode, 0, `raw fetch ${topic}/${partition}`);
    if (r.records.length === 0 || offset >= r.highWatermark) break;
    const decoded = decodeRecordBatches(r.records);
    assert.ok(decoded.batches.length > 0, 'raw fetch returned no complete batch');
    // Keep each batch's bytes on their own so the caller can decode them with its own options.
    for (const b of decoded.batches) out.push(r.records.subarray(b.position, b.position + b.byteLength));
    offset = decoded.batches[decoded.batches.length - 1]!.nextOffset;
    decoded.release();
    if (offset >= r.highWatermark) break;
  }
  return out;
}

/** Compressed bytes of a batch: its records section as stored (everything after the 61-byte header). */
const compressedBytes = (b: RecordBatch) => b.byteLength - BATCH_HEADER_BYTES;

describe('kafkajs codecs against librdkafka through the mock broker', { skip, concurrency: false }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker({ brokers: BROKERS });
  });
  after(async () => {
    await broker?.stop();
  });

  test('kafkajs -> librdkafka: kafkajs compresses with our codecs, kcat reads identical content', async () => {
    const rand = prng(11);
    const produced = new Map<string, Array<{ key: string; value: string }>>();
    const before = codecStats();
    const producer = new Kafka(kafkajsClientConfig(broker)).producer({ allowAutoTopicCreation: false });
    const topics = new Map<CodecName, string>();
    let sends = 0;
    try {
      await producer.connect();
      for (const codec of CODECS) {
        const topic = uniqueName(`kjs-${codec}`);
        topics.set(codec, topic);
        await broker.createTopic(topic, PARTITIONS);
        for (let round = 0; round < 4; round++) {
          const messages = [];
          for (let p = 0; p < PARTITIONS; p++) {
            for (let i = 0; i < 50; i++) {
              const seq = round * 50 + i;
              const m = { key: `k-${p}-${seq}`, value: jsonEvent(rand, seq, `${codec}-${p}`, 200 + Math.floor(rand() * 400)) };
              const list = produced.get(`${topic}|${p}`) ?? [];
              list.push(m);
              produced.set(`${topic}|${p}`, list);
              messages.push({ ...m, partition: p });
            }
          }
          await producer.send({ topic, compression: KAFKAJS_TYPE[codec], messages });
          sends++;
        }
      }
    } finally {
      await producer.disconnect();
    }
    const stats = codecStats();

    for (const codec of CODECS) {
      const topic = topics.get(codec)!;
      const got = await kcatConsume({ bootstrap: broker.bootstrap, topic });
      let compressedTotal = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const want = produced.get(`${topic}|${p}`)!;
        const inP = got.filter((m) => m.partition === p);
        assert.equal(inP.length, want.length, `${codec} partition ${p}: count`);
        assert.deepEqual(inP.map((m) => m.offset), want.map((_, i) => i), `${codec} partition ${p}: offsets`);
        assert.equal(checksum(inP.map((m) => m.value)), checksum(want.map((m) => m.value)), `${codec} partition ${p}: checksum`);
        assert.deepEqual(inP.map((m) => m.key!.toString()), want.map((m) => m.key), `${codec} partition ${p}: keys`);
        // The stored batches really carry this codec (kafkajs called ours), one per send.
        for (const bytes of await rawBatches(broker, topic, p)) {
          const decoded = decodeRecordBatches(bytes);
          const b = decoded.batches[0]!;
          assert.equal(b.compression, codec);
          compressedTotal += compressedBytes(b);
          decoded.release();
        }
      }
      const d = delta(stats, before, codec);
      // One record batch per partition per send, each compressed once by our codec.
      assert.equal(d.compressCalls, 4 * PARTITIONS, `${codec}: compress calls`);
      assert.equal(d.compressErrors, 0);
      assert.equal(d.compressBytesOut, compressedTotal, `${codec}: compressed bytes = the stored records sections`);
      assert.ok(d.compressBytesIn > d.compressBytesOut, `${codec}: JSON compresses (${d.compressBytesIn} -> ${d.compressBytesOut})`);
    }
    assert.equal(sends, 4 * CODECS.length);
  });

  test('librdkafka -> kafkajs: kcat compresses, kafkajs decodes into arena leases (incl. a >1 MiB zstd record), all leases return', async () => {
    const rand = prng(12);
    const produced = new Map<string, string[]>();
    const topics = new Map<CodecName, string>();
    const big = Array.from({ length: 4200 }, (_, i) => jsonEvent(rand, i, 'big', 300));
    const bigValue = `[${big.join(',')}]`;
    assert.ok(bigValue.length > 1.1 * 1024 * 1024, 'the big record must pass 1 MiB');

    await Promise.all(
      CODECS.map(async (codec) => {
        const topic = uniqueName(`rdk-${codec}`);
        topics.set(codec, topic);
        await broker.createTopic(topic, PARTITIONS);
        for (let p = 0; p < PARTITIONS; p++) {
          const values = Array.from({ length: 300 }, (_, i) => jsonEvent(rand, i, `${codec}-${p}`, 100 + Math.floor(rand() * 500)));
          // Several batches per partition. A long linger makes librdkafka fill each batch to
          // batch.num.messages: a batch of one short record may not shrink, and librdkafka would
          // then store it uncompressed.
          await kcatProduce({
            bootstrap: broker.bootstrap,
            topic,
            partition: p,
            codec,
            messages: values,
            properties: { 'batch.num.messages': 64, 'linger.ms': 1000 },
          });
          if (codec === 'zstd' && p === 0) {
            // The record after it lands in a batch of its own: compressible, so kcat compresses it too.
            const tail = `after-big ${'-'.repeat(400)}`;
            await kcatProduce({ bootstrap: broker.bootstrap, topic, partition: p, codec, messages: [bigValue, tail] });
            values.push(bigValue, tail);
          }
          produced.set(`${topic}|${p}`, values);
        }
      }),
    );

    // Every stored batch carries its codec, and librdkafka's >1 MiB zstd frame has no content size.
    const raw = new Map<string, Buffer[]>();
    let zstdWithoutContentSize = 0;
    for (const codec of CODECS) {
      for (let p = 0; p < PARTITIONS; p++) {
        const topic = topics.get(codec)!;
        const batches = await rawBatches(broker, topic, p);
        raw.set(`${topic}|${p}`, batches);
        for (const bytes of batches) {
          const d = decodeRecordBatches(bytes);
          assert.equal(d.batches[0]!.compression, codec, `${codec}: kcat sent a compressed batch`);
          if (codec === 'zstd' && d.batches[0]!.recordsByteLength > 1024 * 1024) {
            const frame = bytes.subarray(BATCH_HEADER_BYTES);
            assert.equal(frame.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
            const fhd = frame[4]!;
            // Frame_Content_Size_flag = 0 and Single_Segment_flag = 0: no Frame_Content_Size field.
            if (fhd >> 6 === 0 && (fhd & 0x20) === 0) zstdWithoutContentSize++;
          }
          d.release();
        }
      }
    }
    assert.equal(zstdWithoutContentSize, 1, 'librdkafka wrote the >1 MiB zstd batch without a content size');

    const before = codecStats();
    const arena = new Arena({ maxBytes: 64 << 20 });
    const log = errorLog();
    const consumer = new Kafka(kafkajsClientConfig(broker, { logCreator: log.logCreator })).consumer(kafkajsConsumerConfig(uniqueName('g-codecs')));
    const helper = arenaConsumer(consumer, { arena });
    const ledgers = new Map<string, Ledger>([...topics.values()].map((t) => [t, new Ledger()]));
    const total = [...produced.values()].reduce((n, v) => n + v.length, 0);
    let kept: Buffer | undefined;
    let leasedInHandler = true;
    const received = () => [...ledgers.values()].reduce((n, l) => n + l.size, 0);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics.values()], fromBeginning: true });
      await helper.run({
        eachBatch: async ({ batch }) => {
          if (arena.stats().leasedCount === 0) leasedInHandler = false;
          if (kept === undefined) kept = batch.messages[0]?.value ?? undefined;
          const ledger = ledgers.get(batch.topic)!;
          for (const m of batch.messages) ledger.add(batch.partition, m.offset, m.value);
        },
      });
      await waitUntil(() => received() >= total, 30000, `kafkajs to consume ${total} records (errors: ${JSON.stringify(log.entries.map((e) => e.log.message))})`);
    } finally {
      await consumer.disconnect();
      helper.close();
    }

    for (const codec of CODECS) {
      const topic = topics.get(codec)!;
      const ledger = ledgers.get(topic)!;
      // One member, no rebalance, no fault: not even an at-least-once redelivery.
      assert.deepEqual(ledger.redeliveries, [], `${codec}: redeliveries`);
      for (let p = 0; p < PARTITIONS; p++) {
        const want = produced.get(`${topic}|${p}`)!;
        assert.deepEqual(ledger.offsets(p), want.map((_, i) => i), `${codec}/${p}: offsets`);
        assert.equal(checksum(ledger.values(p)), checksum(want), `${codec}/${p}: checksum`);
      }
    }
    const bigGot = ledgers.get(topics.get('zstd')!)!.values(0)[300]!;
    assert.equal(bigGot.length, Buffer.byteLength(bigValue));

    // Values were arena views, valid in the handler and revoked after it.
    assert.ok(leasedInHandler, 'a handler ran without any lease out');
    assert.ok(kept !== undefined);
    assert.equal(kept.length, 0, 'a value view kept past its handler reads as empty');

    // Leases back to zero, each released exactly once by one of the paths.
    const s = arena.stats();
    assert.equal(s.leasedBytes, 0);
    assert.equal(s.leasedCount, 0);
    const h = helper.stats();
    const rawBatchCount = [...raw.values()].reduce((n, b) => n + b.length, 0);
    assert.equal(h.held, 0);
    assert.ok(h.leasesCreated >= rawBatchCount, `one lease per compressed batch: ${h.leasesCreated} < ${rawBatchCount}`);
    const r = h.released;
    assert.equal(r.handler + r.messages + r.undelivered + r.shutdown, h.leasesCreated);
    assert.ok(r.handler >= rawBatchCount, `handler releases ${r.handler}`);
    assert.equal(s.releases, h.leasesCreated);

    // The codec counters saw exactly the compressed bytes of the stored batches, once each.
    const after = codecStats();
    for (const codec of CODECS) {
      const d = delta(after, before, codec);
      let inBytes = 0;
      let outBytes = 0;
      let batches = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        for (const bytes of raw.get(`${topics.get(codec)!}|${p}`)!) {
          const decoded = decodeRecordBatches(bytes);
          inBytes += compressedBytes(decoded.batches[0]!);
          outBytes += decoded.batches[0]!.recordsByteLength;
          batches++;
          decoded.release();
        }
      }
      assert.equal(d.decompressErrors, 0, codec);
      assert.equal(d.decompressCalls, batches, `${codec}: one decompression per batch`);
      assert.equal(d.decompressIntoLeases, batches, `${codec}: every decompression went into a lease`);
      assert.equal(d.decompressBytesIn, inBytes, `${codec}: compressed bytes in`);
      assert.equal(d.decompressBytesOut, outBytes, `${codec}: decompressed bytes out`);
    }
  });

  test('librdkafka-written batches decode with decodeRecordBatches into an arena, for every codec', async () => {
    const rand = prng(13);
    const arena = new Arena({ maxBytes: 16 << 20 });
    for (const codec of CODECS) {
      const topic = uniqueName(`raw-${codec}`);
      await broker.createTopic(topic, 1);
      const records = Array.from({ length: 200 }, (_, i) => ({
        key: i % 7 === 0 ? null : `key-${i}`,
        value: jsonEvent(rand, i, codec, 50 + Math.floor(rand() * 800)),
      }));
      await kcatProduce({
        bootstrap: broker.bootstrap,
        topic,
        partition: 0,
        codec,
        messages: records,
        // Full batches (see above): every one of them must come out compressed.
        properties: { 'batch.num.messages': 50, 'linger.ms': 1000 },
      });
      const batches = await rawBatches(broker, topic, 0);
      assert.ok(batches.length >= 4, `${codec}: ${batches.length} batches`);
      // Decode all of them in one call, as a fetch response's records field holds them.
      const decoded = decodeRecordBatches(Buffer.concat(batches), { arena });
      assert.equal(decoded.truncatedBytes, 0);
      const got: Array<{ offset: bigint; key: string | null; value: string | null }> = [];
      for (const b of decoded) {
        assert.equal(b.compression, codec);
        for (const r of b) got.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
      }
      assert.equal(arena.stats().leasedCount, batches.length, 'one lease per compressed batch');
      decoded.release();
      assert.deepEqual(got.map((g) => g.offset), records.map((_, i) => BigInt(i)));
      assert.deepEqual(got.map((g) => g.key), records.map((r) => r.key));
      assert.equal(checksum(got.map((g) => g.value)), checksum(records.map((r) => r.value)));
      assert.equal(arena.stats().leasedBytes, 0);
    }
  });
});
