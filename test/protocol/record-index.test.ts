/**
 * The record index (src/protocol/record-index.ts): a cursor reading a batch's index must show
 * exactly what the synchronous cursor shows over the same bytes: every field of every record,
 * then the same end, or the same error (class, code, message, position) at the same record,
 * also when the bytes are malformed, and the same release behaviour.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeRecordBatch, encodeRecordBatch, type RecordBatch, type RecordInput } from '../../src';
import { createBatch, type RecordBatchHeader } from '../../src/protocol/batch';
import { buildRecordIndex, wantsIndex, MIN_INDEXED_RECORD_BYTES } from '../../src/protocol/record-index';
import { RECORDS } from '../../src/protocol/layout';

type Seen = Array<Record<string, unknown>>;

function errorOf(e: unknown): Record<string, unknown> {
  const err = e as Error & { code?: string; position?: number };
  return { error: err.constructor.name, code: err.code, message: err.message, position: err.position };
}

/** Everything a cursor shows, record by record, and what advance() does after the last one (twice). */
function observe(batch: RecordBatch): Seen {
  const seen: Seen = [];
  const c = batch.cursor();
  for (let guard = 0; guard < 100_000; guard++) {
    let more: boolean;
    try {
      more = c.advance();
    } catch (e) {
      seen.push(errorOf(e));
      try {
        c.advance();
        seen.push({ again: 'no throw' });
      } catch (e2) {
        seen.push({ again: errorOf(e2) });
      }
      return seen;
    }
    if (!more) {
      seen.push({ end: true, again: c.advance() });
      return seen;
    }
    const r = c.record;
    let headers: unknown;
    try {
      headers = r.headers.map((h) => [h.key, h.value?.toString('hex') ?? null]);
    } catch (e) {
      headers = errorOf(e);
    }
    seen.push({
      attributes: r.attributes,
      offsetDelta: r.offsetDelta,
      offset: r.offset,
      timestamp: r.timestamp,
      keyLength: r.keyLength,
      valueLength: r.valueLength,
      headerCount: r.headerCount,
      key: r.key?.toString('hex') ?? null,
      value: r.value?.toString('hex') ?? null,
      headers,
    });
  }
  throw new Error('cursor did not end');
}

function failed(seen: Seen): boolean {
  return seen.length >= 2 && 'error' in seen[seen.length - 2];
}

/** The same records section read by a plain batch and by an indexed one. */
function pair(fields: RecordBatchHeader, data: Uint8Array): { plain: RecordBatch; indexed: RecordBatch } {
  const index = buildRecordIndex(data, 0, data.length, fields);
  return {
    plain: createBatch(fields, data, 0, data.length, undefined, 'buffer') as RecordBatch,
    indexed: createBatch(fields, data, 0, data.length, undefined, 'buffer', index) as RecordBatch,
  };
}

/** An uncompressed batch's header fields and a copy of its records section. */
function split(records: RecordInput[], logAppend = false): { fields: RecordBatchHeader; data: Buffer } {
  const bytes = encodeRecordBatch(records, { baseOffset: 1000n, timestampType: logAppend ? 'LogAppendTime' : 'CreateTime', maxTimestamp: logAppend ? 1_800_000_000_000 : undefined });
  const b = decodeRecordBatch(bytes, { basePosition: 4242 });
  const fields: RecordBatchHeader = { ...b, position: b.position } as RecordBatchHeader;
  return { fields, data: Buffer.from(bytes.subarray(RECORDS)) };
}

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), { nil: null }),
  // Deltas past int32 and negative ones take the varlong path.
  timestamp: fc.oneof(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_100_000 }), fc.integer({ min: 0, max: 2 ** 52 })),
  headers: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)), { maxKeys: 3 }), { nil: undefined }),
});

type Mutation = { t: 'flip'; at: number; xor: number } | { t: 'cut'; keep: number } | { t: 'stray' } | { t: 'count'; delta: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ t: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ t: fc.constant('cut' as const), keep: fc.nat() }),
  fc.record({ t: fc.constant('stray' as const) }),
  fc.record({ t: fc.constant('count' as const), delta: fc.integer({ min: -2, max: 2 }) }),
);

