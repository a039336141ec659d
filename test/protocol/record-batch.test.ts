import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Arena } from '../../src/arena';
import { CodecError, KafkaArenaError, ProtocolError } from '../../src/errors';
import { crc32c } from '../../src/protocol/crc32c';
import { encodeRecordBatch, RecordInput } from '../../src/protocol/encode';
import { decodeRecordBatch, decodeRecordBatches, type DecodedRecord, type RecordBatch } from '../../src';
import type { CompressionName } from '../../src/protocol/compression';

/* eslint-disable @typescript-eslint/no-require-imports */
const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { RecordBatch: KafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const Long = require('kafkajs/src/utils/long');
const kafkajsCrc32C: (b: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C');
const { CompressionTypes, CompressionCodecs } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const lz4js = require('lz4js');
const zstdNapi = require('zstd-napi');
/* eslint-enable @typescript-eslint/no-require-imports */

// kafkajs reads our compressed batches with independent codec implementations.
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
// lz4js (pure JS LZ4 frames) rather than kafkajs-lz4, whose native addon only loads on Node 20.
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (enc: { buffer: Buffer }) => Buffer.from(lz4js.compress(enc.buffer)),
  decompress: async (buf: Buffer) => Buffer.from(lz4js.decompress(buf)),
});
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async (enc: { buffer: Buffer }) => zstdNapi.compress(enc.buffer),
  decompress: async (buf: Buffer) => zstdNapi.decompress(buf),
});

const ALL: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

interface KafkajsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: Array<{ offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: { [k: string]: Buffer | Buffer[] } }>;
}

async function kafkajsDecode(bytes: Buffer): Promise<KafkajsBatch> {
  return kafkajsDecodeBatch(new KafkajsDecoder(bytes));
}

function isCode(code: string, position?: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (position !== undefined) assert.equal(err.position, position);
    return true;
  };
}

/** Recomputes a batch's CRC after a test edited it. */
function fixCrc(batch: Buffer, at = 0): Buffer {
  const len = batch.readInt32BE(at + 8);
  batch.writeUInt32BE(crc32c(batch, at + 21, at + 12 + len), at + 17);
  return batch;
}

function iterateAll(batches: Iterable<RecordBatch>): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const b of batches) out.push(...b.records());
  return out;
}

