/**
 * WorkerPool: results, errors and limits identical to the synchronous codecs, the arena budget
 * under worker crashes and close(), revocation and leak watching of leases that went to a
 * worker and back.
 */
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Arena, codecs, crc32c, isKafkaArenaError, Lease, PoolError, WorkerPool, type Codec, type CodecName } from '../../src';
import { collect } from '../support/gc';
import { prng } from '../support/random';

const NAMES: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd'];

function text(size: number, seed = 1): Buffer {
  const rand = prng(seed);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'kafka', 'arena', 'lease', 'pool'];
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = `${words[Math.floor(rand() * words.length)]}-${Math.floor(rand() * 1000)} `;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** What a call threw, as the fields that must agree between the pool and the sync call. */
function failure(fn: () => unknown): { cls: string; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code: string };
    return { cls: err.constructor.name, code: err.code, message: err.message };
  }
  throw new Error('expected the sync call to throw');
}

async function asyncFailure(p: Promise<unknown>): Promise<{ cls: string; code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code: string };
    return { cls: err.constructor.name, code: err.code, message: err.message };
  }
  throw new Error('expected the pool call to reject');
}

describe('WorkerPool.decompress', () => {
  // Made in before(), not here: a run filtered to other tests skips after(), and the workers
  // would keep the process alive.
  let pool!: WorkerPool;
  before(() => {
    pool = new WorkerPool({ workers: 2 });
  });
  after(() => pool.close());

  for (const name of NAMES) {
    test(`${name}: same bytes as the sync call, into a lease of exactly the output, budget back after release`, async () => {
      const codec = codecs[name];
      const arena = new Arena({ maxBytes: 32 << 20, trimIntervalMs: 0 });
      for (const size of [0, 1, 1000, 70_000, 1 << 20]) {
        const data = text(size, size);
        const compressed = codec.compress(data);
        const lease = await pool.decompress(codec, compressed, { arena });
        assert.ok(lease instanceof Lease);
        assert.equal(lease.length, size);
        assert.ok(lease.bytes.equals(data), `${name} ${size}: bytes`);
        assert.ok(arena.leasedBytes >= size);
        lease.release();
        assert.equal(arena.leasedBytes, 0, `${name} ${size}: budget back`);
        const plain = await pool.decompress(name, compressed);
        assert.ok(Buffer.isBuffer(plain) && plain.equals(data), `${name} ${size}: plain Buffer`);
      }
      assert.equal(arena.stats().leasedCount, 0);
      arena.close();
    });

    test(`${name}: corrupt and truncated input rejects with the sync call's class, code and message; no memory kept`, async () => {
      const codec = codecs[name];
      const arena = new Arena({ maxBytes: 32 << 20, trimIntervalMs: 0 });
      const good = codec.compress(text(200_000, 7));
      const flipped = Buffer.from(good);
      for (let i = Math.floor(good.length / 3); i < good.length; i += 97) flipped[i] ^= 0x5a;
      const cases = [good.subarray(0, Math.floor(good.length / 2)), flipped, Buffer.from('definitely not compressed data at all')];
      for (const input of cases) {
        const want = failure(() => codec.decompress(input, { arena }).release());
        const got = await asyncFailure(pool.decompress(codec, input, { arena }));
        assert.deepEqual(got, want);
        assert.equal(arena.leasedBytes, 0, 'the failed job released its lease');
      }
      arena.close();
    });

    test(`${name}: a bomb stops at maxOutputBytes with the sync call's error`, async () => {
      const codec = codecs[name];
      const arena = new Arena({ maxBytes: 32 << 20, trimIntervalMs: 0 });
      const bomb = codec.compress(Buffer.alloc(8 << 20));
      for (const maxOutputBytes of [0, 1000, 1 << 20, (8 << 20) - 1]) {
        const want = failure(() => codec.decompress(bomb, { arena, maxOutputBytes }));
        assert.equal(want.code, 'ERR_OUTPUT_LIMIT');
        const got = await asyncFailure(pool.decompress(codec, bomb, { arena, maxOutputBytes }));
        assert.deepEqual(got, want, `${name} limit ${maxOutputBytes}`);
        assert.equal(arena.leasedBytes, 0);
        assert.ok(arena.stats().highWaterBytes <= 2 * Math.max(maxOutputBytes, 65536) + 65536, `${name}: never leased much past the limit`);
      }
      const exact = await pool.decompress(codec, bomb, { arena, maxOutputBytes: 8 << 20 });
      assert.equal(exact.length, 8 << 20);
      exact.release();
      arena.close();
    });
  }

  test('bad arguments are ArgumentErrors naming the argument', async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => pool.decompress('brotli' as CodecName, Buffer.alloc(1)), 'codec'],
      [() => pool.decompress({ ...codecs.zstd } as Codec, Buffer.alloc(1)), 'codec'],
      [() => pool.decompress('zstd', 'text' as unknown as Uint8Array), 'input'],
      [() => pool.decompress('zstd', Buffer.alloc(1), 5 as never), 'options'],
    ];
    for (const [fn, argument] of cases) {
      await assert.rejects(fn(), (e: unknown) => isKafkaArenaError(e) && e.code === 'ERR_INVALID_ARGUMENT' && (e as { argument?: string }).argument === argument);
    }
    assert.throws(() => new WorkerPool({ workers: 0 }), (e: unknown) => isKafkaArenaError(e) && (e as { argument?: string }).argument === 'workers');
  });

  test('a released lease from the pool is revoked: kept views read as empty', async () => {
    const arena = new Arena({ maxBytes: 8 << 20, trimIntervalMs: 0, quarantineMs: 0 });
    const data = text(300_000, 3);
    const lease = await pool.decompress('zstd', codecs.zstd.compress(data), { arena });
    const view = lease.bytes;
    const sub = view.subarray(10, 20);
    assert.equal(view.length, data.length);
    lease.release();
    assert.equal(view.length, 0);
    assert.equal(sub.length, 0);
    assert.throws(() => lease.bytes, (e: unknown) => isKafkaArenaError(e) && e.code === 'ERR_LEASE_RELEASED');
    // Its memory is pooled and serves the next lease.
    const again = await pool.decompress('zstd', codecs.zstd.compress(data), { arena });
    assert.equal(arena.stats().poolHits, 1);
    again.release();
    arena.close();
  });

  test('the leak watcher follows the buffer that came back: a held lease is no leak, a dropped one is, once', async () => {
    const arena = new Arena({ maxBytes: 8 << 20, trimIntervalMs: 0, leakDetection: 'simple', onLeak: () => {} });
    const input = codecs.lz4.compress(text(500_000, 4));
    let held: Lease | undefined = await pool.decompress('lz4', input, { arena });
    await collect();
    assert.equal(arena.stats().leaks, 0, 'the detached original buffer was collected and counted as a leak');
    assert.equal(arena.leasedBytes, held.capacity);
    held.release();
    held = undefined;
    await (async () => {
      await pool.decompress('lz4', input, { arena }); // dropped without release
    })();
    await collect();
    assert.equal(arena.stats().leaks, 1);
    assert.equal(arena.leasedBytes, 0);
    arena.close();
  });
});

