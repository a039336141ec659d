import { ArgumentError } from '../errors';
import { codecForType, compressionTypeOf, CompressionName } from './compression';
import { crc32c } from './crc32c';
import * as L from './layout';
import type { TimestampType } from './layout';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint';

/** Bytes or text (UTF-8). */
export type BytesLike = Uint8Array | string;

/** A header value; null is a null header value. */
export type HeaderValue = BytesLike | null;

/** Headers as an object (kafkajs style; an array value gives repeated headers) or as a list. */
export type HeadersInput = { [key: string]: HeaderValue | HeaderValue[] } | ReadonlyArray<{ key: string; value: HeaderValue }>;

/** A record to encode. */
export interface RecordInput {
  key?: BytesLike | null;
  value: BytesLike | null;
  /** Milliseconds; default `Date.now()` (read once per batch). */
  timestamp?: number;
  headers?: HeadersInput;
  /** Offset relative to the batch base offset; default the record's index. Must increase. */
  offsetDelta?: number;
}

/** Options of {@link encodeRecordBatch}. */
export interface EncodeOptions {
  baseOffset?: bigint | number;
  compression?: CompressionName;
  /** Codec level, passed to the codec's `compress`. */
  level?: number;
  /** Default -1 (no idempotence). */
  producerId?: bigint | number;
  /** Default -1. */
  producerEpoch?: number;
  /** Default -1. */
  baseSequence?: number;
  transactional?: boolean;
  /** Marks a control batch (attributes bit 5). */
  isControl?: boolean;
  /** Default -1 (what producers send; the broker sets it). */
  partitionLeaderEpoch?: number;
  /** Default 'CreateTime'. */
  timestampType?: TimestampType;
  /** Default: the first record's timestamp (as Kafka's producer does), -1 for an empty batch. */
  baseTimestamp?: number;
  /** Default: the largest record timestamp, -1 for an empty batch. */
  maxTimestamp?: number;
  /** Default: the last record's offsetDelta (0 for an empty batch). */
  lastOffsetDelta?: number;
}

interface Prepared {
  tsDelta: number;
  offsetDelta: number;
  key: BytesLike | null;
  keyLen: number;
  value: BytesLike | null;
  valueLen: number;
  headers: Array<{ key: string; keyLen: number; value: HeaderValue; valueLen: number }>;
  bodyLen: number;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function byteLen(v: BytesLike | null, what: string): number {
  if (v === null) return -1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v instanceof Uint8Array) return v.length;
  throw new ArgumentError(`${what} must be a Buffer, Uint8Array, string or null, got ${typeof v}`);
}

function writeBytes(out: Buffer, p: number, v: BytesLike | null, len: number): number {
  p = writeVarint(out, p, len);
  if (v === null) return p;
  if (typeof v === 'string') out.write(v, p, len, 'utf8');
  else out.set(v, p);
  return p + len;
}

