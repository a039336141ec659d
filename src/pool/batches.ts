import { BATCH_PREFIX_BYTES } from '../protocol/layout';
import type { DecodeOptions } from '../protocol/decode';
import type { PartialBatch, RecordBatch } from '../protocol/batch';
import { ProtocolError } from '../errors';
import { booleanArg, bytesArg, integerArg, invalid } from '../validate';
import type { WorkerPool } from './pool';
import { BatchReadAhead } from './read-ahead';

const DEFAULT_IN_FLIGHT = 16 * 1024 * 1024;

/** Options of {@link WorkerPool.decodeRecordBatches}: those of `decodeRecordBatches`, plus the read-ahead. */
export interface PoolDecodeOptions extends DecodeOptions {
  /**
   * Memory the read-ahead may take: the bytes of the batches read and not yet handed out, plus
   * the leases taken for their output (with an arena). The next batch is always read; more only
   * while this holds and the arena's budget has room. Default 16 MiB, at most half the arena's
   * budget.
   */
  maxInFlightBytes?: number;
  /**
   * While it waits for a batch still on a worker, the calling thread may take back a later batch
   * no worker has started and decode it itself, when that balances the work (only with fewer
   * workers than cores). Faster for a loop that is CPU-bound, but the event loop is then busy for
   * a batch's decode at a time instead of free, and V8 has less idle time for its GC. Default false.
   */
  callerHelps?: boolean;
}

/** What {@link WorkerPool.decodeRecordBatches} reads: concatenated batches, or chunks of them (cut anywhere). */
export type BatchSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A complete batch's bytes at its position, or the error the synchronous decoder throws there. */
type Piece = { bytes: Uint8Array; position: number; error?: undefined } | { error: ProtocolError; bytes?: undefined; position?: undefined };

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
  readonly #callerHelps: boolean;
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
    this.#callerHelps = booleanArg('callerHelps', options.callerHelps, false);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordBatch<V>> {
    if (this.#started) throw new TypeError('PooledRecordBatches can be iterated once');
    this.#started = true;
    return this.#run() as AsyncIterator<RecordBatch<V>>;
  }

  async *#run(): AsyncGenerator<RecordBatch<Uint8Array>> {
    const pieces = splitBatches(this.#source, this.#options.basePosition ?? 0, (p) => (this.partialBatch = p));
    const ahead = new BatchReadAhead(this.#pool, this.#options, this.#maxInFlight, this.#callerHelps);
    let done = false;
    // What the synchronous decoder throws where the batches end, once those before it are out.
    let error: ProtocolError | undefined;
    try {
      for (;;) {
        while (!done && ahead.wantsMore) {
          const r = await pieces.next();
          if (r.done || r.value.error !== undefined) {
            error = r.done ? undefined : r.value.error;
            done = true;
            break;
          }
          ahead.add(r.value.bytes, r.value.position);
        }
        const next = ahead.shift();
        if (next === undefined) {
          if (error !== undefined) throw error;
          return;
        }
        const batch = await next.decode();
        this.byteLength += batch.byteLength;
        yield batch;
      }
    } finally {
      await ahead.clear();
      await pieces.return(undefined);
    }
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