describe('WorkerPool: 100k jobs at once', () => {
  const N = 100_000;
  const data = Buffer.from('a small message, '.repeat(8));
  const input = codecs.zstd.compress(data);

  test(`${N} jobs queued at once: each answered with its own output, the budget all back`, async () => {
    const pool = new WorkerPool({ workers: 1 });
    const arena = new Arena({ maxBytes: 2 ** 31, trimIntervalMs: 0 });
    try {
      const t0 = performance.now();
      const jobs = Array.from({ length: N }, () => pool.decompress('zstd', input, { arena }));
      assert.equal(pool.stats().queued + pool.stats().inFlight, N);
      const leases = await Promise.all(jobs);
      console.log(`# ${N} jobs answered: ${(performance.now() - t0).toFixed(0)} ms`);
      for (const l of leases) if (!l.bytes.equals(data)) assert.fail('a job gave the wrong bytes');
      for (const l of leases) l.release();
      assert.equal(arena.leasedBytes, 0);
      assert.equal(pool.stats().queued, 0);
    } finally {
      await pool.close();
      arena.close();
    }
  });

  test(`${N} tiny jobs queued: the copies of their inputs hold at most twice the input and 256 bytes each`, async () => {
    // The input is copied when the job is queued (the caller may reuse its buffer at once); a copy
    // that rounds every input up to a page would hold 400 MiB here, outside any budget.
    const pool = new WorkerPool({ workers: 1 });
    try {
      await collect(); // what earlier tests left would otherwise be freed here and hide the copies
      const before = process.memoryUsage().arrayBuffers;
      const jobs = Array.from({ length: N }, () => pool.decompress('zstd', input));
      const held = process.memoryUsage().arrayBuffers - before;
      const limit = N * (2 * input.length + 256);
      console.log(`# ${N} queued jobs of ${input.length} input bytes: ${(held / 2 ** 20).toFixed(1)} MiB of ArrayBuffers (limit ${(limit / 2 ** 20).toFixed(1)} MiB)`);
      assert.ok(held <= limit, `${held} bytes held for ${N} queued inputs of ${input.length} bytes`);
      for (const out of await Promise.all(jobs)) if (!out.equals(data)) assert.fail('a job gave the wrong bytes');
    } finally {
      await pool.close();
    }
  });

  test('after a burst of tiny jobs fills the idle staging memory, batch-sized inputs still reuse their staging buffers', async () => {
    const pool = new WorkerPool({ workers: 1 });
    try {
      // 150k at once: more 256-byte copies than the 32 MiB of idle staging memory holds.
      await Promise.all(Array.from({ length: 150_000 }, () => pool.decompress('zstd', input)));
      const rand = prng(5);
      const big = Buffer.from(Array.from({ length: 600_000 }, () => Math.floor(rand() * 256))); // incompressible
      const bigInput = codecs.lz4.compress(big);
      const fresh = pool._stagingAllocations;
      for (let i = 0; i < 20; i++) assert.ok((await pool.decompress('lz4', bigInput)).equals(big));
      const added = pool._stagingAllocations - fresh;
      assert.ok(added <= 1, `${added} new staging buffers for 20 jobs of ${bigInput.length} bytes one after another`);
    } finally {
      await pool.close();
    }
  });

  test(`close() with ${N} jobs queued: every one rejects with ERR_POOL_CLOSED, the budget all back`, async () => {
    const pool = new WorkerPool({ workers: 1 });
    const arena = new Arena({ maxBytes: 2 ** 31, trimIntervalMs: 0 });
    const jobs = Array.from({ length: N }, () => pool.decompress('zstd', input, { arena }));
    const settling = Promise.allSettled(jobs);
    const t0 = performance.now();
    await pool.close();
    const settled = await settling;
    console.log(`# close() with ${N} jobs: ${(performance.now() - t0).toFixed(0)} ms`);
    const codes = new Set(settled.map((r) => (r.status === 'rejected' ? (r.reason as PoolError).code : 'fulfilled')));
    assert.deepEqual([...codes], ['ERR_POOL_CLOSED']);
    assert.equal(arena.leasedBytes, 0);
    assert.equal(arena.stats().leasedCount, 0);
    arena.close();
  });
});

