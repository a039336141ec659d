import type { Lease } from '../arena';
import { CodecError, ErrorCode } from '../errors';
import { booleanArg, bytesArg, integerArg, invalid } from '../validate';
import { align16, Engine, Instance, WASM32_MAX_BYTES } from './kernel';
import { checkLimit, compressArgs, decompressArgs, deliver, levelArg } from './output';
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
/** Accepted compression levels (see {@link lz4}). */
const LEVELS = { min: 1, max: 12, default: 1 } as const;

interface Lz4Exports {
  lz4_frames_size(src: number, len: number, scan: number): number;
  lz4_size_flags(): number;
  lz4_frames_decode(src: number, len: number, dst: number, cap: number): number;
  lz4_compress_bound(len: number): number;
  lz4_compress_frame(src: number, len: number, dst: number, level: number, checksum: number): number;
  lz4_xxh32(src: number, len: number, seed: number): number;
}

type Kernel = Instance<Lz4Exports>;

/** The engine over wasm/lz4.wasm. The input is staged at `base`, the output right after it. */
const engine = new Engine<Lz4Exports>({ codec: CODEC, module: 'lz4.wasm' });

/** The kernel's negative return codes (E_* in lz4.c). */
const ERRORS: Record<number, readonly [ErrorCode, string]> = {
  [-1]: ['ERR_TRUNCATED_INPUT', 'input ends inside an LZ4 frame'],
  [-3]: ['ERR_CHECKSUM_MISMATCH', 'LZ4 header, block or content checksum does not match'],
  [-4]: ['ERR_UNSUPPORTED', 'LZ4 frames with a dictionary id are not supported'],
  [-6]: ['ERR_TRAILING_DATA', 'bytes after the last LZ4 frame are not a frame'],
  [-7]: ['ERR_CORRUPT_INPUT', 'LZ4 content decodes to more bytes than its headers declare'],
};
const CORRUPT = ['ERR_CORRUPT_INPUT', 'input is not a valid LZ4 frame'] as const;

/** Where the output goes for an input of `n` bytes staged at `k.base`. */
function outputPtr(k: Kernel, n: number): number {
  return align16(k.base + n + SLACK);
}

const EXACT = 1;
const INCONSISTENT = 2;

/** Size of the staged input per its headers (scan: exact, by walking block tokens). */
function stagedSize(k: Kernel, n: number, scan: boolean): { bytes: number; flags: number } {
  const bytes = k.check(k.exports.lz4_frames_size(k.base, n, scan ? 1 : 0), ERRORS, CORRUPT);
  return { bytes, flags: k.exports.lz4_size_flags() };
}

function inconsistent(): CodecError {
  return new CodecError(CODEC, 'ERR_CORRUPT_INPUT', 'LZ4 content size is larger than its blocks can decode to');
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: Arena }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = decompressArgs(input, options);
  return engine.run((k) => {
    const n = input.length;
    k.write(input, k.base, SLACK);
    const dst = outputPtr(k, n);
    // Size the output from the headers before decoding. When that bound passes the limit (or WASM
    // memory) it may just be loose (every compressed block counted at its maximum size), so walk the
    // block tokens for the exact size: a bomb fails here, before any large allocation.
    let size = stagedSize(k, n, false);
    if ((size.bytes > limit || dst + size.bytes + SLACK > WASM32_MAX_BYTES) && (size.flags & EXACT) === 0) {
      size = stagedSize(k, n, true);
    }
    checkLimit(CODEC, size.bytes, limit);
    if (size.flags & INCONSISTENT) throw inconsistent();
    const out = options?.out;
    if (out !== undefined && options?.arena === undefined && size.flags & EXACT && out.length < size.bytes) {
      throw new CodecError(CODEC, 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${out.length} bytes is smaller than the ${size.bytes} decompressed bytes`);
    }
    k.ensure(dst + size.bytes + SLACK, 'the output');
    // The capacity never exceeds the limit, so content that lies about its size cannot pass it.
    const produced = k.check(k.exports.lz4_frames_decode(k.base, n, dst, size.bytes), ERRORS, CORRUPT);
    return deliver(CODEC, k.view(dst, produced, SLACK), options);
  });
}

type Arena = NonNullable<DecompressOptions['arena']>;

/**
 * Decompressed size from the frame headers: exact (`exact: true`) when every frame declares its
 * content size, else an upper bound (compressed blocks count as their frame's maximum block size,
 * stored blocks as their size). Throws a `CodecError` on malformed headers.
 */
function decompressedSize(input: Uint8Array): SizeHint {
  bytesArg('input', input);
  return engine.run((k) => {
    k.write(input, k.base, SLACK);
    const size = stagedSize(k, input.length, false);
    if (size.flags & INCONSISTENT) throw inconsistent();
    return { bytes: size.bytes, exact: (size.flags & EXACT) !== 0 };
  });
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
  const o = compressArgs<Lz4CompressOptions>(input, options);
  const level = levelArg(o, LEVELS);
  const checksum = booleanArg('contentChecksum', o.contentChecksum, false);
  if (input.length > 0x7fffffff) invalid('input', 'at most 2 GiB long', input);
  return engine.run((k) => {
    k.write(input, k.base, SLACK);
    const dst = outputPtr(k, input.length);
    k.ensure(dst + k.exports.lz4_compress_bound(input.length), 'compression');
    const written = k.exports.lz4_compress_frame(k.base, input.length, dst, level, checksum ? 1 : 0);
    return Buffer.from(k.view(dst, written));
  }, 'ERR_UNSUPPORTED');
}

/**
 * LZ4 frame codec (Kafka compression type 3), implemented in WebAssembly (wasm/src/lz4.c).
 *
 * - `decompress` reads one or more LZ4 frames (and skippable frames) as the Java client,
 *   librdkafka and the `lz4` CLI write them: 64 KiB to 4 MiB blocks, independent or linked,
 *   stored blocks, and with or without block checksums, content checksum and content size. Every
 *   checksum present is verified.
 * - `compress` writes one frame of 64 KiB independent blocks (what Kafka's Java producer uses)
 *   with the content size, and a content checksum only with `{ contentChecksum: true }`. `level`
 *   1 (default) is a fast greedy matcher with a 4096-entry hash table that skips ahead through
 *   incompressible data; levels 2..12 use a hash table of up to 65536 entries and probe every
 *   position (slightly smaller output, slower on small inputs). Levels above 2 do not differ from
 *   2; there is no LZ4-HC style search.
 */
export const lz4: Codec & { compress(input: Uint8Array, options?: Lz4CompressOptions): Buffer } = {
  name: 'lz4',
  kafkaType: 3,
  levels: LEVELS,
  decompress,
  compress,
  decompressedSize,
};

/** xxHash32 of `data` with `seed` (the checksum LZ4 frames use), computed in WebAssembly. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  bytesArg('data', data);
  integerArg('seed', seed, -(2 ** 31), 2 ** 32 - 1);
  return engine.run((k) => {
    k.write(data, k.base);
    return k.exports.lz4_xxh32(k.base, data.length, seed >>> 0) >>> 0;
  });
}
