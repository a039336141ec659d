/**
 * A stand-in for kafkajs's Consumer + Runner built on kafkajs's own Batch class and RecordBatch
 * decoder, driven the way kafkajs's runner drives them (FETCH_START, decode, handler, events).
 * Shared by the lifecycle and pressure tests.
 */
import { EventEmitter } from 'node:events';
import { registerCodecs } from '../../src/kafkajs';
import type { KafkajsConsumer } from '../../src/kafkajs';

// kafkajs internals, used as kafkajs itself uses them.
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const { CompressionCodecs, CompressionTypes } = require('kafkajs');
const { RecordBatch: RecordBatchEncoder } = require('kafkajs/src/protocol/recordBatch/v0');
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const Decoder = require('kafkajs/src/protocol/decoder');
const Batch = require('kafkajs/src/consumer/batch');
export const Long = require('kafkajs/src/utils/long');

registerCodecs(CompressionCodecs);

export const EVENTS = {
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  GROUP_JOIN: 'consumer.group_join',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  REBALANCING: 'consumer.rebalancing',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  DISCONNECT: 'consumer.disconnect',
};

export interface PartitionFetch {
  topic: string;
  partition: number;
  fetchOffset: string;
  recordBatches: Buffer[];
  abortedTransactions?: Array<{ producerId: string; firstOffset: string }>;
}

/** A stand-in for kafkajs's Consumer + Runner, following runner.fetch / handleBatch. */
export class FakeConsumer implements KafkajsConsumer {
  events = EVENTS;
  emitter = new EventEmitter();
  config: Record<string, any> = {};
  pausedTopics = new Map<string, Set<number>>();
  seeks = new Set<string>();
  /** Like kafkajs after stop(): no consumer group, so pause() and resume() throw. */
  stopped = false;
  /** Partitions whose decoded data the fetch dropped because they were paused or seeked meanwhile. */
  dropped: string[] = [];
  /** Runs between the decode of a fetch and kafkajs's filter (an application pausing meanwhile). */
  onDecoded: (() => void) | undefined;
  calls: Array<{ op: 'pause' | 'resume'; topics: Array<{ topic: string; partitions?: number[] }> }> = [];

  on(event: string, listener: (e: { payload: Record<string, unknown> }) => void): () => void {
    this.emitter.addListener(event, listener);
    return () => this.emitter.removeListener(event, listener);
  }
  async run(config: Record<string, unknown>): Promise<void> {
    this.config = config;
  }
  pause(topics: Array<{ topic: string; partitions?: number[] }>): void {
    if (this.stopped) throw new Error('Consumer group was not initialized, consumer#run must be called first');
    this.calls.push({ op: 'pause', topics });
    for (const t of topics) {
      const set = this.pausedTopics.get(t.topic) ?? new Set<number>();
      for (const p of t.partitions ?? []) set.add(p);
      this.pausedTopics.set(t.topic, set);
    }
  }
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void {
    if (this.stopped) throw new Error('Consumer group was not initialized, consumer#run must be called first');
    this.calls.push({ op: 'resume', topics });
    for (const t of topics) for (const p of t.partitions ?? []) this.pausedTopics.get(t.topic)?.delete(p);
  }
  paused(): Array<{ topic: string; partitions: number[] }> {
    return [...this.pausedTopics].map(([topic, set]) => ({ topic, partitions: [...set] })).filter((p) => p.partitions.length > 0);
  }
  /** kafkajs's stop(): the group goes, then STOP is emitted. */
  stop(): void {
    this.stopped = true;
    this.pausedTopics.clear();
    this.emitEvent(EVENTS.STOP, {});
  }
  emitEvent(name: string, payload: Record<string, unknown>): void {
    this.emitter.emit(name, { payload });
  }

  /** runner.fetch: FETCH_START, then consumerGroup.fetch in the same synchronous turn. */
  async fetch(nodeId: number, partitions: PartitionFetch[]): Promise<any[]> {
    this.emitEvent(EVENTS.FETCH_START, { nodeId });
    const batches = await this.#decode(partitions);
    this.emitEvent(EVENTS.FETCH, { nodeId });
    return batches;
  }

  async #decode(partitions: PartitionFetch[]): Promise<any[]> {
    // Requested: the partitions not paused when the fetch started (consumerGroup.fetch).
    const requested = partitions.filter((p) => !this.pausedTopics.get(p.topic)?.has(p.partition));
    const decoded: Array<[PartitionFetch, unknown[]]> = [];
    for (const p of requested) {
      const messages = [];
      for (const bytes of p.recordBatches) {
        const batch = await RecordBatchDecoder(new Decoder(bytes));
        messages.push(...batch.records);
      }
      decoded.push([p, messages]);
    }
    this.onDecoded?.();
    // After the whole response is decoded, consumerGroup.fetch drops the data of partitions
    // seeked or paused meanwhile.
    const out = [];
    for (const [p, messages] of decoded) {
      if (this.seeks.has(`${p.topic}|${p.partition}`) || this.pausedTopics.get(p.topic)?.has(p.partition)) {
        this.dropped.push(`${p.topic}|${p.partition}`);
        continue;
      }
      out.push(new Batch(p.topic, p.fetchOffset, { partition: p.partition, highWatermark: '1000', abortedTransactions: p.abortedTransactions ?? [], messages }));
    }
    return out;
  }

  /** runner.handleBatch. */
  async handle(batch: any): Promise<void> {
    if (batch.isEmpty()) return;
    this.emitEvent(EVENTS.START_BATCH_PROCESS, { topic: batch.topic, partition: batch.partition });
    if (this.config.eachMessage) {
      for (const message of batch.messages) await this.config.eachMessage({ topic: batch.topic, partition: batch.partition, message });
    } else {
      await this.config.eachBatch({ batch });
    }
    this.emitEvent(EVENTS.END_BATCH_PROCESS, { topic: batch.topic, partition: batch.partition });
  }
}

export async function encode(compression: number, firstOffset: number, values: string[], extra: Record<string, unknown> = {}): Promise<Buffer> {
  return encodeRecords(compression, firstOffset, values.map((v, i) => ({ key: Buffer.from(`k${firstOffset + i}`), value: Buffer.from(v) })), extra);
}

/** A record batch of `records` as given (null keys and values, headers). */
export async function encodeRecords(
  compression: number,
  firstOffset: number,
  given: Array<{ key: Buffer | null; value: Buffer | null; headers?: Record<string, Buffer> }>,
  extra: Record<string, unknown> = {},
): Promise<Buffer> {
  const values = given;
  const records = given.map((r, i) => ({ key: r.key, value: r.value, offsetDelta: i, timestampDelta: 0, headers: r.headers ?? {} }));
  const RecordEncoder = require('kafkajs/src/protocol/recordBatch/record/v0');
  const encoded = await RecordBatchEncoder({
    compression,
    firstOffset: Long.fromValue(firstOffset),
    lastOffsetDelta: values.length - 1,
    records: records.map((r) => RecordEncoder(r)),
    ...extra,
  });
  return encoded.buffer;
}

/** Sets the control bit (0x20) in a kafkajs-encoded batch (kafkajs does not check the CRC). */
export function asControl(batch: Buffer): Buffer {
  const b = Buffer.from(batch);
  const attrPos = 8 + 4 + 4 + 1 + 4;
  b.writeInt16BE(b.readInt16BE(attrPos) | 0x20, attrPos);
  return b;
}

export const payload = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}-${'x'.repeat(200)}`);
