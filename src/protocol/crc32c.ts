import { Engine } from '../codecs/kernel';
import { ArgumentError } from '../errors';
import { bytesArg } from '../validate';

/**
 * CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2.
 *
 * Two paths, chosen by input size:
 * - inputs below {@link WASM_THRESHOLD} bytes: a TypeScript slicing-by-8 loop (no copy, no
 *   WASM call overhead, which dominate for short inputs);
 * - larger inputs: wasm/crc32c.wasm (our C, run through the kernel layer of codecs/kernel.ts),
 *   fed through a fixed 64 KiB window above `__heap_base` so the copy stays in cache and the
 *   WASM memory never grows. From 512 bytes it runs 16 independent CRC streams in SIMD128 lanes
 *   and combines them (see wasm/src/crc32c.c); shorter remainders use scalar slicing-by-16.
 * bench/crc32c.ts measures both paths against peers.
 */

const POLY = 0x82f63b78;

/** 8 tables of 256 entries for the TypeScript slicing-by-8 path. */
const TABLE = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLE[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n];
  for (let t = 1; t < 8; t++) {
    c = TABLE[c & 0xff] ^ (c >>> 8);
    TABLE[t * 256 + n] = c;
  }
}

/** Below this many bytes the TypeScript loop wins over copying into WASM memory. */
export const WASM_THRESHOLD = 128;
const WINDOW = 64 * 1024;

interface CrcExports {
  crc32c_init(): void;
  crc32c_update(crc: number, ptr: number, len: number): number;
}

const engine = new Engine<CrcExports>({
  codec: 'crc32c',
  module: 'crc32c.wasm',
  init(k) {
    k.exports.crc32c_init();
    k.ensure(k.base + WINDOW, 'the CRC-32C window');
    k.touch(k.base + WINDOW);
  },
});

/** TypeScript slicing-by-8 over `data[start, end)`, continuing from a finished CRC value. */
function crcTs(crc: number, data: Uint8Array, start: number, end: number): number {
  const T = TABLE;
  let c = ~crc;
  let i = start;
  const end8 = end - 7;
  while (i < end8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c =
      T[1792 + (a & 0xff)] ^
      T[1536 + ((a >>> 8) & 0xff)] ^
      T[1280 + ((a >>> 16) & 0xff)] ^
      T[1024 + (a >>> 24)] ^
      T[768 + data[i + 4]] ^
      T[512 + data[i + 5]] ^
      T[256 + data[i + 6]] ^
      T[data[i + 7]];
    i += 8;
  }
  while (i < end) c = T[(c ^ data[i++]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function crcWasm(crc: number, data: Uint8Array, start: number, end: number): number {
  // The window is fixed: no call grows the memory, so the instance is used without `run`.
  const k = engine.fixed();
  const mem = k.u8();
  const update = k.exports.crc32c_update;
  const base = k.base;
  let c = crc;
  if (start === 0 && end === data.length && end <= WINDOW) {
    // Whole small array: skip the subarray allocation.
    mem.set(data, base);
    return update(c, base, end) >>> 0;
  }
  for (let i = start; i < end; i += WINDOW) {
    const n = Math.min(WINDOW, end - i);
    // A plain Uint8Array view: cheaper than subarray(), which goes through Buffer's species.
    mem.set(new Uint8Array(data.buffer, data.byteOffset + i, n), base);
    c = update(c, base, n);
  }
  return c >>> 0;
}

/**
 * CRC-32C of `data` (or of `data[start, end)`), as an unsigned 32-bit number.
 * `crc32c(b, 0, n)` equals `crc32cUpdate(crc32c(b, 0, k), b, k, n)` for any split `k`.
 */
export function crc32c(data: Uint8Array, start = 0, end = data?.length): number {
  return crc32cUpdate(0, data, start, end);
}

/** Continues a CRC-32C: `crc` is the finished CRC of the preceding bytes (0 for none). */
export function crc32cUpdate(crc: number, data: Uint8Array, start = 0, end = data?.length): number {
  bytesArg('data', data);
  if (!(start >= 0 && end <= data.length && start <= end)) {
    throw new ArgumentError(`crc32c range [${start}, ${end}) outside 0..${data.length}`);
  }
  return end - start < WASM_THRESHOLD ? crcTs(crc, data, start, end) : crcWasm(crc, data, start, end);
}

/** @internal For benchmarks and tests: force one path. */
export const _crc32cPaths = {
  ts: (data: Uint8Array, crc = 0): number => crcTs(crc, data, 0, data.length),
  wasm: (data: Uint8Array, crc = 0): number => crcWasm(crc, data, 0, data.length),
};
