import { constants as bufferConstants } from 'node:buffer';
import * as zlib from 'node:zlib';
import type { Lease } from '../arena';
import { CodecError, ErrorCode } from '../errors';
import { bytesArg } from '../validate';
import { checkLimit, compressArgs, decompressArgs, deliver, levelArg } from './output';
import type { Codec, CompressOptions, DecompressOptions, SizeHint } from './types';

/*
 * Wire grammar (RFC 1952):
 *   input  := member+
 *   member := 1F 8B 08 flags mtime(4) xfl os [extra] [name] [comment] [hcrc] deflate crc32(LE) isize(LE)
 * isize is the member's uncompressed length mod 2^32. We walk the members ourselves (header in JS,
 * the deflate data by node:zlib's raw inflate, which reports where it ended, then the trailer), so
 * every byte is decoded once and any byte after the last member is reported as trailing data.
 */

/** A member's fixed header (10 bytes) and trailer (8 bytes). */
const FRAMING = 18;
const HEADER = 10;
const TRAILER = 8;
/** Smallest possible member: the framing around a 2-byte empty deflate stream. */
const MIN_MEMBER = FRAMING + 2;
/** Deflate's maximum expansion: a 258-byte match coded in 2 bits. */
const MAX_RATIO = 1032;
/** zlib's default output chunk (Z_DEFAULT_CHUNK) and its minimum (Z_MIN_CHUNK). */
const DEFAULT_CHUNK = 16 * 1024;
const MIN_CHUNK = 64;
/** Largest single chunk: bigger outputs arrive in several (node concatenates them). */
const MAX_CHUNK = 1024 * 1024 * 1024;
/** zlib's levels; Kafka's default (-1, zlib's default) is level 6. */
const LEVELS = { min: -1, max: 9, default: 6 } as const;
/** Header flags (RFC 1952 2.3.1); the top three bits are reserved. */
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const FRESERVED = 0xe0;

/**
 * The output chunk size for zlib. The last member's ISIZE usually is the exact output size; then
 * the output is one chunk, returned without node's final concatenation. ISIZE is untrusted, so
 * the chunk is capped by what the input can possibly expand to and by the limit, and floored so a
 * forged tiny ISIZE cannot force thousands of tiny chunks.
 */
function chunkSize(input: Uint8Array, limit: number): number {
  const n = input.length;
  const cap = Math.max(MIN_CHUNK, Math.min(limit + 1, n * MAX_RATIO + 1, MAX_CHUNK));
  const floor = Math.min(DEFAULT_CHUNK, Math.max(MIN_CHUNK, 8 * n));
  const isize = n >= MIN_MEMBER ? readU32(input, n - 4) : 0;
  return Math.min(cap, Math.max(floor, isize + 1));
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function fail(code: ErrorCode, message: string, cause?: unknown): CodecError {
  return new CodecError('gzip', code, message, cause === undefined ? undefined : { cause });
}

/** Offset of the deflate data of the member whose header starts at `pos`. */
function skipHeader(input: Uint8Array, pos: number): number {
  const n = input.length;
  const cut = () => fail('ERR_TRUNCATED_INPUT', 'input ends inside a gzip member header');
  if (pos < n && input[pos] !== 0x1f) throw fail('ERR_CORRUPT_INPUT', 'input does not start with the gzip magic 1F 8B');
  if (pos + 1 < n && input[pos + 1] !== 0x8b) throw fail('ERR_CORRUPT_INPUT', 'input does not start with the gzip magic 1F 8B');
  if (pos + HEADER > n) throw cut();
  if (input[pos + 2] !== 8) throw fail('ERR_CORRUPT_INPUT', `unknown compression method ${input[pos + 2]} (8 is deflate)`);
  const flags = input[pos + 3];
  if (flags & FRESERVED) throw fail('ERR_CORRUPT_INPUT', 'reserved header flags are set');
  let p = pos + HEADER;
  if (flags & FEXTRA) {
    if (p + 2 > n) throw cut();
    p += 2 + (input[p] | (input[p + 1] << 8));
  }
  for (const field of [FNAME, FCOMMENT]) {
    if (flags & field) {
      const zero = input.indexOf(0, p);
      if (zero < 0) throw cut();
      p = zero + 1;
    }
  }
  if (flags & FHCRC) {
    if (p + 2 > n) throw cut();
    if ((zlib.crc32(input.subarray(pos, p)) & 0xffff) !== (input[p] | (input[p + 1] << 8))) {
      throw fail('ERR_CHECKSUM_MISMATCH', 'member header CRC does not match the header');
    }
    p += 2;
  }
  if (p > n) throw cut();
  return p;
}

function zlibError(err: unknown, limit: number): CodecError {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ERR_BUFFER_TOO_LARGE') return fail('ERR_OUTPUT_LIMIT', `decompressed size exceeds the limit of ${limit} bytes`, err);
  if (e.code === 'Z_BUF_ERROR') return fail('ERR_TRUNCATED_INPUT', 'input ends inside a gzip member', err);
  return fail('ERR_CORRUPT_INPUT', `invalid deflate data (${e.message ?? String(err)})`, err);
}

interface Inflated {
  buffer: Buffer;
  engine: zlib.InflateRaw;
}

/** Every member of `input`, each header, deflate stream and trailer read once; the trailers are checked. */
function inflateMembers(input: Uint8Array, limit: number): Buffer {
  const n = input.length;
  const chunk = chunkSize(input, limit);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  do {
    const start = skipHeader(input, pos);
    let inflated: Inflated;
    try {
      inflated = zlib.inflateRawSync(input.subarray(start), {
        // zlib counts output as it goes and throws once it passes this: memory stays near the limit.
        maxOutputLength: Math.max(1, Math.min(limit - total, bufferConstants.MAX_LENGTH)),
        chunkSize: chunk,
        info: true,
      }) as unknown as Inflated;
    } catch (err) {
      throw zlibError(err, limit);
    }
    const out = inflated.buffer;
    const end = start + inflated.engine.bytesWritten;
    if (end + TRAILER > n) throw fail('ERR_TRUNCATED_INPUT', 'input ends inside a gzip member trailer');
    if (readU32(input, end) !== zlib.crc32(out) || readU32(input, end + 4) !== out.length >>> 0) {
      throw fail('ERR_CHECKSUM_MISMATCH', 'member trailer (CRC-32 or ISIZE) does not match the data');
    }
    parts.push(out);
    total += out.length;
    pos = end + TRAILER;
    // What follows must be another member (a lone 1F is one cut short); anything else is trailing.
    if (pos < n && (input[pos] !== 0x1f || (pos + 1 < n && input[pos + 1] !== 0x8b))) {
      throw fail('ERR_TRAILING_DATA', `${n - pos} bytes follow the last member`);
    }
  } while (pos < n);
  checkLimit('gzip', total, limit); // maxOutputLength cannot express a limit of 0
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: NonNullable<DecompressOptions['arena']> }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = decompressArgs(input, options);
  const decoded = inflateMembers(input, limit);
  // Already a Buffer the caller owns. It never pins a chunk much larger than itself: a successful
  // decode consumed the whole input, so the last 4 bytes were a verified ISIZE <= the output size.
  if (!options?.arena && !options?.out) return decoded;
  return deliver('gzip', decoded, options);
}

