import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Arena, ByteQueue, Lease } from '../../src';

const KiB = 1024;

type Op =
  | { t: 'acquire'; size: number }
  | { t: 'try'; size: number }
  | { t: 'release'; pick: number }
  | { t: 'retain'; pick: number }
  | { t: 'tick' };

const sizeArb = fc.oneof(
  fc.integer({ min: 0, max: 4 * KiB }),
  fc.integer({ min: 4 * KiB, max: 40 * KiB }),
  fc.integer({ min: 40 * KiB, max: 80 * KiB }), // oversized for a 64 KiB budget
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: sizeArb.map((size) => ({ t: 'acquire' as const, size })) },
  { weight: 2, arbitrary: sizeArb.map((size) => ({ t: 'try' as const, size })) },
  { weight: 5, arbitrary: fc.nat().map((pick) => ({ t: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ t: 'retain' as const, pick })) },
  { weight: 2, arbitrary: fc.constant({ t: 'tick' as const }) },
);

interface Live {
  lease: Lease;
  tag: number;
  refs: number;
}

function checkInvariants(arena: Arena, live: Live[]): void {
  const s = arena.stats();
  // A waiting acquire never pushes leased bytes past the budget; only a lone oversized grant may.
  assert.ok(s.leasedBytes <= arena.maxBytes || s.leasedCount === 1, `leased ${s.leasedBytes} with ${s.leasedCount} leases`);
  assert.ok(s.leasedBytes + s.idleBytes <= arena.maxBytes || s.leasedCount === 1, 'leased + idle within budget');
  // The stats add up.
  assert.equal(s.acquires, s.poolHits + s.allocations);
  assert.equal(s.leasedCount, s.acquires - s.releases - s.gcReclaimed);
  assert.equal(s.leasedCount, live.length);
  assert.equal(s.leasedBytes, live.reduce((sum, l) => sum + l.lease.capacity, 0));
  assert.equal(s.requestedBytes, live.reduce((sum, l) => sum + l.lease.length, 0));
  assert.ok(s.idleBytes >= 0 && s.idleCount >= 0);
  // No memory is handed to two live leases: distinct ArrayBuffers, and every tag is intact.
  const buffers = new Set<ArrayBufferLike>();
  for (const l of live) {
    const b = l.lease.bytes;
    if (b.length > 0) {
      assert.ok(!buffers.has(b.buffer), 'two live leases share an ArrayBuffer');
      buffers.add(b.buffer);
      assert.equal(b[0], l.tag);
      assert.equal(b[b.length - 1], l.tag);
    }
  }
}

test('property: random acquire / try / retain / release sequences keep the arena invariants', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 80 }), async (ops) => {
      const arena = new Arena({ maxBytes: 64 * KiB, trimIntervalMs: 0, leakDetection: 'disabled' });
      const live: Live[] = [];
      const grantOrder: number[] = [];
      let seq = 0;
      let tag = 1;
      const pending: Array<Promise<void>> = [];
      const onGrant = (id: number) => (lease: Lease) => {
        grantOrder.push(id);
        const t = (tag++ % 250) + 1;
        lease.bytes.fill(t);
        live.push({ lease, tag: t, refs: 1 });
      };
      for (const op of ops) {
        switch (op.t) {
          case 'acquire': {
            const id = seq++;
            pending.push(arena.acquire(op.size).then(onGrant(id)));
            break;
          }
          case 'try': {
            const waitingBefore = arena.stats().waiting;
            const lease = arena.tryAcquire(op.size);
            if (lease) {
              assert.equal(waitingBefore, 0, 'tryAcquire granted past waiters');
              onGrant(-1)(lease);
            }
            break;
          }
          case 'release': {
            if (live.length === 0) break;
            const i = op.pick % live.length;
            const l = live[i];
            const freed = l.lease.release();
            l.refs--;
            assert.equal(freed, l.refs === 0);
            if (l.refs === 0) {
              live.splice(i, 1);
              assert.equal(l.lease.released, true);
            }
            break;
          }
          case 'retain': {
            if (live.length === 0) break;
            const l = live[op.pick % live.length];
            l.lease.retain();
            l.refs++;
            break;
          }
          case 'tick':
            await new Promise((r) => setImmediate(r));
            break;
        }
        await Promise.resolve();
        checkInvariants(arena, live);
      }
      // Drain: releasing everything must let every waiter through (no deadlock).
      for (let guard = 0; guard < 10_000 && (live.length > 0 || arena.stats().waiting > 0); guard++) {
        const l = live.shift();
        if (l) while (l.refs-- > 0) l.lease.release();
        await new Promise((r) => setImmediate(r));
        checkInvariants(arena, live);
      }
      await Promise.all(pending);
      assert.equal(arena.stats().waiting, 0);
      // FIFO: waiting acquires were granted in the order they were made.
      const waited = grantOrder.filter((id) => id >= 0);
      assert.deepEqual(waited, [...waited].sort((a, b) => a - b));
      const s = arena.stats();
      assert.equal(s.leasedBytes, 0);
      assert.equal(s.leasedCount, 0);
    }),
    { numRuns: 300, seed: 20261121 },
  );
});

type QOp = { t: 'push'; size: number } | { t: 'tryPush'; size: number } | { t: 'shift' } | { t: 'tick' };

test('property: the byte queue never holds more than its capacity (except one oversized item) and keeps FIFO order', async () => {
  const qop: fc.Arbitrary<QOp> = fc.oneof(
    fc.integer({ min: 0, max: 1200 }).map((size) => ({ t: 'push' as const, size })),
    fc.integer({ min: 0, max: 600 }).map((size) => ({ t: 'tryPush' as const, size })),
    fc.constant({ t: 'shift' as const }),
    fc.constant({ t: 'tick' as const }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(qop, { maxLength: 100 }), async (ops) => {
      const q = new ByteQueue<{ id: number; size: number }>({ capacityBytes: 1000, sizeOf: (i) => i.size });
      let id = 0;
      const admitted: number[] = [];
      const received: number[] = [];
      const pushes: Array<Promise<void>> = [];
      const shifts: Array<Promise<void>> = [];
      const check = () => {
        assert.ok(q.bytes <= q.capacityBytes || q.length === 1, `bytes ${q.bytes} with ${q.length} items`);
        assert.ok(q.bytes >= 0);
      };
      for (const op of ops) {
        if (op.t === 'push') {
          const item = { id: id++, size: op.size };
          pushes.push(q.push(item).then(() => void admitted.push(item.id)));
        } else if (op.t === 'tryPush') {
          const item = { id: id++, size: op.size };
          if (q.tryPush(item)) admitted.push(item.id);
        } else if (op.t === 'shift') {
          shifts.push(q.shift().then((item) => void (item && received.push(item.id))));
        } else {
          await new Promise((r) => setImmediate(r));
        }
        await Promise.resolve();
        check();
      }
      // Drain everything: every push is eventually admitted, nothing lost, nothing duplicated.
      for (let guard = 0; guard < 10_000; guard++) {
        const item = q.tryShift();
        if (item) received.push(item.id);
        await new Promise((r) => setImmediate(r));
        check();
        if (q.length === 0 && q.stats().waitingPushers === 0) break;
      }
      q.close();
      await Promise.all([...pushes, ...shifts]);
      const sorted = [...received].sort((a, b) => a - b);
      assert.deepEqual(sorted, [...new Set(admitted)].sort((a, b) => a - b), 'every admitted item came out exactly once');
      assert.deepEqual(received, [...received].sort((a, b) => a - b), 'FIFO');
    }),
    { numRuns: 300, seed: 7 },
  );
});
