import type { Lease } from '../arena';
import { CodecError } from '../errors';
import { instantiateWasm, WasmHeap } from '../wasm/loader';
import { checkLimit, deliver, outputLimit } from './output';
import type { Codec, CompressOptions, DecompressOptions, SizeHint } from './types';

/*
 * Wire grammar (decoded by wasm/src/snappy.c, which documents it in full):
 *   input  := xerial | raw
 *   xerial := 82 53 4E 41 50 50 59 00  version(u32 BE)  compat(u32 BE)  { length(u32 BE) raw }*
 *   raw    := varint32(uncompressed length) { literal | copy1 | copy2 | copy4 }*
 * An input is xerial when it starts with the 8-byte magic, raw otherwise (as in snappy-java's
 * SnappyInputStream, which Kafka's Java client uses).
 */

/** Bytes the C kernel may touch past the end of each staged region (its 16-byte wild copies). */
const SLACK = 64;
/** Input bytes per xerial chunk: snappy-java's SnappyOutputStream default, which Kafka uses. */
const XERIAL_BLOCK = 32 * 1024;
const XERIAL_HEADER = 16;

interface SnappyExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  snappy_decoded_size(inPtr: number, n: number): number;
  snappy_decompress(inPtr: number, n: number, outPtr: number, outLen: number): number;
  snappy_compress_xerial(inPtr: number, n: number, outPtr: number, blockSize: number): number;
  snappy_max_block(n: number): number;
}

interface Kernel {
  exports: SnappyExports;
  heap: WasmHeap;
  /** First free byte above the module's data and stack, 16-aligned. */
  base: number;
}

let kernel: Kernel | undefined;

/** Instantiated on first use; the memory is kept (and grown on demand) across calls. */
function getKernel(): Kernel {
  if (kernel === undefined) {
    const exports = instantiateWasm('snappy.wasm').exports as unknown as SnappyExports;
    kernel = { exports, heap: new WasmHeap(exports.memory), base: align16(exports.__heap_base.value as number) };
  }
  return kernel;
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Grows the staging memory to `bytes`, reporting a request past WebAssembly's 4 GiB as a limit. */
function ensure(k: Kernel, bytes: number): void {
  try {
    k.heap.ensure(bytes);
  } catch (cause) {
    throw new CodecError('snappy', 'ERR_OUTPUT_LIMIT', `needs ${bytes} bytes of WebAssembly memory, more than it can grow to`, { cause });
  }
}

/** Copies the input into WASM memory at `k.base` (followed by SLACK addressable bytes). */
function stageInput(k: Kernel, input: Uint8Array): void {
  ensure(k, k.base + input.length + SLACK);
  k.heap.u8().set(input, k.base);
}

/** Maps the kernel's negative return codes (E_* in snappy.c) to typed errors. */
function kernelError(code: number): CodecError {
  switch (code) {
    case -2:
      return new CodecError('snappy', 'ERR_TRUNCATED_INPUT', 'input ends before the data it declares');
    case -3:
      return new CodecError('snappy', 'ERR_TRAILING_DATA', 'input continues after the end of a complete block');
    default:
      return new CodecError('snappy', 'ERR_CORRUPT_INPUT', 'input is not valid Snappy data');
  }
}

/** Size of the staged input per its headers; throws on malformed headers. */
function stagedSize(k: Kernel, n: number): number {
  const size = k.exports.snappy_decoded_size(k.base, n);
  if (size < 0) throw kernelError(size);
  return size;
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: NonNullable<DecompressOptions['arena']> }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = outputLimit('snappy', options);
  const k = getKernel();
  stageInput(k, input);
  const size = stagedSize(k, input.length);
  // Before any output memory exists: a header claiming 4 GiB costs nothing.
  checkLimit('snappy', size, limit);
  if (options?.out && !options.arena && options.out.length < size) {
    throw new CodecError('snappy', 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${options.out.length} bytes is smaller than the ${size} decompressed bytes`);
  }
  const outPtr = align16(k.base + input.length + SLACK);
  ensure(k, outPtr + size + SLACK);
  const rc = k.exports.snappy_decompress(k.base, input.length, outPtr, size);
  if (rc < 0) throw kernelError(rc);
  return deliver('snappy', k.heap.u8().subarray(outPtr, outPtr + size), options);
}

/**
 * Snappy, Kafka compression type 2.
 *
 * - `decompress` reads both raw Snappy blocks (what librdkafka and kafkajs-snappy write) and the
 *   xerial-framed streams the Java client writes (detected by the 8-byte magic
 *   `82 53 4E 41 50 50 59 00`, as snappy-java and librdkafka detect it; version and compat
 *   fields are not checked, as in snappy-java; a concatenated stream's header inside the chunk
 *   sequence is skipped, as in snappy-java). A whole stream is decoded by one WebAssembly call
 *   into staging memory, then copied to the lease / `out` / a new Buffer. Every block must decode
 *   to exactly its declared length. Errors: `ERR_CORRUPT_INPUT`, `ERR_TRUNCATED_INPUT` (the input
 *   stops inside an element, a chunk or before the declared length; also 1–3 stray bytes after the
 *   last xerial chunk, which snappy-java would silently drop), `ERR_TRAILING_DATA` (a raw block
 *   continues after its declared length is reached), `ERR_OUTPUT_LIMIT` (the declared size passes
 *   `maxOutputBytes`; checked from the headers before any output memory is allocated),
 *   `ERR_OUTPUT_TOO_SMALL`.
 * - `compress` writes xerial framing with 32 KiB chunks, byte-compatible with snappy-java's
 *   `SnappyOutputStream` defaults (version 1, compat 1), readable by every Kafka client. Snappy
 *   has no levels: `level` is ignored.
 * - `decompressedSize` is exact: the raw block's varint, or the sum of the chunks' varints.
 *
 * The WebAssembly staging memory grows to the largest input + output seen and is kept for reuse
 * (WebAssembly memory cannot shrink), so one 256 MiB batch leaves ~256 MiB + input reserved.
 */
export const snappy: Codec = {
  name: 'snappy',
  kafkaType: 2,
  decompress,

  compress(input: Uint8Array, _options?: CompressOptions): Buffer {
    const k = getKernel();
    const n = input.length;
    const chunks = Math.ceil(n / XERIAL_BLOCK);
    const bound = XERIAL_HEADER + chunks * (4 + k.exports.snappy_max_block(XERIAL_BLOCK));
    const outPtr = align16(k.base + n + SLACK);
    ensure(k, outPtr + bound + SLACK);
    k.heap.u8().set(input, k.base);
    const written = k.exports.snappy_compress_xerial(k.base, n, outPtr, XERIAL_BLOCK) >>> 0; // u32 result
    return Buffer.from(k.heap.u8().subarray(outPtr, outPtr + written));
  },

  decompressedSize(input: Uint8Array): SizeHint {
    const k = getKernel();
    stageInput(k, input);
    return { bytes: stagedSize(k, input.length), exact: true };
  },
};
