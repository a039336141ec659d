import { createReadStream, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import { Arena } from '../arena/arena';
import { KafkaArenaError, PoolError } from '../errors';
import { WorkerPool } from '../pool/pool';
import { BatchReadAhead } from '../pool/read-ahead';
import type { RecordBatch } from '../protocol/batch';
import { BATCH_HEADER_AFTER_LENGTH, BATCH_LENGTH, BATCH_PREFIX_BYTES } from '../protocol/layout';
import type { RecordView } from '../protocol/record-view';

/** Output formats of `kafka-arena dump`. */
export type DumpFormat = 'text' | 'hex' | 'json';

/** Options of {@link dump}. */
export interface DumpOptions {
  format: DumpFormat;
  verifyCrc: boolean;
  /** Largest batch accepted; a bigger length field counts as corruption. */
  maxBatchBytes: number;
  /** Show a progress bar on `err` (only used when the total size is known). */
  progress: boolean;
  /** Worker threads decompressing ahead; 0 (default): decode on this thread, one batch at a time. */
  workers?: number;
}

/** What {@link dump} found. */
export interface DumpSummary {
  batches: number;
  records: number;
  bytes: number;
  /** Problems reported (corrupt or unsupported batches, truncated tail). */
  errors: number;
}

/**
 * Reads chunks from a stream and hands out exact byte ranges, keeping at most one batch in
 * memory: chunks are queued and only concatenated when a whole batch is there.
 */
class ChunkReader {
  #it: AsyncIterator<Buffer>;
  #chunks: Buffer[] = [];
  #avail = 0;
  #eof = false;

  constructor(stream: Readable) {
    this.#it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  get available(): number {
    return this.#avail;
  }

  /** Reads until `n` bytes are buffered or the stream ends; true when they are. */
  async ensure(n: number): Promise<boolean> {
    while (this.#avail < n && !this.#eof) {
      const r = await this.#it.next();
      if (r.done) this.#eof = true;
      else if (r.value.length > 0) {
        const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        this.#chunks.push(chunk);
        this.#avail += chunk.length;
      }
    }
    return this.#avail >= n;
  }

  /** The first `n` buffered bytes, without consuming them (n <= available). */
  peek(n: number): Buffer {
    if (this.#chunks[0].length < n) {
      // Bytes that straddle chunks: copy just those; the rest of the last chunk stays a view.
      const head = Buffer.allocUnsafe(n);
      let copied = 0;
      let whole = 0;
      while (copied < n) {
        const chunk = this.#chunks[whole];
        const k = Math.min(chunk.length, n - copied);
        chunk.copy(head, copied, 0, k);
        copied += k;
        if (k < chunk.length) this.#chunks[whole] = chunk.subarray(k);
        else whole++;
      }
      this.#chunks.splice(0, whole, head);
    }
    return this.#chunks[0].subarray(0, n);
  }

  /** Consumes and returns the first `n` buffered bytes (n <= available). */
  take(n: number): Buffer {
    const out = this.peek(n);
    const first = this.#chunks[0];
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#avail -= n;
    return out;
  }
}

/** Text gathered before a write: large enough for few writes, small enough to bound memory. */
const FLUSH_CHARS = 64 * 1024;

/**
 * Writes text to a stream in ~64 KiB pieces, waiting for 'drain' when the stream asks. The
 * caller flushes whenever `full` is true, record by record, so memory stays bounded however
 * many records one batch holds.
 */
class Output {
  #parts: string[] = [];
  #size = 0;
  constructor(private readonly out: Writable) {}

  line(s: string): void {
    this.#parts.push(s, '\n');
    this.#size += s.length + 1;
  }

  get full(): boolean {
    return this.#size >= FLUSH_CHARS;
  }

  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    if (!this.out.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.out.off('error', onError);
          resolve();
        };
        const onError = (e: Error): void => {
          this.out.off('drain', onDrain);
          reject(e);
        };
        this.out.once('drain', onDrain);
        this.out.once('error', onError);
      });
    }
  }
}

/** A progress bar on a TTY stream, redrawn at most every 200 ms. */
class Progress {
  #last = 0;
  #shown = false;
  constructor(
    private readonly err: Writable & { columns?: number },
    private readonly total: number,
  ) {}

