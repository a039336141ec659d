import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, ArgumentError, Lease, KafkaArenaError, LeaseError, classSize, detachMethod } from '../../src';
import { collect, gc } from '../support/gc';

const KiB = 1024;
const MiB = 1024 * KiB;

test('lease exposes exactly n bytes from a size-classed ArrayBuffer', async () => {
  const arena = new Arena({ maxBytes: 8 * MiB });
  const lease = await arena.acquire(5000);
  assert.ok(lease instanceof Lease);
  assert.equal(lease.bytes.length, 5000);
  assert.equal(lease.length, 5000);
  assert.equal(lease.capacity, classSize(5000));
  assert.ok(Buffer.isBuffer(lease.bytes));
  assert.equal(arena.stats().leasedBytes, lease.capacity);
  assert.equal(arena.stats().requestedBytes, 5000);
  lease.release();
  assert.equal(arena.stats().leasedBytes, 0);
});

test('size classes waste less than 20% of the class and are monotonic', () => {
  let prev = 0;
  for (let n = 1; n < 64 * MiB; n = Math.ceil(n * 1.013) + 1) {
    const c = classSize(n);
    assert.ok(c >= n, `class ${c} < ${n}`);
    assert.ok(c >= prev, 'monotonic');
    if (n > 1024) assert.ok((c - n) / c < 0.2, `waste at ${n}: ${c}`);
    prev = c;
  }
  // Classes are exact at their own sizes.
  for (const c of [1024, 1280, 1536, 1792, 2048, 2560, 1 * MiB, 1.25 * MiB]) assert.equal(classSize(c), c);
});

test('release revokes every view: a kept view reads as empty, never as the next tenant bytes', async () => {
  const arena = new Arena({ maxBytes: 4 * MiB, quarantineMs: 0 });
  const first = await arena.acquire(64 * KiB);
  first.bytes.fill(0xaa);
  const keptView = first.bytes;
  const keptSub = first.bytes.subarray(100, 200);
  const keptU32 = new Uint32Array(first.bytes.buffer, first.bytes.byteOffset, 16);
  first.release();
  assert.equal(keptView.length, 0);
  assert.equal(keptSub.length, 0);
  assert.equal(keptU32.length, 0);
  assert.equal(keptView[0], undefined);

  // The next tenant gets the same memory (a pool hit) and writes its own bytes.
  const second = await arena.acquire(64 * KiB);
  assert.equal(arena.stats().poolHits, 1);
  second.bytes.fill(0x55);
  assert.equal(keptView.length, 0, 'old view still empty after reuse');
  assert.equal(keptSub.length, 0);
  assert.equal(keptView.indexOf(0x55), -1);
  second.release();
});

test('detachMethod names the mechanism this Node version has', () => {
  const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
  assert.equal(detachMethod, hasTransfer ? 'transfer' : 'structuredClone');
  assert.equal(detachMethod, Number(process.versions.node.split('.')[0]) >= 22 ? 'transfer' : 'structuredClone');
});