describe('WorkerPool: crashes and close()', () => {
  test('a second close() resolves when the first does, after the workers have exited', async () => {
    const pool = new WorkerPool({ workers: 1 });
    const job = pool.decompress('gzip', codecs.gzip.compress(text(4 << 20, 3))).then(
      () => 'done',
      (e) => (e as PoolError).code,
    );
    let first = false;
    const closing = pool.close().then(() => (first = true));
    await pool.close();
    assert.equal(first, true, 'the second close() resolved before the first');
    await closing;
    assert.equal(await job, 'ERR_POOL_CLOSED');
  });

  test('close() while a worker inflates gzip does not abort the process', () => {
    // worker.terminate() stops a thread's JavaScript wherever it is; inside node:zlib's
    // constructor (one per gzip member) the thread's teardown then aborts the whole process
    // ("close before init"). A gzip input of many one-byte members keeps the worker in that
    // constructor often; a child process closes pools during such jobs, again and again.
    const script = `
      const zlib = require('node:zlib');
      const { WorkerPool } = require(${JSON.stringify(require.resolve('../../src'))});
      const member = zlib.gzipSync(Buffer.from('x'));
      const input = Buffer.concat(Array.from({ length: 5000 }, () => member));
      (async () => {
        for (let i = 0; i < 40; i++) {
          const pool = new WorkerPool({ workers: 1 });
          await pool.decompress('gzip', member);
          const job = pool.decompress('gzip', input).then(() => 'done', (e) => e.code);
          await new Promise((r) => setTimeout(r, 2 + (i % 9)));
          await pool.close();
          const how = await job;
          if (how !== 'done' && how !== 'ERR_POOL_CLOSED') throw new Error('job ended with ' + how);
        }
        process.stdout.write('survived');
      })();`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(child.signal, null, `the child was killed by ${child.signal}: ${child.stderr.split('\n').slice(0, 3).join(' | ')}`);
    assert.equal(child.status, 0, child.stderr.split('\n').slice(0, 3).join(' | '));
    assert.equal(child.stdout, 'survived');
  });

  test('process.exit in a worker: its jobs reject with ERR_WORKER_EXITED, leases credited back, the worker is replaced', async () => {
    const pool = new WorkerPool({ workers: 1 });
    const arena = new Arena({ maxBytes: 64 << 20, trimIntervalMs: 0 });
    try {
      const data = text(1 << 20, 5);
      const input = codecs.zstd.compress(data);
      // Warm the worker so it is online (a worker that dies before starting is not replaced).
      (await pool.decompress('zstd', input, { arena })).release();
      pool._exitWorker(0, 7);
      const jobs = [1, 2, 3, 4, 5, 6].map(() => pool.decompress('zstd', input, { arena }));
      assert.ok(arena.leasedBytes >= 6 * data.length, 'budget taken before the jobs were sent');
      const { inFlight: sent, queued } = pool.stats();
      assert.ok(sent >= 2 && queued >= 1, `sent ${sent}, queued ${queued}`);
      const settled = await Promise.allSettled(jobs);
      const rejected = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
      const fulfilled = settled.filter((s) => s.status === 'fulfilled') as PromiseFulfilledResult<Lease>[];
      assert.equal(rejected.length, sent, 'the jobs sent to the dying worker');
      for (const r of rejected) {
        assert.ok(r.reason instanceof PoolError);
        assert.equal(r.reason.code, 'ERR_WORKER_EXITED');
      }
      assert.equal(fulfilled.length, queued, 'the queued jobs ran on the replacement');
      for (const f of fulfilled) {
        assert.ok(f.value.bytes.equals(data));
        f.value.release();
      }
      assert.equal(arena.leasedBytes, 0, 'every lease credited back');
      assert.equal(arena.stats().leasedCount, 0);
      assert.equal(pool.stats().workerExits, 1);
      // And the replacement keeps working.
      const after = await pool.decompress('zstd', input, { arena });
      assert.ok(after.bytes.equals(data));
      after.release();
    } finally {
      await pool.close();
      arena.close();
    }
  });

  test('close() with jobs queued and in flight: they reject with ERR_POOL_CLOSED and their leases come back', async () => {
    const pool = new WorkerPool({ workers: 2 });
    const arena = new Arena({ maxBytes: 256 << 20, trimIntervalMs: 0 });
    const input = codecs.gzip.compress(text(2 << 20, 6));
    const jobs = Array.from({ length: 10 }, () => pool.decompress('gzip', input, { arena }));
    assert.ok(arena.leasedBytes >= 10 * (2 << 20));
    assert.equal(pool.stats().inFlight, 4);
    assert.equal(pool.stats().queued, 6);
    const settling = Promise.allSettled(jobs);
    await pool.close();
    const settled = await settling;
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.ok((s as PromiseRejectedResult).reason instanceof PoolError);
      assert.equal((s as PromiseRejectedResult).reason.code, 'ERR_POOL_CLOSED');
    }
    assert.equal(arena.leasedBytes, 0);
    assert.equal(arena.stats().leasedCount, 0);
    await assert.rejects(pool.decompress('gzip', input, { arena }), (e: unknown) => e instanceof PoolError && e.code === 'ERR_POOL_CLOSED');
    assert.equal(arena.leasedBytes, 0, 'a job refused by a closed pool takes nothing');
    arena.close();
  });
});

