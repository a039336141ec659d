import { constants as bufferConstants } from 'node:buffer';
import * as zlib from 'node:zlib';
import type { Lease } from '../arena';
import { ArgumentError, CodecError, ErrorCode } from '../errors';
import { checkLimit, deliver, outputLimit } from './output';
import type { Codec, CompressOptions, DecompressOptions, SizeHint } from './types';

/*
 * Wire grammar (RFC 1952), decoded by node:zlib:
 *   input  := member+
 *   member := 1F 8B 08 flags mtime(4) xfl os [extra] [name] [comment] [hcrc] deflate crc32(LE) isize(LE)
 * isize is the member's uncompressed length mod 2^32. Node's gunzip decodes concatenated members
 * and stops silently at zero bytes after a member; we report any undecoded bytes as trailing data.
 */

/** A member's fixed header (10 bytes) and trailer (8 bytes). */
const FRAMING = 18;
/** Smallest possible member: the framing around a 2-byte empty deflate stream. */
const MIN_MEMBER = FRAMING + 2;
/** Deflate's maximum expansion: a 258-byte match coded in 2 bits. */
const MAX_RATIO = 1032;
/** zlib's default output chunk (Z_DEFAULT_CHUNK) and its minimum (Z_MIN_CHUNK). */
const DEFAULT_CHUNK = 16 * 1024;
const MIN_CHUNK = 64;
/** Largest single chunk: bigger outputs arrive in several (node concatenates them). */
const MAX_CHUNK = 1024 * 1024 * 1024;
/** Kafka's default gzip level (-1, zlib's default) is level 6. */
const DEFAULT_LEVEL = 6;

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
  const isize = n >= MIN_MEMBER ? (input[n - 4] | (input[n - 3] << 8) | (input[n - 2] << 16) | (input[n - 1] << 24)) >>> 0 : 0;
  return Math.min(cap, Math.max(floor, isize + 1));
}

/** zlib's messages for a failed CRC-32 or ISIZE check of a member's trailer. */
const CHECK_MESSAGES = new Set(['incorrect data check', 'incorrect length check']);

function zlibError(err: unknown, input: Uint8Array, limit: number): CodecError {
  const e = err as { code?: string; message?: string };
  let code: ErrorCode = 'ERR_CORRUPT_INPUT';
  let message = `invalid gzip data (${e.message ?? String(err)})`;
  if (e.code === 'ERR_BUFFER_TOO_LARGE') {
    code = 'ERR_OUTPUT_LIMIT';
    message = `decompressed size exceeds the limit of ${limit} bytes`;
  } else if (e.code === 'Z_BUF_ERROR') {
    code = 'ERR_TRUNCATED_INPUT';
    message = 'input ends inside a gzip member';
  } else if (e.code === 'Z_DATA_ERROR' && CHECK_MESSAGES.has(e.message ?? '')) {
    code = 'ERR_CHECKSUM_MISMATCH';
    message = `member trailer does not match the data (${e.message})`;
  } else if (e.code === 'Z_DATA_ERROR' && e.message === 'incorrect header check' && input[0] === 0x1f && input[1] === 0x8b) {
    // The first member's magic was right, so zlib rejected the header of a following "member":
    // it finished at least one whole member (trailer checked) and found non-gzip bytes after it.
    code = 'ERR_TRAILING_DATA';
    message = 'non-gzip bytes follow the last member';
  }
  return new CodecError('gzip', code, message, { cause: err });
}

interface Inflated {
  buffer: Buffer;
  engine: zlib.Gunzip;
}

function gunzip(input: Uint8Array, limit: number): Inflated {
  return zlib.gunzipSync(input, {
    // zlib counts output as it goes and throws once it passes this: memory stays near the limit.
    maxOutputLength: Math.max(1, Math.min(limit, bufferConstants.MAX_LENGTH)),
    chunkSize: chunkSize(input, limit),
    info: true,
  }) as unknown as Inflated;
}

/**
 * zlib needs two bytes to reject a member header, so one stray byte after the last member reads
 * as a truncated member. On that error path only, check whether everything before the last byte
 * is complete gzip: then the byte is trailing data (unless it is 1F, a member's first byte).
 */
function strayLastByte(input: Uint8Array, limit: number, err: unknown): boolean {
  const n = input.length;
  if ((err as { code?: string }).code !== 'Z_BUF_ERROR' || n < MIN_MEMBER + 1 || input[n - 1] === 0x1f) return false;
  try {
    return gunzip(input.subarray(0, n - 1), limit).engine.bytesWritten === n - 1;
  } catch {
    return false;
  }
}

function decompress(input: Uint8Array, options: DecompressOptions & { arena: NonNullable<DecompressOptions['arena']> }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = outputLimit('gzip', options);
  let result: Inflated;
  try {
    result = gunzip(input, limit);
  } catch (err) {
    if (strayLastByte(input, limit, err)) {
      throw new CodecError('gzip', 'ERR_TRAILING_DATA', 'a stray byte follows the last member', { cause: err });
    }
    throw zlibError(err, input, limit);
  }
  const decoded = result.buffer;
  checkLimit('gzip', decoded.length, limit); // maxOutputLength cannot express a limit of 0
  if (result.engine.bytesWritten < input.length) {
    throw new CodecError('gzip', 'ERR_TRAILING_DATA', `${input.length - result.engine.bytesWritten} bytes follow the last member`);
  }
  // Already a Buffer the caller owns. It never pins a chunk much larger than itself: a successful
  // decode consumed the whole input, so the last 4 bytes were a verified ISIZE <= the output size.
  if (!options?.arena && !options?.out) return decoded;
  return deliver('gzip', decoded, options);
}

/**
 * gzip, Kafka compression type 1, on node:zlib.
 *
 * - `decompress` decodes every concatenated member. Output is bounded while decoding (zlib's
 *   `maxOutputLength`), so a bomb fails with `ERR_OUTPUT_LIMIT` after producing at most about
 *   `maxOutputBytes`. Errors carry zlib's error as `cause`: `ERR_TRUNCATED_INPUT` (input ends
 *   inside a member), `ERR_CHECKSUM_MISMATCH` (a member's CRC-32 or ISIZE trailer disagrees),
 *   `ERR_TRAILING_DATA` (bytes after the last member that do not start a member, including the
 *   zero padding node would skip), `ERR_CORRUPT_INPUT` (anything else), `ERR_OUTPUT_TOO_SMALL`.
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

  compress(input: Uint8Array, options?: CompressOptions): Buffer {
    const level = options?.level ?? DEFAULT_LEVEL;
    if (!Number.isInteger(level) || level < -1 || level > 9) {
      throw new ArgumentError(`gzip level must be an integer from -1 to 9, got ${level}`);
    }
    return zlib.gzipSync(input, { level });
  },

  decompressedSize(input: Uint8Array): SizeHint {
    if (input.length >= 2 && (input[0] !== 0x1f || input[1] !== 0x8b)) {
      throw new CodecError('gzip', 'ERR_CORRUPT_INPUT', 'input does not start with the gzip magic 1F 8B');
    }
    if (input.length < MIN_MEMBER) {
      throw new CodecError('gzip', 'ERR_TRUNCATED_INPUT', `input of ${input.length} bytes is shorter than the smallest gzip member`);
    }
    return { bytes: (input.length - FRAMING) * MAX_RATIO, exact: false };
  },
};
