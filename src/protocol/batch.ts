import { bufferView } from '../buffer-view';
import type { Lease } from '../arena';
import { COMPRESSION_NAMES, CompressionName } from './compression';
import { COMPRESSION_MASK, CONTROL_BIT, DELETE_HORIZON_BIT, TIMESTAMP_TYPE_BIT, TimestampType, TRANSACTIONAL_BIT } from './layout';
import { cursorOver, releasedError, revokeView, RecordCursor, RecordView, DecodedRecord, ViewFactory } from './record-view';
import type { RecordIndex } from './record-index';

/** The view types {@link DecodeOptions.views} can ask for. */
export type ViewKind = 'buffer' | 'uint8array';

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

/** A plain Uint8Array view (`views: 'uint8array'`). */
function uint8View(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array {
  return new Uint8Array(buffer, offset, length);
}

// Set by the classes' static blocks: their constructors stay private.
let newBatch: (fields: RecordBatchHeader, data: Uint8Array, start: number, end: number, lease: Lease | undefined, views: ViewKind | undefined, index: RecordIndex | undefined) => RecordBatch<Uint8Array>;
let newBatches: (batches: RecordBatch<Uint8Array>[], byteLength: number, partial: PartialBatch | undefined) => RecordBatches<Uint8Array>;

/**
 * @internal For the decoder: a batch over `data[start, end)`, owning `lease` when given; its
 * cursors read `index` (built over the same bytes by a pool worker) when given.
 */
export function createBatch(
  fields: RecordBatchHeader,
  data: Uint8Array,
  start: number,
  end: number,
  lease: Lease | undefined,
  views: ViewKind | undefined,
  index?: RecordIndex,
): RecordBatch<Uint8Array> {
  return newBatch(fields, data, start, end, lease, views, index);
}

/** @internal For the decoder: the result of one decode call. */
export function createBatches(batches: RecordBatch<Uint8Array>[], byteLength: number, partial: PartialBatch | undefined): RecordBatches<Uint8Array> {
  return newBatches(batches, byteLength, partial);
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
  /** The record view of every cursor made, revoked on release. */
  #views: RecordView<V>[] = [];
  #view: ViewFactory;
  #index: RecordIndex | undefined;

  static {
    newBatch = (fields, data, start, end, lease, views, index) => new RecordBatch<Uint8Array>(fields, data, start, end, lease, views, index);
  }

  /** Batches come from {@link decodeRecordBatches} and {@link decodeRecordBatch}. */
  private constructor(fields: RecordBatchHeader, data: Uint8Array, start: number, end: number, lease: Lease | undefined, views: ViewKind | undefined, index: RecordIndex | undefined) {
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
    this.#data = bufferView(data.buffer, data.byteOffset, data.length);
    this.#start = start;
    this.#end = end;
    this.#lease = lease;
    this.#view = views === 'uint8array' ? uint8View : bufferView;
    this.#index = index;
  }

  /** Kafka compression type id (attributes bits 0-2). */
  get compressionType(): number {
    return this.attributes & COMPRESSION_MASK;
  }
  /** 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'. */
  get compression(): CompressionName {
    return COMPRESSION_NAMES[this.attributes & COMPRESSION_MASK];
  }
  get timestampType(): TimestampType {
    return this.attributes & TIMESTAMP_TYPE_BIT ? 'LogAppendTime' : 'CreateTime';
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_BIT) !== 0;
  }
  /** A control batch (transaction markers); its records carry a control key. */
  get isControl(): boolean {
    return (this.attributes & CONTROL_BIT) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_BIT) !== 0;
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
    const cursor = cursorOver<V>(this, this.#data, this.#start, this.#end, this.#view, this.#index);
    this.#views.push(cursor.record);
    return cursor;
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
   * the batch, or a record view kept from it, after release throws `ERR_LEASE_RELEASED`.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const v of this.#views) revokeView(v as RecordView<Uint8Array>);
    this.#views = [];
    const lease = this.#lease;
    this.#lease = undefined;
    this.#data = EMPTY;
    this.#index = undefined;
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

  static {
    newBatches = (batches, byteLength, partial) => new RecordBatches<Uint8Array>(batches, byteLength, partial);
  }

  /** The result of {@link decodeRecordBatches}. */
  private constructor(batches: RecordBatch<V>[], byteLength: number, partial: PartialBatch | undefined) {
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
