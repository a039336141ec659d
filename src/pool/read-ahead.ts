import { performance } from 'node:perf_hooks';
import { Lease } from '../arena/arena';
import { codecForType } from '../protocol/compression';
import { decodeRecordBatch, decodeRecordBatchWith, int64Number } from '../protocol/decode';
import type { DecodeOptions, RecordsDecompressor } from '../protocol/decode';
import type { RecordBatch } from '../protocol/batch';
import { ATTRIBUTES, BASE_TIMESTAMP, CRC, CURRENT_MAGIC, MAGIC, MAX_TIMESTAMP, RECORD_COUNT, RECORDS } from '../protocol/layout';
import { INDEX_BYTES_PER_RECORD, IndexedBatchHeader, MIN_INDEXED_RECORD_BYTES } from '../protocol/record-index';
import type { JobOutcome, WorkerPool } from './pool';
import { nextAverage, shouldHelp } from './help-policy';
import { Fifo } from '../fifo';

/** A complete batch added to a {@link BatchReadAhead}, with the job decompressing it (when it is compressed). */
interface Entry {
  bytes: Uint8Array;
  position: number;
  /** Its place in the order of `add` calls. */
  seq: number;
  job?: Promise<JobOutcome>;
  /** What it holds while it waits: its bytes, the arena memory taken for its output, its record index. */
  weight: number;
  /** Whether `job` has settled (the caller's thread saw the worker's answer). */
  settled?: boolean;
  /** Takes the job back if no worker has it yet (see #help). */
  withdraw?: () => boolean;
  /** Counted in `#open`: its job is neither settled nor taken back, and it is still read ahead. */
  open?: boolean;
  /** Decoded on this thread instead (see #help): the batch or the error. */
  done?: { batch: RecordBatch<Uint8Array> } | { error: unknown };
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
 * the synchronous decoder's own batch object or error; one too small to be worth a worker
 * (small-batches.ts) is decoded on the caller's thread in its turn, like an uncompressed one.
 * The caller frames the batches and asks `wantsMore` before adding one: the next batch always,
 * more while the bytes held (batches and their leases) stay under `maxInFlightBytes` and the
 * arena, if any, has room.
 *
 * With `callerHelps`, when the caller waits for a batch and the pool leaves it a core (fewer
 * workers than cores), it may take a later batch that no worker has started back from the pool
 * and decode it itself with `decodeRecordBatch` (help-policy.ts decides); that batch then comes
 * out in its turn like the others.
 *
 * Without a pool nothing is read ahead: each batch is decoded (and decompressed) here, when
 * its turn comes, by `decodeRecordBatch` itself.
 */
export class BatchReadAhead {
  readonly #pool: WorkerPool | undefined;
  readonly #options: DecodeOptions;
  readonly #maxInFlight: number;
  readonly #pending = new Fifo<Entry>();
  #inFlight = 0;
  /** When the last batch was handed out: the caller's time per batch runs from there to the next shift(). */
  #handedAt = -1;
  /** The `seq` of the next batch added. */
  #seq = 0;
  /** Read-ahead batches whose jobs the workers still have to do (see Entry.open). */
  #open = 0;
  /** No batch before this `seq` can be taken back from the pool (see #victim). */
  #victimSeq = 0;
  /** @internal For tests: batches #victim has looked at, in all. */
  _looked = 0;

  /** Whether the caller's thread may decode queued batches itself (see #help). */
  readonly #callerHelps: boolean;

  constructor(pool: WorkerPool | undefined, options: DecodeOptions, maxInFlightBytes: number, callerHelps = false) {
    this.#pool = pool;
    this.#callerHelps = callerHelps;
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
    const entry = this.#start(bytes, position, this.#seq++);
    this.#inFlight += entry.weight;
    this.#pending.push(entry);
  }