test('use after release and double release throw typed errors with stable codes', async () => {
  const arena = new Arena({ maxBytes: MiB });
  const lease = await arena.acquire(10);
  lease.release();
  assert.throws(() => lease.bytes, (e: unknown) => e instanceof LeaseError && e.code === 'ERR_LEASE_RELEASED');
  assert.throws(() => lease.retain(), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_LEASE_RELEASED');
  assert.throws(() => lease.release(), (e: unknown) => e instanceof LeaseError && e.code === 'ERR_DOUBLE_RELEASE');
  assert.equal(arena.stats().releases, 1, 'the failed double release changed nothing');
});

test('retain adds references and the last release frees', async () => {
  const arena = new Arena({ maxBytes: MiB });
  const lease = await arena.acquire(2000);
  lease.retain().retain();
  assert.equal(lease.refCount, 3);
  assert.equal(lease.release(), false);
  assert.equal(lease.release(), false);
  assert.equal(arena.stats().leasedCount, 1);
  assert.equal(lease.bytes.length, 2000);
  assert.equal(lease.release(), true);
  assert.equal(lease.released, true);
  assert.equal(arena.stats().leasedCount, 0);
});

test('acquire waits when the budget is full and waiters resume in FIFO order', async () => {
  const arena = new Arena({ maxBytes: 64 * KiB });
  const a = await arena.acquire(32 * KiB);
  const b = await arena.acquire(32 * KiB);
  const order: string[] = [];
  const pc = arena.acquire(16 * KiB).then((l) => (order.push('c'), l));
  const pd = arena.acquire(48 * KiB).then((l) => (order.push('d'), l));
  const pe = arena.acquire(16 * KiB).then((l) => (order.push('e'), l));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, []);
  assert.equal(arena.stats().waiting, 3);
  assert.equal(arena.tryAcquire(1), undefined, 'tryAcquire never jumps the queue');

  a.release(); // 32 KiB free: c fits; d (48) does not, so e waits behind d (FIFO)
  const c = await pc;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c']);
  b.release(); // 48 KiB free: d fits, then e does not (16+48 = 64 > 64 - 16)
  const d = await pd;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['c', 'd']);
  c.release();
  const e = await pe;
  assert.deepEqual(order, ['c', 'd', 'e']);
  assert.ok(arena.stats().leasedBytes <= arena.maxBytes);
  d.release();
  e.release();
  assert.equal(arena.stats().waits, 3);
});

test('tryAcquire reports a full budget instead of waiting', async () => {
  const arena = new Arena({ maxBytes: 16 * KiB });
  const a = arena.tryAcquire(12 * KiB);
  assert.ok(a);
  assert.equal(arena.tryAcquire(8 * KiB), undefined);
  a.release();
  const b = arena.tryAcquire(8 * KiB);
  assert.ok(b);
  b.release();
});

test('an oversized request never deadlocks: it waits for an empty arena and is granted alone', async () => {
  const arena = new Arena({ maxBytes: 64 * KiB });
  const small = await arena.acquire(16 * KiB);
  const got: { big?: Lease; after?: Lease } = {};
  const pBig = arena.acquire(200 * KiB).then((l) => (got.big = l));
  const pAfter = arena.acquire(1 * KiB);
  await new Promise((r) => setImmediate(r));
  assert.equal(got.big, undefined, 'waits while another lease is out');
  small.release();
  const big = await pBig;
  assert.equal(big.bytes.length, 200 * KiB);
  assert.equal(arena.stats().overBudget, 1, 'the exclusive oversized grant, once');
  void pAfter.then((l) => (got.after = l));
  await new Promise((r) => setImmediate(r));
  assert.equal(got.after, undefined, 'requests behind the oversized one wait for it');
  big.release();
  const after = await pAfter;
  after.release();
  // Oversized memory is not pooled: it would blow the budget while idle.
  assert.ok(arena.stats().idleBytes <= arena.maxBytes);
  assert.equal(arena.tryAcquire(200 * KiB), undefined, 'tryAcquire never grants over budget');
});

