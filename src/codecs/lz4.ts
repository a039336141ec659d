import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lease } from '../arena';
import { ArgumentError, CodecError } from '../errors';
import { WASM_DIR, WasmHeap } from '../wasm/loader';
import { checkLimit, deliver, outputLimit } from './output';
import type { Codec, CompressOptions, DecompressOptions, SizeHint } from './types';

/*
 * Wire grammar (decoded by wasm/src/lz4.c, which documents every field):
 *   input     := frame { frame }                         (at least one; nothing after the last)
 *   frame     := lz4frame | skippable
 *   lz4frame  := 04 22 4D 18  FLG BD [contentSize u64le] [dictId u32le] HC
 *                { blockSize u32le  data [blockChecksum u32le] }  00 00 00 00  [contentChecksum u32le]
 *   skippable := 5? 2A 4D 18  size u32le  size bytes      (magic 0x184D2A50..0x184D2A5F)
 * blockSize's high bit marks a block stored uncompressed. Compressed blocks are LZ4 block format.
 * Independent and linked blocks, block checksums, content checksums and content sizes are all
 * supported and verified; a dictionary id is rejected (ERR_UNSUPPORTED).
 */

const CODEC = 'lz4';
/** Bytes the C kernel may touch past the end of each staged region (its 16-byte wild copies). */
const SLACK = 64;
/** WebAssembly memory is 32-bit: staging must fit in 4 GiB. */
const WASM_MAX_BYTES = 4 * 1024 * 1024 * 1024;
/**
 * WebAssembly memory never shrinks. After a call that left the instance's memory above this, the
 * instance is dropped and the next call starts a fresh one, so one huge batch does not pin its
 * high-water mark for the life of the process.
 */
const RETAIN_BYTES = 64 * 1024 * 1024;
/** Highest accepted compression level (see {@link lz4}). */
const MAX_LEVEL = 12;

interface Lz4Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  lz4_frames_size(src: number, len: number, scan: number): number;
  lz4_size_flags(): number;
  lz4_frames_decode(src: number, len: number, dst: number, cap: number): number;
  lz4_compress_bound(len: number): number;
  lz4_compress_frame(src: number, len: number, dst: number, level: number, checksum: number): number;
  lz4_xxh32(src: number, len: number, seed: number): number;
}

interface Kernel {
  exports: Lz4Exports;
  heap: WasmHeap;
  /** First free byte above the module's data and stack, 16-aligned: the staged input starts here. */
  base: number;
}

let wasmModule: WebAssembly.Module | undefined;
let kernel: Kernel | undefined;

/** Instantiated on first use; its memory is reused (and grown on demand) across calls. */
function getKernel(): Kernel {
  if (kernel === undefined) {
    wasmModule ??= new WebAssembly.Module(readFileSync(join(WASM_DIR, 'lz4.wasm')));
    const exports = new WebAssembly.Instance(wasmModule).exports as unknown as Lz4Exports;
    kernel = { exports, heap: new WasmHeap(exports.memory), base: align16(exports.__heap_base.value as number) };
  }
  return kernel;
}

