import { Arena, Lease } from '../arena/arena';
import type { Codec } from '../codecs/types';
import { KafkaArenaError, ProtocolError } from '../errors';
import { booleanArg, bytesArg, integerArg, invalid, oneOfArg, optionsArg } from '../validate';
import { codecForType } from './compression';
import { crc32c } from './crc32c';
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_HEADER_AFTER_LENGTH,
  BATCH_LENGTH,
  BATCH_PREFIX_BYTES,
  COMPRESSION_MASK,
  CRC,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA,
  MAGIC,
  MAX_TIMESTAMP,
  MIN_RECORD_BYTES,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORD_COUNT,
  RECORDS,
} from './layout';
import { createBatch, createBatches, PartialBatch, RecordBatch, RecordBatches, RecordBatchHeader, ViewKind } from './batch';
import type { RecordIndex } from './record-index';

/** Options of {@link decodeRecordBatches}. */
export interface DecodeOptions {
  /**
   * Decompress compressed batches into leases of this arena (taken with `acquireSync`, never
   * waiting). Without it decompressed bytes go to plain Buffers. Uncompressed batches are always
   * read in place: their keys and values are views of the input.
   */
  arena?: Arena;
  /** Check each batch's CRC-32C. Default true. */
  verifyCrc?: boolean;
  /** Largest decompressed records section accepted per batch (`ERR_OUTPUT_LIMIT`). Default 256 MiB. */
  maxOutputBytes?: number;
  /**
   * Added to every reported position (batch `position`, error `position`, `partialBatch`): the
   * file offset of `bytes[0]` when decoding a piece of a log segment. Default 0.
   */
  basePosition?: number;
  /**
   * What keys, values and header values are: `'buffer'` (default) gives Buffers, `'uint8array'`
   * plain Uint8Array views of the same bytes. V8 builds a plain Uint8Array faster than a Buffer
   * (a Uint8Array subclass), and views are much of a tight loop's per-record cost; take them when
   * the bytes go to TextDecoder, a JSON parser or WASM anyway.
   */
  views?: ViewKind;
}

/** Options asking for plain Uint8Array views. */
export type Uint8ArrayViewOptions = DecodeOptions & { views: 'uint8array' };

/** @internal An int64 field as a number (exact within +-2^53): the timestamps. */
export function int64Number(dv: DataView, p: number): number {
  return dv.getInt32(p) * 4294967296 + dv.getUint32(p + 4);
}

/**
 * Decodes the concatenated RecordBatch v2 of a fetch partition's `records` bytes (or of a log
 * segment).
 *
 * - Batch headers are checked, CRCs verified and compressed batches decompressed now; records
 *   are decoded lazily when a batch is iterated (errors in them are thrown then).
 * - An incomplete trailing batch is not an error: see `partialBatch` / `truncatedBytes`.
 * - Errors are {@link ProtocolError}s with the batch `position`: `ERR_BAD_LENGTH`,
 *   `ERR_CRC_MISMATCH`, `ERR_UNSUPPORTED_MAGIC` (legacy MessageSet v0/v1),
 *   `ERR_UNKNOWN_COMPRESSION`, `ERR_BAD_VARINT`. Codec failures are wrapped into a ProtocolError
 *   that keeps the codec's code (`ERR_CORRUPT_INPUT`, `ERR_OUTPUT_LIMIT`, ...) and has the
 *   {@link CodecError} as `cause`. On error, batches already decompressed into leases are
 *   released.
 * - Uncompressed batches are read in place: keep `bytes` alive and unchanged while using them.
 */
