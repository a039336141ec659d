import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, ByteQueue, KafkaArenaError, Lease } from '../../src';

const KiB = 1024;

test('producers await while the queue is full, counted in bytes not items', async () => {
  const q = new ByteQueue<Buffer>({ capacityBytes: 10 * KiB });
  await q.push(Buffer.alloc(4 * KiB));
  await q.push(Buffer.alloc(4 * KiB));
  let third = false;
  const p = q.push(Buffer.alloc(4 * KiB)).then(() => (third = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, '12 KiB would pass the 10 KiB bound');
  assert.equal(q.bytes, 8 * KiB);
  assert.equal(q.tryPush(Buffer.alloc(1)), false, 'tryPush does not overtake a waiting producer');
  assert.equal((await q.shift())!.length, 4 * KiB);
  await p;
  assert.equal(third, true);
  assert.equal(q.bytes, 8 * KiB);
  assert.equal(q.stats().pushWaits, 1);
});

test('items carrying leases count their leased bytes', async () => {
  const arena = new Arena({ maxBytes: 1024 * KiB });
  const q = new ByteQueue<{ lease: Lease; partition: number }>({ capacityBytes: 100 * KiB });
  const lease = await arena.acquire(30 * KiB);
  await q.push({ lease, partition: 0 });
  assert.equal(q.bytes, lease.capacity);
  const q2 = new ByteQueue<Lease>({ capacityBytes: 100 * KiB });
  await q2.push(lease);
  assert.equal(q2.bytes, lease.capacity);
  const item = await q.shift();
  item!.lease.release();
  assert.throws(() => new ByteQueue<object>({ capacityBytes: 1 }).tryPush({}), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
});

test('an item larger than the capacity is admitted into an empty queue (no deadlock)', async () => {
  const q = new ByteQueue<Buffer>({ capacityBytes: 1 * KiB });
  await q.push(Buffer.alloc(100));
  const big = q.push(Buffer.alloc(50 * KiB));
  await q.shift();
  await big;
  assert.equal(q.length, 1);
  assert.equal(q.bytes, 50 * KiB);
});

test('consumers wait for items; close ends iteration and rejects waiting producers', async () => {
  const q = new ByteQueue<Buffer>({ capacityBytes: 2 * KiB });
  const got: number[] = [];
  const consumer = (async () => {
    for await (const b of q) got.push(b.length);
  })();
  await q.push(Buffer.alloc(1000));
  await q.push(Buffer.alloc(1001));
  await new Promise((r) => setImmediate(r));
  q.close();
  await consumer;
  assert.deepEqual(got, [1000, 1001]);
  await assert.rejects(q.push(Buffer.alloc(1)), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_QUEUE_CLOSED');

  const full = new ByteQueue<Buffer>({ capacityBytes: 10 });
  await full.push(Buffer.alloc(10));
  const waiting = full.push(Buffer.alloc(10));
  full.close();
  await assert.rejects(waiting, (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_QUEUE_CLOSED');
  assert.equal(full.drain().length, 1, 'queued items can be drained to release them');
});

test('a pipeline with a byte-bounded queue and a slow consumer holds at most the bound', async () => {
  const arena = new Arena({ maxBytes: 8 * 1024 * KiB });
  const q = new ByteQueue<Lease>({ capacityBytes: 256 * KiB });
  let maxQueued = 0;
  const producer = (async () => {
    for (let i = 0; i < 200; i++) {
      const lease = await arena.acquire(16 * KiB);
      lease.bytes.fill(i & 0xff);
      await q.push(lease);
      maxQueued = Math.max(maxQueued, q.bytes);
    }
    q.close();
  })();
  let seen = 0;
  for await (const lease of q) {
    assert.equal(lease.bytes[0], seen & 0xff, 'in order, not overwritten');
    lease.release();
    seen++;
    if (seen % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await producer;
  assert.equal(seen, 200);
  assert.ok(maxQueued <= 256 * KiB, `queued ${maxQueued}`);
  assert.equal(arena.stats().leasedBytes, 0);
});
