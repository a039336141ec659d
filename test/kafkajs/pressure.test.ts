/**
 * The recycling consumer under pressure (issue 11), against kafkajs's own Batch class and
 * RecordBatch decoder driven as kafkajs's runner drives them (./fake-consumer.ts): pauses only at
 * fetch boundaries, shutdown while paused, the application's pauses, headers-only batches and
 * the fetch scope's reach. The mock-broker versions are in backpressure.broker.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from '../../src';
import { arenaConsumer } from '../../src/kafkajs';
import { CompressionTypes, encode, encodeRecords, EVENTS, FakeConsumer, payload, type PartitionFetch } from './fake-consumer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects uncaught exceptions and unhandled rejections while `fn` runs (and `settleMs` after). */
async function noStrayErrors(fn: () => Promise<void>, settleMs = 60): Promise<unknown[]> {
  const errors: unknown[] = [];
  const onError = (e: unknown) => void errors.push(e);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    await fn();
    await sleep(settleMs);
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
  return errors;
}

async function partitionData(partitions: number[], records: number, tag: string): Promise<PartitionFetch[]> {
  return Promise.all(partitions.map(async (p) => ({ topic: 't', partition: p, fetchOffset: '0', recordBatches: [await encode(CompressionTypes.ZSTD, 0, payload(records, `${tag}p${p}`))] })));
}

test('a fetch that passes highWaterBytes while it is decoded is delivered, not dropped and refetched', async () => {
  // 1 MiB arena, default water marks (768 KiB / 410 KiB); each partition brings ~300 KB.
  const arena = new Arena({ maxBytes: 1 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena, resumeCheckMs: 5 });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1, 2, 3] } });
  const delivered = new Map<number, number>();
  await helper.run({ eachBatch: async ({ batch }: any) => void delivered.set(batch.partition, (delivered.get(batch.partition) ?? 0) + batch.messages.length) });
  // The same data until delivered, as a broker answers a refetch of the same offsets.
  const pending = new Map((await partitionData([0, 1, 2, 3], 1400, 'big')).map((d) => [d.partition, d]));
  let fetches = 0;
  while (pending.size > 0 && fetches < 20) {
    fetches++;
    const batches = await consumer.fetch(1, [...pending.values()]);
    for (const b of batches) {
      await consumer.handle(b);
      pending.delete(b.partition);
    }
  }
  assert.deepEqual(consumer.dropped, [], 'no decoded fetch was thrown away by a pause made during it');
  assert.equal(pending.size, 0, `undelivered after ${fetches} fetches`);
  assert.equal(fetches, 1, 'one fetch, delivered whole, however large');
  for (const p of [0, 1, 2, 3]) assert.equal(delivered.get(p), 1400);
  helper.close();
  assert.equal(arena.stats().leasedBytes, 0);
});

test('a batch larger than the whole budget is delivered once, alone, and counted', async () => {
  const arena = new Arena({ maxBytes: 256 << 10 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena, resumeCheckMs: 5 });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
  const seen: number[][] = [];
  await helper.run({ eachBatch: async () => {} });
  // Partition 0 has one ~600 KB batch; partition 1 a small one each fetch.
  const big = (await partitionData([0], 2800, 'huge'))[0];
  const first = await consumer.fetch(1, [big, ...(await partitionData([1], 10, 'f0'))]);
  seen.push(first.map((b: any) => b.partition));
  for (const b of first) await consumer.handle(b);
  assert.deepEqual(seen[0].sort(), [0, 1], 'the oversized fetch was delivered');
  assert.equal((helper.stats() as any).oversizeFetches, 1);
  for (let f = 1; f < 4; f++) {
    const batches = await consumer.fetch(1, await partitionData([1], 10, `f${f}`));
    for (const b of batches) await consumer.handle(b);
  }
  assert.equal((helper.stats() as any).oversizeFetches, 1, 'never refetched');
  assert.deepEqual(consumer.dropped, []);
  helper.close();
});

test('stop() and disconnect while paused for memory: quiet, every lease released, release functions safe', async () => {
  const arena = new Arena({ maxBytes: 1 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena, highWaterBytes: 200 << 10, lowWaterBytes: 100 << 10, resumeCheckMs: 2 });
  consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
  const keep: Array<() => void> = [];
  await helper.run({ eachBatch: async ({ retainBatch }: any) => void keep.push(retainBatch()) });
  const errors = await noStrayErrors(async () => {
    for (let f = 0; f < 4; f++) {
      const batches = await consumer.fetch(1, await partitionData([0, 1], 400, `s${f}`));
      for (const b of batches) await consumer.handle(b);
    }
    assert.equal(helper.stats().paused, true, 'paused for memory');
    // A fetch in flight when the consumer stops.
    await consumer.fetch(1, await partitionData([0, 1], 10, 'late'));
    consumer.stop();
    keep.push(...keep.splice(0)); // still held by the application
    assert.equal(helper.stats().held, 0, 'the helper holds nothing after stop');
    for (const release of keep) release();
    for (const release of keep) release(); // idempotent
    consumer.emitEvent(EVENTS.DISCONNECT, {});
    consumer.emitEvent(EVENTS.CRASH, { error: new Error('x') });
    helper.close();
  });
  assert.deepEqual(errors, []);
  assert.equal(arena.stats().leasedCount, 0);
  assert.equal(helper.stats().paused, false);
});

