import { ArgumentError } from '../errors';
import { booleanArg, integerArg, invalid, oneOfArg, optionsArg } from '../validate';
import { codecForType, COMPRESSION_NAMES, compressionTypeOf, CompressionName } from './compression';
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
  invalid(what, 'a Buffer, Uint8Array, string or null', v);
}

function writeBytes(out: Buffer, p: number, v: BytesLike | null, len: number): number {
  p = writeVarint(out, p, len);
  if (v === null) return p;
  if (typeof v === 'string') out.write(v, p, len, 'utf8');
  else out.set(v, p);
  return p + len;
}

/** An int64 given as a bigint or a safe integer; `undefined` gives `fallback`. */
function int64Arg(name: string, v: unknown, fallback: bigint): bigint {
  if (v === undefined) return fallback;
  const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (b === undefined || b < -(1n << 63n) || b >= 1n << 63n) invalid(name, 'an int64 (a bigint or a safe integer)', v);
  return b;
}

function headerList(headers: HeadersInput | undefined, name: string): Array<{ key: string; value: HeaderValue }> {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) return headers as Array<{ key: string; value: HeaderValue }>;
  if (typeof headers !== 'object') invalid(name, 'an object or an array', headers);
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
export function encodeRecordBatch(records: readonly RecordInput[], options?: EncodeOptions): Buffer {
  if (!Array.isArray(records)) invalid('records', 'an array', records);
  const o = optionsArg<EncodeOptions>('options', options);
  const type = compressionTypeOf(oneOfArg('compression', o.compression, COMPRESSION_NAMES, 'none'));
  const baseOffset = int64Arg('baseOffset', o.baseOffset, 0n);
  const producerId = int64Arg('producerId', o.producerId, -1n);
  const producerEpoch = integerArg('producerEpoch', o.producerEpoch, -0x8000, 0x7fff, -1);
  const baseSequence = integerArg('baseSequence', o.baseSequence, INT32_MIN, INT32_MAX, -1);
  const leaderEpoch = integerArg('partitionLeaderEpoch', o.partitionLeaderEpoch, INT32_MIN, INT32_MAX, -1);
  const timestampType = oneOfArg<TimestampType>('timestampType', o.timestampType, ['CreateTime', 'LogAppendTime'], 'CreateTime');
  const transactional = booleanArg('transactional', o.transactional, false);
  const isControl = booleanArg('isControl', o.isControl, false);

  const n = records.length;
  let now: number | undefined;
  const tsOf = (r: RecordInput, i: number): number => {
    if (r.timestamp === undefined) return (now ??= Date.now());
    return integerArg(`records[${i}].timestamp`, r.timestamp, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  };
  const recordAt = (i: number): RecordInput => {
    const r = records[i];
    if (r === null || typeof r !== 'object') invalid(`records[${i}]`, 'an object', r);
    return r;
  };
  const baseTs = o.baseTimestamp === undefined ? (n > 0 ? tsOf(recordAt(0), 0) : -1) : integerArg('baseTimestamp', o.baseTimestamp, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  let maxTs = -Infinity;

  const prepared: Prepared[] = new Array(n);
  let sectionLen = 0;
  let prevDelta = -1;
  for (let i = 0; i < n; i++) {
    const r = recordAt(i);
    const ts = tsOf(r, i);
    if (ts > maxTs) maxTs = ts;
    const tsDelta = ts - baseTs;
    if (!Number.isSafeInteger(tsDelta)) {
      throw new ArgumentError(`"records[${i}].timestamp" is ${tsDelta} ms from the base timestamp, beyond 2^53`, `records[${i}].timestamp`);
    }
    const offsetDelta = integerArg(`records[${i}].offsetDelta`, r.offsetDelta ?? i, prevDelta + 1, INT32_MAX);
    prevDelta = offsetDelta;
    const key = r.key ?? null;
    const value = r.value === undefined ? null : r.value;
    const keyLen = byteLen(key, `records[${i}].key`);
    const valueLen = byteLen(value, `records[${i}].value`);
    const hs = headerList(r.headers, `records[${i}].headers`);
    const headers: Prepared['headers'] = new Array(hs.length);
    let bodyLen = 1 + sizeOfVarlong(tsDelta) + sizeOfVarint(offsetDelta) + sizeOfVarint(keyLen) + Math.max(keyLen, 0) + sizeOfVarint(valueLen) + Math.max(valueLen, 0) + sizeOfVarint(hs.length);
    for (let j = 0; j < hs.length; j++) {
      const h = hs[j];
      if (h === null || typeof h !== 'object' || typeof h.key !== 'string') invalid(`records[${i}].headers[${j}].key`, 'a string', h?.key);
      const hk = Buffer.byteLength(h.key, 'utf8');
      const hv = h.value === undefined ? null : h.value;
      const hvLen = byteLen(hv, `records[${i}].headers[${j}].value`);
      headers[j] = { key: h.key, keyLen: hk, value: hv, valueLen: hvLen };
      bodyLen += sizeOfVarint(hk) + hk + sizeOfVarint(hvLen) + Math.max(hvLen, 0);
    }
    if (bodyLen > INT32_MAX) throw new ArgumentError(`"records[${i}]" is larger than 2 GiB`, `records[${i}]`);
    prepared[i] = { tsDelta, offsetDelta, key, keyLen, value, valueLen, headers, bodyLen };
    sectionLen += sizeOfVarint(bodyLen) + bodyLen;
  }
  const maxTimestamp = integerArg('maxTimestamp', o.maxTimestamp, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, n > 0 ? maxTs : -1);
  const lastOffsetDelta = integerArg('lastOffsetDelta', o.lastOffsetDelta, INT32_MIN, INT32_MAX, n > 0 ? prevDelta : 0);

  // Uncompressed records go straight after the header; compressed ones via a scratch buffer.
  let out: Buffer;
  if (type === 0) {
    out = Buffer.allocUnsafe(L.RECORDS + sectionLen);
    writeRecords(out, L.RECORDS, prepared);
  } else {
    const section = Buffer.allocUnsafe(sectionLen);
    writeRecords(section, 0, prepared);
    const compressed = codecForType(type).compress(section, o.level === undefined ? undefined : { level: o.level });
    out = Buffer.allocUnsafe(L.RECORDS + compressed.length);
    out.set(compressed, L.RECORDS);
  }
  if (out.length - L.BATCH_PREFIX_BYTES > INT32_MAX) throw new ArgumentError('"records" make a batch larger than 2 GiB', 'records');

  let attributes = type;
  if (timestampType === 'LogAppendTime') attributes |= L.TIMESTAMP_TYPE_BIT;
  if (transactional) attributes |= L.TRANSACTIONAL_BIT;
  if (isControl) attributes |= L.CONTROL_BIT;

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
