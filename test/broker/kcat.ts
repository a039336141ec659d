/**
 * kcat (librdkafka's CLI, 1.7.x) as an independent reference producer and consumer for tests:
 * whatever our code decodes, librdkafka encoded, and vice versa.
 *
 * Both directions are binary-safe:
 * - producing writes every record to kcat's stdin followed by a random delimiter (`-D`) that
 *   provably splits the stream at the intended places (and a second one, `-K`, between key and
 *   value when keys or empty values are involved);
 * - consuming uses the format `%p %o %K %S %T\n%k%s`: a text header with the key and value
 *   lengths (-1 = null), then exactly that many raw bytes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BrokerError } from './harness';

export type KcatCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** A record to produce. `null` key/value are sent as Kafka nulls (length -1); `undefined` key = null. */
export interface KcatRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
}

/** librdkafka properties passed as `-X name=value`. */
export type KcatProperties = Record<string, string | number | boolean>;

export interface KcatProduceOptions {
  bootstrap: string | readonly string[];
  topic: string;
  /** Target partition; default: librdkafka's partitioner (key hash, random without key). */
  partition?: number;
  /**
   * Batch compression. Default 'none'. librdkafka sends a batch uncompressed when compressing
   * does not make it smaller, so use compressible data when the codec matters.
   */
  codec?: KcatCodec;
  /** Compression level (librdkafka `compression.level`). */
  level?: number;
  /** Plain values (no key) or records. Order is kept within each partition. */
  messages: ReadonlyArray<Buffer | string | KcatRecord>;
  /**
   * Raw mode: each message (must be Buffer/string) is `key<keyDelimiter>value` and kcat splits it
   * (`-K`). Escapes as in kcat: `\t`, `\n`, `\xNN`. Without it, use {@link KcatRecord} keys.
   */
  keyDelimiter?: string;
  /** Headers added to every message (`-H name=value`). */
  headers?: Readonly<Record<string, string>>;
  /** Extra librdkafka properties, e.g. `{ 'batch.size': 100000, 'linger.ms': 50 }`. */
  properties?: KcatProperties;
  /** Kill kcat and reject after this long. Default 30000. */
  timeoutMs?: number;
}

export interface KcatConsumeOptions {
  bootstrap: string | readonly string[];
  topic: string;
  /** Partition(s) to read; default all. Several partitions run one kcat each (then `untilEnd` is forced). */
  partitions?: number | readonly number[];
  /** Stop after this many messages (`-c`). With several explicit partitions it caps the merged result. */
  count?: number;
  /** Start offset: 'beginning' (default), 'end', an absolute offset, or a negative offset from the end. */
  offset?: 'beginning' | 'end' | number;
  /** Exit once every partition reached its end (`-e`). Default true. */
  untilEnd?: boolean;
  properties?: KcatProperties;
  /** Kill kcat and reject after this long. Default 30000. */
  timeoutMs?: number;
}

export interface KcatMessage {
  partition: number;
  offset: number;
  /** null for a null key. */
  key: Buffer | null;
  /** null for a null value (tombstone). */
  value: Buffer | null;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
}

const DEFAULT_TIMEOUT_MS = 30000;
/** kcat/librdkafka default; larger records need `message.max.bytes` raised. */
const DEFAULT_MESSAGE_MAX_BYTES = 1000000;

function brokerList(b: string | readonly string[]): string {
  return typeof b === 'string' ? b : b.join(',');
}

function propertyArgs(props: KcatProperties | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(props ?? {})) out.push('-X', `${k}=${String(v)}`);
  return out;
}

