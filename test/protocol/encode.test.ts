import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaArenaError } from '../../src/errors';
import { codecForType, compressionTypeOf } from '../../src/protocol/compression';
import { encodeRecordBatch, RecordInput } from '../../src/protocol/encode';
import { decodeRecordBatches } from '../../src/protocol/decode';

const invalid = (err: unknown): boolean => err instanceof KafkaArenaError && err.code === 'ERR_INVALID_ARGUMENT';

test('defaults: producer fields -1, base timestamp from the first record, max from all', () => {
  const bytes = encodeRecordBatch([{ value: 'a', timestamp: 2000 }, { value: 'b', timestamp: 1000 }, { value: 'c', timestamp: 3000 }]);
  assert.equal(bytes.readInt8(16), 2, 'magic');
  const [b] = decodeRecordBatches(bytes).batches;
  assert.equal(b.baseOffset, 0n);
  assert.equal(b.producerId, -1n);
  assert.equal(b.producerEpoch, -1);
  assert.equal(b.baseSequence, -1);
  assert.equal(b.partitionLeaderEpoch, -1);
  assert.equal(b.baseTimestamp, 2000);
  assert.equal(b.maxTimestamp, 3000);
  assert.equal(b.compression, 'none');
  assert.deepEqual(b.records().map((r) => r.timestamp), [2000, 1000, 3000]);
});

test('records without a timestamp get one Date.now() for the whole batch', () => {
  const before = Date.now();
  const [b] = decodeRecordBatches(encodeRecordBatch([{ value: 'a' }, { value: 'b' }])).batches;
  const ts = b.records().map((r) => r.timestamp);
  assert.equal(ts[0], ts[1]);
  assert.ok(ts[0] >= before && ts[0] <= Date.now());
});

test('offset deltas with gaps (compacted batches) and explicit lastOffsetDelta', () => {
  const [b] = decodeRecordBatches(encodeRecordBatch([{ value: 'a', offsetDelta: 0 }, { value: 'b', offsetDelta: 5 }], { baseOffset: 10n })).batches;
  assert.deepEqual(b.records().map((r) => r.offset), [10n, 15n]);
  assert.equal(b.lastOffsetDelta, 5);
  const [c] = decodeRecordBatches(encodeRecordBatch([{ value: 'a' }], { lastOffsetDelta: 9 })).batches;
  assert.equal(c.lastOffsetDelta, 9);
});

test('large and negative timestamps and int64 ids survive', () => {
  const recs: RecordInput[] = [
    { value: 'x', timestamp: 2 ** 52 },
    { value: 'y', timestamp: -(2 ** 51) },
  ];
  const [b] = decodeRecordBatches(encodeRecordBatch(recs, { baseOffset: (1n << 62n) + 3n, producerId: -(1n << 63n) })).batches;
  assert.deepEqual(b.records().map((r) => r.timestamp), [2 ** 52, -(2 ** 51)]);
  assert.equal(b.baseOffset, (1n << 62n) + 3n);
  assert.equal(b.producerId, -(1n << 63n));
});

test('every compression is applied and named in the attributes; level is passed on', () => {
  const recs = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: 'the same value again and again '.repeat(4) }));
  const plain = encodeRecordBatch(recs);
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const bytes = encodeRecordBatch(recs, { compression: name });
    assert.equal(bytes.readInt16BE(21) & 7, compressionTypeOf(name));
    assert.ok(bytes.length < plain.length / 2, `${name} compresses`);
    assert.equal(codecForType(compressionTypeOf(name)).name, name);
  }
  const fast = encodeRecordBatch(recs, { compression: 'zstd', level: 1 });
  assert.equal(decodeRecordBatches(fast).recordCount, 100);
});

