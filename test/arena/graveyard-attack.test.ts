/**
 * Adversarial tests of the arena's graveyard (src/arena/quarantine.ts `Graveyard`): memory that
 * leaves the pool (released past the budget, trimmed, evicted) and serves its quarantine there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { Arena, codecs, KafkaArenaError, Lease, WorkerPool } from '../../src';

const KiB = 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Lets performance.now() move on, so two releases get distinct times. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/**
 * P is pooled at t0; Q, released later, goes straight to the graveyard (past maxIdleBytes); then
 * P is trimmed into the graveyard, behind Q although it was released first.
 */
function pooledThenHeld(quarantineMs: number, gapMs: number, spinOnly: boolean): { arena: Arena; settle: Promise<void> } {
  const arena = new Arena({ maxBytes: 8 * KiB, maxIdleBytes: KiB, quarantineMs, poisonOnRelease: false, trimIntervalMs: 0 });
  const p = arena.acquireSync(KiB);
  p.bytes.fill(0x50);
  const q = arena.acquireSync(KiB);
  q.bytes.fill(0x51);
  p.release();
  assert.equal(arena.stats().idleBytes, KiB, 'P pooled');
  const after = () => {
    q.release();
    assert.equal(arena.stats().pendingFreeBytes, KiB, 'Q held in the graveyard');
    arena.trim();
    assert.equal(arena.stats().pendingFreeBytes, 2 * KiB, 'P trimmed into the graveyard');
  };
  if (spinOnly) {
    spin(gapMs);
    after();
    return { arena, settle: Promise.resolve() };
  }
  return { arena, settle: sleep(gapMs).then(after) };
}

test('graveyard: memory taken back is the oldest released (FIFO), also after a trim buried an older buffer behind a newer one', async () => {
  const { arena, settle } = pooledThenHeld(60_000, 3, true);
  await settle;
  const whole = arena.acquireSync(8 * KiB); // leased + idle at the budget: the next grant is forced
  const next = arena.acquireSync(KiB);
  assert.equal(arena.stats().earlyReuses, 1, 'taken back from the graveyard');
  assert.equal(next.bytes[0], 0x50, 'the oldest released buffer (P) is reused first, not Q');
  whole.release();
  next.release();
  arena.close();
});

test('graveyard: a trimmed buffer is freed when its own quarantine ends, not when a newer one’s does', async () => {
  // P released at 0, Q at ~600 ms; quarantine 1200 ms: P is due at ~1200, Q at ~1800. The check
  // at ~1500 has 300 ms on either side for late timers on a loaded machine.
  const { arena, settle } = pooledThenHeld(1200, 600, false);
  await settle;
  await sleep(900); // ~1500 ms after P's release
  assert.equal(arena.stats().pendingFreeBytes, KiB, 'P freed after its quarantine; only Q still held');
  await sleep(600);
  assert.equal(arena.stats().pendingFreeBytes, 0);
  arena.close();
});

test('poison covers every byte the lease exposed, also past a truncate(): the next tenant (pooled or taken back from the graveyard) never reads them', () => {
  // Pooled at once.
  const pooled = new Arena({ maxBytes: 64 * KiB, quarantineMs: 0, trimIntervalMs: 0 });
  const a = pooled.acquireSync(1000);
  a.bytes.fill(0x07); // a byte the poison pattern does not hold
  a.truncate(10);
  a.release();
  const b = pooled.acquireSync(1000);
  assert.equal(pooled.stats().poolHits, 1);
  assert.equal(b.bytes.indexOf(0x07), -1, 'no byte of the released message');
  b.release();

  // Released past the budget, held in the graveyard, taken back under pressure.
  const held = new Arena({ maxBytes: 4 * KiB, quarantineMs: 60_000, trimIntervalMs: 0 });
  const whole = held.acquireSync(4 * KiB);
  const c = held.acquireSync(1000);
  c.bytes.fill(0x09);
  c.truncate(1);
  c.release();
  assert.equal(held.stats().pendingFreeBytes, KiB);
  const d = held.acquireSync(1000);
  assert.equal(held.stats().earlyReuses, 1, 'taken back from the graveyard');
  assert.equal(d.bytes.indexOf(0x09), -1, 'no byte of the released message');
  whole.release();
  d.release();
});

// ---- random sequences: the budget invariants with acquireSync past the budget, trim, close and the clock ----

type Op =
  | { t: 'sync'; size: number }
  | { t: 'try'; size: number }
  | { t: 'release'; pick: number }
  | { t: 'truncate'; pick: number; keep: number }
  | { t: 'trim'; all: boolean }
  | { t: 'tick'; ms: number }
  | { t: 'close' };