test("oversize: 'reject' fails fast with ERR_OVER_BUDGET", async () => {
  const arena = new Arena({ maxBytes: 64 * KiB, oversize: 'reject' });
  await assert.rejects(arena.acquire(65 * KiB), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_OVER_BUDGET');
});

test('acquireSync never waits and counts each over-budget grant exactly once', () => {
  const arena = new Arena({ maxBytes: 16 * KiB });
  const a = arena.acquireSync(12 * KiB);
  assert.equal(arena.stats().overBudget, 0);
  const b = arena.acquireSync(12 * KiB);
  assert.equal(arena.stats().overBudget, 1);
  assert.ok(arena.stats().leasedBytes > arena.maxBytes);
  a.release();
  b.release();
  // One request larger than the whole budget, into an empty arena: one over-budget grant.
  const big = arena.acquireSync(20 * KiB);
  assert.equal(arena.stats().overBudget, 2);
  big.release();
});

test('acquire reports a closed arena and bad arguments through its promise, never by throwing', async () => {
  const arena = new Arena({ maxBytes: 16 * KiB });
  const isArg = (name: string) => (e: unknown) => e instanceof ArgumentError && e.code === 'ERR_INVALID_ARGUMENT' && e.argument === name;
  for (const bad of [-1, 1.5, NaN, '10' as unknown as number, 2 ** 40]) {
    let p: Promise<Lease> | undefined;
    assert.doesNotThrow(() => (p = arena.acquire(bad)), `acquire(${String(bad)}) throws synchronously`);
    await assert.rejects(p!, isArg('n'));
  }
  await assert.rejects(arena.acquire(1, { signal: 'no' as unknown as AbortSignal }), isArg('signal'));
  await assert.rejects(arena.acquire(1, 5 as unknown as object), isArg('options'));
  arena.close();
  let closed: Promise<Lease> | undefined;
  assert.doesNotThrow(() => (closed = arena.acquire(10)));
  await assert.rejects(closed!, (e: unknown) => e instanceof LeaseError && e.code === 'ERR_ARENA_CLOSED');
  // The synchronous methods throw, as they should.
  assert.throws(() => arena.acquireSync(10), (e: unknown) => e instanceof LeaseError && e.code === 'ERR_ARENA_CLOSED');
});

test('absurd sizes and options are ArgumentErrors naming the argument (never a RangeError)', () => {
  const arena = new Arena({ maxBytes: 16 * KiB });
  const isArg = (name: string) => (e: unknown) => e instanceof ArgumentError && e.argument === name;
  assert.throws(() => arena.acquireSync(2 ** 40), isArg('n'));
  assert.throws(() => arena.tryAcquire(-5), isArg('n'));
  assert.equal(arena.stats().overBudget, 0, 'a refused request counts nothing');
  assert.throws(() => new Arena({ maxBytes: 0 }), isArg('maxBytes'));
  assert.throws(() => new Arena({ maxIdleBytes: -1 }), isArg('maxIdleBytes'));
  assert.throws(() => new Arena({ oversize: 'wait' as 'reject' }), isArg('oversize'));
  assert.throws(() => new Arena({ trimIntervalMs: 1.5 }), isArg('trimIntervalMs'));
  assert.throws(() => new Arena({ leakSamplingInterval: 0 }), isArg('leakSamplingInterval'));
  assert.throws(() => new Arena({ leakDetection: 'loud' as 'simple' }), isArg('leakDetection'));
  assert.throws(() => new Arena({ onLeak: 'x' as unknown as () => void }), isArg('onLeak'));
  assert.throws(() => new Arena(null as unknown as object), isArg('options'));
  const lease = arena.acquireSync(100);
  assert.throws(() => lease.truncate(101), isArg('n'));
  lease.release();
});

test('a release while leases are over the budget (acquireSync) keeps nothing idle past the budget', () => {
  // An oversize fetch leases past the budget; buffers released while the rest is still leased
  // must not also be kept idle, or leased + idle grows past the budget by the idle share.
  const arena = new Arena({ maxBytes: 16 * KiB });
  const leases = [arena.acquireSync(6 * KiB), arena.acquireSync(6 * KiB), arena.acquireSync(6 * KiB)];
  leases[0].release();
  let s = arena.stats();
  assert.ok(s.leasedBytes + s.idleBytes <= arena.maxBytes, `after one release: ${JSON.stringify(s)}`);
  leases[1].release();
  s = arena.stats();
  assert.ok(s.leasedBytes + s.idleBytes <= arena.maxBytes, `after two releases: ${JSON.stringify(s)}`);
  assert.ok(s.idleBytes > 0, 'once back within the budget, released buffers are pooled again');
  leases[2].release();
});

test('abort signal cancels a waiting acquire and the queue moves on', async () => {
  const arena = new Arena({ maxBytes: 16 * KiB });
  const held = await arena.acquire(16 * KiB);
  const ac = new AbortController();
  const p1 = arena.acquire(8 * KiB, { signal: ac.signal });
  const p2 = arena.acquire(8 * KiB);
  ac.abort();
  await assert.rejects(p1, (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_ABORTED');
  held.release();
  const l2 = await p2;
  l2.release();
});

test('close rejects waiters and refuses new acquires', async () => {
  const arena = new Arena({ maxBytes: 8 * KiB });
  const held = await arena.acquire(8 * KiB);
  const p = arena.acquire(1 * KiB);
  arena.close();
  await assert.rejects(p, (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_ARENA_CLOSED');
  assert.throws(() => arena.acquireSync(1), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_ARENA_CLOSED');
  held.release();
  assert.equal(arena.stats().idleBytes, 0, 'a closed arena pools nothing');
});

test('leased plus idle memory stays within the budget: idle buffers of other classes are evicted', async () => {
  const arena = new Arena({ maxBytes: 1 * MiB });
  const leases = [];
  for (let i = 0; i < 8; i++) leases.push(await arena.acquire(128 * KiB));
  for (const l of leases) l.release();
  assert.equal(arena.stats().idleBytes, 1 * MiB);
  const big = await arena.acquire(512 * KiB);
  const s = arena.stats();
  assert.ok(s.leasedBytes + s.idleBytes <= arena.maxBytes, JSON.stringify(s));
  assert.ok(s.trimmedBytes >= 512 * KiB);
  big.release();
});

test('a pool miss reuses an idle buffer up to two classes larger instead of allocating', async () => {
  const arena = new Arena({ maxBytes: 64 * MiB, trimIntervalMs: 0, quarantineMs: 0 });
  (await arena.acquire(5 * MiB)).release(); // idle: one 5 MiB buffer
  // Batches of one topic vary in size: 4.2 MiB (class 5 MiB) and 4 MiB (class 4 MiB) both take it.
  for (const n of [4 * MiB + 200 * KiB, 4 * MiB]) {
    const lease = await arena.acquire(n);
    assert.equal(lease.length, n);
    assert.equal(lease.capacity, 5 * MiB);
    assert.equal(arena.stats().leasedBytes, 5 * MiB, 'the budget counts the buffer it really holds');
    lease.release();
  }
  assert.equal(arena.stats().allocations, 1);
  assert.equal(arena.stats().idleBytes, 5 * MiB);
  // Three classes down (3 MiB -> 3.5, 4: no 5 MiB) is a new allocation, of its own class.
  const small = await arena.acquire(3 * MiB);
  assert.equal(small.capacity, 3 * MiB);
  assert.equal(arena.stats().allocations, 2);
  small.release();
});

test('trim drops idle memory; the timer only drops what stayed unused for a whole interval', async () => {
  const arena = new Arena({ maxBytes: 4 * MiB, trimIntervalMs: 0, quarantineMs: 0 });
  const ls = [await arena.acquire(64 * KiB), await arena.acquire(64 * KiB)];
  for (const l of ls) l.release();
  assert.equal(arena.stats().idleCount, 2);
  assert.equal(arena.trim(false), 0, 'first tick only records the low-water mark');
  const again = await arena.acquire(64 * KiB); // uses one: low water 1
  again.release();
  assert.equal(arena.trim(false), 64 * KiB, 'one buffer was never needed during the interval');
  assert.equal(arena.trim(true), 64 * KiB);
  assert.equal(arena.stats().idleBytes, 0);
});

test('the trim timer gives memory back in a quiet process', async () => {
  const arena = new Arena({ maxBytes: 4 * MiB, trimIntervalMs: 20 });
  const l = await arena.acquire(256 * KiB);
  l.release();
  assert.equal(arena.stats().idleBytes, 256 * KiB);
  const deadline = Date.now() + 5000;
  while (arena.stats().idleBytes > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(arena.stats().idleBytes, 0);
  arena.close();
});

test('steady-state acquire/release allocates no new backing stores', async () => {
  const arena = new Arena({ maxBytes: 64 * MiB, quarantineMs: 0 });
  const sizes = [16 * KiB, 256 * KiB, 1 * MiB];
  for (const n of sizes) (await arena.acquire(n)).release(); // warm the pool
  const allocationsBefore = arena.stats().allocations;
  gc();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 3000; i++) {
    const l = arena.tryAcquire(sizes[i % 3])!;
    l.bytes[0] = i & 0xff;
    l.release();
  }
  const after = process.memoryUsage().arrayBuffers;
  assert.equal(arena.stats().allocations, allocationsBefore, 'every acquire was a pool hit');
  // 3000 fresh 1 MiB-ish buffers would add gigabytes; allow a little slack for unrelated buffers.
  assert.ok(after - before < 2 * MiB, `arrayBuffers grew by ${after - before} bytes`);
});

test('a lease dropped without release is reported as a leak and its memory credited back after GC', async () => {
  const reports: Array<{ capacity: number; stack?: string }> = [];
  const arena = new Arena({ maxBytes: 256 * KiB, leakDetection: 'paranoid' });
  arena.on('leak', (r) => reports.push(r));
  (function leak() {
    arena.acquireSync(100 * KiB).bytes.fill(1);
  })();
  assert.equal(arena.stats().leasedCount, 1);
  await collect();
  const s = arena.stats();
  assert.equal(s.leaks, 1);
  assert.equal(s.gcReclaimed, 1);
  assert.equal(s.leasedBytes, 0);
  assert.equal(s.leasedCount, 0);
  assert.equal(reports.length, 1);
  assert.match(reports[0].stack ?? '', /lease acquired here/);
  assert.match(reports[0].stack ?? '', /leak/);
});

test('a leaked lease whose view is still referenced keeps counting until the view dies', async () => {
  const arena = new Arena({ maxBytes: 256 * KiB, leakDetection: 'simple' });
  arena.on('leak', () => {});
  let kept: Buffer | undefined = (() => arena.acquireSync(50 * KiB).bytes)();
  await collect();
  assert.equal(arena.stats().gcReclaimed, 0, 'the memory is still reachable through the view');
  assert.equal(arena.stats().leaks, 0, 'so it is not reported yet');
  assert.equal(arena.stats().leasedBytes, classSize(50 * KiB));
  assert.equal(kept.length, 50 * KiB);
  kept = undefined;
  await collect();
  assert.equal(arena.stats().gcReclaimed, 1);
  assert.equal(arena.stats().leaks, 1);
  assert.equal(arena.stats().leasedBytes, 0);
});

test('GC reclaim wakes a waiting acquire (the budget stays truthful)', async () => {
  const arena = new Arena({ maxBytes: 64 * KiB, leakDetection: 'disabled' });
  (() => void arena.acquireSync(64 * KiB))();
  const p = arena.acquire(32 * KiB);
  await collect();
  const l = await p;
  assert.equal(arena.stats().gcReclaimed, 1);
  assert.equal(arena.stats().leaks, 0, 'disabled: not reported');
  l.release();
});

test('advanced leak detection samples stacks; level comes from the environment too', async () => {
  const prev = process.env.KAFKA_ARENA_LEAK_DETECTION;
  process.env.KAFKA_ARENA_LEAK_DETECTION = 'ADVANCED';
  try {
    const arena = new Arena({ maxBytes: 8 * MiB, leakSamplingInterval: 4 });
    assert.equal(arena.leakDetection, 'advanced');
    const reports: Array<{ stack?: string }> = [];
    arena.on('leak', (r) => reports.push(r));
    (() => {
      for (let i = 0; i < 8; i++) arena.acquireSync(1024);
    })();
    await collect();
    assert.equal(reports.length, 8);
    assert.equal(reports.filter((r) => r.stack).length, 2, '1 in 4 sampled');
  } finally {
    if (prev === undefined) delete process.env.KAFKA_ARENA_LEAK_DETECTION;
    else process.env.KAFKA_ARENA_LEAK_DETECTION = prev;
  }
  assert.throws(() => new Arena({ leakDetection: 'loud' as never }), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
});

test('invalid sizes are rejected with ERR_INVALID_ARGUMENT', () => {
  const arena = new Arena({ maxBytes: MiB });
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => arena.acquireSync(bad), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
  }
  assert.throws(() => new Arena({ maxBytes: 0 }), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
});

test('truncate shrinks the view and the requested-bytes count', async () => {
  const arena = new Arena({ maxBytes: MiB });
  const l = await arena.acquire(10_000);
  l.truncate(300);
  assert.equal(l.bytes.length, 300);
  assert.equal(arena.stats().requestedBytes, 300);
  assert.throws(() => l.truncate(301), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
  const copy = l.copy();
  l.release();
  assert.equal(copy.length, 300, 'a copy survives release');
  assert.equal(arena.stats().requestedBytes, 0);
});
