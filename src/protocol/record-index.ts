/*
 * The record index: what a cursor reads of each record (lengths, field positions,
 * timestamp), built where a batch was decompressed, so that the thread iterating the batch reads
 * a compact table instead of walking varints through bytes it has never touched. A pool worker
 * builds it right after decompressing (the bytes are still in its cache) with the cursor's own
 * code, so the records, the values and the error met (at the same record) are the ones the
 * synchronous cursor gives. Internal: nothing here is exported from the package.
 */
import { ProtocolError } from '../errors';
import { COMPRESSION_MASK, TIMESTAMP_TYPE_BIT } from './layout';
import { cursorOver } from './record-view';
import type { RecordBatch } from './batch';

/** Int32 fields per record, in this order. */
export const F_ATTRIBUTES = 0;
export const F_OFFSET_DELTA = 1;
export const F_KEY_LENGTH = 2;
export const F_KEY_START = 3;
export const F_VALUE_LENGTH = 4;
export const F_VALUE_START = 5;
export const F_HEADER_COUNT = 6;
export const F_HEADERS_START = 7;
export const F_END = 8;
export const INDEX_FIELDS = 9;
/** Memory per record: the int32 fields and a float64 timestamp. */
export const INDEX_BYTES_PER_RECORD = INDEX_FIELDS * 4 + 8;
/**
 * Records smaller than this on average get no index: the table would be a large fraction of
 * the bytes (up to 6x for 7-byte records), memory no budget counts, for little saved per record.
 */
export const MIN_INDEXED_RECORD_BYTES = 96;

/** What the thread that iterates needs to know of the batch. */
export interface IndexedBatchHeader {
  position: number;
  recordCount: number;
  attributes: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

/** The error the cursor throws after the indexed records, as it crosses threads. */
export interface IndexError {
  code: ProtocolError['code'];
  message: string;
  position: number;
}

/** The records of a batch, read ahead; `error` is what the cursor throws after the `count` records. Both tables share one ArrayBuffer. */
export interface RecordIndex {
  count: number;
  fields: Int32Array;
  timestamps: Float64Array;
  error?: IndexError;
}

/** Whether a batch of `recordCount` records in `bytes` decompressed bytes is worth an index. */
export function wantsIndex(recordCount: number, bytes: number): boolean {
  return recordCount > 0 && bytes >= recordCount * MIN_INDEXED_RECORD_BYTES;
}

/** Bytes to reserve after `outputBytes` of output for the index of `recordCount` records placed there (see {@link indexPlace}). */
export function indexRoom(recordCount: number, outputBytes: number): number {
  return wantsIndex(recordCount, outputBytes) ? 7 + recordCount * INDEX_BYTES_PER_RECORD : 0;
}

/**
 * Where the index of `recordCount` records fits in `buffer` after `used` bytes (8-byte aligned)
 * and before `limit` (the bytes the caller may write), or undefined.
 */
export function indexPlace(buffer: ArrayBuffer, used: number, recordCount: number, limit: number): { buffer: ArrayBuffer; offset: number } | undefined {
  const offset = Math.ceil(used / 8) * 8;
  return Math.min(limit, buffer.byteLength) - offset >= recordCount * INDEX_BYTES_PER_RECORD ? { buffer, offset } : undefined;
}

/**
 * Walks the records of `data[start, end)` with the synchronous cursor and tables what it reads.
 * Stops at the end or at the first error, which it keeps. The tables go `into` the given
 * memory (8-byte aligned offset) or into a new ArrayBuffer.
 */
export function buildRecordIndex(data: Uint8Array, start: number, end: number, header: IndexedBatchHeader, into?: { buffer: ArrayBuffer; offset: number }): RecordIndex {
  const n = header.recordCount;
  // One piece of memory for both tables: the timestamps first, 8-byte aligned.
  const memory = into?.buffer ?? new ArrayBuffer(n * INDEX_BYTES_PER_RECORD);
  const at = into?.offset ?? 0;
  const timestamps = new Float64Array(memory, at, n);
  const fields = new Int32Array(memory, at + n * 8, n * INDEX_FIELDS);
  // The cursor reads only these members of its batch. This thread never sees a real batch, so
  // the cursor's property loads stay monomorphic here.
  const batch = {
    position: header.position,
    recordCount: n,
    baseTimestamp: header.baseTimestamp,
    maxTimestamp: header.maxTimestamp,
    released: false,
    timestampType: header.attributes & TIMESTAMP_TYPE_BIT ? 'LogAppendTime' : 'CreateTime',
    compressionType: header.attributes & COMPRESSION_MASK,
  } as unknown as RecordBatch<Uint8Array>;
  const c = cursorOver(batch, data, start, end, noView);
  const r = c.record;
  let i = 0;
  try {
    for (let f = 0; c.advance(); i++, f += INDEX_FIELDS) {
      fields[f + F_ATTRIBUTES] = r.attributes;
      fields[f + F_OFFSET_DELTA] = r.offsetDelta;
      fields[f + F_KEY_LENGTH] = r.keyLength;
      fields[f + F_KEY_START] = r._keyStart;
      fields[f + F_VALUE_LENGTH] = r.valueLength;
      fields[f + F_VALUE_START] = r._valueStart;
      fields[f + F_HEADER_COUNT] = r.headerCount;
      fields[f + F_HEADERS_START] = r._headersStart;
      fields[f + F_END] = r._end;
      timestamps[i] = r.timestamp;
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { count: i, fields, timestamps, error: { code: err.code, message: err.message, position: err.position } };
  }
  return { count: i, fields, timestamps };
}

/** The error an index ends with, as a new ProtocolError each time (as the cursor throws a new one each call). */
export function indexError(e: IndexError): ProtocolError {
  const err = new ProtocolError(e.code, '', e.position);
  err.message = e.message;
  return err;
}

function noView(): never {
  throw new Error('kafka-arena internal: the record index makes no views');
}