  /** Takes the oldest batch, or undefined when none is left. */
  shift(): AheadBatch | undefined {
    if (this.#handedAt >= 0 && this.#pool !== undefined) this.#pool._times.consumeMs = nextAverage(this.#pool._times.consumeMs, performance.now() - this.#handedAt);
    this.#handedAt = -1;
    const entry = this.#pending.shift();
    if (entry === undefined) return undefined;
    this.#inFlight -= entry.weight;
    this.#uncount(entry);
    return {
      position: entry.position,
      byteLength: entry.bytes.length,
      decode: async () => {
        try {
          return await this.#finish(entry);
        } finally {
          this.#handedAt = performance.now();
        }
      },
    };
  }

  /** Releases what was read ahead and not taken (on a break, an error or a stop). */
  async clear(): Promise<void> {
    const entries = this.#pending.drain();
    for (const e of entries) this.#uncount(e);
    this.#inFlight = 0;
    for (const e of entries) await dispose(e);
  }

  /**
   * Sends a compressed v2 batch to the pool (records section, CRC checked there); other batches,
   * and those too small to be worth a worker (small-batches.ts), wait for their turn.
   */
  #start(bytes: Uint8Array, position: number, seq: number): Entry {
    const entry: Entry = { bytes, position, seq, weight: bytes.length };
    if (this.#pool === undefined || bytes.length < RECORDS || bytes[MAGIC] !== CURRENT_MAGIC) return entry;
    const type = bytes[ATTRIBUTES + 1] & 7;
    if (type === 0 || type > 4) return entry;
    const codec = codecForType(type);
    if (!this.#pool._sends(codec.name, bytes.length - RECORDS)) return entry;
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
    const helped = this.#callerHelps && this.#pool._helping() !== 'never';
    const job = this.#pool._submit(codec, bytes.subarray(ATTRIBUTES), RECORDS - ATTRIBUTES, crc, o.arena, o.maxOutputBytes, records, helped);
    // Settled in turn by #finish (or dispose); never an unhandled rejection meanwhile.
    const settle = (): void => {
      entry.settled = true;
      this.#uncount(entry);
    };
    job.outcome.then(settle, settle);
    entry.job = job.outcome;
    entry.open = true;
    this.#open++;
    entry.withdraw = job.withdraw;
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
    if (entry.job !== undefined && entry.done === undefined) await this.#help(entry.job);
    if (entry.done !== undefined) {
      if ('batch' in entry.done) return entry.done.batch;
      throw entry.done.error;
    }
    if (entry.job === undefined) return decodeRecordBatch(entry.bytes, options); // not sent: decoded here, in its turn
    let outcome: JobOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await entry.job;
    } catch (err) {
      failure = err;
    }
    // A mismatch: decode with the check on, which throws the synchronous decoder's CRC error.
    if (outcome?.crcMismatch) return decodeRecordBatch(entry.bytes, { ...options, verifyCrc: true });
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

  /**
   * While `job` (the batch the caller waits for) is not done, the caller's thread may take a
   * batch no worker has started yet back from the pool and decode it itself (help-policy.ts).
   */
  async #help(job: Promise<JobOutcome>): Promise<void> {
    const pool = this.#pool!;
    const mode = pool._helping();
    if (mode === 'never' || (mode === 'policy' && !this.#callerHelps)) return;
    let settled = false;
    job.then(
      () => (settled = true),
      () => (settled = true),
    );
    await undefined; // lets an already-settled job say so
    // The workers' answers reach this thread only through the event loop, which a caller going
    // from one settled batch to the next never enters: the awaited job may be done, and the
    // worker idle for want of the next jobs, with neither seen yet. Let them in before deciding:
    // two turns, since an answer that came during this turn's poll phase is read in the next one.
    for (let turn = 0; turn < 2 && !settled; turn++) await new Promise(setImmediate);
    const t = pool._times;
    while (!settled) {
      if (mode === 'policy') {
        if (t.jobMs === undefined || t.consumeMs === undefined) return;
        const jobsLeft = this.#open + 1;
        if (!shouldHelp({ jobsLeft, batchesLeft: this.#pending.length + 1, workers: pool.workers, jobMs: t.jobMs, consumeMs: t.consumeMs, helpMs: t.helpMs ?? t.jobMs })) return;
      }
      const victim = this.#victim();
      if (victim === undefined) return;
      const withdraw = victim.withdraw!;
      victim.withdraw = undefined;
      if (!withdraw()) continue; // a worker has it already
      victim.job = undefined;
      this.#uncount(victim);
      const t0 = performance.now();
      try {
        victim.done = { batch: decodeRecordBatch(victim.bytes, { ...this.#options, basePosition: victim.position }) };
      } catch (error) {
        victim.done = { error };
      }
      t.helpMs = nextAverage(t.helpMs, performance.now() - t0);
      // The workers' answers that came meanwhile. One turn is enough here: this code runs in the
      // check phase (it resumed from a setImmediate above), so this immediate waits for the next
      // loop iteration, whose poll phase reads them first.
      await new Promise(setImmediate);
    }
  }

  /**
   * The oldest batch read ahead whose job may still be queued in the pool. Whatever makes a
   * batch unfit (no job, its job settled or taken back, a failed withdraw) is for good, so the
   * search resumes where the last one stopped: each batch is looked at about once, however
   * many times the caller waits.
   */
  #victim(): Entry | undefined {
    const p = this.#pending;
    const first = p.peek();
    if (first === undefined) return undefined;
    let i = Math.max(0, this.#victimSeq - first.seq);
    const from = i;
    let e = p.at(i);
    while (e !== undefined && (e.withdraw === undefined || e.settled || e.done !== undefined)) e = p.at(++i);
    this._looked += i - from + 1;
    this.#victimSeq = e !== undefined ? e.seq : this.#seq;
    return e;
  }

  #uncount(entry: Entry): void {
    if (entry.open !== true) return;
    entry.open = false;
    this.#open--;
  }
}

async function dispose(entry: Entry): Promise<void> {
  if (entry.done !== undefined && 'batch' in entry.done) entry.done.batch.release();
  if (entry.job === undefined) return;
  try {
    const o = await entry.job;
    if (o.value instanceof Lease) o.value.release();
  } catch {
    // Failed jobs gave their memory back already.
  }
}