/** Compares one of our batches with kafkajs's decoding of the same bytes, field by field. */
function assertSameAsKafkajs(ours: RecordBatch, kj: KafkajsBatch): void {
  assert.equal(ours.baseOffset.toString(), kj.firstOffset);
  assert.equal(String(ours.baseTimestamp), kj.firstTimestamp);
  assert.equal(String(ours.maxTimestamp), kj.maxTimestamp);
  assert.equal(ours.partitionLeaderEpoch, kj.partitionLeaderEpoch);
  assert.equal(ours.isTransactional, kj.inTransaction);
  assert.equal(ours.isControl, kj.isControlBatch);
  assert.equal(ours.lastOffsetDelta, kj.lastOffsetDelta);
  assert.equal(ours.producerId.toString(), kj.producerId);
  assert.equal(ours.producerEpoch, kj.producerEpoch);
  assert.equal(ours.baseSequence, kj.firstSequence);
  assert.equal(ours.timestampType === 'LogAppendTime' ? 1 : 0, kj.timestampType);
  const records = ours.records();
  assert.equal(records.length, kj.records.length);
  records.forEach((r, i) => {
    const k = kj.records[i];
    assert.equal(r.offset.toString(), k.offset, `record ${i} offset`);
    assert.equal(String(r.timestamp), k.timestamp, `record ${i} timestamp`);
    assert.deepEqual(r.key === null ? null : Buffer.from(r.key), k.key, `record ${i} key`);
    assert.deepEqual(r.value === null ? null : Buffer.from(r.value), k.value, `record ${i} value`);
    // kafkajs folds headers into an object (repeated keys become arrays).
    const folded: { [k: string]: Buffer | null | Array<Buffer | null> } = {};
    for (const h of r.headers) {
      const v = h.value === null ? null : Buffer.from(h.value);
      const prev = folded[h.key];
      folded[h.key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    assert.deepEqual(folded, k.headers, `record ${i} headers`);
  });
}

const SAMPLE: RecordInput[] = [
  { key: 'key-1', value: 'hello', timestamp: 1_700_000_000_000, headers: { trace: 'abc', multi: ['x', 'y'] } },
  { key: null, value: null, timestamp: 1_699_999_000_000 },
  { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(300, 7), timestamp: 1_700_000_123_456, headers: [{ key: 'nullvalue', value: null }, { key: 'ünïcödé', value: 'ü' }] },
  { value: '', timestamp: 1_700_000_000_001 },
];

/**
 * Golden vector assembled byte by byte from the RecordBatch v2 grammar (not by any encoder), with
 * the CRC from kafkajs's own crc32C: a LogAppendTime, transactional batch of two records at
 * offset 5, the second with a null key and one header.
 */
function goldenBatch(): Buffer {
  const varint = (v: number) => {
    let z = (v << 1) ^ (v >> 31);
    const out: number[] = [];
    while (z & ~0x7f) {
      out.push((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    out.push(z);
    return Buffer.from(out);
  };
  const record = (tsDelta: number, offDelta: number, key: Buffer | null, value: Buffer, headers: Array<[string, Buffer]>) => {
    const body = Buffer.concat([
      Buffer.from([0]), // attributes
      varint(tsDelta),
      varint(offDelta),
      key === null ? varint(-1) : Buffer.concat([varint(key.length), key]),
      Buffer.concat([varint(value.length), value]),
      varint(headers.length),
      ...headers.map(([k, v]) => Buffer.concat([varint(Buffer.byteLength(k)), Buffer.from(k), varint(v.length), v])),
    ]);
    return Buffer.concat([varint(body.length), body]);
  };
  const records = Buffer.concat([record(0, 0, Buffer.from('k1'), Buffer.from('first'), []), record(7, 1, null, Buffer.from('second'), [['h', Buffer.from('hv')]])]);
  const afterCrc = Buffer.alloc(2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
  let o = 0;
  o = afterCrc.writeInt16BE(0x08 | 0x10, o); // LogAppendTime | transactional, no compression
  o = afterCrc.writeInt32BE(1, o); // lastOffsetDelta
  o = afterCrc.writeBigInt64BE(1700000000000n, o); // baseTimestamp
  o = afterCrc.writeBigInt64BE(1700000000999n, o); // maxTimestamp
  o = afterCrc.writeBigInt64BE(4242n, o); // producerId
  o = afterCrc.writeInt16BE(3, o); // producerEpoch
  o = afterCrc.writeInt32BE(17, o); // baseSequence
  afterCrc.writeInt32BE(2, o); // recordCount
  const crcBody = Buffer.concat([afterCrc, records]);
  const head = Buffer.alloc(8 + 4 + 4 + 1 + 4);
  head.writeBigInt64BE(5n, 0);
  head.writeInt32BE(4 + 1 + 4 + crcBody.length, 8);
  head.writeInt32BE(9, 12); // partitionLeaderEpoch
  head.writeInt8(2, 16);
  head.writeUInt32BE(kafkajsCrc32C(crcBody), 17);
  return Buffer.concat([head, crcBody]);
}

test('golden vector assembled from the wire grammar decodes to every field', async () => {
  const bytes = goldenBatch();
  const result = decodeRecordBatches(bytes);
  assert.equal(result.length, 1);
  assert.equal(result.truncatedBytes, 0);
  const [batch] = result.batches;
  assert.equal(batch.baseOffset, 5n);
  assert.equal(batch.byteLength, bytes.length);
  assert.equal(batch.partitionLeaderEpoch, 9);
  assert.equal(batch.baseTimestamp, 1700000000000);
  assert.equal(batch.maxTimestamp, 1700000000999);
  assert.equal(batch.producerId, 4242n);
  assert.equal(batch.producerEpoch, 3);
  assert.equal(batch.baseSequence, 17);
  assert.equal(batch.lastOffsetDelta, 1);
  assert.equal(batch.isTransactional, true);
  assert.equal(batch.isControl, false);
  assert.equal(batch.timestampType, 'LogAppendTime');
  assert.equal(batch.compression, 'none');
  assert.equal(batch.recordCount, 2);
  const [a, b] = batch.records();
  assert.equal(a.offset, 5n);
  assert.equal(b.offset, 6n);
  assert.equal(a.key?.toString(), 'k1');
  assert.equal(b.key, null);
  assert.equal(a.value?.toString(), 'first');
  assert.equal(b.value?.toString(), 'second');
  // LogAppendTime: every record carries the batch's maxTimestamp.
  assert.equal(a.timestamp, 1700000000999);
  assert.equal(b.timestamp, 1700000000999);
  assert.deepEqual(b.headers.map((h) => [h.key, h.value?.toString()]), [['h', 'hv']]);
  assertSameAsKafkajs(batch, await kafkajsDecode(bytes));
});

const SAMPLE_WITH_NULL_HEADER = SAMPLE;

test('our encoder is byte-identical to kafkajs for uncompressed batches (CRC included)', async () => {
  // kafkajs cannot encode a null header value; everything else in SAMPLE it can.
  const SAMPLE = SAMPLE_WITH_NULL_HEADER.map((r) => (Array.isArray(r.headers) ? { ...r, headers: r.headers.map((h) => ({ key: h.key, value: h.value ?? 'n' })) } : r));
  const base = SAMPLE[0].timestamp!;
  const maxTs = Math.max(...SAMPLE.map((r) => r.timestamp!));
  const kjRecords = SAMPLE.map((r, i) =>
    KafkajsRecord({ offsetDelta: i, timestampDelta: r.timestamp! - base, key: r.key ?? null, value: r.value, headers: Array.isArray(r.headers) ? Object.fromEntries(r.headers.map((h) => [h.key, h.value])) : r.headers }),
  );
  const kj = await KafkajsRecordBatch({
    firstOffset: Long.fromValue(42),
    firstTimestamp: base,
    maxTimestamp: maxTs,
    partitionLeaderEpoch: 7,
    lastOffsetDelta: SAMPLE.length - 1,
    producerId: Long.fromValue(-1),
    producerEpoch: 0,
    firstSequence: 0,
    records: kjRecords,
  });
  // kafkajs defaults producerEpoch/firstSequence to 0 and has no timestamp defaults we could match
  // (Date.now()), so both sides get them explicitly; producers normally send -1 for both.
  const ours = encodeRecordBatch(SAMPLE, { baseOffset: 42n, partitionLeaderEpoch: 7, producerEpoch: 0, baseSequence: 0 });
  assert.deepEqual(ours, kj.buffer);
});

test('kafkajs decodes what we encode, with every compression', async () => {
  for (const compression of ALL) {
    const bytes = encodeRecordBatch(SAMPLE, { compression, baseOffset: 1000n, producerId: 77n, producerEpoch: 3, baseSequence: 10, transactional: true, partitionLeaderEpoch: 5 });
    const kj = await kafkajsDecode(bytes);
    const [ours] = decodeRecordBatches(bytes).batches;
    assert.equal(ours.compression, compression);
    assert.equal(ours.isTransactional, true);
    assertSameAsKafkajs(ours, kj);
  }
});

test('we decode what kafkajs encodes, with every compression kafkajs has a codec for', async () => {
  const base = 1_600_000_000_000;
  for (const [name, type] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP], ['snappy', CompressionTypes.Snappy], ['lz4', CompressionTypes.LZ4], ['zstd', CompressionTypes.ZSTD]] as const) {
    const records = Array.from({ length: 50 }, (_, i) =>
      KafkajsRecord({ offsetDelta: i, timestampDelta: i * 3 - 10, key: i % 3 ? `k${i}` : null, value: i % 5 ? Buffer.alloc(i * 10, i) : null, headers: i % 2 ? { h: `v${i}`, z: [`a`, `b`] } : {} }),
    );
    const kj = await KafkajsRecordBatch({ compression: type, firstOffset: Long.fromValue(12345678901), firstTimestamp: base, maxTimestamp: base + 200, lastOffsetDelta: 49, records });
    const bytes: Buffer = kj.buffer;
    const [ours] = decodeRecordBatches(bytes).batches;
    assert.equal(ours.compression, name);
    assert.equal(ours.baseOffset, 12345678901n);
    assertSameAsKafkajs(ours, await kafkajsDecode(bytes));
  }
});

test('round trip: random records through every compression (fast-check)', () => {
  const header = fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }) });
  const recordArb = fc.record({
    key: fc.option(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ maxLength: 30 })), { nil: null }),
    value: fc.option(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.string({ maxLength: 100 })), { nil: null }),
    timestamp: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
    headers: fc.array(header, { maxLength: 4 }),
    gap: fc.integer({ min: 1, max: 3 }),
  });
  fc.assert(
    fc.property(
      fc.array(recordArb, { maxLength: 40 }),
      fc.constantFrom(...ALL),
      fc.bigInt({ min: 0n, max: (1n << 62n) }),
      fc.constantFrom<'CreateTime' | 'LogAppendTime'>('CreateTime', 'LogAppendTime'),
      (recs, compression, baseOffset, timestampType) => {
        let delta = -1;
        const input: RecordInput[] = recs.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers, offsetDelta: (delta += r.gap) }));
        const bytes = encodeRecordBatch(input, { compression, baseOffset, timestampType });
        const result = decodeRecordBatches(bytes);
        assert.equal(result.length, 1);
        const [batch] = result.batches;
        assert.equal(batch.recordCount, input.length);
        assert.equal(batch.timestampType, timestampType);
        const out = batch.records();
        const maxTs = input.length ? Math.max(...input.map((r) => r.timestamp!)) : -1;
        assert.equal(batch.maxTimestamp, maxTs);
        out.forEach((r, i) => {
          const want = input[i];
          const bytesOf = (v: Uint8Array | string | null | undefined): Buffer | null => (v === null || v === undefined ? null : Buffer.from(v as Uint8Array));
          assert.equal(r.offset, baseOffset + BigInt(want.offsetDelta!));
          assert.equal(r.timestamp, timestampType === 'LogAppendTime' ? maxTs : want.timestamp);
          assert.deepEqual(r.key === null ? null : Buffer.from(r.key), typeof want.key === 'string' ? Buffer.from(want.key) : bytesOf(want.key));
          assert.deepEqual(r.value === null ? null : Buffer.from(r.value), typeof want.value === 'string' ? Buffer.from(want.value) : bytesOf(want.value));
          const hs = want.headers as Array<{ key: string; value: Uint8Array | null }>;
          assert.deepEqual(
            r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value)]),
            hs.map((h) => [h.key, bytesOf(h.value)]),
          );
        });
        assert.equal(batch.lastOffsetDelta, input.length ? delta : 0);
      },
    ),
    { seed: 7, numRuns: 150 },
  );
});

