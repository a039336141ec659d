import { LeaseError, ProtocolError } from '../errors';
import { MIN_RECORD_BYTES } from './layout';
import type { RecordBatch } from './batch';
import type { RecordIndex } from './record-index';
import { F_ATTRIBUTES, F_END, F_HEADER_COUNT, F_HEADERS_START, F_KEY_LENGTH, F_KEY_START, F_OFFSET_DELTA, F_VALUE_LENGTH, F_VALUE_START, INDEX_FIELDS, indexError } from './record-index';

/** A record's length field is at least the 6 one-byte fields after it. */
const MIN_RECORD_LENGTH = MIN_RECORD_BYTES - 1;

/*
 * The record view and its cursor, beside the varint readers they inline. These readers are
 * copies of src/protocol/varint.ts's (shaped for V8 to inline into the record loop, with the
 * error raised here); test/protocol/varint.test.ts checks that both agree on every input.
 */

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

/** Makes the view objects handed out for keys, values and header values. */
export type ViewFactory = (buffer: ArrayBufferLike, offset: number, length: number) => Uint8Array;

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

/**
 * @internal For tests: runs the inlined reader `kind` at `d[p]` within `end` and returns the value
 * and the position after it; throws `ERR_BAD_VARINT` as the record loop does.
 */
export function readInlined(kind: 'varint' | 'zigzag' | 'varlong', d: Uint8Array, p: number, end: number): { value: number; next: number } {
  const reader = kind === 'varint' ? varint : kind === 'zigzag' ? zigzag : varlong;
  const value = reader(d, p, end, kind, { position: 0 });
  return { value, next: vEnd };
}

/** What any use of a released batch, its cursors or their record views throws. */
export function releasedError(): LeaseError {
  return new LeaseError('ERR_LEASE_RELEASED', 'record batch used after release()');
}

// Set by the classes' static blocks: their constructors stay private.
let newView: <V extends Uint8Array>(batch: RecordBatch<V>, data: Uint8Array, makeView: ViewFactory) => RecordView<V>;
let newCursor: <V extends Uint8Array>(batch: RecordBatch<V>, data: Uint8Array, start: number, end: number, makeView: ViewFactory, index: RecordIndex | undefined) => RecordCursor<V>;


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

  static {
    newView = <W extends Uint8Array>(batch: RecordBatch<W>, data: Uint8Array, makeView: ViewFactory) => new RecordView<W>(batch, data, makeView);
  }

  /** Records are read through {@link RecordBatch.cursor} or by iterating a batch. */
  private constructor(batch: RecordBatch<V>, data: Uint8Array, makeView: ViewFactory) {
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
    if (this._batch.released) throw releasedError();
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
  // With a record index (built by a pool worker): its table, and the next record's row in it.
  #index: RecordIndex | undefined;
  #row = 0;

  static {
    newCursor = <W extends Uint8Array>(batch: RecordBatch<W>, data: Uint8Array, start: number, end: number, makeView: ViewFactory, index: RecordIndex | undefined) =>
      new RecordCursor<W>(batch, data, start, end, makeView, index);
  }

  /** Cursors come from {@link RecordBatch.cursor}. */
  private constructor(batch: RecordBatch<V>, data: Uint8Array, start: number, end: number, makeView: ViewFactory, index: RecordIndex | undefined) {
    this.#index = index;
    this.#batch = batch;
    this.#d = data;
    this.#p = start;
    this.#end = end;
    this.#left = batch.recordCount;
    this.#logAppend = batch.timestampType === 'LogAppendTime';
    this.#baseTs = batch.baseTimestamp;
    this.#maxTs = batch.maxTimestamp;
    this.record = newView<V>(batch, data, makeView);
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
    if (this.#index !== undefined) return this.#advanceIndexed(this.#index);
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
    if (len < MIN_RECORD_LENGTH || len > sectionEnd - p) {
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

  /** {@link advance} from the record index: the same fields, and the same error at the same record. */
  #advanceIndexed(index: RecordIndex): boolean {
    const i = this.#row;
    // In advance's order: the end of the section is checked before the release, a record after it.
    if (i === index.count && index.error === undefined) return false;
    if (i === this.#batch.recordCount) throw indexError(index.error!);
    if (this.#batch.released) throw releasedError();
    if (i === index.count) throw indexError(index.error!);
    const f = index.fields;
    const at = i * INDEX_FIELDS;
    const r = this.record;
    r.attributes = f[at + F_ATTRIBUTES];
    r.offsetDelta = f[at + F_OFFSET_DELTA];
    r.keyLength = f[at + F_KEY_LENGTH];
    r._keyStart = f[at + F_KEY_START];
    r.valueLength = f[at + F_VALUE_LENGTH];
    r._valueStart = f[at + F_VALUE_START];
    r.headerCount = f[at + F_HEADER_COUNT];
    r._headersStart = f[at + F_HEADERS_START];
    r._end = f[at + F_END];
    r._headers = undefined;
    r.timestamp = index.timestamps[i];
    this.#row = i + 1;
    return true;
  }
}


/** A view factory for revoked views: what a released batch leaves its record views. */
function revoked(): never {
  throw releasedError();
}

/**
 * @internal Called by a batch's release for each view its cursors made: key and value now throw
 * `ERR_LEASE_RELEASED` (through the factory, so the getters pay nothing for the check).
 */
export function revokeView(view: RecordView<Uint8Array>): void {
  view._view = revoked;
  view.keyLength = 0;
  view.valueLength = 0;
}

/** @internal A cursor over `data[start, end)`, the records section of `batch`. */
export function cursorOver<V extends Uint8Array>(batch: RecordBatch<V>, data: Uint8Array, start: number, end: number, makeView: ViewFactory, index?: RecordIndex): RecordCursor<V> {
  return newCursor(batch, data, start, end, makeView, index);
}