function checkInt(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new ArgumentError(`${what} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

function toBigInt64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (b === undefined || b < -(1n << 63n) || b >= 1n << 63n) throw new ArgumentError(`${what} must be an int64, got ${v}`);
  return b;
}

function headerList(headers: HeadersInput | undefined): Array<{ key: string; value: HeaderValue }> {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) return headers as Array<{ key: string; value: HeaderValue }>;
  if (typeof headers !== 'object') throw new ArgumentError(`headers must be an object or an array, got ${typeof headers}`);
  const out: Array<{ key: string; value: HeaderValue }> = [];
  for (const key of Object.keys(headers)) {
    const v = (headers as { [key: string]: HeaderValue | HeaderValue[] })[key];
    if (Array.isArray(v)) for (const one of v) out.push({ key, value: one });
    else out.push({ key, value: v });
  }
  return out;
}

function writeInt64Number(out: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  out.writeInt32BE(hi, p);
  out.writeUInt32BE(v - hi * 4294967296, p + 4);
}

/**
 * Encodes records as one RecordBatch v2 (magic 2) with its CRC-32C, optionally compressed.
 * Readable by Kafka brokers, librdkafka, kafkajs and {@link decodeRecordBatches}.
 * Throws `ERR_INVALID_ARGUMENT` for bad records or options.
 */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Buffer {
  if (!Array.isArray(records)) throw new ArgumentError('records must be an array');
  const compression = options.compression ?? 'none';
  const type = compressionTypeOf(compression);
  if (type < 0) throw new ArgumentError(`unknown compression '${compression}'`);
  const baseOffset = toBigInt64(options.baseOffset ?? 0n, 'baseOffset');
  const producerId = toBigInt64(options.producerId ?? -1n, 'producerId');
  const producerEpoch = checkInt(options.producerEpoch ?? -1, -0x8000, 0x7fff, 'producerEpoch');
  const baseSequence = checkInt(options.baseSequence ?? -1, INT32_MIN, INT32_MAX, 'baseSequence');
  const leaderEpoch = checkInt(options.partitionLeaderEpoch ?? -1, INT32_MIN, INT32_MAX, 'partitionLeaderEpoch');

  const n = records.length;
  let now: number | undefined;
  const tsOf = (r: RecordInput): number => {
    if (r.timestamp === undefined) return (now ??= Date.now());
    if (!Number.isSafeInteger(r.timestamp)) throw new ArgumentError(`timestamp must be a safe integer, got ${r.timestamp}`);
    return r.timestamp;
  };
  let baseTs = options.baseTimestamp ?? (n > 0 ? tsOf(records[0]) : -1);
  if (!Number.isSafeInteger(baseTs)) throw new ArgumentError(`baseTimestamp must be a safe integer, got ${baseTs}`);
  let maxTs = -Infinity;

  const prepared: Prepared[] = new Array(n);
  let sectionLen = 0;
  let prevDelta = -1;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    if (r === null || typeof r !== 'object') throw new ArgumentError(`record ${i} must be an object`);
    const ts = tsOf(r);
    if (ts > maxTs) maxTs = ts;
    const tsDelta = ts - baseTs;
    if (!Number.isSafeInteger(tsDelta)) throw new ArgumentError(`record ${i}: timestamp delta ${tsDelta} out of range`);
    const offsetDelta = checkInt(r.offsetDelta ?? i, 0, INT32_MAX, `record ${i} offsetDelta`);
    if (offsetDelta <= prevDelta) throw new ArgumentError(`record ${i}: offsetDelta ${offsetDelta} must be greater than the previous ${prevDelta}`);
    prevDelta = offsetDelta;
    const key = r.key ?? null;
    const value = r.value === undefined ? null : r.value;
    const keyLen = byteLen(key, `record ${i} key`);
    const valueLen = byteLen(value, `record ${i} value`);
    const hs = headerList(r.headers);
    const headers: Prepared['headers'] = new Array(hs.length);
    let bodyLen = 1 + sizeOfVarlong(tsDelta) + sizeOfVarint(offsetDelta) + sizeOfVarint(keyLen) + Math.max(keyLen, 0) + sizeOfVarint(valueLen) + Math.max(valueLen, 0) + sizeOfVarint(hs.length);
    for (let j = 0; j < hs.length; j++) {
      const h = hs[j];
      if (h === null || typeof h !== 'object' || typeof h.key !== 'string') throw new ArgumentError(`record ${i} header ${j}: key must be a string`);
      const hk = Buffer.byteLength(h.key, 'utf8');
      const hv = h.value === undefined ? null : h.value;
      const hvLen = byteLen(hv, `record ${i} header '${h.key}' value`);
      headers[j] = { key: h.key, keyLen: hk, value: hv, valueLen: hvLen };
      bodyLen += sizeOfVarint(hk) + hk + sizeOfVarint(hvLen) + Math.max(hvLen, 0);
    }
    if (bodyLen > INT32_MAX) throw new ArgumentError(`record ${i} is too large`);
    prepared[i] = { tsDelta, offsetDelta, key, keyLen, value, valueLen, headers, bodyLen };
    sectionLen += sizeOfVarint(bodyLen) + bodyLen;
  }
  if (options.baseTimestamp !== undefined) baseTs = options.baseTimestamp;
  const maxTimestamp = options.maxTimestamp ?? (n > 0 ? maxTs : -1);
  if (!Number.isSafeInteger(maxTimestamp)) throw new ArgumentError(`maxTimestamp must be a safe integer, got ${maxTimestamp}`);
  const lastOffsetDelta = checkInt(options.lastOffsetDelta ?? (n > 0 ? prevDelta : 0), INT32_MIN, INT32_MAX, 'lastOffsetDelta');

  // Uncompressed records go straight after the header; compressed ones via a scratch buffer.
  let out: Buffer;
  if (type === 0) {
    out = Buffer.allocUnsafe(L.RECORDS + sectionLen);
    writeRecords(out, L.RECORDS, prepared);
  } else {
    const section = Buffer.allocUnsafe(sectionLen);
    writeRecords(section, 0, prepared);
    const compressed = codecForType(type).compress(section, options.level === undefined ? undefined : { level: options.level });
    out = Buffer.allocUnsafe(L.RECORDS + compressed.length);
    out.set(compressed, L.RECORDS);
  }
  if (out.length - L.BATCH_PREFIX_BYTES > INT32_MAX) throw new ArgumentError('batch larger than 2 GiB');

  let attributes = type;
  if (options.timestampType === 'LogAppendTime') attributes |= L.TIMESTAMP_TYPE_BIT;
  else if (options.timestampType !== undefined && options.timestampType !== 'CreateTime') {
    throw new ArgumentError(`timestampType must be 'CreateTime' or 'LogAppendTime', got ${String(options.timestampType)}`);
  }
  if (options.transactional) attributes |= L.TRANSACTIONAL_BIT;
  if (options.isControl) attributes |= L.CONTROL_BIT;

  out.writeBigInt64BE(baseOffset, L.BASE_OFFSET);
  out.writeInt32BE(out.length - L.BATCH_PREFIX_BYTES, L.BATCH_LENGTH);
  out.writeInt32BE(leaderEpoch, L.PARTITION_LEADER_EPOCH);
  out.writeInt8(L.CURRENT_MAGIC, L.MAGIC);
  out.writeInt16BE(attributes, L.ATTRIBUTES);
  out.writeInt32BE(lastOffsetDelta, L.LAST_OFFSET_DELTA);
  writeInt64Number(out, L.BASE_TIMESTAMP, baseTs);
  writeInt64Number(out, L.MAX_TIMESTAMP, maxTimestamp);
  out.writeBigInt64BE(producerId, L.PRODUCER_ID);
  out.writeInt16BE(producerEpoch, L.PRODUCER_EPOCH);
  out.writeInt32BE(baseSequence, L.BASE_SEQUENCE);
  out.writeInt32BE(n, L.RECORD_COUNT);
  out.writeUInt32BE(crc32c(out, L.CRC_START, out.length), L.CRC);
  return out;
}

function writeRecords(out: Buffer, p: number, prepared: Prepared[]): void {
  for (let i = 0; i < prepared.length; i++) {
    const r = prepared[i];
    p = writeVarint(out, p, r.bodyLen);
    out[p++] = 0; // record attributes: unused
    p = writeVarlong(out, p, r.tsDelta);
    p = writeVarint(out, p, r.offsetDelta);
    p = writeBytes(out, p, r.key, r.keyLen);
    p = writeBytes(out, p, r.value, r.valueLen);
    p = writeVarint(out, p, r.headers.length);
    for (const h of r.headers) {
      p = writeVarint(out, p, h.keyLen);
      out.write(h.key, p, h.keyLen, 'utf8');
      p += h.keyLen;
      p = writeBytes(out, p, h.value, h.valueLen);
    }
  }
}
