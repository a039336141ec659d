import type { Codec } from '../codecs/types';

/** Deflate's maximum expansion (gzip's decompressedSize bound is this times the input). */
const GZIP_MIN_MEMBER = 18;

/**
 * The lease to take before a job is sent: the decompressed size, from the input's headers, read
 * on the main thread (a header walk; for lz4 and snappy a copy into their WASM memory). Returns
 * undefined when no lease should be taken up front: the headers are bad (the worker then meets
 * the error the synchronous call throws), the declared size passes the limit (same), or the
 * limit itself is invalid (same). The worker sends its own buffer back when the guess was short.
 */
export function outputGuess(codec: Codec, input: Uint8Array, limit: number): number | undefined {
  if (!Number.isSafeInteger(limit) || limit < 0) return undefined;
  let hint;
  try {
    hint = codec.decompressedSize(input);
  } catch {
    return undefined;
  }
  let bytes = hint.bytes;
  if (codec.name === 'gzip' && input.length >= GZIP_MIN_MEMBER) {
    // gzip's bound (1032x) is useless for sizing; the last member's ISIZE is the usual exact
    // size of a one-member batch, and a wrong one only costs the worker's fallback.
    const n = input.length;
    const isize = (input[n - 4] | (input[n - 3] << 8) | (input[n - 2] << 16) | (input[n - 1] << 24)) >>> 0;
    if (isize <= bytes) bytes = isize;
  }
  if (bytes > limit) return hint.exact ? undefined : limit;
  return bytes;
}
