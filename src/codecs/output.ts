import type { Lease } from '../arena';
import { CodecError } from '../errors';
import { bytesArg, integerArg, invalid, optionsArg } from '../validate';
import { CompressOptions, DEFAULT_MAX_OUTPUT_BYTES, DecompressOptions, LevelRange } from './types';

/**
 * Validates the arguments of a `decompress` call (the input, and the options `arena`, `out`,
 * `maxOutputBytes`) and returns the output limit in force.
 */
export function decompressArgs(input: unknown, options: unknown): number {
  bytesArg('input', input);
  const o = optionsArg<DecompressOptions>('options', options);
  if (o.arena !== undefined && typeof (o.arena as { acquireSync?: unknown } | null)?.acquireSync !== 'function') invalid('arena', 'an Arena', o.arena);
  if (o.out !== undefined) bytesArg('out', o.out);
  return integerArg('maxOutputBytes', o.maxOutputBytes, 0, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_OUTPUT_BYTES);
}

/** Validates the arguments of a `compress` call and returns its options, for the codec's own. */
export function compressArgs<O extends CompressOptions>(input: unknown, options: unknown): Partial<O> {
  bytesArg('input', input);
  return optionsArg<O>('options', options);
}

/** The `level` option in `range`; absent gives the range's default. */
export function levelArg(options: CompressOptions, range: LevelRange): number {
  return integerArg('level', options.level, range.min, range.max, range.default);
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
