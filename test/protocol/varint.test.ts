import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../src/protocol/varint';

// kafkajs's encoder as the reference for the wire bytes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const KafkajsEncoder = require('kafkajs/src/protocol/encoder');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Long = require('kafkajs/src/utils/long');

function ourVarint(v: number): Buffer {
  const b = Buffer.alloc(5);
  const n = writeVarint(b, 0, v);
  assert.equal(n, sizeOfVarint(v));
  return b.subarray(0, n);
}

function ourVarlong(v: number): Buffer {
  const b = Buffer.alloc(10);
  const n = writeVarlong(b, 0, v);
  assert.equal(n, sizeOfVarlong(v));
  return b.subarray(0, n);
}

const INT32 = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, 0x7fffffff, -0x80000000, 123456789, -987654321];
const SAFE = [0, 1, -1, 63, -64, 64, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 1700000000000, -1700000000000, 2 ** 52, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

test('varint bytes match kafkajs and round-trip', () => {
  for (const v of INT32) {
    const ours = ourVarint(v);
    assert.deepEqual(ours, new KafkajsEncoder().writeVarInt(v).buffer, `varint ${v}`);
    assert.deepEqual(readVarint(ours, 0), { value: v, next: ours.length });
  }
  fc.assert(
    fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
      const ours = ourVarint(v);
      assert.deepEqual(ours, new KafkajsEncoder().writeVarInt(v).buffer);
      assert.equal(readVarint(ours, 0)?.value, v);
    }),
    { seed: 42, numRuns: 500 },
  );
});

test('varlong bytes match kafkajs and round-trip over the whole safe integer range', () => {
  for (const v of SAFE) {
    const ours = ourVarlong(v);
    assert.deepEqual(ours, new KafkajsEncoder().writeVarLong(Long.fromString(String(v))).buffer, `varlong ${v}`);
    assert.deepEqual(readVarlong(ours, 0), { value: v, next: ours.length });
  }
  fc.assert(
    fc.property(fc.maxSafeInteger(), (v) => {
      const ours = ourVarlong(v);
      assert.deepEqual(ours, new KafkajsEncoder().writeVarLong(Long.fromString(String(v))).buffer);
      assert.equal(readVarlong(ours, 0)?.value, v);
    }),
    { seed: 43, numRuns: 500 },
  );
});

test('truncated and over-long varints are rejected', () => {
  assert.equal(readVarint(Buffer.from([0x80]), 0), undefined);
  assert.equal(readVarint(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0), undefined, '6-byte varint');
  assert.equal(readVarint(Buffer.from([0x02, 0x04]), 0, 0), undefined, 'empty range');
  assert.equal(readVarlong(Buffer.from([0xff, 0xff]), 0), undefined);
  assert.equal(readVarlong(Buffer.alloc(11, 0x80), 0), undefined, '11-byte varlong');
  // 5-byte varint: bits past 32 are ignored, as Kafka's ByteUtils.readVarint does.
  assert.deepEqual(readVarint(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]), 0), { value: 0x7fffffff, next: 5 });
});

test('the record decoder inlined readers agree with varint.ts on every input: value, end, and failure', async () => {
  const { readInlined } = await import('../../src/protocol/record-view');
  const run = (kind: 'varint' | 'zigzag' | 'varlong', d: Uint8Array, p: number, end: number) => {
    try {
      return readInlined(kind, d, p, end);
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'ERR_BAD_VARINT', `${kind} threw ${String(e)}`);
      return undefined;
    }
  };
  const bytes = fc.uint8Array({ minLength: 0, maxLength: 12 });
  // Arbitrary bytes: truncated, over-long and every length of encoding, at any start and end.
  fc.assert(
    fc.property(bytes, fc.nat(12), fc.nat(12), (d, a, b) => {
      const p = Math.min(a, d.length);
      const end = Math.max(p, Math.min(b, d.length));
      const want32 = readVarint(d, p, end);
      assert.deepEqual(run('varint', d, p, end), want32 && { value: want32.value, next: want32.next });
      assert.deepEqual(run('zigzag', d, p, end), want32 && { value: want32.value, next: want32.next });
      const want64 = readVarlong(d, p, end);
      const got64 = run('varlong', d, p, end);
      assert.deepEqual(got64, want64 && { value: want64.value, next: want64.next });
    }),
    { numRuns: 20000 },
  );
  // Encoded values: every int32 and every safe integer round-trips through both.
  fc.assert(
    fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.maxSafeInteger(), (v, w) => {
      const b32 = ourVarint(v);
      assert.deepEqual(run('varint', b32, 0, b32.length), { value: v, next: b32.length });
      assert.deepEqual(run('zigzag', b32, 0, b32.length), { value: v, next: b32.length });
      const b64 = ourVarlong(w);
      assert.deepEqual(run('varlong', b64, 0, b64.length), { value: w, next: b64.length });
    }),
    { numRuns: 20000 },
  );
});
