import type { Arena, Lease } from '../arena';

/** Default cap on the decompressed size of one call: 256 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** Codec names (the registry, registry.ts, holds the codecs and their Kafka ids). */
export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Options for `decompress`. */
export interface DecompressOptions {
  /** Decompress into a lease of this arena (taken with `acquireSync`, so the call never waits). */
  arena?: Arena;
  /** Fail with `ERR_OUTPUT_LIMIT` when the output would exceed this. Default 256 MiB. */
  maxOutputBytes?: number;
  /**
   * Decompress into this buffer; the result is a Buffer view of its first bytes. Fails with
   * `ERR_OUTPUT_TOO_SMALL` when it is too small (ask `decompressedSize` first).
   */
  out?: Uint8Array;
}

/** Options for `compress`. */
export interface CompressOptions {
  /** Codec-specific level; each codec documents its range and default. */
  level?: number;
}

/** What an input says about its decompressed size, read from headers without decoding. */
export interface SizeHint {
  /** Bytes: the exact size when `exact`, else an upper bound. */
  bytes: number;
  /** True when the input declares its size (zstd content size, Snappy length, LZ4 content size). */
  exact: boolean;
}

/** The compression levels a codec's `compress` accepts. */
export interface LevelRange {
  readonly min: number;
  readonly max: number;
  /** The level used when none is given. */
  readonly default: number;
}

/** A Kafka compression codec. Every method is synchronous. */
export interface Codec {
  readonly name: CodecName;
  /** Kafka's compression type id. */
  readonly kafkaType: 1 | 2 | 3 | 4;
  /** The levels `compress` accepts; absent when the codec has none (snappy ignores `level`). */
  readonly levels?: LevelRange;
  /** With `arena`: a Lease of exactly the decompressed bytes, which the caller must release. */
  decompress(input: Uint8Array, options: DecompressOptions & { arena: Arena }): Lease;
  /** Without `arena`: a Buffer the caller owns (a view of `out` when given). */
  decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
  decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease;
  compress(input: Uint8Array, options?: CompressOptions): Buffer;
  /** The decompressed size, read from headers, exact or as an upper bound. Throws on bad input. */
  decompressedSize(input: Uint8Array): SizeHint;
}