// Mostly a few sizes, so memory is often reused (from the pool or taken back from the graveyard).
const sizeArb = fc.oneof(fc.constantFrom(1000, 3000, 20_000, 70_000), fc.constantFrom(1000, 3000, 20_000), fc.integer({ min: 0, max: 4 * KiB }), fc.integer({ min: 4 * KiB, max: 40 * KiB }), fc.integer({ min: 40 * KiB, max: 80 * KiB }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: sizeArb.map((size) => ({ t: 'sync' as const, size })) },
  { weight: 2, arbitrary: sizeArb.map((size) => ({ t: 'try' as const, size })) },
  { weight: 6, arbitrary: fc.nat().map((pick) => ({ t: 'release' as const, pick })) },
  { weight: 2, arbitrary: fc.record({ pick: fc.nat(), keep: fc.nat() }).map((r) => ({ t: 'truncate' as const, ...r })) },
  { weight: 1, arbitrary: fc.boolean().map((all) => ({ t: 'trim' as const, all })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((ms) => ({ t: 'tick' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
);

interface Live {
  lease: Lease;
  tag: number;
  view: Buffer;
}

/** Tags are 1..63: bytes the poison pattern does not hold, so a tag seen by a new lease is another message's byte. */
const TAGS = 63;

test('property: with the graveyard, random sequences past the budget keep the arena invariants, poison every reused byte and free everything once the quarantine is over', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0, 3, 20, 3_600_000), fc.array(opArb, { maxLength: 80, size: 'medium' }), async (quarantineMs, ops) => {
      const arena = new Arena({ maxBytes: 64 * KiB, quarantineMs, trimIntervalMs: 0 });
      const live: Live[] = [];
      const dead: Buffer[] = [];
      let largest = 0;
      let closed = false;
      let tag = 0;
      const grant = (lease: Lease) => {
        // Fresh or reused memory never shows a byte of an earlier message (poison, or zeroes).
        for (const b of lease.bytes) assert.ok(b === 0 || b > TAGS, `a new lease shows byte ${b} of an earlier message`);
        tag = (tag % TAGS) + 1;
        lease.bytes.fill(tag);
        live.push({ lease, tag, view: lease.bytes });
      };
      const check = () => {
        const s = arena.stats();
        assert.equal(s.acquires, s.poolHits + s.allocations);
        assert.equal(s.leasedCount, live.length);
        assert.equal(s.leasedBytes, live.reduce((sum, l) => sum + l.lease.capacity, 0));
        assert.equal(s.requestedBytes, live.reduce((sum, l) => sum + l.lease.length, 0));
        // acquireSync may lease past the budget, but then nothing is kept idle beyond it.
        assert.ok(s.leasedBytes + s.idleBytes <= arena.maxBytes || s.idleBytes === 0, `leased ${s.leasedBytes} + idle ${s.idleBytes}`);
        assert.ok(s.pendingFreeBytes >= 0, 'pending never negative');
        assert.ok(s.pendingFreeBytes <= Math.max(arena.maxBytes, largest), `pending ${s.pendingFreeBytes} past max(budget, largest ${largest})`);
        if (quarantineMs === 0) assert.equal(s.pendingFreeBytes, 0);
        if (closed) assert.equal(s.idleBytes, 0, 'a closed arena pools nothing');
        const buffers = new Set<ArrayBufferLike>();
        for (const l of live) {
          assert.ok(!buffers.has(l.lease.bytes.buffer), 'two live leases share an ArrayBuffer');
          buffers.add(l.lease.bytes.buffer);
          assert.equal(l.lease.bytes.byteLength, l.lease.length);
          assert.equal(l.lease.bytes.buffer.byteLength, l.lease.capacity);
          for (const b of l.lease.bytes) if (b !== l.tag) assert.fail(`lease tagged ${l.tag} holds ${b}`);
        }
        for (const v of dead) assert.equal(v.length, 0, 'a view kept past release reads as empty');
      };
      for (const op of ops) {
        switch (op.t) {
          case 'sync':
          case 'try': {
            if (closed) {
              assert.throws(() => arena.acquireSync(op.size), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_ARENA_CLOSED');
              break;
            }
            const lease = op.t === 'sync' ? arena.acquireSync(op.size) : arena.tryAcquire(op.size);
            if (lease !== undefined) grant(lease);
            break;
          }
          case 'release': {
            if (live.length === 0) break;
            const [l] = live.splice(op.pick % live.length, 1);
            largest = Math.max(largest, l.lease.capacity);
            assert.equal(l.lease.release(), true);
            dead.push(l.view);
            break;
          }
          case 'truncate': {
            if (live.length === 0) break;
            const l = live[op.pick % live.length];
            l.lease.truncate(op.keep % (l.lease.length + 1));
            break;
          }
          case 'trim':
            arena.trim(op.all);
            break;
          case 'tick':
            await sleep(op.ms);
            break;
          case 'close':
            arena.close();
            closed = true;
            break;
        }
        check();
      }
      for (let l = live.shift(); l !== undefined; l = live.shift()) {
        largest = Math.max(largest, l.lease.capacity);
        l.lease.release();
        dead.push(l.view);
        check();
      }
      arena.close();
      closed = true;
      check();
      if (quarantineMs <= 20) {
        // Everything held is freed once its quarantine is over (the timer may run late on a busy machine).
        for (let waited = 0; arena.stats().pendingFreeBytes > 0 && waited < 5000; waited += 10) await sleep(10);
        assert.equal(arena.stats().pendingFreeBytes, 0, 'all freed after the quarantine');
      }
    }),
    { numRuns: 200 },
  );
});

// ---- the worker pool: lease memory that went to a worker and back, then past the budget ----

test('worker pool: leases past the budget, a crashed worker and close() leave the graveyard consistent; memory taken back from it goes to a worker and returns intact', async () => {
  const MiB = 1 << 20;
  const words = Buffer.from('kafka arena graveyard lease worker pool '.repeat(1 << 15)); // ~1.3 MiB
  const input = codecs.zstd.compress(words);
  // A quarantine the second round's grants cannot outrun on a loaded machine (they find the first
  // round's memory still quarantined: an early reuse), short enough to watch it end below.
  const arena = new Arena({ maxBytes: 2 * MiB, quarantineMs: 1000, trimIntervalMs: 0 });
  const pool = new WorkerPool({ workers: 2 });
  try {
    (await pool.decompress('zstd', input, { arena })).release(); // both the pool and the worker warmed
    // Four jobs of ~1.3 MiB on a 2 MiB budget: their leases go past it (acquireSync).
    let leases = await Promise.all([1, 2, 3, 4].map(() => pool.decompress('zstd', input, { arena })));
    for (const l of leases) assert.ok(l.bytes.equals(words));
    for (const l of leases) l.release();
    const held = arena.stats().pendingFreeBytes;
    assert.ok(held > 0 && held <= arena.maxBytes, `held ${held}`);
    // The next round takes memory back from the graveyard, sends it to a worker, gets it back.
    leases = await Promise.all([1, 2, 3, 4].map(() => pool.decompress('zstd', input, { arena })));
    assert.ok(arena.stats().earlyReuses > 0, 'memory taken back from the graveyard');
    for (const l of leases) assert.ok(l.bytes.equals(words), 'a taken-back buffer decompressed into intact');
    const views = leases.map((l) => l.bytes);
    for (const l of leases) l.release();
    for (const v of views) assert.equal(v.length, 0, 'revoked after release');

    // A worker dies with jobs on it: their leases come back as new buffers and are released.
    pool._exitWorker(0, 3);
    const settled = await Promise.allSettled([1, 2, 3, 4].map(() => pool.decompress('zstd', input, { arena })));
    for (const s of settled) if (s.status === 'fulfilled') s.value.release();
    assert.ok(settled.some((s) => s.status === 'rejected'), 'jobs of the dead worker failed');
    // close() with jobs in flight.
    const inFlight = Promise.allSettled([1, 2, 3].map(() => pool.decompress('zstd', input, { arena })));
    await pool.close();
    for (const s of await inFlight) if (s.status === 'fulfilled') s.value.release();
    const s = arena.stats();
    assert.equal(s.leasedBytes, 0);
    assert.equal(s.leasedCount, 0);
    assert.equal(s.acquires, s.poolHits + s.allocations);
    assert.ok(s.pendingFreeBytes >= 0 && s.pendingFreeBytes <= arena.maxBytes, `pending ${s.pendingFreeBytes}`);
    arena.close();
    // Nothing throws from the graveyard's timer (the test would fail with it), and all is freed.
    for (let waited = 0; arena.stats().pendingFreeBytes > 0 && waited < 5000; waited += 10) await sleep(10);
    assert.equal(arena.stats().pendingFreeBytes, 0);
  } finally {
    await pool.close();
    arena.close();
  }
});

test('an hour of quarantine with memory held does not keep the process alive', () => {
  const src = require.resolve('../../src');
  const script = `
    const { Arena } = require(${JSON.stringify(src)});
    const arena = new Arena({ maxBytes: 1 << 20, quarantineMs: 3_600_000, trimIntervalMs: 0 });
    for (const l of Array.from({ length: 4 }, () => arena.acquireSync(1 << 20))) l.release();
    arena.acquireSync(1000).release();
    arena.trim();
    if (arena.stats().pendingFreeBytes === 0) process.exit(2);
  `;
  const run = spawnSync(process.execPath, ['-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(run.error, undefined, 'exited by itself');
  assert.equal(run.status, 0, run.stderr);
});
