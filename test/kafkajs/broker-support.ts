/**
 * Shared pieces of the kafkajs-adapter tests against the mock broker (*.broker.test.ts and
 * broker.test.ts): deterministic compressible data, per-partition ledgers with checksums, a
 * kafkajs error-log sink, and a minimal raw Fetch client that returns a partition's record-batch
 * bytes exactly as the broker stores them.
 */
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { logLevel, type LogEntry } from 'kafkajs';

export { prng } from '../support/random';

const WORDS = ['click', 'view', 'purchase', 'signup', 'logout', 'search', 'share', 'like', 'comment', 'refund'];
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'NG', 'SE', 'CA', 'AU'];

/**
 * A JSON event of about `size` bytes: realistic, compressible (repeated field names, small
 * alphabets) but not trivially so (random ids and numbers), so librdkafka really compresses it
 * (it sends a batch uncompressed when compression does not shrink it).
 */
export function jsonEvent(rand: () => number, seq: number, tag: string, size = 300): string {
  const ev: Record<string, unknown> = {
    seq,
    tag,
    type: WORDS[Math.floor(rand() * WORDS.length)],
    user: `u${Math.floor(rand() * 1e6)}`,
    country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)],
    amount: Math.round(rand() * 1e5) / 100,
    ts: 1_700_000_000_000 + seq * 17,
  };
  let s = JSON.stringify(ev);
  const items: string[] = [];
  while (s.length + items.join(',').length + 12 < size) {
    items.push(`"${WORDS[Math.floor(rand() * WORDS.length)]}-${Math.floor(rand() * 100)}"`);
  }
  s = `${s.slice(0, -1)},"items":[${items.join(',')}]}`;
  return s;
}

/** sha256 over `values` in order, each framed by its length (-1 for null), as hex. */
export function checksum(values: ReadonlyArray<Buffer | string | null>): string {
  const h = createHash('sha256');
  const len = Buffer.alloc(4);
  for (const v of values) {
    if (v === null) {
      len.writeInt32BE(-1);
      h.update(len);
      continue;
    }
    const b = typeof v === 'string' ? Buffer.from(v) : v;
    len.writeInt32BE(b.length);
    h.update(len);
    h.update(b);
  }
  return h.digest('hex');
}

/** A delivery of an offset that had been delivered before. */
export interface Redelivery {
  partition: number;
  offset: number;
  /** The group's committed offset (next offset to read) for the partition when it was redelivered. */
  committed: number;
  /** Whether the value equals the first delivery's. */
  sameValue: boolean;
}

/**
 * What a consumer group delivered, per partition and offset (values copied, so the ledger owns
 * them). Shared by all members of a group. kafkajs is at-least-once: a batch processed but whose
 * offset commit failed (the mock coordinator rejects OffsetCommit with REBALANCE_IN_PROGRESS
 * while a rebalance is under way) is delivered again after the rebalance. So the ledger follows
 * the group's commits ({@link Ledger.track}) and records every redelivery with the committed
 * offset at that moment: a redelivery below it would be a real duplicate.
 */
export class Ledger {
  readonly byPartition = new Map<number, Map<number, Buffer | null>>();
  readonly redeliveries: Redelivery[] = [];
  readonly committed = new Map<number, number>();
  delivered = 0;

  /** Follows the successful offset commits of `consumer` (kafkajs's COMMIT_OFFSETS event) for `topic`. */
  track(consumer: { on(e: string, l: (e: { payload: any }) => void): unknown; events: { COMMIT_OFFSETS: string } }, topic: string): this {
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => {
      for (const t of e.payload.topics as Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>) {
        if (t.topic !== topic) continue;
        for (const { partition, offset } of t.partitions) {
          this.committed.set(partition, Math.max(this.committed.get(partition) ?? 0, Number(offset)));
        }
      }
    });
    return this;
  }

  add(partition: number, offset: number | string, value: Buffer | null): void {
    let p = this.byPartition.get(partition);
    if (!p) this.byPartition.set(partition, (p = new Map()));
    const o = Number(offset);
    if (p.has(o)) {
      const first = p.get(o)!;
      const sameValue = first === null || value === null ? first === value : first.equals(value);
      this.redeliveries.push({ partition, offset: o, committed: this.committed.get(partition) ?? 0, sameValue });
    } else {
      p.set(o, value === null ? null : Buffer.from(value));
    }
    this.delivered++;
  }

  /** Redeliveries not explained by at-least-once semantics: of committed offsets, or with other bytes. */
  get duplicates(): Redelivery[] {
    return this.redeliveries.filter((r) => r.offset < r.committed || !r.sameValue);
  }

  /** Distinct offsets seen. */
  get size(): number {
    let n = 0;
    for (const p of this.byPartition.values()) n += p.size;
    return n;
  }

  /** Values of a partition in offset order. */
  values(partition: number): Array<Buffer | null> {
    const p = this.byPartition.get(partition);
    if (!p) return [];
    return [...p.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }

  /** Offsets of a partition in order. */
  offsets(partition: number): number[] {
    return [...(this.byPartition.get(partition)?.keys() ?? [])].sort((a, b) => a - b);
  }
}