export function decodeRecordBatches(bytes: Uint8Array, options: Uint8ArrayViewOptions): RecordBatches<Uint8Array>;
export function decodeRecordBatches(bytes: Uint8Array, options?: DecodeOptions): RecordBatches<Buffer>;
export function decodeRecordBatches(bytes: Uint8Array, options?: DecodeOptions): RecordBatches<Uint8Array> {
  bytesArg('bytes', bytes);
  const opts = checkOptions(options);
  const batches: RecordBatch<Uint8Array>[] = [];
  const base = opts.basePosition;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let p = 0;
  let partial: PartialBatch | undefined;
  try {
    while (p < n) {
      const left = n - p;
      if (left < BATCH_PREFIX_BYTES) {
        partial = { position: base + p, availableBytes: left, declaredBytes: -1 };
        if (left >= BATCH_LENGTH) partial.baseOffset = dv.getBigInt64(p + BASE_OFFSET);
        break;
      }
      const batchLength = dv.getInt32(p + BATCH_LENGTH);
      if (batchLength < 0) {
        throw new ProtocolError('ERR_BAD_LENGTH', `record batch: negative batchLength ${batchLength}`, base + p);
      }
      if (batchLength > left - BATCH_PREFIX_BYTES) {
        partial = { position: base + p, availableBytes: left, declaredBytes: BATCH_PREFIX_BYTES + batchLength, baseOffset: dv.getBigInt64(p + BASE_OFFSET) };
        break;
      }
      batches.push(decodeBatchAt(bytes, dv, p, batchLength, opts));
      p += BATCH_PREFIX_BYTES + batchLength;
    }
  } catch (err) {
    for (const b of batches) b.release();
    throw err;
  }
  return createBatches(batches, p, partial);
}

/**
 * Decodes the one complete batch at the start of `bytes` (see {@link decodeRecordBatches} for
 * errors and options). Throws `ERR_BAD_LENGTH` when `bytes` holds less than the whole batch.
 */
export function decodeRecordBatch(bytes: Uint8Array, options: Uint8ArrayViewOptions): RecordBatch<Uint8Array>;
export function decodeRecordBatch(bytes: Uint8Array, options?: DecodeOptions): RecordBatch<Buffer>;
export function decodeRecordBatch(bytes: Uint8Array, options?: DecodeOptions): RecordBatch<Uint8Array> {
  bytesArg('bytes', bytes);
  const opts = checkOptions(options);
  const base = opts.basePosition;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < BATCH_PREFIX_BYTES) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: ${bytes.length} bytes, less than the 12-byte prefix`, base);
  }
  const batchLength = dv.getInt32(BATCH_LENGTH);
  if (batchLength < 0 || batchLength > bytes.length - BATCH_PREFIX_BYTES) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: batchLength ${batchLength} but ${bytes.length - BATCH_PREFIX_BYTES} bytes follow`, base);
  }
  return decodeBatchAt(bytes, dv, 0, batchLength, opts);
}

/** The options, checked, with their defaults. */
export interface Checked {
  arena: Arena | undefined;
  verifyCrc: boolean;
  maxOutputBytes: number | undefined;
  basePosition: number;
  views: ViewKind;
}

function checkOptions(options: DecodeOptions | undefined): Checked {
  const o = optionsArg<DecodeOptions>('options', options);
  if (o.arena !== undefined && !(o.arena instanceof Arena)) invalid('arena', 'an Arena', o.arena);
  return {
    arena: o.arena,
    verifyCrc: booleanArg('verifyCrc', o.verifyCrc, true),
    // Checked by the codec, which owns its limits.
    maxOutputBytes: o.maxOutputBytes,
    basePosition: integerArg('basePosition', o.basePosition, 0, Number.MAX_SAFE_INTEGER, 0),
    views: oneOfArg('views', o.views, ['buffer', 'uint8array'], 'buffer'),
  };
}

/** Bytes from the batch start to the end of the magic byte. */
const THROUGH_MAGIC = MAGIC + 1 - BATCH_PREFIX_BYTES;

/**
 * @internal For the worker pool (src/pool): how a compressed batch's records section becomes
 * bytes. The default decompresses here; the pool hands over the lease a worker already filled
 * (or throws the error the worker met), so checks, error wrapping and batch objects stay the
 * ones of {@link decodeRecordBatch}.
 */
export type RecordsDecompressor = (codec: Codec, input: Uint8Array, options: Checked) => Buffer | Lease;

const decompressHere: RecordsDecompressor = (codec, input, options) =>
  options.arena !== undefined
    ? codec.decompress(input, { arena: options.arena, maxOutputBytes: options.maxOutputBytes })
    : codec.decompress(input, { maxOutputBytes: options.maxOutputBytes });

/**
 * @internal {@link decodeRecordBatch} (one complete batch at the start of `bytes`) with the pool's
 * decompressor, and the record index the worker built over its output, if it did.
 */
