import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaArenaError } from '../../src/errors';
import { _crc32cPaths, crc32c, crc32cUpdate, WASM_THRESHOLD } from '../../src/protocol/crc32c';
import { prng } from '../support/random';

// kafkajs's byte-at-a-time implementation: an independent reference.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

test('standard check values (CRC-32C catalogue and RFC 3720 B.4)', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const up = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(up), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(up).reverse()), 0x113fdb5c);
  // The same vectors through both paths, whatever the size threshold.
  for (const path of [_crc32cPaths.ts, _crc32cPaths.wasm]) {
    assert.equal(path(Buffer.from('123456789')), 0xe3069283);
    assert.equal(path(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  }
});

test('both paths agree with kafkajs on random inputs of many sizes', () => {
  const rand = prng(1);
  const sizes = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, WASM_THRESHOLD - 1, WASM_THRESHOLD, WASM_THRESHOLD + 1, 1000, 4096, 65535, 65536, 65537, 200_003];
  for (const n of sizes) {
    const data = randomBytes(rand, n);
    const want = kafkajsCrc32c(data);
    assert.equal(crc32c(data), want, `auto, size ${n}`);
    assert.equal(_crc32cPaths.ts(data), want, `ts, size ${n}`);
    assert.equal(_crc32cPaths.wasm(data), want, `wasm, size ${n}`);
  }
});

test('ranges and chaining match the CRC of the slice', () => {
  const rand = prng(2);
  const data = randomBytes(rand, 150_000);
  for (const [s, e] of [[0, 0], [5, 6], [3, 1000], [21, 140_001], [64_000, 150_000], [1, 65_537]]) {
    const want = kafkajsCrc32c(data.subarray(s, e));
    assert.equal(crc32c(data, s, e), want, `[${s}, ${e})`);
    const mid = (s + e) >> 1;
    assert.equal(crc32cUpdate(crc32c(data, s, mid), data, mid, e), want, `chained at ${mid}`);
  }
  // A plain Uint8Array with a byteOffset into a larger ArrayBuffer.
  const u8 = new Uint8Array(data.buffer, data.byteOffset + 7, 70_000);
  assert.equal(crc32c(u8), kafkajsCrc32c(data.subarray(7, 70_007)));
});

test('the wasm path survives many calls and large inputs (fixed window, no memory growth)', () => {
  const rand = prng(3);
  const big = randomBytes(rand, 3 * 1024 * 1024 + 5);
  assert.equal(crc32c(big), kafkajsCrc32c(big));
  for (let i = 0; i < 200; i++) {
    const d = randomBytes(rand, 128 + ((rand() * 2000) | 0));
    assert.equal(crc32c(d), kafkajsCrc32c(d));
  }
});

test('random lengths 0..100000 at random offsets match kafkajs (every block size and tail)', () => {
  const rand = prng(4);
  const pool = randomBytes(rand, 100_000 + 64);
  // Sizes around the WASM kernel's 512 B / 1 KiB / 4 KiB multi-stream blocks, plus uniform random ones.
  const sizes: number[] = [];
  for (const k of [1, 2, 3, 4, 5, 8, 16, 17]) for (const d of [-17, -16, -1, 0, 1, 15, 16]) sizes.push(k * 512 + d, k * 1024 + d, k * 4096 + d);
  for (let i = 0; i < 60; i++) sizes.push((rand() * 100_001) | 0);
  for (const n of sizes) {
    const off = (rand() * 64) | 0;
    const view = new Uint8Array(pool.buffer, pool.byteOffset + off, n);
    const want = kafkajsCrc32c(pool.subarray(off, off + n));
    assert.equal(crc32c(view), want, `size ${n} at offset ${off}`);
    assert.equal(crc32c(pool, off, off + n), want, `range size ${n} at offset ${off}`);
    // A non-zero starting CRC goes into the first stream of the first block only.
    const k = (rand() * (n + 1)) | 0;
    assert.equal(crc32cUpdate(crc32c(pool, off, off + k), pool, off + k, off + n), want, `split ${k} of ${n}`);
  }
});

test('structured inputs: zeros, ones and a single set bit in each stream position', () => {
  // Each byte of a 16 KiB block lands in a different (stream, lane, step) of the SIMD kernel; a bit
  // flip anywhere must change the CRC the same way kafkajs's does.
  const n = 16 * 1024 + 3;
  assert.equal(crc32c(Buffer.alloc(n, 0)), kafkajsCrc32c(Buffer.alloc(n, 0)));
  assert.equal(crc32c(Buffer.alloc(n, 0xff)), kafkajsCrc32c(Buffer.alloc(n, 0xff)));
  const rand = prng(5);
  for (let i = 0; i < 40; i++) {
    const d = Buffer.alloc(n, 0);
    d[(rand() * n) | 0] = 1 << ((rand() * 8) | 0);
    assert.equal(crc32c(d), kafkajsCrc32c(d));
  }
});

test('an out-of-range slice throws ERR_INVALID_ARGUMENT', () => {
  const d = Buffer.alloc(10);
  for (const [s, e] of [[-1, 5], [0, 11], [6, 5]]) {
    assert.throws(() => crc32c(d, s, e), (err: unknown) => err instanceof KafkaArenaError && err.code === 'ERR_INVALID_ARGUMENT');
  }
});