test('iteration: one reused flyweight, toObject() copies, views are zero-copy Buffers', () => {
  const bytes = encodeRecordBatch(SAMPLE, { baseOffset: 10n });
  const [batch] = decodeRecordBatches(bytes).batches;
  const seen: unknown[] = [];
  const copies: DecodedRecord[] = [];
  for (const r of batch) {
    seen.push(r);
    copies.push(r.toObject());
  }
  assert.equal(seen.length, 4);
  assert.ok(seen.every((r) => r === seen[0]), 'the same object each iteration');
  assert.deepEqual(copies.map((c) => c.offset), [10n, 11n, 12n, 13n]);
  assert.deepEqual(copies.map((c) => c.offsetDelta), [0, 1, 2, 3]);
  assert.equal(copies[0].key?.toString(), 'key-1');
  const v = copies[2].value!;
  assert.ok(Buffer.isBuffer(v) && v instanceof Buffer);
  assert.equal(v.buffer, bytes.buffer, 'a view of the input, not a copy');
  assert.equal(v.toString('hex'), Buffer.alloc(300, 7).toString('hex'));
  assert.deepEqual(v.subarray(0, 2), Buffer.from([7, 7]));
  assert.deepEqual(copies[2].headers.map((h) => [h.key, h.value?.toString() ?? null]), [['nullvalue', null], ['ünïcödé', 'ü']]);
  assert.deepEqual(copies[0].headers.map((h) => h.key), ['trace', 'multi', 'multi']);
  assert.equal(copies[3].value?.length, 0);
  // Two independent iterations of one batch do not disturb each other.
  const a = batch.cursor();
  const b = batch.cursor();
  assert.ok(a.advance() && a.advance() && b.advance());
  assert.equal(a.record.offsetDelta, 1);
  assert.equal(b.record.offsetDelta, 0);
  let n = 0;
  batch.forEach((r, i) => {
    assert.equal(r.offsetDelta, i);
    n++;
  });
  assert.equal(n, 4);
});

