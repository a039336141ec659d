/**
 * The shared waiter queue (src/arena/waiters.ts) and the three waits built on it, at 100k waiters.
 * No timing assertions: the elapsed times are printed; what is asserted is correctness, FIFO
 * order, and the mechanism that keeps abort O(1) (one abort listener per signal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Arena, ByteQueue, KafkaArenaError, type Lease } from '../../src';
import { WaiterQueue } from '../../src/arena/waiters';
import { boundedProducer, type KafkajsProducer, type ProducerRecordLike } from '../../src/kafkajs';

const N = 100_000;
const tick = () => new Promise((r) => setImmediate(r));
const elapsed = (label: string, t0: number) => console.log(`# ${label}: ${(performance.now() - t0).toFixed(0)} ms`);

test('WaiterQueue: FIFO, abort removes exactly the signal waiters in order, one listener per signal, clear', () => {
  const gone: Array<{ ids: number[]; signal: AbortSignal }> = [];
  const q = new WaiterQueue<number>((ids, signal) => gone.push({ ids, signal }));
  const a = new AbortController();
  const b = new AbortController();
  for (let i = 0; i < 10; i++) q.push(i, i % 3 === 0 ? a.signal : i % 3 === 1 ? b.signal : undefined);
  assert.equal(q.size, 10);
  assert.equal(getEventListeners(a.signal, 'abort').length, 1);
  assert.equal(getEventListeners(b.signal, 'abort').length, 1);
  assert.equal(q.shift(), 0); // a member of a's group leaves through shift
  a.abort();
  assert.deepEqual(gone, [{ ids: [3, 6, 9], signal: a.signal }]);
  assert.equal(getEventListeners(a.signal, 'abort').length, 0);
  assert.equal(q.size, 6);
  assert.equal(q.peek(), 1);
  // Shifting every member of b's group removes its listener.
  const order: number[] = [];
  for (let v = q.shift(); v !== undefined; v = q.shift()) order.push(v);
  assert.deepEqual(order, [1, 2, 4, 5, 7, 8]);
  assert.equal(getEventListeners(b.signal, 'abort').length, 0);
  b.abort();
  assert.equal(gone.length, 1, 'an emptied group is not called back');
  const c = new AbortController();
  q.push(1, c.signal);
  q.push(2);
  assert.deepEqual(q.clear(), [1, 2]);
  assert.equal(getEventListeners(c.signal, 'abort').length, 0);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
});

test(`Arena: ${N} acquires waiting on one signal, aborted at once; the rest of the queue keeps FIFO order`, async () => {
  const arena = new Arena({ maxBytes: 64 * 1024, trimIntervalMs: 0 });
  const held = arena.acquireSync(64 * 1024);
  const ac = new AbortController();
  const first = arena.acquire(1024); // not guarded: must survive the abort, and come first
  const results: Array<Promise<unknown>> = [];
  let rejected = 0;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    results.push(
      arena.acquire(1024, { signal: ac.signal }).then(
        () => assert.fail('an aborted acquire was granted'),
        (e: unknown) => {
          assert.ok(e instanceof KafkaArenaError && e.code === 'ERR_ABORTED');
          rejected++;
        },
      ),
    );
  }
  const granted: number[] = [];
  const after = [0, 1, 2].map((i) => arena.acquire(1024).then((l) => (granted.push(i), l)));
  elapsed(`${N} waiting acquires`, t0);
  assert.equal(arena.stats().waiting, N + 4);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'one listener for every waiter on the signal');
  t0 = performance.now();
  ac.abort();
  elapsed(`abort of ${N} waiting acquires`, t0);
  assert.equal(arena.stats().waiting, 4);
  await Promise.all(results);
  assert.equal(rejected, N);
  held.release();
  const leases: Lease[] = [await first, ...(await Promise.all(after))];
  assert.deepEqual(granted, [0, 1, 2], 'FIFO after the abort');
  assert.equal(arena.stats().waiting, 0);
  for (const l of leases) l.release();
  assert.equal(arena.stats().leasedBytes, 0);
  arena.close();
});

test(`Arena: ${N} waiters granted one by one in FIFO order`, async () => {
  const arena = new Arena({ maxBytes: 1024, trimIntervalMs: 0 });
  let held: Lease = arena.acquireSync(1024);
  const order: number[] = [];
  const waits: Array<Promise<Lease>> = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) waits.push(arena.acquire(1000).then((l) => (order.push(i), l)));
  for (let i = 0; i < N; i++) {
    held.release();
    held = await waits[i];
  }
  held.release();
  elapsed(`${N} acquires granted in turn`, t0);
  assert.equal(order.length, N);
  for (let i = 0; i < N; i++) if (order[i] !== i) assert.fail(`grant ${i} went to waiter ${order[i]}`);
  assert.equal(arena.stats().waits, N);
});

test(`Arena: ${N} released buffers of one class are reused oldest first`, () => {
  const arena = new Arena({ maxBytes: 2 ** 31, trimIntervalMs: 0, quarantineMs: 0, poisonOnRelease: false });
  const leases = Array.from({ length: N }, () => arena.acquireSync(100));
  leases.forEach((l, i) => l.bytes.writeUInt32LE(i)); // a mark that stays in the memory (no poisoning)
  for (let i = N - 1; i >= 0; i--) leases[i].release(); // the last acquired goes back first
  const t0 = performance.now();
  const again = Array.from({ length: N }, () => arena.acquireSync(100));
  elapsed(`${N} idle buffers taken back`, t0);
  for (let i = 0; i < N; i++) if (again[i].bytes.readUInt32LE() !== N - 1 - i) assert.fail(`acquire ${i} got the memory of lease ${again[i].bytes.readUInt32LE()}, not the ${i}th released`);
  assert.equal(arena.stats().poolHits, N);
  for (const l of again) l.release();
  assert.equal(arena.trim(), N * again[0].capacity);
  arena.close();
});

test(`ByteQueue: ${N} waiting pushers are admitted in FIFO order, then close rejects the rest`, async () => {
  const q = new ByteQueue<number>({ capacityBytes: 10, sizeOf: () => 10 });
  await q.push(-1);
  let t0 = performance.now();
  const pushes: Array<Promise<void>> = [];
  for (let i = 0; i < N; i++) pushes.push(q.push(i));
  const late = [q.push(N), q.push(N + 1)];
  elapsed(`${N} waiting pushers`, t0);
  assert.equal(q.stats().waitingPushers, N + 2);
  t0 = performance.now();
  const out: number[] = [];
  for (let i = 0; i <= N; i++) out.push((await q.shift())!);
  elapsed(`${N} pushers admitted`, t0);
  await Promise.all(pushes);
  assert.equal(out.length, N + 1);
  for (let i = 0; i <= N; i++) if (out[i] !== i - 1) assert.fail(`item ${i} is ${out[i]}`);
  assert.equal(q.stats().waitingPushers, 1, 'N was admitted by the last shift, N + 1 waits');
  q.close();
  await late[0];
  await assert.rejects(late[1], (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_QUEUE_CLOSED');
  assert.deepEqual(q.drain(), [N]);
});

test(`ByteQueue: ${N} waiting shifters are served in FIFO order`, async () => {
  const q = new ByteQueue<number>({ capacityBytes: 10, sizeOf: () => 1 });
  const got: number[] = new Array(N);
  const shifts = Array.from({ length: N }, (_, i) => q.shift().then((v) => (got[i] = v!)));
  for (let i = 0; i < N; i++) assert.equal(q.tryPush(i), true);
  await Promise.all(shifts);
  for (let i = 0; i < N; i++) if (got[i] !== i) assert.fail(`shifter ${i} got ${got[i]}`);
});

test(`boundedProducer: ${N} sends waiting for room go out in FIFO order`, async () => {
  const pending: Array<{ record: ProducerRecordLike; resolve: () => void }> = [];
  const producer: KafkajsProducer = {
    send: (record) => new Promise<void>((resolve) => pending.push({ record, resolve })),
    sendBatch: () => Promise.reject(new Error('unused')),
  };
  const bp = boundedProducer(producer, { maxInFlightBytes: 10 });
  const t0 = performance.now();
  const sends = Array.from({ length: N }, (_, i) => bp.send({ topic: 't', messages: [{ value: Buffer.alloc(10), i }] }));
  await tick();
  assert.equal(pending.length, 1);
  for (let i = 0; i < N; i++) {
    for (let spins = 0; pending.length < i + 1 && spins < 10; spins++) await null;
    assert.equal(pending.length, i + 1, 'one send in flight at a time');
    if (pending[i].record.messages[0].i !== i) assert.fail(`send ${i} went out as ${String(pending[i].record.messages[0].i)}`);
    pending[i].resolve();
    await sends[i];
  }
  elapsed(`${N} bounded sends in turn`, t0);
  await bp.flush();
  assert.equal(bp.stats().sent, N);
});
