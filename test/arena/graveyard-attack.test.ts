/**
 * Adversarial tests of the arena's graveyard (src/arena/quarantine.ts `Graveyard`): memory that
 * leaves the pool (released past the budget, trimmed, evicted) and serves its quarantine there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena } from '../../src';

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
  // P released at 0, Q at ~300 ms; quarantine 600 ms: P is due at ~600, Q at ~900.
  const { arena, settle } = pooledThenHeld(600, 300, false);
  await settle;
  await sleep(450); // ~750 ms after P's release
  assert.equal(arena.stats().pendingFreeBytes, KiB, 'P freed after its quarantine; only Q still held');
  await sleep(300);
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