test("views: 'uint8array' gives plain Uint8Array views of the same bytes", () => {
  const bytes = encodeRecordBatch(SAMPLE, { baseOffset: 10n });
  const asBuffers = decodeRecordBatches(bytes).batches[0].records();
  const plain = decodeRecordBatches(bytes, { views: 'uint8array' });
  const records = plain.batches[0].records();
  assert.equal(records.length, asBuffers.length);
  records.forEach((r, i) => {
    for (const v of [r.key, r.value, ...r.headers.map((h) => h.value)]) {
      if (v === null) continue;
      assert.ok(!Buffer.isBuffer(v) && Object.getPrototypeOf(v) === Uint8Array.prototype);
      assert.equal(v.buffer, bytes.buffer, 'a view of the input, not a copy');
    }
    const b = asBuffers[i];
    const hex = (v: Uint8Array | null) => (v === null ? null : Buffer.from(v).toString('hex'));
    assert.equal(hex(r.key), hex(b.key));
    assert.equal(hex(r.value), hex(b.value));
    assert.deepEqual(r.headers.map((h) => [h.key, hex(h.value)]), b.headers.map((h) => [h.key, hex(h.value)]));
  });
});

test('varint boundaries: 1-, 2- and 3-byte lengths, deltas and timestamps decode exactly', () => {
  // Zigzag boundaries of the inline 1- and 2-byte paths: 63/64 and 8191/8192 (and negatives).
  const sizes = [0, 1, 62, 63, 64, 65, 8190, 8191, 8192, 8193, 70_000];
  const deltas = [1, 63, 64, 8191, 8192, 1_000_000];
  const tsOffsets = [0, -64, -65, 63, 64, -8192, -8193, 8191, 8192, -(2 ** 40), 2 ** 40];
  const input: RecordInput[] = [];
  let offsetDelta = -1;
  for (let i = 0; i < sizes.length; i++) {
    offsetDelta += deltas[i % deltas.length];
    input.push({
      key: Buffer.alloc(sizes[(i + 3) % sizes.length], 'k'),
      value: Buffer.alloc(sizes[i], i),
      timestamp: 1_700_000_000_000 + tsOffsets[i % tsOffsets.length],
      offsetDelta,
    });
  }
  const bytes = encodeRecordBatch(input, { baseTimestamp: 1_700_000_000_000 });
  for (const views of ['buffer', 'uint8array'] as const) {
    const out = decodeRecordBatches(bytes, { views }).batches[0].records();
    assert.deepEqual(
      out.map((r) => [r.offsetDelta, r.timestamp, r.key?.length, r.value?.length]),
      input.map((r) => [r.offsetDelta, r.timestamp, (r.key as Buffer).length, (r.value as Buffer).length]),
    );
    out.forEach((r, i) => assert.ok(Buffer.from(r.value!).equals(input[i].value as Buffer)));
  }
  // A 2-byte varint cut by the end of its record is a varint error, not a misread.
  assert.throws(() => iterateAll(decodeRecordBatches(rawRecordBatch([0, 0, 0, 1, 1, 0x80]))), isCode('ERR_BAD_VARINT'));
});

