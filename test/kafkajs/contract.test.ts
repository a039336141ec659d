/**
 * The kafkajs internals the recycling consumer relies on, checked against kafkajs's real Runner,
 * ConsumerGroup (fetch, subscription state, pause filter) and Fetch v11 response decoder, without a
 * broker (only the cluster metadata, offsets and the broker's network round trip are stubbed):
 * 1. FETCH_START is emitted synchronously before `consumerGroup.fetch` reads the paused partitions;
 * 2. the response is decoded inside that async context (decompressions land in the helper's scope);
 * 3. a pause made at FETCH_START is seen by that fetch's request;
 * 4. `key` and `value` are views of the buffer the codec returned (revoked with its lease).
 * If a kafkajs update breaks one of these, this test fails even where librdkafka is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from '../../src';
import { arenaConsumer, type KafkajsConsumer } from '../../src/kafkajs';
import { CompressionTypes, encode, payload } from './fake-consumer';

const Runner = require('kafkajs/src/consumer/runner');
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup');
const InstrumentationEventEmitter = require('kafkajs/src/instrumentation/emitter');
const { events } = require('kafkajs/src/consumer/instrumentationEvents');
const Encoder = require('kafkajs/src/protocol/encoder');
const fetchV11 = require('kafkajs/src/protocol/requests/fetch/v11/response');
const { createLogger, LEVELS } = require('kafkajs/src/loggers');

/** A Fetch v11 response with one record batch per requested partition of topic `t`. */
function fetchResponse(partitions: Array<{ partition: number; records: Buffer }>): Buffer {
  const e = new Encoder().writeInt32(0).writeInt16(0).writeInt32(0).writeInt32(1).writeString('t').writeInt32(partitions.length);
  for (const p of partitions) {
    e.writeInt32(p.partition).writeInt16(0).writeInt64(1000).writeInt64(1000).writeInt64(0).writeInt32(0).writeInt32(-1).writeBytes(p.records);
  }
  return e.buffer;
}

function setup() {
  const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} });
  const emitter = new InstrumentationEventEmitter();
  const requested: number[][] = [];
  const records = new Map<number, Buffer>();
  const broker = {
    // The network round trip: kafkajs's connection awaits the response and decodes it in the
    // caller's async context; so does this stub, with kafkajs's own decoder.
    async fetch({ topics }: { topics: Array<{ partitions: Array<{ partition: number }> }> }) {
      const parts = topics.flatMap((t) => t.partitions.map((p) => p.partition));
      requested.push(parts);
      await new Promise((r) => setImmediate(r));
      const raw = fetchResponse(parts.map((partition) => ({ partition, records: records.get(partition)! })));
      return fetchV11.parse(await fetchV11.decode(raw));
    },
  };
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: 1 },
    ],
    findBroker: async () => broker,
  };
  const group = new ConsumerGroup({ cluster, groupId: 'g', topics: ['t'], logger, instrumentationEmitter: emitter, maxWaitTimeInMs: 1, maxBytes: 1 << 20, maxBytesPerPartition: 1 << 20 });
  group.subscriptionState.assign([{ topic: 't', partitions: [0, 1] }]);
  group.offsetManager = { resolveOffsets: async () => {}, committedOffsets: () => ({ t: { 0: '0', 1: '0' } }), nextOffset: () => ({ toString: () => '0' }) };
  let config: Record<string, any> = {};
  const consumer: KafkajsConsumer = {
    events,
    on: (event: string, listener: (e: { payload: Record<string, unknown> }) => void) => emitter.addListener(event, listener),
    run: async (c: Record<string, unknown>) => void (config = c),
    pause: (tps) => group.pause(tps),
    resume: (tps) => group.resume(tps),
    paused: () => group.paused(),
  };
  const runner = new Runner({ logger, consumerGroup: group, instrumentationEmitter: emitter, eachBatch: async () => {} });
  runner.running = true;
  return { emitter, runner, consumer, records, requested, handler: () => config };
}

test("kafkajs's Runner and ConsumerGroup: decode inside FETCH_START's context, views of the lease, pauses at FETCH_START seen by the fetch", async () => {
  const { emitter, runner, consumer, records, requested, handler } = setup();
  const arena = new Arena({ maxBytes: 1 << 20 });
  const helper = arenaConsumer(consumer, { arena, highWaterBytes: 100 << 10, lowWaterBytes: 50 << 10, resumeCheckMs: 5, untestedKafkajs: 'throw' });
  emitter.emit(events.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
  const keep: Array<() => void> = [];
  const views: Buffer[] = [];
  await helper.run({
    eachBatch: async ({ batch, retainBatch }) => {
      views.push(batch.messages[0].value!, batch.messages[0].key!);
      keep.push(retainBatch());
    },
  });
  records.set(0, await encode(CompressionTypes.ZSTD, 0, payload(400, 'a')));
  records.set(1, await encode(CompressionTypes.LZ4, 0, payload(400, 'b')));

  // 1 + 2: the real fetch decodes into the helper's arena.
  const batches = await runner.fetch(1);
  assert.deepEqual(requested, [[0, 1]]);
  assert.equal(batches.length, 2);
  const s = helper.stats();
  assert.equal(s.leasesCreated, 2, 'both decompressions were inside the fetch scope');
  assert.equal(s.unscopedDecompressions, 0);
  assert.equal(arena.stats().leasedCount, 2);
  // 4: the messages are views of the leases.
  for (const b of batches) await handler().eachBatch({ batch: b });
  assert.equal(views[0].toString().slice(0, 4), 'a-0-');
  assert.ok(helper.stats().highWaterHeldSeen > 100 << 10, 'past the high-water mark');

  // 3: the next fetch start pauses both partitions (their leader is known now), and the real
  // ConsumerGroup.fetch requests neither.
  await runner.fetch(1);
  assert.deepEqual(requested[1], undefined, 'no request: every partition paused at FETCH_START');
  assert.equal(helper.stats().paused, true);
  assert.deepEqual(consumer.paused(), [{ topic: 't', partitions: [0, 1] }]);

  // The retained leases go; the memory pause ends and the next fetch requests both again.
  for (const release of keep) release();
  assert.equal(views[0].length, 0, 'a view of a released lease is revoked: it was a view of the lease');
  assert.equal(views[1].length, 0, 'the key too');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(helper.stats().paused, false);
  await runner.fetch(1);
  assert.deepEqual(requested[1], [0, 1]);
  helper.close();
  for (const b of await runner.fetch(1)) void b;
});
