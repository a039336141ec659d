/**
 * Every error kafka-arena throws is a {@link KafkaArenaError} with a stable string `code`.
 * Match on `code`, never on `message`: messages may be reworded, codes will not change.
 */

/**
 * Every stable error code, at run time (for a metrics label whitelist or an exhaustive switch).
 * Codes are added over time; an existing one never changes meaning.
 */
export const ERROR_CODES = Object.freeze([
  // Leases and the arena
  'ERR_LEASE_RELEASED',
  'ERR_DOUBLE_RELEASE',
  'ERR_ARENA_CLOSED',
  'ERR_INVALID_ARGUMENT',
  'ERR_ABORTED',
  'ERR_QUEUE_CLOSED',
  'ERR_OVER_BUDGET',
  // Codecs
  'ERR_CORRUPT_INPUT',
  'ERR_TRUNCATED_INPUT',
  'ERR_TRAILING_DATA',
  'ERR_CHECKSUM_MISMATCH',
  'ERR_OUTPUT_LIMIT',
  'ERR_OUTPUT_TOO_SMALL',
  'ERR_UNSUPPORTED',
  // Record batches
  'ERR_CRC_MISMATCH',
  'ERR_BAD_LENGTH',
  'ERR_BAD_VARINT',
  'ERR_UNSUPPORTED_MAGIC',
  'ERR_UNKNOWN_COMPRESSION',
  // Worker pool
  'ERR_POOL_CLOSED',
  'ERR_WORKER_EXITED',
] as const);

/** Stable error codes. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Marks kafka-arena errors across module instances: two installed copies of the package (a
 * dependency's and the application's) have two KafkaArenaError classes, so `instanceof` fails
 * between them; the registered symbol does not.
 */
const BRAND = Symbol.for('kafka-arena.error');

/** True for an error thrown by any copy of kafka-arena (unlike `instanceof`, which sees one copy). */
export function isKafkaArenaError(value: unknown): value is KafkaArenaError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Base class of every error kafka-arena throws. */
export class KafkaArenaError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** @internal The cross-copy brand read by {@link isKafkaArenaError}. */
  get [BRAND](): true {
    return true;
  }
}

/** Misuse of a lease or the arena: use after release, double release, closed arena. */
export class LeaseError extends KafkaArenaError {}

/** Invalid options or arguments. `argument` names the one at fault, where there is one. */
export class ArgumentError extends KafkaArenaError {
  /** The argument or option at fault (for example `maxOutputBytes`), or undefined. */
  readonly argument: string | undefined;

  constructor(message: string, argument?: string) {
    super('ERR_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/** Compressed input that cannot be decoded, or that would expand past the configured limit. */
export class CodecError extends KafkaArenaError {
  /** Codec that raised the error: 'zstd' | 'lz4' | 'snappy' | 'gzip'. */
  readonly codec: string;

  constructor(codec: string, code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${codec}: ${message}`, options);
    this.codec = codec;
  }
}

/** Malformed RecordBatch bytes. `offset` is the byte position of the batch in the input. */
export class ProtocolError extends KafkaArenaError {
  /** Byte position (in the input given to the decoder) of the batch that failed. */
  readonly position: number;

  constructor(code: ErrorCode, message: string, position: number, options?: { cause?: unknown }) {
    super(code, `${message} (at byte ${position})`, options);
    this.position = position;
  }
}

/**
 * A worker pool job that did not run to its end: `ERR_POOL_CLOSED` (the pool was closed with the
 * job queued or in flight) or `ERR_WORKER_EXITED` (its worker thread died). The job's memory
 * was given back.
 */
export class PoolError extends KafkaArenaError {}
