import type { Lease } from '../arena';
import { CodecError } from '../errors';
import { DEFAULT_MAX_OUTPUT_BYTES, DecompressOptions } from './types';

/** The output limit in force for a call, validated. */
export function outputLimit(codec: string, options: DecompressOptions | undefined): number {
  const limit = options?.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new CodecError(codec, 'ERR_UNSUPPORTED', `maxOutputBytes must be a non-negative integer, got ${limit}`);
  }
  return limit;
}

/** Throws `ERR_OUTPUT_LIMIT` when `bytes` passes the limit. */
export function checkLimit(codec: string, bytes: number, limit: number): void {
  if (bytes > limit) {
    throw new CodecError(codec, 'ERR_OUTPUT_LIMIT', `decompressed size ${bytes} exceeds the limit of ${limit} bytes`);
  }
}

/**
 * Hands decoded bytes to the caller the way the options ask: copied into an arena lease, into
 * `out`, or into a new Buffer. `decoded` may be a view of WebAssembly memory; it is copied before
 * the next WASM call can move it.
 */
export function deliver(codec: string, decoded: Uint8Array, options: DecompressOptions | undefined): Buffer | Lease {
  const n = decoded.length;
  if (options?.arena) {
    const lease = options.arena.acquireSync(n);
    lease.bytes.set(decoded);
    return lease;
  }
  if (options?.out) {
    const out = options.out;
    if (out.length < n) {
      throw new CodecError(codec, 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${out.length} bytes is smaller than the ${n} decompressed bytes`);
    }
    out.set(decoded);
    return Buffer.from(out.buffer, out.byteOffset, n);
  }
  const copy = Buffer.allocUnsafe(n);
  copy.set(decoded);
  return copy;
}

/**
 * For decoders that write straight into the destination: a target of `capacity` bytes chosen
 * from the options, and `finish(n)` that returns the first `n` bytes in the caller's form.
 */
export function outputTarget(codec: string, capacity: number, options: DecompressOptions | undefined): { target: Uint8Array; finish(n: number): Buffer | Lease } {
  if (options?.arena) {
    const lease = options.arena.acquireSync(capacity);
    return {
      target: lease.bytes,
      finish(n) {
        lease.truncate(n);
        return lease;
      },
    };
  }
  if (options?.out) {
    const out = options.out;
    if (out.length < capacity) {
      throw new CodecError(codec, 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${out.length} bytes is smaller than the ${capacity} decompressed bytes`);
    }
    return { target: out, finish: (n) => Buffer.from(out.buffer, out.byteOffset, n) };
  }
  const buf = Buffer.allocUnsafe(capacity);
  return { target: buf, finish: (n) => buf.subarray(0, n) };
}
