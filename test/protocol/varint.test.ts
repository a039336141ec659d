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
