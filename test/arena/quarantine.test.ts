/**
 * The arena's release policy (src/arena/quarantine.ts): FIFO reuse, quarantine, poison, and what
 * native asynchronous I/O still reading a released lease sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Arena, KafkaArenaError } from '../../src';
import { POISON } from '../../src/arena/quarantine';
import { holdThreadPool } from '../support/thread-pool';

const KiB = 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('released memory is reused oldest first (FIFO)', () => {
  const arena = new Arena({ maxBytes: 1 << 20, quarantineMs: 0, poisonOnRelease: false, trimIntervalMs: 0 });
  const a = arena.acquireSync(16 * KiB);
  const b = arena.acquireSync(16 * KiB);
  a.bytes.fill(0xaa);
  b.bytes.fill(0xbb);
  a.release();
  b.release();
  // Pooled memory is not cleared (the policy's poison is off): its bytes tell which buffer it is.
  const first = arena.acquireSync(16 * KiB);
  const second = arena.acquireSync(16 * KiB);
  assert.equal(first.bytes[0], 0xaa, 'the first released is reused first');
  assert.equal(second.bytes[0], 0xbb);
  assert.equal(arena.stats().poolHits, 2);
});

test('poisonOnRelease overwrites released bytes with the recognisable pattern', () => {
  const arena = new Arena({ maxBytes: 1 << 20, quarantineMs: 0, trimIntervalMs: 0 });
  const a = arena.acquireSync(10 * KiB);
  a.bytes.fill(0x7a);
  a.release();
  const b = arena.acquireSync(10 * KiB);
  assert.equal(arena.stats().poolHits, 1);
  assert.deepEqual(b.bytes.subarray(0, POISON.length), POISON);
  assert.equal(b.bytes.indexOf(0x7a), -1, 'nothing of the released message is left');
});

test('quarantineMs delays reuse while allocating fits the budget, and reuses the oldest early under pressure', async () => {
  const arena = new Arena({ maxBytes: 1 << 20, quarantineMs: 40, trimIntervalMs: 0 });
  arena.acquireSync(64 * KiB).release();
  arena.acquireSync(64 * KiB).release();
  assert.equal(arena.stats().poolHits, 0, 'still in quarantine: a new buffer instead');
  assert.equal(arena.stats().allocations, 2);
  await sleep(60);
  arena.acquireSync(64 * KiB).release();
  assert.equal(arena.stats().poolHits, 1, 'reused once the quarantine is over');
  assert.equal(arena.stats().earlyReuses, 0);

  // A full budget: reuse early rather than pass it.
  const tight = new Arena({ maxBytes: 256 * KiB, quarantineMs: 60_000, trimIntervalMs: 0 });
  const leases = Array.from({ length: 4 }, () => tight.acquireSync(64 * KiB));
  for (const l of leases) l.release();
  for (let i = 0; i < 8; i++) tight.acquireSync(64 * KiB).release();
  const s = tight.stats();
  assert.equal(s.allocations, 4);
  assert.equal(s.earlyReuses, 8);
  assert.ok(s.highWaterBytes <= 256 * KiB, `high water ${s.highWaterBytes}`);
});

/** Node 22+ can free an ArrayBuffer at once (`transfer(0)`); Node 20 leaves it to the collector. */
const canFree = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

test('memory released past the budget is held for its quarantine, then freed without waiting for the collector', async () => {
  const MiB = 1 << 20;
  const arena = new Arena({ maxBytes: 16 * MiB, quarantineMs: 150, trimIntervalMs: 0 });
  const big = Array.from({ length: 4 }, () => arena.acquireSync(8 * MiB)); // 32 MiB on a 16 MiB budget
  for (const l of big) l.bytes.fill(1);
  const before = process.memoryUsage().arrayBuffers;
  for (const l of big) l.release();
  assert.equal(arena.stats().idleBytes, 16 * MiB, 'pooled up to the budget');
  assert.equal(arena.stats().pendingFreeBytes, 16 * MiB, 'the rest held while in quarantine');
  await sleep(20);
  // Not even a full collection frees it early (dropped, it would be: and malloc could hand it to
  // the next allocation while un-awaited native I/O still reads it).
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(5);
  assert.ok(process.memoryUsage().arrayBuffers >= before - MiB, 'not freed before the quarantine ends');
  await sleep(250);
  assert.equal(arena.stats().pendingFreeBytes, 0, 'freed once the quarantine is over');
  if (canFree) assert.ok(process.memoryUsage().arrayBuffers <= before - 15 * MiB, `freed at once, not by the collector (${before} -> ${process.memoryUsage().arrayBuffers})`);

  // quarantineMs 0: freed in release().
  const now = new Arena({ maxBytes: 4 * MiB, quarantineMs: 0, trimIntervalMs: 0 });
  const l = now.acquireSync(16 * MiB);
  const held = process.memoryUsage().arrayBuffers;
  l.release();
  assert.equal(now.stats().pendingFreeBytes, 0);
  if (canFree) assert.ok(process.memoryUsage().arrayBuffers <= held - 15 * MiB);
});