  update(done: number): void {
    const now = Date.now();
    if (now - this.#last < 200) return;
    this.#last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = Math.max(10, Math.min(40, (this.err.columns ?? 80) - 40));
    const fill = Math.round(frac * width);
    const mib = (b: number): string => (b / 1048576).toFixed(1);
    this.err.write(`\r[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(this.total)} MiB`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) this.err.write('\r\x1b[K');
    this.#shown = false;
  }
}

function quoted(buf: Buffer | null): string {
  if (buf === null) return 'null';
  if (isUtf8(buf)) return JSON.stringify(buf.toString('utf8'));
  return `0x${buf.toString('hex')}`;
}

function hexed(buf: Buffer | null): string {
  return buf === null ? 'null' : buf.toString('hex');
}

/** Lossless JSON form of bytes: a string when they are valid UTF-8, else `{ "base64": ... }`. */
function jsonBytes(buf: Buffer | null): unknown {
  if (buf === null) return null;
  return isUtf8(buf) ? buf.toString('utf8') : { base64: buf.toString('base64') };
}

function batchLine(b: RecordBatch): string {
  return (
    `batch position=${b.position} baseOffset=${b.baseOffset} lastOffset=${b.lastOffset} records=${b.recordCount}` +
    ` size=${b.byteLength} compression=${b.compression} timestampType=${b.timestampType}` +
    ` baseTimestamp=${b.baseTimestamp} maxTimestamp=${b.maxTimestamp}` +
    ` producerId=${b.producerId} producerEpoch=${b.producerEpoch} baseSequence=${b.baseSequence}` +
    ` partitionLeaderEpoch=${b.partitionLeaderEpoch} transactional=${b.isTransactional} control=${b.isControl}` +
    ` crc=0x${b.crc.toString(16).padStart(8, '0')}`
  );
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'invalid' : d.toISOString();
}

function recordLine(r: RecordView, format: DumpFormat, batch: RecordBatch): string {
  if (format === 'json') {
    return JSON.stringify({
      offset: r.offset.toString(),
      timestamp: r.timestamp,
      key: jsonBytes(r.key),
      value: jsonBytes(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: jsonBytes(h.value) })),
      batchPosition: batch.position,
    });
  }
  const enc = format === 'hex' ? hexed : quoted;
  let line = `  offset=${r.offset} timestamp=${r.timestamp} (${isoTime(r.timestamp)}) key=${enc(r.key)} value=${enc(r.value)}`;
  if (r.headerCount > 0) {
    line += ` headers={${r.headers.map((h) => `${JSON.stringify(h.key)}: ${enc(h.value)}`).join(', ')}}`;
  }
  return line;
}

/** Read-ahead of `--workers N`: batches and their decompressed output held at most (plus one batch). */
export const READ_AHEAD_BYTES = 16 * 1024 * 1024;

/**
 * Dumps the record batches read from `input` (a log segment or any concatenation of batches).
 *
 * A batch whose length field is plausible but whose content is bad (CRC mismatch, bad record,
 * unsupported magic, decompression failure) is reported on `err` with its byte position and
 * skipped: the next batch starts right after its declared length. A length field that is
 * negative, larger than `maxBatchBytes` or smaller than a batch header (as in a zero-filled,
 * preallocated or sparse region, where Kafka's own log reader stops too) leaves no way to find
 * the next batch: that is reported once and the dump stops. A truncated last batch is reported
 * too. Records are written as they are decoded, so memory stays bounded by one batch's bytes.
 *
 * With `workers` > 0, compressed batches decompress on a {@link WorkerPool} while the current
 * one prints, read ahead in order up to READ_AHEAD_BYTES; what is written is the same, byte for
 * byte. The pool is closed before this returns or throws.
 */
export async function dump(input: Readable, out: Writable, err: Writable & { isTTY?: boolean }, totalBytes: number | undefined, options: DumpOptions): Promise<DumpSummary> {
  const workers = options.workers ?? 0;
  const pool = workers > 0 ? new WorkerPool({ workers }) : undefined;
  // Twice the read-ahead, so released leases stay pooled for the next batches: a fresh buffer
  // costs its page faults, and more to transfer to a worker (docs/pool.md). The dump owns every
  // lease and copies what it prints, so released memory can be reused at once.
  const arena = pool && new Arena({ maxBytes: 2 * READ_AHEAD_BYTES, trimIntervalMs: 0, quarantineMs: 0, poisonOnRelease: false });
  // The CLI has no event loop to keep free: its thread helps the workers when that is faster.
  const ahead = new BatchReadAhead(pool, { verifyCrc: options.verifyCrc, arena }, READ_AHEAD_BYTES, true);
  try {
    return await dumpBatches(new ChunkReader(input), ahead, out, err, totalBytes, options);
  } finally {
    await ahead.clear();
    arena?.close();
    await pool?.close();
  }
}

