/**
 * Lease lifecycle of the recycling consumer against kafkajs's own Batch class and RecordBatch
 * decoder, driven the way kafkajs's runner drives them (FETCH_START, decode, handler, events).
 * This reaches the cases a mock broker cannot produce on demand: control batches, aborted
 * transactions, records below the fetch offset, and batches dropped by seek, pause or rebalance.
 * The real-broker tests are in broker.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from '../../src';
import { arenaConsumer, detachMessage, messageObjectBytes } from '../../src/kafkajs';
import { asControl, CompressionTypes, encode, EVENTS, FakeConsumer, Long, payload } from './fake-consumer';


test('eachBatch: leases are released when the handler settles and kept views read as empty', async () => {
  const arena = new Arena({ maxBytes: 8 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena });
  const kept: Buffer[] = [];
  const copies: Buffer[] = [];
  await helper.run({
    eachBatch: async ({ batch }: any) => {
      assert.ok(arena.stats().leasedCount > 0, 'decompressed into the arena');
      kept.push(batch.messages[0].value);
      copies.push(detachMessage(batch.messages[0]).value!);
      assert.equal(batch.messages[0].value.toString().slice(0, 4), 'zs-0');
    },
  });
  const bytes = await encode(CompressionTypes.ZSTD, 0, payload(50, 'zs'));
  const batches = await consumer.fetch(1, [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [bytes] }]);
  assert.equal(batches.length, 1);
  await consumer.handle(batches[0]);
  assert.equal(arena.stats().leasedBytes, 0, 'released at handler settle');
  assert.equal(helper.stats().released.handler, 1);
  assert.equal(kept[0].length, 0, 'a view kept past the handler is revoked');
  assert.equal(copies[0].toString().slice(0, 4), 'zs-0', 'detached copy survives');
});

test('eachMessage: a record batch is released once the partition moves past it or the batch ends', async () => {
  const arena = new Arena({ maxBytes: 8 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena });
  const seen: string[] = [];
  const leasedDuring: number[] = [];
  await helper.run({
    eachMessage: async ({ message }: any) => {
      seen.push(message.value.toString().split('-').slice(0, 2).join('-'));
      leasedDuring.push(arena.stats().leasedCount);
    },
  });
  const a = await encode(CompressionTypes.LZ4, 0, payload(3, 'a'));
  const b = await encode(CompressionTypes.Snappy, 3, payload(3, 'b'));
  const [batch] = await consumer.fetch(1, [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [a, b] }]);
  await consumer.handle(batch);
  assert.deepEqual(seen, ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2']);
  assert.deepEqual(leasedDuring, [2, 2, 2, 1, 1, 1], 'the first record batch went when the second began');
  assert.equal(arena.stats().leasedBytes, 0);
  assert.equal(helper.stats().released.messages, 2);
});

test('batches that reach no handler are released when the broker fetch completes: control, aborted, below offset, seek, pause', async () => {
  const arena = new Arena({ maxBytes: 8 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena });
  const delivered: string[] = [];
  await helper.run({
    eachBatch: async ({ batch }: any) => {
      for (const m of batch.messages) delivered.push(m.value.toString().split('-').slice(0, 2).join('-'));
    },
  });
  const control = asControl(await encode(CompressionTypes.ZSTD, 0, payload(1, 'ctl')));
  const aborted = await encode(CompressionTypes.ZSTD, 0, payload(4, 'ab'), { transactional: true, producerId: Long.fromValue(77), producerEpoch: 0 });
  const below = await encode(CompressionTypes.GZIP, 0, payload(5, 'lo'));
  const seeked = await encode(CompressionTypes.LZ4, 0, payload(5, 'sk'));
  const paused = await encode(CompressionTypes.Snappy, 0, payload(5, 'pz'));
  const ok = await encode(CompressionTypes.ZSTD, 0, payload(2, 'ok'));
  consumer.seeks.add('t|3');
  // The application pauses partition 4 while the fetch is decoded.
  consumer.onDecoded = () => consumer.pause([{ topic: 't', partitions: [4] }]);
  const batches = await consumer.fetch(7, [
    { topic: 't', partition: 0, fetchOffset: '0', recordBatches: [control] },
    { topic: 't', partition: 1, fetchOffset: '0', recordBatches: [aborted], abortedTransactions: [{ producerId: '77', firstOffset: '0' }] },
    { topic: 't', partition: 2, fetchOffset: '5', recordBatches: [below] },
    { topic: 't', partition: 3, fetchOffset: '0', recordBatches: [seeked] },
    { topic: 't', partition: 4, fetchOffset: '0', recordBatches: [paused] },
    { topic: 't', partition: 5, fetchOffset: '0', recordBatches: [ok] },
  ]);
  assert.equal(arena.stats().leasedCount, 6);
  assert.equal(batches.length, 4, 'seeked and paused partitions were dropped by the fetch');
  for (const b of batches) await consumer.handle(b);
  assert.deepEqual(delivered, ['ok-0', 'ok-1']);
  assert.equal(arena.stats().leasedCount, 5, 'only the delivered batch was released by its handler');
  // kafkajs starts this broker's next fetch only after the previous one was processed.
  await consumer.fetch(7, []);
  assert.equal(arena.stats().leasedCount, 0);
  assert.equal(arena.stats().leasedBytes, 0);
  const s = helper.stats();
  assert.equal(s.released.undelivered, 5);
  assert.equal(s.released.handler, 1);
  assert.equal(s.held, 0);
});

test('a fetch interrupted by a rebalance, stop or crash releases everything it held', async () => {
  for (const ev of [EVENTS.REBALANCING, EVENTS.STOP, EVENTS.CRASH, EVENTS.DISCONNECT]) {
    const arena = new Arena({ maxBytes: 8 << 20 });
    const consumer = new FakeConsumer();
    const helper = arenaConsumer(consumer, { arena });
    await helper.run({ eachBatch: async () => {} });
    const bytes = await encode(CompressionTypes.ZSTD, 0, payload(10, 'rb'));
    await consumer.fetch(1, [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [bytes] }]);
    await consumer.fetch(2, [{ topic: 't', partition: 1, fetchOffset: '0', recordBatches: [bytes] }]);
    assert.equal(arena.stats().leasedCount, 2);
    consumer.emitEvent(ev, {});
    assert.equal(arena.stats().leasedCount, 0, ev);
    assert.equal(helper.stats().released.shutdown, 2);
    helper.close();
  }
});

test('retainBatch keeps memory past the handler; backpressure pauses assigned partitions and resumes below the low-water mark', async () => {
  const arena = new Arena({ maxBytes: 1 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena, highWaterBytes: 300 << 10, lowWaterBytes: 100 << 10, resumeCheckMs: 5 });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1, 2], u: [0] } });
  consumer.pausedTopics.set('u', new Set([0])); // paused by the application: not ours to resume
  const keep: Array<() => void> = [];
  await helper.run({
    eachBatch: async ({ retainBatch }: any) => {
      keep.push(retainBatch());
    },
  });
  for (let i = 0; i < 6; i++) {
    const bytes = await encode(CompressionTypes.ZSTD, 0, payload(400, `p${i}`)); // ~80 KiB decompressed
    const batches = await consumer.fetch(1, [{ topic: 't', partition: i % 3, fetchOffset: '0', recordBatches: [bytes] }]);
    for (const b of batches) await consumer.handle(b);
  }
  const s = helper.stats();
  assert.ok(s.pauses >= 1, 'paused past the high-water mark');
  assert.equal(s.paused, true);
  assert.deepEqual(consumer.paused().find((p) => p.topic === 't')?.partitions.sort(), [0, 1, 2]);
  // The held memory is the leases plus the objects of the messages handed out from them: one
  // retained batch of 400 keyed messages (406 B each) and the next fetch's lease pass 300 KiB.
  assert.ok(s.messageObjectBytes >= 400 * messageObjectBytes({ key: Buffer.alloc(1), value: Buffer.alloc(1) }), `objects ${s.messageObjectBytes}`);
  assert.ok(arena.stats().leasedBytes < 300 << 10, 'the leases alone would not have paused');
  assert.ok(arena.stats().leasedBytes + s.messageObjectBytes > 300 << 10);
  // The pipeline catches up: resume below the low-water mark, only what we paused.
  for (const release of keep.splice(0)) release();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(helper.stats().paused, false);
  assert.equal(helper.stats().resumes, 1);
  assert.equal(helper.stats().messageObjectBytes, 0, 'released with their leases');
  assert.deepEqual(consumer.paused(), [{ topic: 'u', partitions: [0] }]);
  // Pauses were made at fetch starts only: kafkajs dropped no decoded data.
  assert.deepEqual(consumer.dropped, []);
  await consumer.fetch(1, []);
  assert.equal(arena.stats().leasedBytes, 0);
  helper.close();
});

test('without the recycling helper, decompressed buffers belong to kafkajs and are never revoked', async () => {
  const consumer = new FakeConsumer();
  const bytes = await encode(CompressionTypes.ZSTD, 0, payload(3, 'plain'));
  // No arenaConsumer: FETCH_START has no listener, so the codec returns owned Buffers.
  const batches = await consumer.fetch(1, [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [bytes] }]);
  const value = batches[0].messages[0].value as Buffer;
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(value.toString().slice(0, 7), 'plain-0');
});

test('maxFetchBytes: partitions beyond the estimate are held back and rotated in, at least one per fetch', async () => {
  const arena = new Arena({ maxBytes: 64 << 20 });
  const consumer = new FakeConsumer();
  // A partition's fetch below is ~88 KB of records plus 400 messages' objects (406 B each):
  // about 250 KB, so two fit in 600 KiB and three do not.
  const max = 600 << 10;
  const helper = arenaConsumer(consumer, { arena, maxFetchBytes: max });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1, 2, 3], u: [0] } });
  consumer.pausedTopics.set('u', new Set([0])); // the application's pause: never ours to lift
  const delivered = new Map<number, number>();
  let bytesThisFetch = 0;
  await helper.run({
    eachBatch: async ({ batch }: any) => {
      delivered.set(batch.partition, (delivered.get(batch.partition) ?? 0) + 1);
      for (const m of batch.messages) bytesThisFetch += m.value.length;
    },
  });
  const perFetch: number[][] = [];
  const fetchBytes: number[] = [];
  for (let f = 0; f < 12; f++) {
    // Every partition has a ~80 KiB batch waiting; kafkajs fetches only the unpaused ones.
    const data = await Promise.all([0, 1, 2, 3].map(async (p) => ({ topic: 't', partition: p, fetchOffset: '0', recordBatches: [await encode(CompressionTypes.ZSTD, 0, payload(400, `p${p}f${f}`))] })));
    bytesThisFetch = 0;
    const batches = await consumer.fetch(1, data);
    perFetch.push(batches.map((b: any) => b.partition));
    for (const b of batches) await consumer.handle(b);
    fetchBytes.push(bytesThisFetch);
  }
  // Unknown partitions count as the whole allowance: one per fetch until each was seen once.
  assert.deepEqual(perFetch.slice(0, 4), [[0], [1], [2], [3]]);
  // Then ~250 KB each: two fit, in rotation.
  for (const f of perFetch.slice(4)) assert.equal(f.length, 2, JSON.stringify(perFetch));
  for (const b of fetchBytes) assert.ok(b <= max, `a fetch delivered ${b} bytes`);
  // What a fetch counted: the decompressed bytes and the message objects.
  const largest = helper.stats().largestFetchBytes;
  assert.ok(largest > 2 * (400 * 406 + 80_000) && largest <= max, `largest fetch ${largest} B`);
  for (const p of [0, 1, 2, 3]) assert.ok((delivered.get(p) ?? 0) >= 4, `partition ${p} starved: ${JSON.stringify([...delivered])}`);
  assert.ok(helper.stats().limitedFetches >= 12);
  assert.deepEqual(consumer.pausedTopics.get('u'), new Set([0]));
  // close() lifts only what it held back.
  helper.close();
  assert.deepEqual(consumer.paused(), [{ topic: 'u', partitions: [0] }]);
  assert.equal(arena.stats().leasedBytes, 0);
});

test('maxFetchBytes counts a fetch the same through eachBatch and eachMessage: its leases once, plus each message', async () => {
  // The same record batch for both modes, so the lease has the same length. (One partition: a
  // partition not seen yet counts as the whole allowance, so a second would be held back.)
  const data = [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [await encode(CompressionTypes.ZSTD, 0, payload(400, 'p0'))] }];
  const counted: number[] = [];
  for (const mode of ['eachBatch', 'eachMessage'] as const) {
    const arena = new Arena({ maxBytes: 64 << 20 });
    const consumer = new FakeConsumer();
    const helper = arenaConsumer(consumer, { arena, maxFetchBytes: 64 << 20 });
    consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0] } });
    await helper.run(mode === 'eachBatch' ? { eachBatch: async () => {} } : { eachMessage: async () => {} });
    for (const b of await consumer.fetch(1, data)) await consumer.handle(b);
    await consumer.fetch(1, []); // the next fetch start closes the first one's count
    counted.push(helper.stats().largestFetchBytes);
    helper.close();
    assert.equal(arena.stats().leasedBytes, 0);
  }
  const objects = 400 * messageObjectBytes({ key: Buffer.alloc(1), value: Buffer.alloc(1) });
  assert.equal(counted[1], counted[0], `eachBatch counted ${counted[0]} B, eachMessage ${counted[1]} B`);
  // One ~88 KB lease plus the objects of 400 keyed messages.
  assert.ok(counted[0] > objects + 80_000 && counted[0] < objects + 120_000, `counted ${counted[0]} B`);
});

test('maxFetchBytes: a partition larger than the allowance still goes, alone; a memory pause takes precedence', async () => {
  const arena = new Arena({ maxBytes: 2 << 20 });
  const consumer = new FakeConsumer();
  // ~250 KB held per retained partition fetch (bytes + message objects): the fourth passes 800 KiB.
  const helper = arenaConsumer(consumer, { arena, maxFetchBytes: 10 << 10, highWaterBytes: 800 << 10, lowWaterBytes: 100 << 10, resumeCheckMs: 5 });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
  const keep: Array<() => void> = [];
  await helper.run({ eachBatch: async ({ retainBatch }: any) => void keep.push(retainBatch()) });
  const fetchAll = async (f: number) => {
    const data = await Promise.all([0, 1].map(async (p) => ({ topic: 't', partition: p, fetchOffset: '0', recordBatches: [await encode(CompressionTypes.ZSTD, 0, payload(400, `p${p}f${f}`))] })));
    const batches = await consumer.fetch(1, data);
    for (const b of batches) await consumer.handle(b);
    return batches.map((b: any) => b.partition);
  };
  // Each ~80 KiB partition goes alone under a 10 KiB allowance, in turn, until the retained
  // batches pass the high-water mark (then the memory pause takes every partition, and kafkajs
  // drops the data of partitions paused during the fetch).
  const seen: number[][] = [];
  for (let f = 0; f < 8 && !helper.stats().paused; f++) seen.push(await fetchAll(f));
  assert.equal(helper.stats().paused, true, 'past the high-water mark');
  const delivering = seen.filter((x) => x.length > 0);
  assert.ok(delivering.length >= 3, JSON.stringify(seen));
  delivering.forEach((x, i) => assert.deepEqual(x, [i % 2], JSON.stringify(seen)));
  // While paused for memory, fetches start without the limiter touching anything.
  const before = consumer.paused();
  await consumer.fetch(1, []);
  assert.deepEqual(consumer.paused(), before);
  for (const release of keep.splice(0)) release();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(helper.stats().paused, false);
  helper.close();
  assert.deepEqual(consumer.paused(), []);
});
