import { Lease } from '../arena/arena';
import { codecForType } from '../protocol/compression';
import { decodeRecordBatch, decodeRecordBatchWith, int64Number } from '../protocol/decode';
import type { DecodeOptions, RecordsDecompressor } from '../protocol/decode';
import type { RecordBatch } from '../protocol/batch';
import { ATTRIBUTES, BASE_TIMESTAMP, CRC, CURRENT_MAGIC, MAGIC, MAX_TIMESTAMP, RECORD_COUNT, RECORDS } from '../protocol/layout';
import { INDEX_BYTES_PER_RECORD, IndexedBatchHeader, MIN_INDEXED_RECORD_BYTES } from '../protocol/record-index';
import type { JobOutcome, WorkerPool } from './pool';

/** A complete batch added to a {@link BatchReadAhead}, with the job decompressing it (when it is compressed). */
interface Entry {
  bytes: Uint8Array;
  position: number;
  job?: Promise<JobOutcome>;
  /** What it holds while it waits: its bytes, the arena memory taken for its output, its record index. */
  weight: number;
}

/** The oldest batch of a {@link BatchReadAhead}: where it is, and its decoding. */
export interface AheadBatch {
  position: number;
  byteLength: number;
  /** The batch `decodeRecordBatch` gives for these bytes, or the error it throws. Call once. */
  decode(): Promise<RecordBatch<Uint8Array>>;
}

/**
 * @internal The ordered read-ahead of complete record batches through a {@link WorkerPool}, the
 * one behind `pool.decodeRecordBatches` and `kafka-arena dump --workers`: a compressed batch is
 * sent to the workers when it is added (its CRC-32C checked there) and comes out, in turn, as
 * the synchronous decoder's own batch object or error. The caller frames the batches and asks
 * `wantsMore` before adding one: the next batch always, more while the bytes held (batches and
 * their leases) stay under `maxInFlightBytes` and the arena, if any, has room.
 *
 * Without a pool nothing is read ahead: each batch is decoded (and decompressed) here, when
 * its turn comes, by `decodeRecordBatch` itself.
 */
export class BatchReadAhead {
  readonly #pool: WorkerPool | undefined;
  readonly #options: DecodeOptions;
  readonly #maxInFlight: number;
  readonly #pending: Entry[] = [];
  #inFlight = 0;

  constructor(pool: WorkerPool | undefined, options: DecodeOptions, maxInFlightBytes: number) {
    this.#pool = pool;
    this.#options = options;
    this.#maxInFlight = maxInFlightBytes;
  }

  /** Batches added and not taken yet. */
  get size(): number {
    return this.#pending.length;
  }

  /** Whether to add another batch now. */
  get wantsMore(): boolean {
    if (this.#pending.length === 0) return true;
    const arena = this.#options.arena;
    return this.#pool !== undefined && this.#inFlight < this.#maxInFlight && (arena === undefined || arena.leasedBytes < arena.maxBytes);
  }

  /** Adds the complete batch `bytes` found at `position`; compressed, it goes to a worker now. */
  add(bytes: Uint8Array, position: number): void {
    const entry = this.#start(bytes, position);
    this.#inFlight += entry.weight;
    this.#pending.push(entry);
  }

  /** Takes the oldest batch, or undefined when none is left. */
  shift(): AheadBatch | undefined {
    const entry = this.#pending.shift();
    if (entry === undefined) return undefined;
    this.#inFlight -= entry.weight;
    return { position: entry.position, byteLength: entry.bytes.length, decode: () => this.#finish(entry) };
  }

  /** Releases what was read ahead and not taken (on a break, an error or a stop). */
  async clear(): Promise<void> {
    for (const e of this.#pending.splice(0)) await dispose(e);
    this.#inFlight = 0;
  }

  /** Sends a compressed v2 batch to the pool (records section, CRC checked there); other batches wait for their turn. */
  #start(bytes: Uint8Array, position: number): Entry {
    const entry: Entry = { bytes, position, weight: bytes.length };
    if (this.#pool === undefined || bytes.length < RECORDS || bytes[MAGIC] !== CURRENT_MAGIC) return entry;
    const type = bytes[ATTRIBUTES + 1] & 7;
    if (type === 0 || type > 4) return entry;
    const o = this.#options;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const crc = o.verifyCrc === false ? undefined : dv.getUint32(CRC);
    const records: IndexedBatchHeader | undefined = this.#pool._wantsIndex()
      ? {
          position,
          recordCount: dv.getInt32(RECORD_COUNT),
          attributes: dv.getInt16(ATTRIBUTES),
          baseTimestamp: int64Number(dv, BASE_TIMESTAMP),
          maxTimestamp: int64Number(dv, MAX_TIMESTAMP),
        }
      : undefined;
    const job = this.#pool._submit(codecForType(type), bytes.subarray(ATTRIBUTES), RECORDS - ATTRIBUTES, crc, o.arena, o.maxOutputBytes, records);
    // Settled in turn by #finish (or dispose); never an unhandled rejection meanwhile.
    job.outcome.catch(() => {});
    entry.job = job.outcome;
    entry.weight += job.reservedBytes;
    // An index with no room in the lease comes in an ArrayBuffer of its own. The worker indexes
    // records averaging at least MIN_INDEXED_RECORD_BYTES: for an output of the lease's size it is at most this.
    if (records !== undefined && !job.indexRoom) entry.weight += Math.ceil(job.reservedBytes / MIN_INDEXED_RECORD_BYTES) * INDEX_BYTES_PER_RECORD;
    return entry;
  }

  /** The batch object, built by the synchronous decoder's own code with the worker's output. */
  async #finish(entry: Entry): Promise<RecordBatch<Uint8Array>> {
    const options: DecodeOptions = { ...this.#options, basePosition: entry.position };
    if (this.#pool === undefined) return decodeRecordBatch(entry.bytes, options);
    if (entry.job === undefined) return decodeRecordBatchWith(entry.bytes, options, noDecompress);
    let outcome: JobOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await entry.job;
    } catch (err) {
      failure = err;
    }
    // A mismatch: decode with the check on, which throws the synchronous decoder's CRC error.
    if (outcome?.crcMismatch) return decodeRecordBatchWith(entry.bytes, { ...options, verifyCrc: true }, noDecompress);
    let taken = false;
    const handOver: RecordsDecompressor = () => {
      taken = true;
      if (outcome === undefined) throw failure;
      return outcome.value!;
    };
    try {
      return decodeRecordBatchWith(entry.bytes, { ...options, verifyCrc: false }, handOver, outcome?.index);
    } catch (err) {
      if (!taken && outcome?.value instanceof Lease) outcome.value.release();
      throw err;
    }
  }
}

const noDecompress: RecordsDecompressor = () => {
  throw new Error('kafka-arena internal: a batch sent to no worker needed decompression');
};

async function dispose(entry: Entry): Promise<void> {
  if (entry.job === undefined) return;
  try {
    const o = await entry.job;
    if (o.value instanceof Lease) o.value.release();
  } catch {
    // Failed jobs gave their memory back already.
  }
}