function toBuf(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/**
 * A delimiter whose first byte occurs nowhere else in it, so it has no border (no proper prefix
 * equal to a suffix): a record's tail can then never combine with the real delimiter into an
 * earlier match. Bytes are 0x80..0xff: never NUL (kcat uses C strings) and never `\`.
 */
function randomDelimiter(len: number): Buffer {
  const d = randomBytes(len);
  for (let i = 0; i < len; i++) d[i] = 0x80 | (d[i]! & 0x7f);
  for (let i = 1; i < len; i++) if (d[i] === d[0]) d[i] = d[0] === 0xff ? 0xfe : 0xff;
  return d;
}

function escapeDelimiter(d: Buffer): string {
  let s = '';
  for (const b of d) s += `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

interface Framed {
  body: Buffer;
  args: string[];
  maxRecord: number;
}

/** Builds kcat's stdin and the matching -D/-K/-Z flags; throws TypeError for inexpressible mixes. */
function frame(opts: KcatProduceOptions): Framed {
  if (opts.keyDelimiter !== undefined) {
    if (opts.keyDelimiter === '') throw new TypeError('keyDelimiter must not be empty');
    const values = opts.messages.map((m) => {
      if (typeof m === 'string' || Buffer.isBuffer(m)) return toBuf(m);
      throw new TypeError('with keyDelimiter, messages must be Buffer or string');
    });
    return frameRaw(values, ['-K', opts.keyDelimiter]);
  }

  const recs = opts.messages.map((m) =>
    typeof m === 'string' || Buffer.isBuffer(m)
      ? { key: null, value: toBuf(m) }
      : { key: m.key == null ? null : toBuf(m.key), value: m.value === null ? null : toBuf(m.value) },
  );
  const useKeys = recs.some((r) => r.key !== null || r.value === null || r.value.length === 0);
  if (!useKeys) return frameRaw(recs.map((r) => r.value!), []);

  // -Z turns every empty key/value into null (and only -Z can make a null value), and kcat skips
  // empty input records; so null values and empty keys/values cannot share one call, and a null
  // key with an empty value cannot be expressed at all.
  for (const r of recs) {
    if (r.key === null && r.value !== null && r.value.length === 0) {
      throw new TypeError('kcat cannot produce a null key with an empty (non-null) value');
    }
  }
  const needZ = recs.some((r) => r.value === null);
  const forbidZ = recs.some((r) => (r.key !== null && r.key.length === 0) || (r.value !== null && r.value.length === 0));
  if (needZ && forbidZ) {
    throw new TypeError('kcat cannot mix null values with empty keys/values in one call (-Z applies to all); split the call');
  }
  for (let attempt = 0; attempt < 16; attempt++) {
    const kd = randomDelimiter(8);
    const parts: Buffer[] = [];
    let ok = true;
    for (const r of recs) {
      const value = r.value ?? Buffer.alloc(0);
      let rec: Buffer;
      if (r.key === null && value.length > 0) {
        rec = value;
        if (rec.includes(kd)) ok = false;
      } else {
        const key = r.key ?? Buffer.alloc(0);
        rec = Buffer.concat([key, kd, value]);
        if (rec.indexOf(kd) !== key.length) ok = false;
      }
      if (!ok) break;
      parts.push(rec);
    }
    if (!ok) continue;
    return frameRaw(parts, ['-K', escapeDelimiter(kd), ...(needZ ? ['-Z'] : [])]);
  }
  throw new Error('could not find a key delimiter absent from the data');
}

function frameRaw(records: Buffer[], extra: string[]): Framed {
  for (let attempt = 0; attempt < 16; attempt++) {
    const d = randomDelimiter(8);
    // kcat splits at the first occurrence of the delimiter; the border-free delimiter makes
    // "no occurrence inside any record" sufficient.
    if (records.some((r) => r.includes(d))) continue;
    const parts: Buffer[] = [];
    let maxRecord = 0;
    for (const r of records) {
      if (r.length === 0) throw new TypeError('kcat cannot produce an empty value without a key; use { key, value }');
      parts.push(r, d);
      maxRecord = Math.max(maxRecord, r.length);
    }
    return { body: Buffer.concat(parts), args: ['-D', escapeDelimiter(d), ...extra], maxRecord };
  }
  throw new Error('could not find a message delimiter absent from the data');
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runKcat(
  args: string[],
  input: Buffer | null,
  timeoutMs: number,
  onStdout?: (chunk: Buffer) => void,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => onStdout?.(d));
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-16384);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // 'close' (not 'exit') so every stdout byte has been delivered.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new BrokerError(`kcat ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
      else resolve({ code, signal, stderr });
    });
    if (input) {
      child.stdin!.on('error', () => undefined); // reported through the exit code instead
      child.stdin!.end(input);
    }
  });
}

/**
 * Produces `messages` with kcat (librdkafka's producer) and resolves once all are acknowledged.
 * Rejects when kcat reports a failed delivery or exits non-zero.
 * @returns the number of records sent.
 */