test('several batches, positions, basePosition and totals', () => {
  const one = encodeRecordBatch(SAMPLE.slice(0, 2), { baseOffset: 0n });
  const two = encodeRecordBatch(SAMPLE.slice(2), { baseOffset: 2n, compression: 'lz4' });
  const result = decodeRecordBatches(Buffer.concat([one, two]), { basePosition: 1000 });
  assert.equal(result.length, 2);
  assert.deepEqual(result.batches.map((b) => b.position), [1000, 1000 + one.length]);
  assert.equal(result.byteLength, one.length + two.length);
  assert.equal(result.recordCount, 4);
  assert.deepEqual(iterateAll(result).map((r) => r.offset), [0n, 1n, 2n, 3n]);
  assert.deepEqual([...result].map((b) => b.nextOffset), [2n, 4n]);
});

test('a truncated trailing batch is reported, never thrown, at every cut point', () => {
  const first = encodeRecordBatch(SAMPLE.slice(0, 2), { baseOffset: 5n });
  const second = encodeRecordBatch(SAMPLE, { baseOffset: 7n, compression: 'zstd' });
  const all = Buffer.concat([first, second]);
  for (let cut = first.length; cut < all.length; cut++) {
    const result = decodeRecordBatches(all.subarray(0, cut));
    assert.equal(result.length, 1, `cut ${cut}`);
    assert.equal(result.byteLength, first.length);
    const partial = result.partialBatch;
    if (cut === first.length) {
      assert.equal(partial, undefined);
      assert.equal(result.truncatedBytes, 0);
      continue;
    }
    assert.ok(partial);
    assert.equal(partial.position, first.length);
    assert.equal(partial.availableBytes, cut - first.length);
    assert.equal(result.truncatedBytes, cut - first.length);
    assert.equal(partial.declaredBytes, cut - first.length >= 12 ? second.length : -1);
    assert.equal(partial.baseOffset, cut - first.length >= 8 ? 7n : undefined);
  }
  // Cut inside the first batch: nothing complete.
  const r = decodeRecordBatches(first.subarray(0, 30));
  assert.equal(r.length, 0);
  assert.equal(r.partialBatch?.position, 0);
  // decodeRecordBatch (one batch) does throw: it was asked for a whole batch.
  assert.throws(() => decodeRecordBatch(first.subarray(0, 30)), isCode('ERR_BAD_LENGTH', 0));
});

