import { bufferView } from '../buffer-view';
import { Lease } from '../arena/arena';
import type { Arena } from '../arena';
import type { Codec } from '../codecs/types';
import { KafkaArenaError, LeaseError, ProtocolError } from '../errors';
import { codecForType, COMPRESSION_NAMES, CompressionName } from './compression';
import { crc32c } from './crc32c';

/*
 * RecordBatch v2 (magic 2), as stored in log segments and returned in the `records` field of a
 * fetch partition (several batches back to back, the last one possibly cut short):
 *
 *   RecordBatch =>
 *     baseOffset           int64
 *     batchLength          int32    bytes after this field
 *     partitionLeaderEpoch int32
 *     magic                int8     2 (0 and 1 are the legacy MessageSet formats)
 *     crc                  uint32   CRC-32C of attributes .. end of batch
 *     attributes           int16    bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
 *                                   bit 3 timestamp type (0 CreateTime, 1 LogAppendTime)
 *                                   bit 4 transactional, bit 5 control, bit 6 delete horizon set
 *     lastOffsetDelta      int32
 *     baseTimestamp        int64
 *     maxTimestamp         int64
 *     producerId           int64
 *     producerEpoch        int16
 *     baseSequence         int32
 *     recordCount          int32
 *     records              [Record] recordCount records; compressed as a whole when bits 0-2 != 0
 *
 *   Record =>
 *     length               varint   bytes after this field
 *     attributes           int8     unused
 *     timestampDelta       varlong
 *     offsetDelta          varint
 *     keyLength            varint   -1 = null key
 *     key                  bytes
 *     valueLength          varint   -1 = null value
 *     value                bytes
 *     headerCount          varint
 *     headers              [Header]
 *
 *   Header =>
 *     headerKeyLength      varint
 *     headerKey            utf-8 string
 *     headerValueLength    varint   -1 = null value
 *     headerValue          bytes
 */

/** Bytes before `batchLength` ends: baseOffset + batchLength. */
export const BATCH_PREFIX_BYTES = 12;
/** Bytes of a v2 batch header after the `batchLength` field, up to and including `recordCount`. */
export const BATCH_HEADER_AFTER_LENGTH = 49;
/** Bytes of a whole v2 batch header (61). */
export const BATCH_HEADER_BYTES = BATCH_PREFIX_BYTES + BATCH_HEADER_AFTER_LENGTH;
/** Smallest encoded record: 1-byte length and 6 one-byte fields. */
const MIN_RECORD_BYTES = 7;
const CRC_START = 21; // attributes, relative to the batch start

/** Kafka's timestamp types (attributes bit 3). */
export type TimestampType = 'CreateTime' | 'LogAppendTime';

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
   * plain Uint8Array views of the same bytes. Alone, V8 builds a plain Uint8Array in about half
   * the time of a Buffer (a Uint8Array subclass), and views are most of a tight loop's per-record
   * cost (the full decode benchmark gained 0-22 % between runs); take them when the bytes go to
   * TextDecoder, a JSON parser or WASM anyway.
   */
  views?: ViewKind;
}

/** The view types {@link DecodeOptions.views} can ask for. */
export type ViewKind = 'buffer' | 'uint8array';

/** Options asking for plain Uint8Array views. */
export type Uint8ArrayViewOptions = DecodeOptions & { views: 'uint8array' };

/** The incomplete batch at the end of the input (fetch responses are cut at `max_bytes`). */
export interface PartialBatch {
  /** Position of its first byte (plus `basePosition`). */
  position: number;
  /** Bytes present. */
  availableBytes: number;
  /** Whole size it declares (12 + batchLength), or -1 when even the 12-byte prefix is cut. */
  declaredBytes: number;
  /** Its base offset, when the 8 bytes are present. */
  baseOffset?: bigint;
}

/** A header of a record. `value` is a view of the batch memory. */
export interface RecordHeader<V extends Uint8Array = Buffer> {
  key: string;
  value: V | null;
}

/** A standalone record, from `RecordView.toObject()` or `RecordBatch.records()`. */
export interface DecodedRecord<V extends Uint8Array = Buffer> {
  offset: bigint;
  offsetDelta: number;
  timestamp: number;
  attributes: number;
  key: V | null;
  value: V | null;
  headers: RecordHeader<V>[];
}

