import { Lease } from '../arena/arena';
import { codecForType } from '../protocol/compression';
import { BATCH_PREFIX_BYTES } from '../protocol/layout';
import { decodeRecordBatchWith } from '../protocol/decode';
import type { DecodeOptions, RecordsDecompressor } from '../protocol/decode';
import type { PartialBatch, RecordBatch } from '../protocol/batch';
import { ProtocolError } from '../errors';
import { bytesArg, integerArg, invalid } from '../validate';
import type { JobOutcome, WorkerPool } from './pool';

/** Where a batch's CRC-32C and the bytes it covers (attributes .. end) start, and its records. */
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const RECORDS_AT = 61;
const DEFAULT_IN_FLIGHT = 16 * 1024 * 1024;

/** Options of {@link WorkerPool.decodeRecordBatches}: those of `decodeRecordBatches`, plus the read-ahead. */
export interface PoolDecodeOptions extends DecodeOptions {
  /**
   * Memory the read-ahead may take: the leases (or, without an arena, the compressed bytes) of
   * batches sent to the workers and not yet handed out. The next batch is always sent; more
   * only while this holds and the arena's budget has room. Default 16 MiB, at most half the
   * arena's budget.
   */
  maxInFlightBytes?: number;
}

/** What {@link WorkerPool.decodeRecordBatches} reads: concatenated batches, or chunks of them (cut anywhere). */
export type BatchSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A complete batch's bytes at its position, or the error the synchronous decoder throws there. */
type Piece = { bytes: Uint8Array; position: number; error?: undefined } | { error: ProtocolError; bytes?: undefined; position?: undefined };

interface Entry {
  piece: Piece;
  job?: Promise<JobOutcome>;
  weight: number;
}

/**
 * The batches of `source` in order, while the following ones decompress on the workers. Iterate
 * it once (`for await`). After the iteration ended, `partialBatch` and `byteLength` are those
 * `decodeRecordBatches` reports. Breaking out of the loop (or an error) releases the batches
 * read ahead; batches already handed out are the caller's to release, as with the sync call.
 */
export class PooledRecordBatches<V extends Uint8Array = Buffer> implements AsyncIterable<RecordBatch<V>> {
  /** The incomplete trailing batch, once the iteration ended. */
  partialBatch: PartialBatch | undefined;
  /** Bytes of the complete batches handed out. */
  byteLength = 0;
  readonly #pool: WorkerPool;
  readonly #source: BatchSource;
  readonly #options: PoolDecodeOptions;
  readonly #maxInFlight: number;
  #started = false;