export function decodeRecordBatchWith(bytes: Uint8Array, options: DecodeOptions | undefined, decompress: RecordsDecompressor, index?: RecordIndex): RecordBatch<Uint8Array> {
  const opts = checkOptions(options);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeBatchAt(bytes, dv, 0, dv.getInt32(BATCH_LENGTH), opts, decompress, index);
}

function decodeBatchAt(
  bytes: Uint8Array,
  dv: DataView,
  p: number,
  batchLength: number,
  options: Checked,
  decompress: RecordsDecompressor = decompressHere,
  index?: RecordIndex,
): RecordBatch<Uint8Array> {
  const position = options.basePosition + p;
  const magic = batchLength >= THROUGH_MAGIC ? dv.getInt8(p + MAGIC) : -1;
  if (magic !== CURRENT_MAGIC) {
    if (magic === 0 || magic === 1) {
      throw new ProtocolError('ERR_UNSUPPORTED_MAGIC', `legacy MessageSet v${magic} (magic ${magic}) is not supported; only RecordBatch v2`, position);
    }
    if (batchLength >= THROUGH_MAGIC) throw new ProtocolError('ERR_UNSUPPORTED_MAGIC', `unknown magic byte ${magic}`, position);
  }
  if (batchLength < BATCH_HEADER_AFTER_LENGTH) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: batchLength ${batchLength} is smaller than the ${BATCH_HEADER_AFTER_LENGTH}-byte v2 header`, position);
  }
  const end = p + BATCH_PREFIX_BYTES + batchLength;
  const crc = dv.getUint32(p + CRC);
  if (options.verifyCrc) {
    const actual = crc32c(bytes, p + CRC_START, end);
    if (actual !== crc) {
      throw new ProtocolError('ERR_CRC_MISMATCH', `record batch: CRC-32C mismatch: stored 0x${hex32(crc)}, computed 0x${hex32(actual)}`, position);
    }
  }
  const attributes = dv.getInt16(p + ATTRIBUTES);
  const recordCount = dv.getInt32(p + RECORD_COUNT);
  if (recordCount < 0) throw new ProtocolError('ERR_BAD_LENGTH', `record batch: negative recordCount ${recordCount}`, position);
  const fields: RecordBatchHeader = {
    position,
    byteLength: BATCH_PREFIX_BYTES + batchLength,
    baseOffset: dv.getBigInt64(p + BASE_OFFSET),
    batchLength,
    partitionLeaderEpoch: dv.getInt32(p + PARTITION_LEADER_EPOCH),
    magic,
    crc,
    attributes,
    lastOffsetDelta: dv.getInt32(p + LAST_OFFSET_DELTA),
    baseTimestamp: int64Number(dv, p + BASE_TIMESTAMP),
    maxTimestamp: int64Number(dv, p + MAX_TIMESTAMP),
    producerId: dv.getBigInt64(p + PRODUCER_ID),
    producerEpoch: dv.getInt16(p + PRODUCER_EPOCH),
    baseSequence: dv.getInt32(p + BASE_SEQUENCE),
    recordCount,
  };
  const recordsStart = p + RECORDS;
  const type = attributes & COMPRESSION_MASK;
  let data: Uint8Array = bytes;
  let start = recordsStart;
  let stop = end;
  let lease: Lease | undefined;
  if (type !== 0) {
    const codec = codecForType(type, position);
    const input = bytes.subarray(recordsStart, end);
    try {
      const out = decompress(codec, input, options);
      if (out instanceof Lease) {
        lease = out;
        data = lease.bytes;
      } else {
        data = out;
      }
    } catch (err) {
      if (err instanceof KafkaArenaError && !(err instanceof ProtocolError)) {
        throw new ProtocolError(err.code, `record batch: ${codec.name} decompression failed: ${err.message}`, position, { cause: err });
      }
      throw err;
    }
    start = 0;
    stop = data.length;
  }
  if (recordCount > (stop - start) / MIN_RECORD_BYTES) {
    lease?.release();
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: recordCount ${recordCount} cannot fit in ${stop - start} bytes of records`, position);
  }
  // The index describes decompressed output only.
  return createBatch(fields, data, start, stop, lease, options.views, type !== 0 ? index : undefined);
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}