function mutate(fields: RecordBatchHeader, data: Buffer, ms: Mutation[]): { fields: RecordBatchHeader; data: Buffer } {
  let d = Buffer.from(data);
  let f = fields;
  for (const m of ms) {
    if (m.t === 'flip' && d.length > 0) d[m.at % d.length] ^= m.xor;
    else if (m.t === 'cut') d = d.subarray(0, m.keep % (d.length + 1));
    else if (m.t === 'stray') d = Buffer.concat([d, Buffer.from([0])]);
    else if (m.t === 'count') f = { ...f, recordCount: Math.max(0, f.recordCount + m.delta) };
  }
  return { fields: f, data: d };
}

describe('record index', () => {
  test('well-formed batches: the indexed cursor shows what the plain cursor shows (fast-check, 300 runs)', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (records, logAppend) => {
        const { fields, data } = split(records, logAppend);
        const { plain, indexed } = pair(fields, data);
        const want = observe(plain);
        assert.equal(want.length, records.length + 1);
        assert.deepEqual(observe(indexed), want);
      }),
      { numRuns: 300 },
    );
  });

  test('malformed records sections (flipped bytes, cuts, a stray trailing byte, a wrong count): same records, then the same error at the same record (fast-check, 500 runs)', () => {
    let errors = 0;
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 12 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (records, ms) => {
        const base = split(records);
        const { fields, data } = mutate(base.fields, base.data, ms);
        const { plain, indexed } = pair(fields, data);
        const want = observe(plain);
        if (failed(want)) errors++;
        assert.deepEqual(observe(indexed), want);
      }),
      { numRuns: 500 },
    );
    assert.ok(errors > 100, `the mutations reached the error paths (${errors} of 500 runs)`);
  });

  test('one stray trailing byte after the last record: the same records, then the same ERR_BAD_LENGTH', () => {
    const { fields, data } = split([{ value: 'a' }, { value: 'b' }]);
    const { plain, indexed } = pair(fields, Buffer.concat([data, Buffer.from([7])]));
    const want = observe(plain);
    assert.equal(want.length, 4); // two records, the error, the error again
    assert.equal((want[2] as { code: string }).code, 'ERR_BAD_LENGTH');
    assert.deepEqual(observe(indexed), want);
  });

  test('released: a cursor mid-batch throws ERR_LEASE_RELEASED, one at its end still ends; same with the index', () => {
    for (const kind of ['plain', 'indexed'] as const) {
      const { fields, data } = split([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
      const batch = pair(fields, data)[kind];
      const mid = batch.cursor();
      const done = batch.cursor();
      assert.ok(mid.advance());
      while (done.advance());
      batch.release();
      assert.throws(() => mid.advance(), { code: 'ERR_LEASE_RELEASED' }, kind);
      assert.equal(done.advance(), false, kind);
      assert.throws(() => batch.cursor(), { code: 'ERR_LEASE_RELEASED' }, kind);
    }
  });

  test('released after the last record of a section with a stray trailing byte: the section error, not the release error, as without the index', () => {
    for (const kind of ['plain', 'indexed'] as const) {
      const { fields, data } = split([{ value: 'a' }, { value: 'b' }]);
      const batch = pair(fields, Buffer.concat([data, Buffer.from([0])]))[kind];
      const c = batch.cursor();
      assert.ok(c.advance() && c.advance());
      batch.release();
      assert.throws(() => c.advance(), { code: 'ERR_BAD_LENGTH' }, kind);
    }
  });

  test('a zero-filled records section: the same error as the plain cursor', () => {
    const { fields } = split([{ value: 'x'.repeat(200) }, { value: 'y'.repeat(200) }]);
    const { plain, indexed } = pair(fields, Buffer.alloc(500));
    const want = observe(plain);
    assert.ok(failed(want));
    assert.deepEqual(observe(indexed), want);
  });

  test('wantsIndex: only records averaging MIN_INDEXED_RECORD_BYTES or more, and at least one', () => {
    assert.equal(wantsIndex(0, 1 << 20), false);
    assert.equal(wantsIndex(-1, 1 << 20), false);
    assert.equal(wantsIndex(10, 10 * MIN_INDEXED_RECORD_BYTES), true);
    assert.equal(wantsIndex(10, 10 * MIN_INDEXED_RECORD_BYTES - 1), false);
    assert.equal(wantsIndex(2 ** 31 - 1, 1 << 20), false);
  });
});