  /** @internal Use {@link WorkerPool.decodeRecordBatches}. */
  constructor(pool: WorkerPool, source: BatchSource, options: PoolDecodeOptions) {
    if (!(source instanceof Uint8Array) && !(typeof source === 'object' && source !== null && (Symbol.asyncIterator in source || Symbol.iterator in source))) {
      invalid('source', 'a Uint8Array or an (async) iterable of them', source);
    }
    this.#pool = pool;
    this.#source = source;
    this.#options = options;
    const cap = options.arena ? Math.floor(options.arena.maxBytes / 2) : DEFAULT_IN_FLIGHT;
    this.#maxInFlight = integerArg('maxInFlightBytes', options.maxInFlightBytes, 0, Number.MAX_SAFE_INTEGER, Math.min(DEFAULT_IN_FLIGHT, cap));
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordBatch<V>> {
    if (this.#started) throw new TypeError('PooledRecordBatches can be iterated once');
    this.#started = true;
    return this.#run() as AsyncIterator<RecordBatch<V>>;
  }

  async *#run(): AsyncGenerator<RecordBatch<Uint8Array>> {
    const arena = this.#options.arena;
    const pieces = splitBatches(this.#source, this.#options.basePosition ?? 0, (p) => (this.partialBatch = p));
    const pending: Entry[] = [];
    let inFlight = 0;
    let done = false;
    try {
      for (;;) {
        // Read ahead: the next batch always; more while the bytes in flight and the budget allow.
        while (!done && (pending.length === 0 || (inFlight < this.#maxInFlight && (arena === undefined || arena.leasedBytes < arena.maxBytes)))) {
          const r = await pieces.next();
          if (r.done) {
            done = true;
            break;
          }
          const entry = this.#start(r.value);
          inFlight += entry.weight;
          pending.push(entry);
        }
        const entry = pending.shift();
        if (entry === undefined) return;
        inFlight -= entry.weight;
        const batch = await this.#finish(entry);
        this.byteLength += batch.byteLength;
        yield batch;
      }
    } finally {
      for (const e of pending.splice(0)) await dispose(e);
      await pieces.return(undefined);
    }
  }

  /** Sends a compressed batch to the pool (records section, CRC checked there); other batches wait for their turn. */
  #start(piece: Piece): Entry {
    const bytes = piece.bytes;
    if (bytes === undefined || bytes.length < RECORDS_AT || bytes[16] !== 2) return { piece, weight: 0 };
    const type = bytes[ATTRIBUTES_AT + 1] & 7;
    if (type === 0 || type > 4) return { piece, weight: 0 };
    const o = this.#options;
    const crc = o.verifyCrc === false ? undefined : new DataView(bytes.buffer, bytes.byteOffset + CRC_AT, 4).getUint32(0);
    const job = this.#pool._submit(codecForType(type), bytes.subarray(ATTRIBUTES_AT), RECORDS_AT - ATTRIBUTES_AT, crc, o.arena, o.maxOutputBytes);
    // Settled in turn by #finish (or dispose); never an unhandled rejection meanwhile.
    job.outcome.catch(() => {});
    return { piece, job: job.outcome, weight: o.arena ? job.reservedBytes : bytes.length };
  }

  /** The batch object, built by the synchronous decoder's own code with the worker's output. */
  async #finish(entry: Entry): Promise<RecordBatch<Uint8Array>> {
    const piece = entry.piece;
    if (piece.error !== undefined) throw piece.error;
    const options: DecodeOptions = { ...this.#options, basePosition: piece.position };
    if (entry.job === undefined) return decodeRecordBatchWith(piece.bytes, options, noDecompress);
    let outcome: JobOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await entry.job;
    } catch (err) {
      failure = err;
    }
    // A mismatch: decode with the check on, which throws the synchronous decoder's CRC error.
    if (outcome?.crcMismatch) return decodeRecordBatchWith(piece.bytes, { ...options, verifyCrc: true }, noDecompress);
    let taken = false;
    const handOver: RecordsDecompressor = () => {
      taken = true;
      if (outcome === undefined) throw failure;
      return outcome.value!;
    };
    try {
      return decodeRecordBatchWith(piece.bytes, { ...options, verifyCrc: false }, handOver);
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

function int32(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function* chunksOf(source: BatchSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array>) yield bytesArg('chunk', chunk);
}

/**
 * The complete batches of a byte stream cut anywhere: views of the chunks, or for a batch that
 * straddles chunks a copy of just its bytes. Reports the incomplete tail through `partial`.
 */
async function* splitBatches(source: BatchSource, base: number, partial: (p: PartialBatch | undefined) => void): AsyncGenerator<Piece> {
  let rest: Uint8Array = new Uint8Array(0);
  let pos = base; // position of rest[0], or of the chunk's first byte when rest is empty
  for await (let chunk of chunksOf(source)) {
    if (rest.length > 0) {
      // Complete the straddling batch from the head of this chunk, copying only its bytes.
      if (rest.length < BATCH_PREFIX_BYTES) {
        const take = Math.min(BATCH_PREFIX_BYTES - rest.length, chunk.length);
        rest = concat(rest, chunk.subarray(0, take));
        chunk = chunk.subarray(take);
        if (rest.length < BATCH_PREFIX_BYTES) continue;
      }
      const len = int32(rest, 8);
      if (len >= 0) {
        const take = Math.min(BATCH_PREFIX_BYTES + len - rest.length, chunk.length);
        rest = concat(rest, chunk.subarray(0, take));
        chunk = chunk.subarray(take);
        if (rest.length < BATCH_PREFIX_BYTES + len) continue;
        yield { bytes: rest, position: pos };
        pos += rest.length;
        rest = new Uint8Array(0);
      }
    }
    let p = 0;
    if (rest.length === 0) {
      while (chunk.length - p >= BATCH_PREFIX_BYTES) {
        const len = int32(chunk, p + 8);
        if (len < 0) break;
        if (len > chunk.length - p - BATCH_PREFIX_BYTES) break;
        yield { bytes: chunk.subarray(p, p + BATCH_PREFIX_BYTES + len), position: pos };
        p += BATCH_PREFIX_BYTES + len;
        pos += BATCH_PREFIX_BYTES + len;
      }
    }
    // A copy: the next chunk may reuse this one's memory (a reader's buffer).
    const tail = rest.length > 0 ? concat(rest, chunk) : chunk.slice(p);
    if (tail.length >= BATCH_PREFIX_BYTES && int32(tail, 8) < 0) {
      // What the synchronous decoder throws here; the batches before it were handed out.
      yield { error: new ProtocolError('ERR_BAD_LENGTH', `record batch: negative batchLength ${int32(tail, 8)}`, pos) };
      return;
    }
    rest = tail;
  }
  if (rest.length === 0) return partial(undefined);
  const dv = new DataView(rest.buffer, rest.byteOffset, rest.byteLength);
  const p: PartialBatch = { position: pos, availableBytes: rest.length, declaredBytes: rest.length >= BATCH_PREFIX_BYTES ? BATCH_PREFIX_BYTES + int32(rest, 8) : -1 };
  if (rest.length >= 8) p.baseOffset = dv.getBigInt64(0);
  partial(p);
}