/**
 * Buffers handed out for keys, values and header values. A subclass of Uint8Array whose prototype
 * chain includes Buffer.prototype, so the objects are real Buffers (`Buffer.isBuffer`,
 * `instanceof Buffer`, every Buffer method) but are created with a plain typed-array construction
 * (about 2x cheaper than `subarray()`, which goes through Buffer's species constructor).
 */
const view = bufferView;

/** A plain Uint8Array view (`views: 'uint8array'`). */
function uint8View(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array {
  return new Uint8Array(buffer, offset, length);
}

type ViewFactory = (buffer: ArrayBufferLike, offset: number, length: number) => Uint8Array;

/** What the error helpers need of a batch: where it starts. */
interface Positioned {
  readonly position: number;
}

// Out-parameter of the varint readers below: the position after the value read. Module state so
// the hot loop needs no result object; nothing in between can re-enter.
let vEnd = 0;

function badVarint(what: string, batch: Positioned, p: number): ProtocolError {
  return new ProtocolError('ERR_BAD_VARINT', `record batch: malformed or truncated ${what} varint at records byte ${p}`, batch.position);
}

function badLength(msg: string, batch: Positioned): ProtocolError {
  return new ProtocolError('ERR_BAD_LENGTH', `record batch: ${msg}`, batch.position);
}

/** Zigzag varint (<= 5 bytes) at d[p] within `end`; sets vEnd. */
function varint(d: Uint8Array, p: number, end: number, what: string, batch: Positioned): number {
  if (p < end) {
    const b0 = d[p];
    if (b0 < 0x80) {
      vEnd = p + 1;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    let raw = b0 & 0x7f;
    const stop = Math.min(end, p + 5);
    for (let i = p + 1, shift = 7; i < stop; i++, shift += 7) {
      const b = d[i];
      raw |= (b & 0x7f) << shift;
      if (b < 0x80) {
        vEnd = i + 1;
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
  }
  throw badVarint(what, batch, p);
}

/**
 * Zigzag varint at d[p] within `end` (sets vEnd), with inline paths for the one- and two-byte
 * encodings (-64..63 and -8192..8191) that cover nearly every length and delta in real records;
 * small enough for V8 to inline into the record loop.
 */
function zigzag(d: Uint8Array, p: number, end: number, what: string, batch: Positioned): number {
  const b0 = p < end ? d[p] : 0x80;
  if (b0 < 0x80) {
    vEnd = p + 1;
    return (b0 >>> 1) ^ -(b0 & 1);
  }
  const b1 = p + 1 < end ? d[p + 1] : 0x80;
  if (b1 < 0x80) {
    vEnd = p + 2;
    const raw = (b0 & 0x7f) | (b1 << 7);
    return (raw >>> 1) ^ -(raw & 1);
  }
  return varint(d, p, end, what, batch);
}

/** Zigzag varlong (<= 10 bytes) at d[p] within `end`, as a number (exact in the safe range); sets vEnd. */
function varlong(d: Uint8Array, p: number, end: number, what: string, batch: Positioned): number {
  if (p < end) {
    const b0 = d[p];
    if (b0 < 0x80) {
      vEnd = p + 1;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    let lo = b0 & 0x7f;
    let hi = 0;
    let scale = 1;
    const stop = Math.min(end, p + 10);
    for (let i = p + 1, k = 1; i < stop; i++, k++) {
      const b = d[i];
      if (k < 4) lo |= (b & 0x7f) << (7 * k);
      else {
        hi += (b & 0x7f) * scale;
        scale *= 0x80;
      }
      if (b < 0x80) {
        vEnd = i + 1;
        const mag = (lo >>> 1) + hi * 0x8000000;
        return lo & 1 ? -mag - 1 : mag;
      }
    }
  }
  throw badVarint(what, batch, p);
}

function int64Number(dv: DataView, p: number): number {
  return dv.getInt32(p) * 4294967296 + dv.getUint32(p + 4);
}

/**
 * A record of a batch, as seen through a cursor. Iterating a batch yields ONE such object per
 * iteration, updated in place as the iteration advances (a flyweight): read what you need inside
 * the loop, or call `toObject()` to keep a standalone copy. `key`, `value` and header values are
 * Buffers (plain Uint8Arrays with `views: 'uint8array'`) that view the batch memory (no copy);
 * they stay valid until the batch is released.
 */
export class RecordView<V extends Uint8Array = Buffer> {
  /** @internal */ _batch: RecordBatch<V>;
  /** @internal */ _view: ViewFactory;
  /** @internal */ _data: Uint8Array;
  /** @internal */ _ab: ArrayBufferLike;
  /** @internal */ _abOffset: number;
  /** Record attributes byte (unused by Kafka today). */
  attributes = 0;
  /** Offset relative to the batch's base offset. */
  offsetDelta = 0;
  /** Timestamp in ms (the batch maxTimestamp for LogAppendTime batches). */
  timestamp = 0;
  /** Key length in bytes, -1 for a null key. */
  keyLength = -1;
  /** Value length in bytes, -1 for a null value. */
  valueLength = -1;
  /** Number of headers. */
  headerCount = 0;
  /** @internal */ _keyStart = 0;
  /** @internal */ _valueStart = 0;
  /** @internal */ _headersStart = 0;
  /** @internal */ _end = 0;
  /** @internal */ _headers: RecordHeader<V>[] | undefined = undefined;

  /** @internal */
  constructor(batch: RecordBatch<V>, data: Uint8Array, makeView: ViewFactory) {
    this._batch = batch;
    this._view = makeView;
    this._data = data;
    // Cached: reading .buffer/.byteOffset per key/value access costs more than the fields.
    this._ab = data.buffer;
    this._abOffset = data.byteOffset;
  }

  /** Absolute offset: baseOffset + offsetDelta (a bigint, computed on each read). */
  get offset(): bigint {
    return this._batch.baseOffset + BigInt(this.offsetDelta);
  }

  /** The key, a view of the batch memory, or null. */
  get key(): V | null {
    return this.keyLength < 0 ? null : (this._view(this._ab, this._abOffset + this._keyStart, this.keyLength) as V);
  }

  /** The value, a view of the batch memory, or null. */
  get value(): V | null {
    return this.valueLength < 0 ? null : (this._view(this._ab, this._abOffset + this._valueStart, this.valueLength) as V);
  }

  /** The headers in wire order (duplicates kept), decoded on first access for this record. */
  get headers(): RecordHeader<V>[] {
    return (this._headers ??= this._decodeHeaders());
  }

  /** A standalone copy of the current record's fields (key/value still view the batch memory). */
  toObject(): DecodedRecord<V> {
    return {
      offset: this.offset,
      offsetDelta: this.offsetDelta,
      timestamp: this.timestamp,
      attributes: this.attributes,
      key: this.key,
      value: this.value,
      headers: this.headers,
    };
  }

  /** @internal */
  _decodeHeaders(): RecordHeader<V>[] {
    const n = this.headerCount;
    const out: RecordHeader<V>[] = [];
    if (n === 0) return out;
    const d = this._data;
    const end = this._end;
    const batch = this._batch;
    let p = this._headersStart;
    for (let i = 0; i < n; i++) {
      const kl = varint(d, p, end, 'header key length', batch);
      p = vEnd;
      if (kl < 0 || kl > end - p) throw badLength(`header key length ${kl} outside the record`, batch);
      const key = (d as Buffer).toString('utf8', p, p + kl);
      p += kl;
      const vl = varint(d, p, end, 'header value length', batch);
      p = vEnd;
      let value: V | null = null;
      if (vl >= 0) {
        if (vl > end - p) throw badLength(`header value length ${vl} outside the record`, batch);
        value = this._view(d.buffer, d.byteOffset + p, vl) as V;
        p += vl;
      } else if (vl !== -1) throw badLength(`header value length ${vl}`, batch);
      out.push({ key, value });
    }
    if (p !== end) throw badLength(`record has ${end - p} bytes after its headers`, batch);
    return out;
  }
}

/**
 * Iterator over a batch's records. `next()` returns the same {@link RecordView} object each time,
 * advanced to the next record.
 */
export class RecordCursor<V extends Uint8Array = Buffer> implements IterableIterator<RecordView<V>> {
  /** The current record (valid after `next()` returned `done: false`). */
  readonly record: RecordView<V>;
  #batch: RecordBatch<V>;
  #p: number;
  #end: number;
  #left: number;
  #d: Uint8Array;
  #logAppend: boolean;
  #baseTs: number;
  #maxTs: number;
  // Returned by every next(): the value is the same flyweight anyway.
  #result: IteratorResult<RecordView<V>>;

  /** @internal */
  constructor(batch: RecordBatch<V>, data: Uint8Array, start: number, end: number, makeView: ViewFactory) {
    this.#batch = batch;
    this.#d = data;
    this.#p = start;
    this.#end = end;
    this.#left = batch.recordCount;
    this.#logAppend = batch.timestampType === 'LogAppendTime';
    this.#baseTs = batch.baseTimestamp;
    this.#maxTs = batch.maxTimestamp;
    this.record = new RecordView<V>(batch, data, makeView);
    this.#result = { done: false, value: this.record };
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<RecordView<V>> {
    if (this.advance()) return this.#result;
    return { done: true, value: undefined };
  }

  /**
   * Moves to the next record; false at the end. The fastest way to walk a batch:
   * `for (const c = batch.cursor(); c.advance(); ) use(c.record)`.
   */
  advance(): boolean {
    const batch = this.#batch;
    if (this.#left === 0) {
      if (this.#p !== this.#end) {
        throw badLength(`${this.#end - this.#p} bytes after the last of ${batch.recordCount} records`, batch);
      }
      return false;
    }
    if (batch.released) throw releasedError();
    const d = this.#d;
    const sectionEnd = this.#end;
    let p = this.#p;
    const r = this.record;

    // Record length: checked against the section, then every field read stays within the record.
    if (p >= sectionEnd) {
      throw badLength(`records end after ${batch.recordCount - this.#left} of ${batch.recordCount} records`, batch);
    }
    const len = zigzag(d, p, sectionEnd, 'record length', batch);
    p = vEnd;
    if (len < MIN_RECORD_BYTES - 1 || len > sectionEnd - p) {
      throw badLength(`record length ${len} at records byte ${p} outside the ${sectionEnd - p} bytes left`, batch);
    }
    const end = p + len;
    r.attributes = d[p++];
    // The length check above guarantees the 6 one-byte minimum of the fields below.
    let tsDelta: number;
    const b0 = d[p];
    const b1 = d[p + 1];
    if (b0 < 0x80) {
      tsDelta = (b0 >>> 1) ^ -(b0 & 1);
      p++;
    } else if (b1 < 0x80) {
      const raw = (b0 & 0x7f) | (b1 << 7);
      tsDelta = (raw >>> 1) ^ -(raw & 1);
      p += 2;
    } else {
      tsDelta = varlong(d, p, end, 'timestamp delta', batch);
      p = vEnd;
    }
    r.offsetDelta = zigzag(d, p, end, 'offset delta', batch);
    p = vEnd;
    const kl = zigzag(d, p, end, 'key length', batch);
    p = vEnd;
    if (kl >= 0) {
      if (kl > end - p) throw badLength(`key length ${kl} outside the record`, batch);
      r._keyStart = p;
      p += kl;
    } else if (kl !== -1) throw badLength(`key length ${kl}`, batch);
    r.keyLength = kl;
    const vl = zigzag(d, p, end, 'value length', batch);
    p = vEnd;
    if (vl >= 0) {
      if (vl > end - p) throw badLength(`value length ${vl} outside the record`, batch);
      r._valueStart = p;
      p += vl;
    } else if (vl !== -1) throw badLength(`value length ${vl}`, batch);
    r.valueLength = vl;
    const hc = zigzag(d, p, end, 'header count', batch);
    p = vEnd;
    // Each header takes at least 2 bytes; the headers themselves are decoded lazily.
    if (hc < 0 || hc * 2 > end - p) throw badLength(`header count ${hc} does not fit the record`, batch);
    if (hc === 0 && p !== end) throw badLength(`record has ${end - p} bytes after its fields`, batch);
    r.headerCount = hc;
    r._headersStart = p;
    r._end = end;
    r._headers = undefined;
    r.timestamp = this.#logAppend ? this.#maxTs : this.#baseTs + tsDelta;
    this.#p = end;
    this.#left--;
    return true;
  }
}

function releasedError(): LeaseError {
  return new LeaseError('ERR_LEASE_RELEASED', 'record batch used after release()');
}

/** The fixed fields of a v2 batch header, plus where the batch sits in the input. */
export interface RecordBatchHeader {
  position: number;
  byteLength: number;
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/**
 * One decoded RecordBatch v2: the header fields, and its records, decoded lazily on iteration.
 *
 * Offsets (`baseOffset`, `producerId`, record `offset`) are bigints; timestamps are numbers of ms
 * (exact for every value in the safe integer range, i.e. any real date; int64 values beyond
 * +-2^53 are rounded).
 */
export class RecordBatch<V extends Uint8Array = Buffer> implements RecordBatchHeader, Iterable<RecordView<V>> {
  /** Position of the batch's first byte in the input (plus `basePosition`). */
  readonly position: number;
  /** Whole size of the batch in the input: 12 + batchLength. */
  readonly byteLength: number;
  readonly baseOffset: bigint;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  /** The stored CRC-32C (unsigned). */
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  /** First timestamp of the batch (ms). For batches with `hasDeleteHorizon` it is the delete horizon. */
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
  /** Size of the records section after decompression. */
  readonly recordsByteLength: number;
  #data: Uint8Array;
  #start: number;
  #end: number;
  #lease: Lease | undefined;
  #released = false;
  #view: ViewFactory;

  /** @internal Use {@link decodeRecordBatches}. */
  constructor(fields: RecordBatchHeader, data: Uint8Array, start: number, end: number, lease: Lease | undefined, views: ViewKind = 'buffer') {
    this.position = fields.position;
    this.byteLength = fields.byteLength;
    this.baseOffset = fields.baseOffset;
    this.batchLength = fields.batchLength;
    this.partitionLeaderEpoch = fields.partitionLeaderEpoch;
    this.magic = fields.magic;
    this.crc = fields.crc;
    this.attributes = fields.attributes;
    this.lastOffsetDelta = fields.lastOffsetDelta;
    this.baseTimestamp = fields.baseTimestamp;
    this.maxTimestamp = fields.maxTimestamp;
    this.producerId = fields.producerId;
    this.producerEpoch = fields.producerEpoch;
    this.baseSequence = fields.baseSequence;
    this.recordCount = fields.recordCount;
    this.recordsByteLength = end - start;
    // One Buffer view of the memory per batch, so header keys can use Buffer#toString.
    this.#data = view(data.buffer, data.byteOffset, data.length);
    this.#start = start;
    this.#end = end;
    this.#lease = lease;
    this.#view = views === 'uint8array' ? uint8View : bufferView;
  }

  /** Kafka compression type id (attributes bits 0-2). */
  get compressionType(): number {
    return this.attributes & 7;
  }
  /** 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'. */
  get compression(): CompressionName {
    return COMPRESSION_NAMES[this.attributes & 7];
  }
  get timestampType(): TimestampType {
    return this.attributes & 8 ? 'LogAppendTime' : 'CreateTime';
  }
  get isTransactional(): boolean {
    return (this.attributes & 0x10) !== 0;
  }
  /** A control batch (transaction markers); its records carry a control key. */
  get isControl(): boolean {
    return (this.attributes & 0x20) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & 0x40) !== 0;
  }
  /** Alias of `baseTimestamp` (kafkajs's name). */
  get firstTimestamp(): number {
    return this.baseTimestamp;
  }
  /** baseOffset + lastOffsetDelta. */
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  /** The offset after the batch: where the next fetch starts. */
  get nextOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta) + 1n;
  }
  /** True after `release()`. */
  get released(): boolean {
    return this.#released;
  }

  /** A new cursor over the records (see {@link RecordCursor.advance}). */
  cursor(): RecordCursor<V> {
    if (this.#released) throw releasedError();
    return new RecordCursor<V>(this, this.#data, this.#start, this.#end, this.#view);
  }

  /** Iterates the records; yields one reused {@link RecordView} object per iteration (see its docs). */
  [Symbol.iterator](): RecordCursor<V> {
    return this.cursor();
  }

  /** Calls `fn` for each record, with the reused {@link RecordView} object. */
  forEach(fn: (record: RecordView<V>, index: number) => void): void {
    const c = this.cursor();
    for (let i = 0; c.advance(); i++) fn(c.record, i);
  }

  /** Every record as a standalone object (allocates one object per record). */
  records(): DecodedRecord<V>[] {
    const out: DecodedRecord<V>[] = [];
    for (const c = this.cursor(); c.advance(); ) out.push(c.record.toObject());
    return out;
  }

  /**
   * Gives back the batch's memory: the decompression lease, if any. Views obtained from a batch
   * decoded into an arena read as empty afterwards. Idempotent: later calls do nothing. Using
   * the batch after release throws `ERR_LEASE_RELEASED`.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const lease = this.#lease;
    this.#lease = undefined;
    this.#data = EMPTY;
    this.#start = this.#end = 0;
    lease?.release();
  }
}

const EMPTY = new Uint8Array(0);

/** The result of {@link decodeRecordBatches}: the complete batches, and what was left over. */
export class RecordBatches<V extends Uint8Array = Buffer> implements Iterable<RecordBatch<V>> {
  /** The complete batches, in input order. */
  readonly batches: RecordBatch<V>[];
  /** Bytes consumed by the complete batches. */
  readonly byteLength: number;
  /** Trailing bytes that do not form a complete batch (0 when the input ends on a batch boundary). */
  readonly truncatedBytes: number;
  /** The incomplete trailing batch, if any. */
  readonly partialBatch: PartialBatch | undefined;

  /** @internal */
  constructor(batches: RecordBatch<V>[], byteLength: number, partial: PartialBatch | undefined) {
    this.batches = batches;
    this.byteLength = byteLength;
    this.partialBatch = partial;
    this.truncatedBytes = partial ? partial.availableBytes : 0;
  }

  /** Number of complete batches. */
  get length(): number {
    return this.batches.length;
  }

  /** Records over all batches (the sum of `recordCount`). */
  get recordCount(): number {
    let n = 0;
    for (const b of this.batches) n += b.recordCount;
    return n;
  }

  [Symbol.iterator](): Iterator<RecordBatch<V>> {
    return this.batches[Symbol.iterator]();
  }

  /** Releases every batch (idempotent). */
  release(): void {
    for (const b of this.batches) b.release();
  }
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
export function decodeRecordBatches(bytes: Uint8Array, options: DecodeOptions = {}): RecordBatches<Uint8Array> {
  const batches: RecordBatch<Uint8Array>[] = [];
  const base = options.basePosition ?? 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let p = 0;
  let partial: PartialBatch | undefined;
  try {
    while (p < n) {
      const left = n - p;
      if (left < BATCH_PREFIX_BYTES) {
        partial = { position: base + p, availableBytes: left, declaredBytes: -1 };
        if (left >= 8) partial.baseOffset = dv.getBigInt64(p);
        break;
      }
      const batchLength = dv.getInt32(p + 8);
      if (batchLength < 0) {
        throw new ProtocolError('ERR_BAD_LENGTH', `record batch: negative batchLength ${batchLength}`, base + p);
      }
      if (batchLength > left - BATCH_PREFIX_BYTES) {
        partial = { position: base + p, availableBytes: left, declaredBytes: BATCH_PREFIX_BYTES + batchLength, baseOffset: dv.getBigInt64(p) };
        break;
      }
      batches.push(decodeBatchAt(bytes, dv, p, batchLength, base, options));
      p += BATCH_PREFIX_BYTES + batchLength;
    }
  } catch (err) {
    for (const b of batches) b.release();
    throw err;
  }
  return new RecordBatches(batches, p, partial);
}

/**
 * Decodes the one complete batch at the start of `bytes` (see {@link decodeRecordBatches} for
 * errors and options). Throws `ERR_BAD_LENGTH` when `bytes` holds less than the whole batch.
 */
export function decodeRecordBatch(bytes: Uint8Array, options: Uint8ArrayViewOptions): RecordBatch<Uint8Array>;
export function decodeRecordBatch(bytes: Uint8Array, options?: DecodeOptions): RecordBatch<Buffer>;
export function decodeRecordBatch(bytes: Uint8Array, options: DecodeOptions = {}): RecordBatch<Uint8Array> {
  const base = options.basePosition ?? 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < BATCH_PREFIX_BYTES) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: ${bytes.length} bytes, less than the 12-byte prefix`, base);
  }
  const batchLength = dv.getInt32(8);
  if (batchLength < 0 || batchLength > bytes.length - BATCH_PREFIX_BYTES) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: batchLength ${batchLength} but ${bytes.length - BATCH_PREFIX_BYTES} bytes follow`, base);
  }
  return decodeBatchAt(bytes, dv, 0, batchLength, base, options);
}

/**
 * @internal For the worker pool (src/pool): how a compressed batch's records section becomes
 * bytes. The default decompresses here; the pool hands over the lease a worker already filled
 * (or throws the error the worker met), so checks, error wrapping and batch objects stay the
 * ones of {@link decodeRecordBatch}.
 */
export type RecordsDecompressor = (codec: Codec, input: Uint8Array, options: DecodeOptions) => Buffer | Lease;

const decompressHere: RecordsDecompressor = (codec, input, options) =>
  options.arena ? codec.decompress(input, { arena: options.arena, maxOutputBytes: options.maxOutputBytes }) : codec.decompress(input, { maxOutputBytes: options.maxOutputBytes });

/** @internal {@link decodeRecordBatch} (one complete batch at the start of `bytes`) with the pool's decompressor. */
export function decodeRecordBatchWith(bytes: Uint8Array, options: DecodeOptions, decompress: RecordsDecompressor): RecordBatch<Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeBatchAt(bytes, dv, 0, dv.getInt32(8), options.basePosition ?? 0, options, decompress);
}

function decodeBatchAt(
  bytes: Uint8Array,
  dv: DataView,
  p: number,
  batchLength: number,
  base: number,
  options: DecodeOptions,
  decompress: RecordsDecompressor = decompressHere,
): RecordBatch<Uint8Array> {
  const position = base + p;
  const magic = batchLength >= 5 ? dv.getInt8(p + 16) : -1;
  if (magic !== 2) {
    if (magic === 0 || magic === 1) {
      throw new ProtocolError('ERR_UNSUPPORTED_MAGIC', `legacy MessageSet v${magic} (magic ${magic}) is not supported; only RecordBatch v2`, position);
    }
    if (batchLength >= 5) throw new ProtocolError('ERR_UNSUPPORTED_MAGIC', `unknown magic byte ${magic}`, position);
  }
  if (batchLength < BATCH_HEADER_AFTER_LENGTH) {
    throw new ProtocolError('ERR_BAD_LENGTH', `record batch: batchLength ${batchLength} is smaller than the ${BATCH_HEADER_AFTER_LENGTH}-byte v2 header`, position);
  }
  const end = p + BATCH_PREFIX_BYTES + batchLength;
  const crc = dv.getUint32(p + 17);
  if (options.verifyCrc !== false) {
    const actual = crc32c(bytes, p + CRC_START, end);
    if (actual !== crc) {
      throw new ProtocolError('ERR_CRC_MISMATCH', `record batch: CRC-32C mismatch: stored 0x${hex32(crc)}, computed 0x${hex32(actual)}`, position);
    }
  }
  const attributes = dv.getInt16(p + 21);
  const recordCount = dv.getInt32(p + 57);
  if (recordCount < 0) throw new ProtocolError('ERR_BAD_LENGTH', `record batch: negative recordCount ${recordCount}`, position);
  const fields: RecordBatchHeader = {
    position,
    byteLength: BATCH_PREFIX_BYTES + batchLength,
    baseOffset: dv.getBigInt64(p),
    batchLength,
    partitionLeaderEpoch: dv.getInt32(p + 12),
    magic,
    crc,
    attributes,
    lastOffsetDelta: dv.getInt32(p + 23),
    baseTimestamp: int64Number(dv, p + 27),
    maxTimestamp: int64Number(dv, p + 35),
    producerId: dv.getBigInt64(p + 43),
    producerEpoch: dv.getInt16(p + 51),
    baseSequence: dv.getInt32(p + 53),
    recordCount,
  };
  const recordsStart = p + BATCH_HEADER_BYTES;
  const type = attributes & 7;
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
  return new RecordBatch<Uint8Array>(fields, data, start, stop, lease, options.views);
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}
