import type { Lease } from '../arena';
import { CodecError, ErrorCode } from '../errors';
import { bytesArg, oneOfArg } from '../validate';
import { align16, Engine, Instance } from './kernel';
import { checkLimit, compressArgs, decompressArgs, deliver } from './output';
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
  snappy_decoded_size(inPtr: number, n: number): number;
  snappy_decompress(inPtr: number, n: number, outPtr: number, outLen: number): number;
  snappy_compress_xerial(inPtr: number, n: number, outPtr: number, blockSize: number): number;
  snappy_max_block(n: number): number;
}

type Kernel = Instance<SnappyExports>;

/** The engine over wasm/snappy.wasm. The input is staged at `base`, the output right after it. */
const engine = new Engine<SnappyExports>({ codec: 'snappy', module: 'snappy.wasm' });

/** The kernel's negative return codes (E_* in snappy.c). */
const ERRORS: Record<number, readonly [ErrorCode, string]> = {
  [-2]: ['ERR_TRUNCATED_INPUT', 'input ends before the data it declares'],
  [-3]: ['ERR_TRAILING_DATA', 'input continues after the end of a complete block'],
};
const CORRUPT = ['ERR_CORRUPT_INPUT', 'input is not valid Snappy data'] as const;

/** Size of the staged input per its headers; throws on malformed headers. */
function stagedSize(k: Kernel, n: number): number {
  return k.check(k.exports.snappy_decoded_size(k.base, n), ERRORS, CORRUPT);
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: NonNullable<DecompressOptions['arena']> }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = decompressArgs(input, options);
  return engine.run((k) => {
    k.write(input, k.base, SLACK);
    const size = stagedSize(k, input.length);
    // Before any output memory exists: a header claiming 4 GiB costs nothing.
    checkLimit('snappy', size, limit);
    if (options?.out && !options.arena && options.out.length < size) {
      throw new CodecError('snappy', 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${options.out.length} bytes is smaller than the ${size} decompressed bytes`);
    }
    const outPtr = align16(k.base + input.length + SLACK);
    k.ensure(outPtr + size + SLACK, 'the output');
    k.check(k.exports.snappy_decompress(k.base, input.length, outPtr, size), ERRORS, CORRUPT);
    return deliver('snappy', k.view(outPtr, size, SLACK), options);
  });
}

/** Options of `snappy.compress`. */
export interface SnappyCompressOptions extends CompressOptions {
  /**
   * `'raw'` (default): one raw Snappy block, what librdkafka writes and every Kafka client reads.
   * `'xerial'`: the Java client's framing (snappy-java's `SnappyOutputStream`, 32 KiB chunks).
   */
  format?: 'raw' | 'xerial';
}

/** The formats `snappy.compress` writes. */
const FORMATS = ['raw', 'xerial'] as const;

function compress(input: Uint8Array, options?: SnappyCompressOptions): Buffer {
  const format = oneOfArg('format', compressArgs<SnappyCompressOptions>(input, options).format, FORMATS, 'raw');
  const n = input.length;
  if (format === 'raw' && n === 0) return Buffer.from([0]); // varint32(0), no elements
  return engine.run((k) => {
    // The kernel writes xerial framing; a raw block is its single chunk covering the whole input,
    // found after the 16-byte header and the chunk's 4-byte length.
    const block = format === 'raw' ? n : XERIAL_BLOCK;
    const chunks = Math.ceil(n / block);
    const bound = XERIAL_HEADER + chunks * (4 + (k.exports.snappy_max_block(block) >>> 0));
    k.write(input, k.base, SLACK);
    const outPtr = align16(k.base + n + SLACK);
    k.ensure(outPtr + bound + SLACK, 'compression');
    const written = k.exports.snappy_compress_xerial(k.base, n, outPtr, block) >>> 0; // u32 result
    const skip = format === 'raw' ? XERIAL_HEADER + 4 : 0;
    return Buffer.from(k.view(outPtr + skip, written - skip, SLACK));
  }, 'ERR_UNSUPPORTED');
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
 * - `compress` writes one raw Snappy block by default, as librdkafka does; every Kafka client
 *   reads it (the Java client through snappy-java's fallback for input without the xerial magic).
 *   With `{ format: 'xerial' }` it writes the Java client's framing instead: 32 KiB chunks,
 *   byte-compatible with snappy-java's `SnappyOutputStream` defaults (version 1, compat 1).
 *   Snappy has no levels: `level` is ignored.
 * - `decompressedSize` is exact: the raw block's varint, or the sum of the chunks' varints.
 *
 * The WebAssembly staging memory follows the grown-memory policy of kernel.ts.
 */
export const snappy: Codec & { compress(input: Uint8Array, options?: SnappyCompressOptions): Buffer } = {
  name: 'snappy',
  kafkaType: 2,
  decompress,

  compress,

  decompressedSize(input: Uint8Array): SizeHint {
    bytesArg('input', input);
    return engine.run((k) => {
      k.write(input, k.base, SLACK);
      return { bytes: stagedSize(k, input.length), exact: true };
    });
  },
};
