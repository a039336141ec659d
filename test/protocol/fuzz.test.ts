import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from '../../src/arena';
import { KafkaArenaError } from '../../src/errors';
import { crc32c } from '../../src/protocol/crc32c';
import { encodeRecordBatch, RecordInput } from '../../src/protocol/encode';
import { decodeRecordBatches } from '../../src/protocol/decode';
import type { CompressionName } from '../../src/protocol/compression';
import { prng } from '../support/random';

function corpus(rand: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]) {
    const records: RecordInput[] = [];
    const n = 1 + ((rand() * 12) | 0);
    for (let i = 0; i < n; i++) {
      records.push({
        key: rand() < 0.2 ? null : `key-${i}-${'k'.repeat((rand() * 20) | 0)}`,
        value: rand() < 0.1 ? null : Buffer.alloc((rand() * 200) | 0, i),
        timestamp: 1_700_000_000_000 + ((rand() * 1e6) | 0) - 5e5,
        headers: rand() < 0.5 ? { a: 'x', b: [String(i), 'yy'] } : undefined,
      });
    }
    out.push(Buffer.concat([encodeRecordBatch(records, { compression, baseOffset: 100n }), encodeRecordBatch(records.slice(0, 1), { baseOffset: 200n })]));
  }
  return out;
}

/** Decodes and reads everything; only our typed errors may escape. */
const seen = new Map<string, number>();

function exercise(bytes: Buffer, verifyCrc: boolean, arena?: Arena): void {
  let outcome = 'ok';
  try {
    const result = decodeRecordBatches(bytes, { verifyCrc, arena, maxOutputBytes: 1 << 20 });
    try {
      for (const batch of result) {
        for (const r of batch) {
          void r.offset;
          void r.timestamp;
          if (r.key) assert.ok(r.key.byteOffset + r.key.length <= r.key.buffer.byteLength);
          if (r.value) assert.ok(r.value.length <= batch.recordsByteLength);
          for (const h of r.headers) void h.value?.length;
        }
      }
    } finally {
      result.release();
    }
  } catch (err) {
    if (!(err instanceof KafkaArenaError)) {
      assert.fail(`non-typed error ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? String(err)}`);
    }
    outcome = err.code;
  }
  seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
}

test('fuzz: bit flips, byte overwrites and truncations only raise typed errors (CRC off, so the parser sees them)', () => {
  const rand = prng(0xdecade);
  const arena = new Arena({ maxBytes: 8 << 20, leakDetection: 'disabled', trimIntervalMs: 0 });
  const inputs = corpus(rand);
  let cases = 0;
  for (const input of inputs) {
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.from(input);
      const mode = i % 4;
      if (mode === 0) {
        const flips = 1 + ((rand() * 3) | 0);
        for (let f = 0; f < flips; f++) {
          const at = (rand() * bytes.length) | 0;
          bytes[at] ^= 1 << ((rand() * 8) | 0);
        }
      } else if (mode === 1) {
        const at = (rand() * bytes.length) | 0;
        bytes[at] = (rand() * 256) | 0;
      } else if (mode === 2) {
        // Hit the header fields specifically (lengths, magic, attributes, counts).
        const at = 8 + ((rand() * 53) | 0);
        bytes[at] = [0x00, 0x7f, 0x80, 0xff, 0x01][(rand() * 5) | 0];
      } else {
        exercise(bytes.subarray(0, (rand() * bytes.length) | 0), false, arena);
        cases++;
        continue;
      }
      // With a recomputed CRC the corrupt content reaches the parser even with verification on.
      const len = bytes.readInt32BE(8);
      if (len > 9 && len + 12 <= bytes.length) bytes.writeUInt32BE(crc32c(bytes, 21, 12 + len), 17);
      exercise(bytes, false, arena);
      exercise(bytes, true, i % 8 === 0 ? arena : undefined);
      cases += 2;
    }
  }
  assert.equal(arena.stats().leasedCount, 0, 'every lease was released, also on errors');
  assert.ok(cases > 3000);
  // The corruption reached every layer: parser, CRC, codecs, and some inputs stayed valid.
  for (const code of ['ok', 'ERR_BAD_LENGTH', 'ERR_BAD_VARINT', 'ERR_CRC_MISMATCH', 'ERR_UNSUPPORTED_MAGIC', 'ERR_UNKNOWN_COMPRESSION', 'ERR_CORRUPT_INPUT']) {
    assert.ok((seen.get(code) ?? 0) > 0, `no case ended in ${code}: ${JSON.stringify([...seen])}`);
  }
  arena.close();
});

test('fuzz: random garbage never escapes as RangeError/TypeError', () => {
  const rand = prng(42);
  for (let i = 0; i < 2000; i++) {
    const n = (rand() * 200) | 0;
    const bytes = Buffer.allocUnsafe(n);
    for (let j = 0; j < n; j++) bytes[j] = (rand() * 256) | 0;
    if (n >= 17 && rand() < 0.7) {
      // Plausible framing: a consistent length and magic 2.
      bytes.writeInt32BE(n - 12, 8);
      bytes[16] = 2;
      if (n >= 23) bytes.writeInt16BE((rand() * 5) | 0, 21);
    }
    exercise(bytes, false);
  }
});