/**
 * Frames the next batch: its size once all its bytes are buffered, undefined at the end of the
 * input, or the report that ends the dump (a length field that cannot be trusted, a truncated tail).
 */
async function nextBatch(reader: ChunkReader, pos: number, maxBatchBytes: number): Promise<number | string | undefined> {
  if (!(await reader.ensure(BATCH_PREFIX_BYTES))) {
    return reader.available > 0 ? `truncated batch at byte ${pos}: only ${reader.available} bytes left, less than the 12-byte batch prefix` : undefined;
  }
  const batchLength = reader.peek(BATCH_PREFIX_BYTES).readInt32BE(BATCH_LENGTH);
  if (batchLength < 0 || BATCH_PREFIX_BYTES + batchLength > maxBatchBytes) {
    return `corrupt batch at byte ${pos}: batch length ${batchLength} is invalid (limit ${maxBatchBytes}); cannot find the next batch, stopping`;
  }
  if (batchLength < BATCH_HEADER_AFTER_LENGTH) {
    return (
      `corrupt batch at byte ${pos}: batch length ${batchLength} is below the ${BATCH_HEADER_AFTER_LENGTH}-byte batch header ` +
      `(a zero-filled, preallocated or sparse region?); cannot find the next batch, stopping`
    );
  }
  const size = BATCH_PREFIX_BYTES + batchLength;
  if (!(await reader.ensure(size))) return `truncated batch at byte ${pos}: declares ${size} bytes, only ${reader.available} present`;
  return size;
}

async function dumpBatches(
  reader: ChunkReader,
  ahead: BatchReadAhead,
  out: Writable,
  err: Writable & { isTTY?: boolean },
  totalBytes: number | undefined,
  options: DumpOptions,
): Promise<DumpSummary> {
  const output = new Output(out);
  const progress = options.progress && totalBytes !== undefined ? new Progress(err, totalBytes) : undefined;
  const summary: DumpSummary = { batches: 0, records: 0, bytes: 0, errors: 0 };
  const report = async (msg: string): Promise<void> => {
    await output.flush(); // keep stdout and stderr in order when both go to one terminal
    progress?.clear();
    err.write(`kafka-arena dump: ${msg}\n`);
    summary.errors++;
  };
  let framed = 0; // bytes handed to the read-ahead
  let end = false;
  let stop: string | undefined; // reported once the batches before it are out
  for (;;) {
    while (!end && ahead.wantsMore) {
      const next = await nextBatch(reader, framed, options.maxBatchBytes);
      if (typeof next !== 'number') {
        stop = next;
        end = true;
        break;
      }
      ahead.add(reader.take(next), framed);
      framed += next;
    }
    const next = ahead.shift();
    if (next === undefined) break;
    let batch: RecordBatch | undefined;
    try {
      batch = (await next.decode()) as RecordBatch;
      if (options.format !== 'json') output.line(batchLine(batch));
      for (const c = batch.cursor(); c.advance(); ) {
        output.line(recordLine(c.record, options.format, batch));
        summary.records++;
        if (output.full) await output.flush();
      }
      summary.batches++;
    } catch (e) {
      // A worker that died or a closed pool is no fault of the batch.
      if (!(e instanceof KafkaArenaError) || e.cause instanceof PoolError) throw e;
      await report(`${e.code === 'ERR_UNSUPPORTED_MAGIC' ? 'unsupported' : 'corrupt'} batch at byte ${next.position} (${e.code}): ${e.message}; skipping ${next.byteLength} bytes`);
    } finally {
      batch?.release();
    }
    summary.bytes = next.position + next.byteLength;
    progress?.update(summary.bytes);
    if (output.full) await output.flush();
  }
  if (stop !== undefined) await report(stop);
  await output.flush();
  progress?.clear();
  summary.bytes = framed + reader.available;
  return summary;
}

/** Opens a file (or stdin for '-') for {@link dump}, with its size when known. */
export function openInput(path: string): { stream: Readable; size: number | undefined } {
  if (path === '-') return { stream: process.stdin, size: undefined };
  const st = statSync(path);
  if (st.isDirectory()) throw new Error(`${path} is a directory`);
  return { stream: createReadStream(path, { highWaterMark: 1 << 20 }), size: st.isFile() ? st.size : undefined };
}