test("the application's own pauses are never undone: memory pause and maxFetchBytes hold-back", async () => {
  for (const mode of ['memory', 'maxFetchBytes'] as const) {
    const arena = new Arena({ maxBytes: 4 << 20 });
    const consumer = new FakeConsumer();
    const helper =
      mode === 'memory'
        ? arenaConsumer(consumer, { arena, highWaterBytes: 200 << 10, lowWaterBytes: 100 << 10, resumeCheckMs: 2 })
        : arenaConsumer(consumer, { arena, maxFetchBytes: 10 << 10 });
    consumer.emitEvent(EVENTS.GROUP_JOIN, { memberAssignment: { t: [0, 1] } });
    const keep: Array<() => void> = [];
    const got = new Map<number, number>();
    await helper.run({
      eachBatch: async ({ batch, retainBatch }: any) => {
        got.set(batch.partition, (got.get(batch.partition) ?? 0) + batch.messages.length);
        keep.push(retainBatch());
      },
    });
    for (let f = 0; f < 4; f++) {
      const batches = await consumer.fetch(1, await partitionData([0, 1], 400, `${mode}${f}`));
      for (const b of batches) await consumer.handle(b);
    }
    // The helper holds partitions paused now (for memory: both; maxFetchBytes: the one not in
    // this fetch's rotation); the application pauses one of them itself.
    const ours = consumer.paused()[0]?.partitions ?? [];
    assert.deepEqual(ours, mode === 'memory' ? [0, 1] : [ours[0]], mode);
    const mine = ours[0];
    consumer.pause([{ topic: 't', partitions: [mine] }]);
    for (const release of keep.splice(0)) release();
    await sleep(20);
    if (mode === 'maxFetchBytes') helper.close();
    else for (let f = 0; f < 2; f++) await consumer.fetch(1, []);
    assert.deepEqual(consumer.paused(), [{ topic: 't', partitions: [mine] }], `${mode}: the application's pause stands`);
    const before = got.get(mine);
    const batches = await consumer.fetch(1, await partitionData([0, 1], 400, `${mode}-after`));
    for (const b of batches) await consumer.handle(b);
    assert.equal(got.get(mine), before, `${mode}: no records of the paused partition`);
    helper.close();
  }
});

test('retainBatch keeps a headers-only batch (null key and value)', async () => {
  const arena = new Arena({ maxBytes: 4 << 20 });
  const consumer = new FakeConsumer();
  const helper = arenaConsumer(consumer, { arena });
  const kept: Array<{ header: Buffer; done: () => void }> = [];
  await helper.run({
    eachBatch: async ({ batch, retainBatch }: any) => {
      const done = retainBatch();
      for (const m of batch.messages) kept.push({ header: m.headers.h, done });
    },
  });
  const records = Array.from({ length: 50 }, (_, i) => ({ key: null, value: null, headers: { h: Buffer.from(`header-${i}-${'y'.repeat(100)}`) } }));
  const batches = await consumer.fetch(1, [{ topic: 't', partition: 0, fetchOffset: '0', recordBatches: [await encodeRecords(CompressionTypes.ZSTD, 0, records)] }]);
  for (const b of batches) await consumer.handle(b);
  await consumer.fetch(1, []); // the next fetch releases what no handler claimed
  assert.equal(kept.length, 50);
  kept.forEach((k, i) => assert.equal(k.header.toString().split('-').slice(0, 2).join('-'), `header-${i}`));
  assert.equal(arena.stats().leasedCount, 1, 'the retained lease is still held');
  kept[0].done();
  assert.equal(arena.stats().leasedCount, 0);
  helper.close();
});

test("the fetch scope does not reach the handler's descendants: a plain consumer in a handler decodes outside the arena", async () => {
  const arena = new Arena({ maxBytes: 4 << 20 });
  const outer = new FakeConsumer();
  const helper = arenaConsumer(outer, { arena });
  const inner = new FakeConsumer(); // a plain kafkajs consumer (no helper) started from the handler
  const innerValues: Buffer[] = [];
  await helper.run({
    eachBatch: async () => {
      const batches = await inner.fetch(9, await partitionData([0], 30, 'inner'));
      for (const m of batches[0].messages) innerValues.push(m.value);
    },
  });
  const batches = await outer.fetch(1, await partitionData([0], 30, 'outer'));
  for (const b of batches) await outer.handle(b);
  await outer.fetch(1, []);
  helper.close();
  assert.equal(arena.stats().leasedCount, 0, 'nothing of the inner consumer stayed leased');
  assert.equal(helper.stats().held, 0);
  assert.equal(helper.stats().leasesCreated, 1, 'only the helper’s own fetch went into its arena');
  assert.equal((helper.stats() as any).unscopedDecompressions, 1, 'the inner decompression is counted');
  assert.equal(innerValues[0].toString().slice(0, 11), 'innerp0-0-x', 'the inner consumer owns its buffers');
});