test('memory held past the budget is taken back, early, when allocating instead would pass the budget again', () => {
  const MiB = 1 << 20;
  const arena = new Arena({ maxBytes: 16 * MiB, quarantineMs: 60_000, trimIntervalMs: 0 });
  // One fetch of 4 x 8 MiB on a 16 MiB budget, released; the next one of the same size.
  for (const l of Array.from({ length: 4 }, () => arena.acquireSync(8 * MiB))) l.release();
  assert.equal(arena.stats().pendingFreeBytes, 16 * MiB);
  const next = Array.from({ length: 4 }, () => arena.acquireSync(8 * MiB));
  const s = arena.stats();
  assert.equal(s.allocations, 4, 'the second fetch allocated nothing');
  assert.equal(s.poolHits, 4);
  assert.equal(s.earlyReuses, 4);
  assert.equal(s.pendingFreeBytes, 0);
  assert.equal(s.leasedBytes, 32 * MiB);
  for (const l of next) l.release();
  // Within the budget, a held buffer is not reused early: a small lease allocates.
  arena.acquireSync(64 * KiB).release();
  assert.equal(arena.stats().allocations, 5);
});

test('the memory held for quarantine is bounded: at most the budget, or one buffer larger than it', () => {
  const MiB = 1 << 20;
  const arena = new Arena({ maxBytes: 4 * MiB, quarantineMs: 3_600_000, trimIntervalMs: 0 });
  // An hour's quarantine and 100 releases past the budget, of sizes that never match again.
  for (let i = 0; i < 100; i++) {
    const leases = [arena.acquireSync(3 * MiB), arena.acquireSync(2 * MiB + i * 4096)];
    for (const l of leases) l.release();
    const held = arena.stats().pendingFreeBytes;
    assert.ok(held <= 4 * MiB + 3 * MiB, `release ${i}: ${held} bytes held`);
  }
  // One buffer larger than the whole budget still serves its quarantine, alone.
  const big = arena.acquireSync(16 * MiB);
  big.release();
  assert.equal(arena.stats().pendingFreeBytes, 16 * MiB);
});

test('trimmed and evicted idle memory also serves the rest of its quarantine before it is freed', async () => {
  const KiB64 = 64 * KiB;
  const arena = new Arena({ maxBytes: 1 << 20, quarantineMs: 100, trimIntervalMs: 0 });
  const leases = Array.from({ length: 4 }, () => arena.acquireSync(KiB64));
  for (const x of leases) x.release();
  assert.equal(arena.stats().idleBytes, 4 * KiB64);
  arena.trim();
  assert.equal(arena.stats().idleBytes, 0);
  assert.equal(arena.stats().pendingFreeBytes, 4 * KiB64, 'trimmed buffers still in quarantine are held');
  await sleep(150);
  assert.equal(arena.stats().pendingFreeBytes, 0);
  // Idle buffers whose quarantine is over are freed when trimmed.
  arena.acquireSync(KiB64).release();
  await sleep(120);
  arena.trim();
  assert.equal(arena.stats().pendingFreeBytes, 0);
});

test('quarantineMs and poisonOnRelease are validated', () => {
  const bad = (o: object) => assert.throws(() => new Arena(o), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
  bad({ quarantineMs: -1 });
  bad({ quarantineMs: 1.5 });
  bad({ poisonOnRelease: 'yes' });
});

/**
 * Un-awaited fs.write of each lease's bytes, then release and a new tenant writing its own bytes
 * at once (what a handler that does not await its writes does). Returns how many written chunks
 * hold bytes of a tenant other than their own.
 */
async function contaminatedWrites(arena: Arena, rounds: number): Promise<{ contaminated: number; poisoned: number }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ka-q-')), 'out');
  const fd = fs.openSync(file, 'w+');
  const size = 64 * KiB;
  const pending: Array<Promise<void>> = [];
  // No write runs before the loop ends: a write that won the race against the reuse would show
  // nothing, and on a loaded machine most of them sometimes did.
  const free = holdThreadPool();
  for (let i = 0; i < rounds; i++) {
    const lease = arena.acquireSync(size);
    lease.bytes.fill(`rec-${String(i).padStart(5, '0')}|`);
    pending.push(new Promise((resolve, reject) => fs.write(fd, lease.bytes, 0, size, i * size, (err) => (err ? reject(err) : resolve()))));
    lease.release();
  }
  await free();
  await Promise.all(pending);
  const out = fs.readFileSync(file);
  fs.closeSync(fd);
  fs.rmSync(path.dirname(file), { recursive: true });
  let contaminated = 0;
  let poisoned = 0;
  for (let i = 0; i < rounds; i++) {
    const chunk = out.subarray(i * size, (i + 1) * size).toString('latin1');
    const tags = new Set(chunk.match(/rec-\d{5}\|/g) ?? []);
    tags.delete(`rec-${String(i).padStart(5, '0')}|`);
    if (tags.size > 0) contaminated++;
    if (chunk.includes('RELEASED')) poisoned++;
  }
  return { contaminated, poisoned };
}

test('un-awaited fs.write after release, the thread pool busy: another tenant’s bytes with the policy off, never with it', async () => {
  const off = await contaminatedWrites(new Arena({ maxBytes: 4 << 20, quarantineMs: 0, poisonOnRelease: false, trimIntervalMs: 0 }), 200);
  assert.ok(off.contaminated > 0, `the hazard is real: ${off.contaminated} of 200 chunks hold another tenant's bytes with the policy off`);
  // The policy protects I/O that ends within the quarantine; a quarantine longer than the test
  // keeps a loaded machine's slow loop from reaching past the default 100 ms.
  const byPolicy = await contaminatedWrites(new Arena({ maxBytes: 64 << 20, quarantineMs: 60_000, trimIntervalMs: 0 }), 200);
  assert.equal(byPolicy.contaminated, 0, `with the release policy: ${JSON.stringify(byPolicy)}`);
  assert.equal(byPolicy.poisoned, 200, `every write read the poison written on release: ${JSON.stringify(byPolicy)}`);
});