describe('WorkerPool: memory no one wrote is not poisoned again', () => {
  // A lease the pool took for a job that no worker wrote into (taken back, a CRC mismatch, lost
  // with close()) holds what its buffer held when granted: zeros or the poison of its last
  // release. Writing the poison over it again would cost a pass over the memory for nothing.
  test('withdrawn, CRC-mismatched and closed-out jobs release without a poison pass; a job that ran is poisoned on release', async () => {
    const pool = new WorkerPool({ workers: 1 });
    const arena = new Arena({ maxBytes: 256 << 20, trimIntervalMs: 0 });
    try {
      const data = text(1 << 20, 9);
      const input = codecs.zstd.compress(data);
      const submit = (crc?: number) => {
        const job = pool._submit(codecs.zstd, input, 0, crc, arena, undefined);
        job.outcome.catch(() => undefined); // awaited below; an early failure must not hide behind the close() in finally
        return job;
      };
      const jobs = [submit(), submit(), submit(), submit()];
      assert.equal(pool.stats().queued, 2, 'two sent, two queued');
      assert.equal(jobs[3].withdraw(), true);
      assert.equal(arena._poisonedBytes, 0, 'the withdrawn job released its lease without a poison pass');

      const ran = (await jobs[0].outcome).value as Lease;
      ran.release();
      assert.equal(arena._poisonedBytes, data.length, 'a lease the worker wrote is poisoned on release');

      // A CRC over the whole input that cannot match: the worker checks it and writes nothing.
      const mismatch = await submit((crc32c(input, 0, input.length) + 1) >>> 0).outcome;
      assert.equal(mismatch.crcMismatch, true);
      assert.equal(arena._poisonedBytes, data.length, 'the mismatched job released its lease without a poison pass');

      const pending = [jobs[1], jobs[2], submit(), submit(), submit()].map((j) => j.outcome);
      ((await pending[0]).value as Lease).release();
      const before = arena._poisonedBytes;
      await pool.close();
      const settled = await Promise.allSettled(pending.slice(1));
      for (const s of settled) if (s.status === 'fulfilled') (s.value.value as Lease).release();
      const closedOut = settled.filter((s) => s.status === 'rejected').length;
      assert.ok(closedOut >= 2, `${closedOut} jobs closed out`);
      const ranToo = settled.length - closedOut;
      assert.equal(arena._poisonedBytes, before + ranToo * data.length, 'jobs closed out released their leases without a poison pass');
      assert.equal(arena.leasedBytes, 0, 'the budget all back');
    } finally {
      await pool.close();
      arena.close();
    }
  });
});