test('CRC mismatch is detected at the batch position, and verifyCrc: false skips the check', () => {
  const first = encodeRecordBatch(SAMPLE.slice(0, 1));
  const second = encodeRecordBatch(SAMPLE);
  const bytes = Buffer.concat([first, second]);
  const at = first.length + 61 + 10; // inside a record value
  bytes[at] ^= 0x01;
  assert.throws(() => decodeRecordBatches(bytes), isCode('ERR_CRC_MISMATCH', first.length));
  const lax = decodeRecordBatches(bytes, { verifyCrc: false });
  assert.equal(lax.length, 2);
  // A flipped stored CRC is a mismatch too.
  const crcFlip = Buffer.from(first);
  crcFlip[17] ^= 0x80;
  assert.throws(() => decodeRecordBatches(crcFlip), isCode('ERR_CRC_MISMATCH', 0));
  // Header fields before the attributes are not covered by the CRC (as in Kafka).
  const epoch = Buffer.from(first);
  epoch.writeInt32BE(99, 12);
  assert.equal(decodeRecordBatches(epoch).batches[0].partitionLeaderEpoch, 99);
});

test('legacy magic, unknown magic and unknown compression are typed errors', () => {
  const bytes = encodeRecordBatch(SAMPLE);
  for (const magic of [0, 1]) {
    const legacy = Buffer.from(bytes);
    legacy[16] = magic;
    assert.throws(() => decodeRecordBatches(legacy), (err: unknown) => isCode('ERR_UNSUPPORTED_MAGIC', 0)(err) && /legacy MessageSet/.test((err as Error).message));
  }
  const weird = Buffer.from(bytes);
  weird[16] = 3;
  assert.throws(() => decodeRecordBatches(weird), isCode('ERR_UNSUPPORTED_MAGIC', 0));
  for (const type of [5, 6, 7]) {
    const unknown = Buffer.from(bytes);
    unknown.writeInt16BE(type, 21);
    fixCrc(unknown);
    assert.throws(() => decodeRecordBatches(unknown), isCode('ERR_UNKNOWN_COMPRESSION', 0));
  }
});

test('bad lengths in the batch header', () => {
  const bytes = encodeRecordBatch(SAMPLE);
  const neg = Buffer.from(bytes);
  neg.writeInt32BE(-5, 8);
  assert.throws(() => decodeRecordBatches(neg), isCode('ERR_BAD_LENGTH', 0));
  // Shorter than a v2 header: framing is consistent, content is not.
  const short = Buffer.from(bytes.subarray(0, 40));
  short.writeInt32BE(28, 8);
  assert.throws(() => decodeRecordBatches(short), isCode('ERR_BAD_LENGTH', 0));
  // recordCount that cannot fit (and must not allocate anything).
  for (const count of [0x7fffffff, 1000, -1]) {
    const big = Buffer.from(bytes);
    big.writeInt32BE(count, 57);
    fixCrc(big);
    assert.throws(() => decodeRecordBatches(big), isCode('ERR_BAD_LENGTH', 0), `recordCount ${count}`);
  }
  // recordCount lower than the records present: trailing bytes after the last record.
  const fewer = Buffer.from(bytes);
  fewer.writeInt32BE(3, 57);
  fixCrc(fewer);
  const [b] = decodeRecordBatches(fewer).batches;
  assert.throws(() => b.records(), isCode('ERR_BAD_LENGTH', 0));
  // recordCount higher than the records present.
  const more = Buffer.from(bytes);
  more.writeInt32BE(5, 57);
  fixCrc(more);
  assert.throws(() => decodeRecordBatches(more).batches[0].records(), isCode('ERR_BAD_LENGTH', 0));
});