export async function kcatProduce(opts: KcatProduceOptions): Promise<number> {
  if (opts.messages.length === 0) return 0;
  const { body, args: frameArgs, maxRecord } = frame(opts);
  const props: KcatProperties = { 'compression.codec': opts.codec ?? 'none', ...(opts.properties ?? {}) };
  if (opts.level !== undefined) props['compression.level'] = opts.level;
  // kcat sizes its input buffer from message.max.bytes, and librdkafka refuses larger records.
  if (props['message.max.bytes'] === undefined && maxRecord + 4096 > DEFAULT_MESSAGE_MAX_BYTES) {
    props['message.max.bytes'] = Math.min(1000000000, maxRecord + 65536);
  }
  const args = ['-P', '-b', brokerList(opts.bootstrap), '-t', opts.topic, ...frameArgs];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (k.includes('=')) throw new TypeError(`header name ${k} contains '='`);
    args.push('-H', `${k}=${v}`);
  }
  args.push(...propertyArgs(props));
  const r = await runKcat(args, body, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (r.code !== 0) {
    throw new BrokerError(`kcat produce failed (code ${r.code}, signal ${r.signal}): ${r.stderr.trim()}`);
  }
  return opts.messages.length;
}

/** Incremental parser for `%p %o %K %S %T\n%k%s` output. */
class FrameParser {
  readonly messages: KcatMessage[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: { partition: number; offset: number; keyLen: number; valueLen: number; timestamp: number } | undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.header) {
        const all = this.peekAll();
        const nl = all.indexOf(0x0a);
        if (nl < 0) return;
        const m = /^(\d+) (\d+) (-1|\d+) (-1|\d+) (-?\d+)$/.exec(all.subarray(0, nl).toString('latin1'));
        if (!m) throw new BrokerError(`unparsable kcat header ${JSON.stringify(all.subarray(0, Math.min(nl, 200)).toString('latin1'))}`);
        this.header = { partition: +m[1]!, offset: +m[2]!, keyLen: +m[3]!, valueLen: +m[4]!, timestamp: +m[5]! };
        this.consume(nl + 1);
      }
      const h = this.header;
      const need = Math.max(h.keyLen, 0) + Math.max(h.valueLen, 0);
      if (this.buffered < need) return;
      const body = this.consume(need);
      const kl = Math.max(h.keyLen, 0);
      this.messages.push({
        partition: h.partition,
        offset: h.offset,
        key: h.keyLen < 0 ? null : Buffer.from(body.subarray(0, kl)),
        value: h.valueLen < 0 ? null : Buffer.from(body.subarray(kl)),
        timestamp: h.timestamp,
      });
      this.header = undefined;
    }
  }

  /** True when no partial record is pending. */
  get clean(): boolean {
    return this.buffered === 0 && !this.header;
  }

  private peekAll(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Removes and returns the first n buffered bytes; concatenates only when n is available. */
  private consume(n: number): Buffer {
    const all = this.peekAll();
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}

async function consumeOne(opts: KcatConsumeOptions, partition: number | undefined, count: number | undefined): Promise<KcatMessage[]> {
  const off = opts.offset ?? 'beginning';
  const args = ['-C', '-q', '-b', brokerList(opts.bootstrap), '-t', opts.topic, '-o', String(off), '-f', '%p %o %K %S %T\\n%k%s'];
  if (partition !== undefined) args.push('-p', String(partition));
  if (count !== undefined) args.push('-c', String(count));
  if (opts.untilEnd ?? true) args.push('-e');
  // The mock parks a Fetch at the log end for the full fetch.wait.max.ms (default 500 ms) even
  // when data arrives, and -e only fires after such an empty fetch: keep it short.
  args.push(...propertyArgs({ 'fetch.wait.max.ms': 10, ...(opts.properties ?? {}) }));
  const parser = new FrameParser();
  let parseError: unknown;
  const r = await runKcat(args, null, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, (d) => {
    if (parseError) return;
    try {
      parser.push(d);
    } catch (e) {
      parseError = e;
    }
  });
  if (parseError) throw parseError;
  if (r.code !== 0) throw new BrokerError(`kcat consume failed (code ${r.code}, signal ${r.signal}): ${r.stderr.trim()}`);
  if (!parser.clean) throw new BrokerError('kcat output ended inside a record');
  return parser.messages;
}

/**
 * Consumes with kcat (librdkafka's simple consumer, no group) and returns the records sorted by
 * partition, then offset.
 */
export async function kcatConsume(opts: KcatConsumeOptions): Promise<KcatMessage[]> {
  let out: KcatMessage[];
  const parts = opts.partitions === undefined ? undefined : typeof opts.partitions === 'number' ? [opts.partitions] : [...opts.partitions];
  if (parts === undefined || parts.length === 1) {
    out = await consumeOne(opts, parts?.[0], opts.count);
  } else {
    const each = await Promise.all(parts.map((p) => consumeOne({ ...opts, untilEnd: true }, p, opts.count)));
    out = each.flat();
  }
  out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  if (opts.count !== undefined && out.length > opts.count) out = out.slice(0, opts.count);
  return out;
}