test('bad records and options are ERR_INVALID_ARGUMENT', () => {
  const ok = { value: 'v' };
  const cases: Array<[string, () => unknown]> = [
    ['not an array', () => encodeRecordBatch({} as unknown as RecordInput[])],
    ['unknown compression', () => encodeRecordBatch([ok], { compression: 'brotli' as 'none' })],
    ['value type', () => encodeRecordBatch([{ value: 5 as unknown as string }])],
    ['key type', () => encodeRecordBatch([{ key: {} as unknown as string, value: 'v' }])],
    ['timestamp not integer', () => encodeRecordBatch([{ value: 'v', timestamp: 1.5 }])],
    ['timestamp delta beyond 2^53', () => encodeRecordBatch([{ value: 'a', timestamp: Number.MAX_SAFE_INTEGER }, { value: 'b', timestamp: -(2 ** 52) }])],
    ['offsetDelta decreasing', () => encodeRecordBatch([{ value: 'a', offsetDelta: 3 }, { value: 'b', offsetDelta: 3 }])],
    ['offsetDelta negative', () => encodeRecordBatch([{ value: 'a', offsetDelta: -1 }])],
    ['producerEpoch range', () => encodeRecordBatch([ok], { producerEpoch: 40000 })],
    ['baseOffset range', () => encodeRecordBatch([ok], { baseOffset: 1n << 63n })],
    ['baseOffset unsafe number', () => encodeRecordBatch([ok], { baseOffset: 2 ** 60 })],
    ['timestampType', () => encodeRecordBatch([ok], { timestampType: 'Now' as 'CreateTime' })],
    ['header key type', () => encodeRecordBatch([{ value: 'v', headers: [{ key: 5 as unknown as string, value: 'x' }] }])],
    ['header value type', () => encodeRecordBatch([{ value: 'v', headers: { a: 7 as unknown as string } }])],
  ];
  for (const [name, fn] of cases) assert.throws(fn, invalid, name);
  assert.throws(() => codecForType(0), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_UNKNOWN_COMPRESSION');
  assert.throws(() => codecForType(5), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_UNKNOWN_COMPRESSION');
});

test('each bad record field or option is named in the ArgumentError', () => {
  const ok = { value: 'v' };
  const cases: Array<[string, () => unknown]> = [
    ['records', () => encodeRecordBatch({} as unknown as RecordInput[])],
    ['options', () => encodeRecordBatch([ok], 'zstd' as unknown as object)],
    ['compression', () => encodeRecordBatch([ok], { compression: 'brotli' as 'none' })],
    ['records[1]', () => encodeRecordBatch([ok, null as unknown as RecordInput])],
    ['records[0].value', () => encodeRecordBatch([{ value: 5 as unknown as string }])],
    ['records[0].key', () => encodeRecordBatch([{ key: {} as unknown as string, value: 'v' }])],
    ['records[0].timestamp', () => encodeRecordBatch([{ value: 'v', timestamp: 1.5 }])],
    ['records[1].timestamp', () => encodeRecordBatch([{ value: 'a', timestamp: Number.MAX_SAFE_INTEGER }, { value: 'b', timestamp: -(2 ** 52) }])],
    ['records[1].offsetDelta', () => encodeRecordBatch([{ value: 'a', offsetDelta: 3 }, { value: 'b', offsetDelta: 3 }])],
    ['records[1].offsetDelta', () => encodeRecordBatch([{ value: 'a', offsetDelta: 3 }, { value: 'b' }])],
    ['records[0].offsetDelta', () => encodeRecordBatch([{ value: 'a', offsetDelta: -1 }])],
    ['records[0].headers', () => encodeRecordBatch([{ value: 'v', headers: 7 as unknown as [] }])],
    ['records[0].headers[0].key', () => encodeRecordBatch([{ value: 'v', headers: [{ key: 5 as unknown as string, value: 'x' }] }])],
    ['records[0].headers[0].value', () => encodeRecordBatch([{ value: 'v', headers: { a: 7 as unknown as string } }])],
    ['producerEpoch', () => encodeRecordBatch([ok], { producerEpoch: 40000 })],
    ['baseOffset', () => encodeRecordBatch([ok], { baseOffset: 1n << 63n })],
    ['producerId', () => encodeRecordBatch([ok], { producerId: 2 ** 60 })],
    ['timestampType', () => encodeRecordBatch([ok], { timestampType: 'Now' as 'CreateTime' })],
    ['transactional', () => encodeRecordBatch([ok], { transactional: 1 as unknown as boolean })],
    ['baseTimestamp', () => encodeRecordBatch([ok], { baseTimestamp: NaN })],
    ['maxTimestamp', () => encodeRecordBatch([ok], { maxTimestamp: 2 ** 60 })],
    ['lastOffsetDelta', () => encodeRecordBatch([ok], { lastOffsetDelta: 2 ** 31 })],
  ];
  for (const [name, fn] of cases) {
    assert.throws(fn, (e: unknown) => invalid(e) && (e as { argument?: string }).argument === name, name);
  }
});