/** kafkajs log sink keeping ERROR entries (to prove an injected fault was observed, and to show crashes). */
export function errorLog(): { entries: LogEntry[]; logCreator: () => (e: LogEntry) => void } {
  const entries: LogEntry[] = [];
  return { entries, logCreator: () => (e) => void (e.level === logLevel.ERROR && entries.push(e)) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One partition of a Fetch v4 response. */
export interface RawFetchResult {
  errorCode: number;
  highWatermark: bigint;
  /** The partition's `records` field: concatenated RecordBatches as stored by the broker. */
  records: Buffer;
}

let correlation = 1;

/**
 * A single Fetch (API key 1, version 4) for one partition over a fresh TCP connection, to
 * `hostPort` (the partition's leader). Version 4 is the oldest with RecordBatch v2 and the
 * isolation level, and is not a "flexible" version, so the framing is plain:
 *
 *   Request  => size:int32 api_key:int16 api_version:int16 correlation_id:int32 client_id:string
 *               replica_id:int32 max_wait_ms:int32 min_bytes:int32 max_bytes:int32
 *               isolation_level:int8 [topic:string [partition:int32 fetch_offset:int64
 *               partition_max_bytes:int32]]
 *   Response => size:int32 correlation_id:int32 throttle_time_ms:int32
 *               [topic:string [partition:int32 error_code:int16 high_watermark:int64
 *               last_stable_offset:int64 [producer_id:int64 first_offset:int64] records:bytes]]
 */
export function rawFetch(hostPort: string, topic: string, partition: number, offset: bigint, maxBytes = 64 << 20): Promise<RawFetchResult> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))];
  const clientId = Buffer.from('kafka-arena-raw');
  const topicBytes = Buffer.from(topic);
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + topicBytes.length + 4 + 4 + 8 + 4);
  const id = correlation++;
  let p = 0;
  p = body.writeInt16BE(1, p);
  p = body.writeInt16BE(4, p);
  p = body.writeInt32BE(id, p);
  p = body.writeInt16BE(clientId.length, p);
  p += clientId.copy(body, p);
  p = body.writeInt32BE(-1, p); // replica_id
  p = body.writeInt32BE(0, p); // max_wait_ms: answer at once
  p = body.writeInt32BE(0, p); // min_bytes
  p = body.writeInt32BE(maxBytes, p);
  p = body.writeInt8(0, p); // READ_UNCOMMITTED
  p = body.writeInt32BE(1, p);
  p = body.writeInt16BE(topicBytes.length, p);
  p += topicBytes.copy(body, p);
  p = body.writeInt32BE(1, p);
  p = body.writeInt32BE(partition, p);
  p = body.writeBigInt64BE(offset, p);
  p = body.writeInt32BE(maxBytes, p);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => socket.destroy(new Error(`raw fetch to ${hostPort} timed out`)), 10000);
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('connect', () => socket.write(Buffer.concat([size, body])));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received < 4) return;
      const all = Buffer.concat(chunks);
      const total = all.readInt32BE(0) + 4;
      if (all.length < total) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(parseFetchV4(all.subarray(4, total), id, topic, partition));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseFetchV4(r: Buffer, id: number, topic: string, partition: number): RawFetchResult {
  let p = 0;
  if (r.readInt32BE(p) !== id) throw new Error('correlation id mismatch');
  p += 4 + 4; // correlation id, throttle time
  const topics = r.readInt32BE(p);
  p += 4;
  for (let t = 0; t < topics; t++) {
    const nameLen = r.readInt16BE(p);
    const name = r.toString('utf8', p + 2, p + 2 + nameLen);
    p += 2 + nameLen;
    const parts = r.readInt32BE(p);
    p += 4;
    for (let i = 0; i < parts; i++) {
      const part = r.readInt32BE(p);
      const errorCode = r.readInt16BE(p + 4);
      const highWatermark = r.readBigInt64BE(p + 6);
      p += 4 + 2 + 8 + 8;
      const aborted = r.readInt32BE(p);
      p += 4 + Math.max(aborted, 0) * 16;
      const len = r.readInt32BE(p);
      p += 4;
      const records = len < 0 ? Buffer.alloc(0) : Buffer.from(r.subarray(p, p + len));
      p += Math.max(len, 0);
      if (name === topic && part === partition) return { errorCode, highWatermark, records };
    }
  }
  throw new Error(`fetch response has no ${topic}/${partition}`);
}