/**
 * gzip, Kafka compression type 1, on node:zlib.
 *
 * - `decompress` decodes every concatenated member, reading each byte once. Output is bounded
 *   while decoding (zlib's `maxOutputLength`), so a bomb fails with `ERR_OUTPUT_LIMIT` after
 *   producing at most about `maxOutputBytes`. Errors: `ERR_TRUNCATED_INPUT` (input ends inside a
 *   member), `ERR_CHECKSUM_MISMATCH` (a member's CRC-32 or ISIZE trailer, or its header CRC,
 *   disagrees), `ERR_TRAILING_DATA` (bytes after the last member that do not start a member,
 *   including the zero padding node's gunzip would skip), `ERR_CORRUPT_INPUT` (anything else),
 *   `ERR_OUTPUT_TOO_SMALL`; those raised by zlib on the deflate data carry its error as `cause`.
 *   With `arena` or `out` the output is decoded by zlib and then copied once into the target.
 * - `compress` writes one member. `level` is zlib's 0–9 or -1; the default is 6, which is what
 *   Kafka's default (-1, "zlib default") means.
 * - `decompressedSize` returns `{ bytes: 1032 × (input length − 18), exact: false }`, a true
 *   upper bound (deflate expands at most 1032:1), and checks the first member's magic. It does
 *   not report ISIZE: ISIZE is the size of the last member only, is taken mod 2^32 and is not
 *   authenticated, so it is neither exact nor an upper bound. `decompress` uses it internally as
 *   an untrusted buffer-sizing hint only.
 */
export const gzip: Codec = {
  name: 'gzip',
  kafkaType: 1,
  decompress,

  levels: LEVELS,

  compress(input: Uint8Array, options?: CompressOptions): Buffer {
    const level = levelArg(compressArgs(input, options), LEVELS);
    return zlib.gzipSync(input, { level });
  },

  decompressedSize(input: Uint8Array): SizeHint {
    bytesArg('input', input);
    if (input.length >= 2 && (input[0] !== 0x1f || input[1] !== 0x8b)) {
      throw new CodecError('gzip', 'ERR_CORRUPT_INPUT', 'input does not start with the gzip magic 1F 8B');
    }
    if (input.length < MIN_MEMBER) {
      throw new CodecError('gzip', 'ERR_TRUNCATED_INPUT', `input of ${input.length} bytes is shorter than the smallest gzip member`);
    }
    return { bytes: (input.length - FRAMING) * MAX_RATIO, exact: false };
  },
};