/** Drops an instance whose memory grew past RETAIN_BYTES (its memory is freed by the GC). */
function maybeRelease(k: Kernel): void {
  if (k.heap.byteLength > RETAIN_BYTES && kernel === k) kernel = undefined;
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Grows the staging memory to `bytes`. */
function ensure(k: Kernel, bytes: number, what: string): void {
  if (bytes > WASM_MAX_BYTES) {
    throw new CodecError(CODEC, 'ERR_OUTPUT_LIMIT', `${what} needs ${bytes} bytes of WebAssembly memory, more than its 4 GiB`);
  }
  try {
    k.heap.ensure(bytes);
  } catch (cause) {
    throw new CodecError(CODEC, 'ERR_OUTPUT_LIMIT', `${what} needs ${bytes} bytes of WebAssembly memory, which could not be allocated`, { cause });
  }
}

/** Copies the input into WASM memory at `k.base`, followed by SLACK addressable bytes. */
function stageInput(k: Kernel, input: Uint8Array): void {
  ensure(k, k.base + input.length + SLACK, 'the input');
  k.heap.u8().set(input, k.base);
}

/** Where the output goes for an input of `n` bytes staged at `k.base`. */
function outputPtr(k: Kernel, n: number): number {
  return align16(k.base + n + SLACK);
}

/** Maps the kernel's negative return codes (E_* in lz4.c) to typed errors. */
function kernelError(code: number): CodecError {
  switch (code) {
    case -1:
      return new CodecError(CODEC, 'ERR_TRUNCATED_INPUT', 'input ends inside an LZ4 frame');
    case -3:
      return new CodecError(CODEC, 'ERR_CHECKSUM_MISMATCH', 'LZ4 header, block or content checksum does not match');
    case -4:
      return new CodecError(CODEC, 'ERR_UNSUPPORTED', 'LZ4 frames with a dictionary id are not supported');
    case -6:
      return new CodecError(CODEC, 'ERR_TRAILING_DATA', 'bytes after the last LZ4 frame are not a frame');
    case -7:
      return new CodecError(CODEC, 'ERR_CORRUPT_INPUT', 'LZ4 content decodes to more bytes than its headers declare');
    default:
      return new CodecError(CODEC, 'ERR_CORRUPT_INPUT', 'input is not a valid LZ4 frame');
  }
}

const EXACT = 1;
const INCONSISTENT = 2;

/** Size of the staged input per its headers (scan: exact, by walking block tokens). */
function stagedSize(k: Kernel, n: number, scan: boolean): { bytes: number; flags: number } {
  const bytes = k.exports.lz4_frames_size(k.base, n, scan ? 1 : 0);
  if (bytes < 0) throw kernelError(bytes);
  return { bytes, flags: k.exports.lz4_size_flags() };
}

function inconsistent(): CodecError {
  return new CodecError(CODEC, 'ERR_CORRUPT_INPUT', 'LZ4 content size is larger than its blocks can decode to');
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: Arena }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = outputLimit(CODEC, options);
  const k = getKernel();
  const n = input.length;
  stageInput(k, input);
  const dst = outputPtr(k, n);
  // Size the output from the headers before decoding. When that bound passes the limit (or WASM
  // memory) it may just be loose (every compressed block counted at its maximum size), so walk the
  // block tokens for the exact size: a bomb fails here, before any large allocation.
  let size = stagedSize(k, n, false);
  if ((size.bytes > limit || dst + size.bytes + SLACK > WASM_MAX_BYTES) && (size.flags & EXACT) === 0) {
    size = stagedSize(k, n, true);
  }
  checkLimit(CODEC, size.bytes, limit);
  if (size.flags & INCONSISTENT) throw inconsistent();
  const out = options?.out;
  if (out !== undefined && options?.arena === undefined && size.flags & EXACT && out.length < size.bytes) {
    throw new CodecError(CODEC, 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${out.length} bytes is smaller than the ${size.bytes} decompressed bytes`);
  }
  ensure(k, dst + size.bytes + SLACK, 'the output');
  // The capacity never exceeds the limit, so content that lies about its size cannot pass it.
  const produced = k.exports.lz4_frames_decode(k.base, n, dst, size.bytes);
  if (produced < 0) throw kernelError(produced);
  const result = deliver(CODEC, k.heap.u8().subarray(dst, dst + produced), options);
  maybeRelease(k);
  return result;
}

type Arena = NonNullable<DecompressOptions['arena']>;

/**
 * Decompressed size from the frame headers: exact (`exact: true`) when every frame declares its
 * content size, else an upper bound (compressed blocks count as their frame's maximum block size,
 * stored blocks as their size). Throws a `CodecError` on malformed headers.
 */
function decompressedSize(input: Uint8Array): SizeHint {
  const k = getKernel();
  stageInput(k, input);
  const size = stagedSize(k, input.length, false);
  if (size.flags & INCONSISTENT) throw inconsistent();
  maybeRelease(k);
  return { bytes: size.bytes, exact: (size.flags & EXACT) !== 0 };
}

/** Options of `lz4.compress`. */
export interface Lz4CompressOptions extends CompressOptions {
  /**
   * Append the content checksum (xxHash32 of the whole input). Default false, as the Java client
   * and librdkafka write frames: the record batch's CRC-32C already covers the compressed bytes.
   */
  contentChecksum?: boolean;
}

/** Writes one LZ4 frame (64 KiB independent blocks, content size; content checksum on request). */
function compress(input: Uint8Array, options?: Lz4CompressOptions): Buffer {
  const level = options?.level ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > MAX_LEVEL) {
    throw new ArgumentError(`lz4 level must be an integer in 1..${MAX_LEVEL}, got ${level}`);
  }
  if (input.length > 0x7fffffff) throw new ArgumentError(`lz4 compress input of ${input.length} bytes exceeds 2 GiB`);
  const k = getKernel();
  stageInput(k, input);
  const dst = outputPtr(k, input.length);
  ensure(k, dst + k.exports.lz4_compress_bound(input.length), 'compression');
  const written = k.exports.lz4_compress_frame(k.base, input.length, dst, level, options?.contentChecksum ? 1 : 0);
  const result = Buffer.from(k.heap.u8().subarray(dst, dst + written));
  maybeRelease(k);
  return result;
}

/**
 * LZ4 frame codec (Kafka compression type 3), implemented in WebAssembly (wasm/src/lz4.c).
 *
 * - `decompress` reads one or more LZ4 frames (and skippable frames) as the Java client,
 *   librdkafka and the `lz4` CLI write them: 64 KiB to 4 MiB blocks, independent or linked,
 *   stored blocks, and with or without block checksums, content checksum and content size. Every
 *   checksum present is verified.
 * - `compress` writes one frame of 64 KiB independent blocks (what Kafka's Java producer uses)
 *   with the content size, and a content checksum only with `{ contentChecksum: true }`. `level` 1 (default) is a fast greedy matcher with
 *   a 4096-entry hash table that skips ahead through incompressible data (ratio on par with
 *   `lz4 -1`); levels 2..12 use a hash table of up to 65536 entries and probe every position
 *   (about 1% smaller output on JSON, slower on small inputs). Levels above 2 do not differ from 2;
 *   there is no LZ4-HC style search.
 */
export const lz4: Codec & { compress(input: Uint8Array, options?: Lz4CompressOptions): Buffer } = {
  name: 'lz4',
  kafkaType: 3,
  decompress,
  compress,
  decompressedSize,
};

/** xxHash32 of `data` with `seed` (the checksum LZ4 frames use), computed in WebAssembly. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  const k = getKernel();
  stageInput(k, data);
  const h = k.exports.lz4_xxh32(k.base, data.length, seed >>> 0) >>> 0;
  maybeRelease(k);
  return h;
}