/** A batch with one record whose body is given raw (after the record length varint). */
function rawRecordBatch(body: number[]): Buffer {
  const good = encodeRecordBatch([{ key: 'k', value: 'v' }], { baseTimestamp: 0 });
  const header = Buffer.from(good.subarray(0, 61));
  const len = body.length;
  const zig = (len << 1) ^ (len >> 31);
  const lenBytes: number[] = [];
  let z = zig;
  while (z >= 0x80) {
    lenBytes.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  lenBytes.push(z);
  const out = Buffer.concat([header, Buffer.from(lenBytes), Buffer.from(body)]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt32BE(1, 57);
  return fixCrc(out);
}

test('bad record fields: lengths and varints', () => {
  const decodeAll = (b: Buffer): DecodedRecord[] => iterateAll(decodeRecordBatches(b));
  // attributes, tsDelta 0, offsetDelta 0, key 'k', value 'v', 0 headers: a valid record.
  assert.equal(decodeAll(rawRecordBatch([0, 0, 0, 2, 0x6b, 2, 0x76, 0]))[0].value?.toString(), 'v');
  // key length beyond the record
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 40, 0x6b, 2, 0x76, 0])), isCode('ERR_BAD_LENGTH'));
  // key length -2
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 3, 2, 0x76, 0])), isCode('ERR_BAD_LENGTH'));
  // value length beyond the record
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 1, 20, 0x76, 0])), isCode('ERR_BAD_LENGTH'));
  // negative header count
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 1, 1, 3, 0, 0])), isCode('ERR_BAD_LENGTH'));
  // bytes left after the fields
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 1, 1, 0, 9, 9])), isCode('ERR_BAD_LENGTH'));
  // a 6-byte offsetDelta varint
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 1, 0])), isCode('ERR_BAD_VARINT'));
  // an 11-byte timestamp delta varlong
  assert.throws(() => decodeAll(rawRecordBatch([0, ...Array(10).fill(0x80), 0x01, 0, 1, 1, 0])), isCode('ERR_BAD_VARINT'));
  // a varint running off the end of the record
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 1, 1, 0x80, 0x80])), isCode('ERR_BAD_VARINT'));
  // header whose value runs past the record, found when headers are read
  const lazy = decodeRecordBatches(rawRecordBatch([0, 0, 0, 1, 1, 2, 2, 0x68, 30, 0x61]));
  const c = lazy.batches[0].cursor();
  assert.equal(c.advance(), true);
  assert.equal(c.record.headerCount, 1);
  assert.throws(() => c.record.headers, isCode('ERR_BAD_LENGTH'));
  // header key with length -1 (Kafka requires a non-null key)
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0, 1, 1, 2, 1, 0, 0])), isCode('ERR_BAD_LENGTH'));
  // record length shorter than any record / longer than the section
  assert.throws(() => decodeAll(rawRecordBatch([0, 0, 0])), isCode('ERR_BAD_LENGTH'));
});

test('arena: compressed batches decompress into leases; release is idempotent and revokes views', () => {
  const arena = new Arena({ maxBytes: 1 << 20, leakDetection: 'disabled', trimIntervalMs: 0 });
  const bytes = Buffer.concat([encodeRecordBatch(SAMPLE, { compression: 'zstd' }), encodeRecordBatch(SAMPLE, { compression: 'none', baseOffset: 4n }), encodeRecordBatch(SAMPLE, { compression: 'snappy', baseOffset: 8n })]);
  const result = decodeRecordBatches(bytes, { arena });
  assert.equal(arena.stats().leasedCount, 2, 'one lease per compressed batch');
  const [z] = result.batches;
  const value = z.records()[2].value!;
  assert.equal(value.length, 300);
  z.release();
  assert.equal(z.released, true);
  assert.equal(arena.stats().leasedCount, 1);
  assert.equal(value.length, 0, 'views of a released lease read as empty');
  z.release(); // idempotent
  assert.throws(() => z.records(), (err: unknown) => err instanceof KafkaArenaError && err.code === 'ERR_LEASE_RELEASED');
  // A cursor opened before release also stops.
  const c = result.batches[2].cursor();
  assert.ok(c.advance());
  result.release();
  assert.throws(() => c.advance(), (err: unknown) => err instanceof KafkaArenaError && err.code === 'ERR_LEASE_RELEASED');
  assert.equal(arena.stats().leasedCount, 0);
  result.release();
  arena.close();
});

