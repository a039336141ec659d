import { createReadStream, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import { KafkaArenaError } from '../errors';
import type { RecordBatch } from '../protocol/batch';
import { decodeRecordBatch } from '../protocol/decode';
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
    if (this.#chunks[0].length < n) this.#chunks = [Buffer.concat(this.#chunks)];
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
 */
export async function dump(input: Readable, out: Writable, err: Writable & { isTTY?: boolean }, totalBytes: number | undefined, options: DumpOptions): Promise<DumpSummary> {
  const reader = new ChunkReader(input);
  const output = new Output(out);
  const progress = options.progress && totalBytes !== undefined ? new Progress(err, totalBytes) : undefined;
  const summary: DumpSummary = { batches: 0, records: 0, bytes: 0, errors: 0 };
  const report = async (msg: string): Promise<void> => {
    await output.flush(); // keep stdout and stderr in order when both go to one terminal
    progress?.clear();
    err.write(`kafka-arena dump: ${msg}\n`);
    summary.errors++;
  };
  let pos = 0;
  for (;;) {
    if (!(await reader.ensure(BATCH_PREFIX_BYTES))) {
      if (reader.available > 0) await report(`truncated batch at byte ${pos}: only ${reader.available} bytes left, less than the 12-byte batch prefix`);
      break;
    }
    const prefix = reader.peek(BATCH_PREFIX_BYTES);
    const batchLength = prefix.readInt32BE(BATCH_LENGTH);
    if (batchLength < 0 || BATCH_PREFIX_BYTES + batchLength > options.maxBatchBytes) {
      await report(`corrupt batch at byte ${pos}: batch length ${batchLength} is invalid (limit ${options.maxBatchBytes}); cannot find the next batch, stopping`);
      break;
    }
    if (batchLength < BATCH_HEADER_AFTER_LENGTH) {
      await report(
        `corrupt batch at byte ${pos}: batch length ${batchLength} is below the ${BATCH_HEADER_AFTER_LENGTH}-byte batch header ` +
          `(a zero-filled, preallocated or sparse region?); cannot find the next batch, stopping`,
      );
      break;
    }
    const size = BATCH_PREFIX_BYTES + batchLength;
    if (!(await reader.ensure(size))) {
      await report(`truncated batch at byte ${pos}: declares ${size} bytes, only ${reader.available} present`);
      break;
    }
    const bytes = reader.take(size);
    let batch: RecordBatch | undefined;
    try {
      batch = decodeRecordBatch(bytes, { verifyCrc: options.verifyCrc, basePosition: pos });
      if (options.format !== 'json') output.line(batchLine(batch));
      for (const c = batch.cursor(); c.advance(); ) {
        output.line(recordLine(c.record, options.format, batch));
        summary.records++;
        if (output.full) await output.flush();
      }
      summary.batches++;
    } catch (e) {
      if (!(e instanceof KafkaArenaError)) throw e;
      await report(`${e.code === 'ERR_UNSUPPORTED_MAGIC' ? 'unsupported' : 'corrupt'} batch at byte ${pos} (${e.code}): ${e.message}; skipping ${size} bytes`);
    } finally {
      batch?.release();
    }
    pos += size;
    summary.bytes = pos;
    progress?.update(pos);
    if (output.full) await output.flush();
  }
  await output.flush();
  progress?.clear();
  summary.bytes = pos + reader.available;
  return summary;
}

/** Opens a file (or stdin for '-') for {@link dump}, with its size when known. */
export function openInput(path: string): { stream: Readable; size: number | undefined } {
  if (path === '-') return { stream: process.stdin, size: undefined };
  const st = statSync(path);
  if (st.isDirectory()) throw new Error(`${path} is a directory`);
  return { stream: createReadStream(path, { highWaterMark: 1 << 20 }), size: st.isFile() ? st.size : undefined };
}