test('codec failures are ProtocolErrors that keep the codec code and cause; leases are not leaked', () => {
  const arena = new Arena({ maxBytes: 1 << 20, leakDetection: 'disabled', trimIntervalMs: 0 });
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const good = encodeRecordBatch(SAMPLE, { compression });
    const bad = Buffer.concat([encodeRecordBatch(SAMPLE, { compression: 'zstd' }), good]);
    // Garble the compressed payload but keep the CRC valid: the codec must catch it.
    const at = bad.length - good.length;
    for (let i = at + 61; i < bad.length; i++) bad[i] = (bad[i] * 31 + 7) & 0xff;
    fixCrc(bad, at);
    assert.throws(
      () => decodeRecordBatches(bad, { arena }),
      (err: unknown) => {
        assert.ok(err instanceof ProtocolError, String(err));
        assert.equal(err.position, at);
        assert.ok(err.cause instanceof CodecError, `${compression}: cause ${String(err.cause)}`);
        assert.equal(err.code, (err.cause as CodecError).code);
        return true;
      },
      compression,
    );
    assert.equal(arena.stats().leasedCount, 0, `${compression}: the first batch's lease was released`);
  }
  // maxOutputBytes applies per batch.
  const big = encodeRecordBatch([{ value: Buffer.alloc(100_000) }], { compression: 'zstd' });
  assert.throws(() => decodeRecordBatches(big, { maxOutputBytes: 50_000 }), isCode('ERR_OUTPUT_LIMIT', 0));
  assert.equal(decodeRecordBatches(big, { maxOutputBytes: 200_000 }).recordCount, 1);
  arena.close();
});

test('LogAppendTime, control and transactional flags', () => {
  const bytes = encodeRecordBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]), timestamp: 5 }], {
    timestampType: 'LogAppendTime',
    maxTimestamp: 99,
    isControl: true,
    transactional: true,
    producerId: 123456789012345n,
    producerEpoch: 4,
    baseSequence: 17,
  });
  const [b] = decodeRecordBatches(bytes).batches;
  assert.equal(b.timestampType, 'LogAppendTime');
  assert.equal(b.isControl, true);
  assert.equal(b.isTransactional, true);
  assert.equal(b.hasDeleteHorizon, false);
  assert.equal(b.producerId, 123456789012345n);
  assert.equal(b.producerEpoch, 4);
  assert.equal(b.baseSequence, 17);
  assert.equal(b.attributes, 0x38);
  assert.equal(b.records()[0].timestamp, 99);
});

test('an empty input and an empty batch', () => {
  const none = decodeRecordBatches(new Uint8Array(0));
  assert.equal(none.length, 0);
  assert.equal(none.partialBatch, undefined);
  const empty = encodeRecordBatch([], { baseOffset: 9n, lastOffsetDelta: 3 });
  const [b] = decodeRecordBatches(empty).batches;
  assert.equal(b.recordCount, 0);
  assert.equal(b.lastOffset, 12n);
  assert.equal(b.baseTimestamp, -1);
  assert.deepEqual(b.records(), []);
});

test('a record view kept past release throws ERR_LEASE_RELEASED for key, value and headers, with or without an arena', () => {
  const arena = new Arena({ maxBytes: 1 << 20, leakDetection: 'disabled', trimIntervalMs: 0 });
  for (const [compression, options] of [
    ['zstd', { arena }],
    ['none', {}],
    ['gzip', {}],
  ] as const) {
    const batch = decodeRecordBatch(encodeRecordBatch(SAMPLE, { compression }), options);
    const c = batch.cursor();
    assert.ok(c.advance());
    const view = c.record;
    assert.ok(view.value !== null);
    batch.release();
    const released = (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_LEASE_RELEASED';
    assert.throws(() => view.value, released, `${compression}: value`);
    assert.throws(() => view.key, released, `${compression}: key`);
    assert.throws(() => view.headers, released, `${compression}: headers`);
    assert.throws(() => view.toObject(), released, `${compression}: toObject`);
  }
  assert.equal(arena.stats().leasedCount, 0);
  arena.close();
});

test('bad arguments to the decoders are ArgumentErrors naming the argument', () => {
  const isArg = (name: string) => (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT' && (e as { argument?: string }).argument === name;
  const good = encodeRecordBatch(SAMPLE);
  for (const decode of [decodeRecordBatches, decodeRecordBatch] as Array<(b: unknown, o?: unknown) => unknown>) {
    for (const bad of [null, undefined, 'bytes', 42, [1, 2, 3], new ArrayBuffer(8)]) assert.throws(() => decode(bad), isArg('bytes'), String(bad));
    assert.throws(() => decode(good, 'opts'), isArg('options'));
    assert.throws(() => decode(good, { verifyCrc: 'yes' }), isArg('verifyCrc'));
    assert.throws(() => decode(good, { basePosition: -1 }), isArg('basePosition'));
    assert.throws(() => decode(good, { views: 'string' }), isArg('views'));
    assert.throws(() => decode(good, { arena: {} }), isArg('arena'));
  }
});
