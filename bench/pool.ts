/**
 * The worker pool (src/pool) against the synchronous calls on the main thread, on this machine's
 * cores. Sections (each a table in bench/results/pool.md, figures in pool.json, charts pool-*.svg):
 *   1. records/s: pool.decodeRecordBatches vs decodeRecordBatches over 1 MiB batches of JSON
 *      events, every record's key and value touched, per codec, with 1 and 2 workers (1 also with
 *      callerHelps: the caller decodes some queued batches itself), one call
 *      per 16-batch fetch and one call over a stream of fetches;
 *   2. aggregate zstd MB/s of the pool (16 jobs kept in flight, each lease released as its job
 *      ends) vs single-thread native zstd-napi and our WASM zstd on the main thread, at 256 KiB
 *      and 1 MiB; the pool also with an arena that does not poison released memory;
 *   3. event-loop delay (monitorEventLoopDelay p99 / max) while 256 MiB of 1 MiB zstd batches
 *      decompress: synchronously (yielding between batches, and per 16-batch fetch) vs the pool;
 *   4. small batches: main-thread time per batch, sync vs the pool's hand-off, per codec and size
 *      (the threshold registerCodecs uses);
 *   5. the compressed input to a worker: copied vs transferred, 4 KiB to 4 MiB;
 *   6. kafkajs against the mock broker, registerCodecs with and without { pool }: msgs/s and
 *      event-loop delay, plain and recycling mode.
 * Cases of a row run interleaved in rounds (median), so load on the shared machine hits them alike.
 *   node build/bench/pool.js [--quick] [sections...]   e.g. node build/bench/pool.js records latency
 */
import { AsyncResource } from 'node:async_hooks';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { CompressionCodecs, Kafka } from 'kafkajs';
import { Arena, codecs, decodeRecordBatches, WorkerPool, type CodecName } from '../src';
import { arenaConsumer, registerCodecs } from '../src/kafkajs';
import { kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName } from '../test/broker/harness';
import { kcatProduce } from '../test/broker/kcat';
import { BenchCase, BenchResult, QUICK, barChartSvg, fmt, jsonBatches, jsonEvent, jsonEvents, machine, median, pivotTable, printRun, prng, runCases, writeResults, writeSvg } from './lib';

/* eslint-disable @typescript-eslint/no-var-requires */
const zstdNapi = require('zstd-napi');

const CODECS: CodecName[] = ['zstd', 'lz4', 'snappy', 'gzip'];
const MiB = 1024 * 1024;
let sink = 0;

/** "1 worker", "2 workers": how the tables name a pool. */
function workersLabel(workers: number): string {
  return `${workers} worker${workers > 1 ? 's' : ''}`;
}

function touch(b: { cursor(): { advance(): boolean; record: { key: Uint8Array | null; value: Uint8Array | null } } }): number {
  let n = 0;
  for (const c = b.cursor(); c.advance(); n++) sink += (c.record.key?.length ?? 0) + (c.record.value?.length ?? 0);
  return n;
}

// ---------- 1. records/s ----------

/** Fetches in the streamed cases: the same 16-batch response again and again, as a fetch loop yields them. */
const STREAMED_FETCHES = 4;

/** Section 1's synchronous case: decode a fetch, touch every record, release. */
function syncRecordsCase(group: string, bytes: Uint8Array, n: number, arena: Arena): BenchCase {
  return {
    group,
    name: 'sync decodeRecordBatches',
    fn: () => {
      const d = decodeRecordBatches(bytes, { arena });
      let c = 0;
      for (const b of d) c += touch(b);
      d.release();
      if (c !== n) throw new Error(`decoded ${c} of ${n}`);
    },
    records: n,
    bytes: bytes.length,
  };
}

/** Section 1's pool case: `fetches` times `bytes` in one call, every record touched, each batch released. */
function poolRecordsCase(group: string, name: string, pool: WorkerPool, bytes: Uint8Array, n: number, arena: Arena, fetches = 1, indexing: 'auto' | 'never' = 'auto', callerHelps = false): BenchCase {
  return {
    group,
    name,
    fn: () => {},
    asyncFn: async () => {
      pool._setIndexing(indexing);
      let c = 0;
      const source = fetches === 1 ? bytes : repeated(bytes, fetches);
      for await (const b of pool.decodeRecordBatches(source, { arena, callerHelps })) {
        c += touch(b);
        b.release();
      }
      pool._setIndexing('auto');
      if (c !== n * fetches) throw new Error(`pool decoded ${c} of ${n * fetches}`);
    },
    records: n * fetches,
    bytes: bytes.length * fetches,
  };
}

/** M records/s of each case, and its ratio to its group's synchronous case. */
function recordsTable(results: BenchResult[], corner: string): string {
  const sync = (g: string) => results.find((r) => r.group === g && r.name.startsWith('sync'))!.recordsPerSec!;
  return pivotTable(results, (r) => `${fmt(r.recordsPerSec! / 1e6, 2)} (${fmt(r.recordsPerSec! / sync(r.group), 2)}×, ±${fmt(r.spreadPercent)} %)`, corner);
}

function* repeated(bytes: Uint8Array, times: number): Generator<Uint8Array> {
  for (let i = 0; i < times; i++) yield bytes;
}

async function records(pools: Map<number, WorkerPool>): Promise<{ results: BenchResult[]; md: string }> {
  const arena = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  const cases: BenchCase[] = [];
  const batches = QUICK ? 4 : 16;
  for (const codec of CODECS) {
    const { bytes, records: n } = jsonBatches(codec, batches);
    cases.push(syncRecordsCase(codec, bytes, n, arena));
    // The pool as it chooses where to walk records ('auto'), and with 2 workers also never on the
    // workers: what the record index (src/protocol/record-index.ts) is worth, in the same rounds.
    for (const [workers, pool] of pools) cases.push(poolRecordsCase(codec, `pool, ${workersLabel(workers)}`, pool, bytes, n, arena));
    if (pools.has(2)) cases.push(poolRecordsCase(codec, `pool, ${workersLabel(2)}, no record index`, pools.get(2)!, bytes, n, arena, 1, 'never'));
    // With fewer workers than cores and `callerHelps`, the caller decodes some queued batches
    // itself (src/pool/help-policy.ts): what that is worth, in the same rounds.
    for (const [workers, pool] of pools) if (pool._helping() !== 'never') cases.push(poolRecordsCase(codec, `pool, ${workersLabel(workers)}, callerHelps`, pool, bytes, n, arena, 1, 'auto', true));
    // A consumer's stream: one call over an iterable of fetches, so the read-ahead runs on across
    // fetch boundaries instead of draining and refilling the workers once per 16-batch call.
    for (const [workers, pool] of pools) {
      cases.push(poolRecordsCase(codec, `pool, ${workersLabel(workers)}, ${STREAMED_FETCHES} fetches in one call`, pool, bytes, n, arena, STREAMED_FETCHES));
      if (pool._helping() !== 'never') cases.push(poolRecordsCase(codec, `pool, ${workersLabel(workers)}, callerHelps, ${STREAMED_FETCHES} fetches in one call`, pool, bytes, n, arena, STREAMED_FETCHES, 'auto', true));
    }
  }
  const results = await runCases(cases, { maxTime: 1 });
  arena.close();
  const md = recordsTable(results, 'codec');
  writeSvg('pool-records', barChartSvg(`Record batches of 1 MiB JSON: M records/s, pool vs sync (${machine().node})`, 'M records/s', results, (r) => r.recordsPerSec! / 1e6));
  return { results, md };
}

// ---------- 1c. records/s with a larger live heap ----------

/** Live heap added in section 1c: a service's caches and sessions, as small objects. */
const BALLAST_MIB = QUICK ? 20 : 200;

/** About `mib` MiB of small live objects on the V8 heap. */
function ballast(mib: number): unknown[] {
  const out: unknown[] = [];
  const perObject = 146; // bytes of V8 heap per object below (measured on Node 24)
  for (let i = 0; i < (mib * MiB) / perObject; i++) out.push({ id: i, name: `item-${i}`, tags: [i] });
  return out;
}

/**
 * Section 1's zstd cases again, in this process as it is and then with BALLAST_MIB more of live
 * heap: the pool's main thread must not cost more as the heap grows (a process that allocates
 * per batch what V8 counts against its limits ends up marking the whole heap again and again).
 */
async function recordsWithHeap(pools: Map<number, WorkerPool>): Promise<{ results: BenchResult[]; md: string }> {
  const arena = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  const { bytes, records: n } = jsonBatches('zstd', QUICK ? 4 : 16);
  const cases = (group: string) => [
    syncRecordsCase(group, bytes, n, arena),
    ...[...pools].map(([w, pool]) => poolRecordsCase(group, `pool, ${workersLabel(w)}`, pool, bytes, n, arena)),
    ...[...pools].filter(([, pool]) => pool._helping() !== 'never').map(([w, pool]) => poolRecordsCase(group, `pool, ${workersLabel(w)}, callerHelps`, pool, bytes, n, arena, 1, 'auto', true)),
  ];
  const heapMib = () => process.memoryUsage().heapUsed / MiB;
  const results = await runCases(cases(`this process (${fmt(heapMib())} MiB heap)`), { maxTime: 1 });
  let held = ballast(BALLAST_MIB);
  results.push(...(await runCases(cases(`+${BALLAST_MIB} MiB of live objects`), { maxTime: 1 })));
  sink += held.length;
  held = [];
  arena.close();
  return { results, md: recordsTable(results, 'live heap') };
}

/**
 * CPU time of this process's threads, in ms (Linux: /proc/self/task/<tid>/schedstat, nanoseconds
 * on a CPU): the main thread, the threads in `workers`, and the others.
 */
function threadCpuMs(workers: Set<string>): { main: number; workers: number; other: number } {
  const t = { main: 0, workers: 0, other: 0 };
  for (const tid of readdirSync(TASKS)) {
    let ms: number;
    try {
      ms = Number(readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      continue; // the thread ended meanwhile
    }
    if (Number(tid) === process.pid) t.main += ms;
    else if (workers.has(tid)) t.workers += ms;
    else t.other += ms;
  }
  return t;
}

const TASKS = '/proc/self/task';

/**
 * New pools of 1 and 2 workers, and the thread ids of their workers: the threads that appeared
 * while they started (Node 20 and 22 name every thread "node"). Undefined without /proc, or if
 * other threads appeared meanwhile.
 */
async function poolsWithThreadIds(): Promise<{ pools: Map<number, WorkerPool>; tids: Set<string> } | undefined> {
  if (!existsSync(TASKS)) return undefined;
  await readFile(__filename); // libuv's thread pool starts now, not among the workers
  const before = new Set(readdirSync(TASKS));
  const pools = new Map([1, 2].map((w) => [w, new WorkerPool({ workers: w })]));
  const input = codecs.zstd.compress(jsonEvents(1024));
  for (const pool of pools.values()) await Promise.all(Array.from({ length: pool.workers }, () => pool.decompress('zstd', input)));
  const tids = new Set(readdirSync(TASKS).filter((t) => !before.has(t)));
  if (tids.size !== [...pools.values()].reduce((n, p) => n + p.workers, 0)) {
    await Promise.all([...pools.values()].map((p) => p.close()));
    return undefined;
  }
  return { pools, tids };
}

interface CpuRow {
  name: string;
  /** 0 for the synchronous decoder. */
  workers: number;
  wallMsPerBatch: number;
  mainMs: number;
  workersMs: number;
  otherMs: number;
}

const SYNC_ON_TWO_THREADS = 'sync decodeRecordBatches on 2 threads at once (the machine\'s ceiling)';

/**
 * `threads` worker threads that each decode their own copy of `bytes` with the synchronous
 * decoder, every key and value touched: `call()` has each decode it once.
 */
function syncThreads(threads: number, bytes: Uint8Array): { call(): Promise<void>; close(): Promise<void> } {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Arena, decodeRecordBatches } = require(workerData.src);
    const arena = new Arena({ maxBytes: 256 * 1024 * 1024, trimIntervalMs: 0 });
    let sink = 0;
    parentPort.on('message', () => {
      const d = decodeRecordBatches(workerData.bytes, { arena });
      for (const b of d) for (const c = b.cursor(); c.advance(); ) sink += (c.record.key?.length ?? 0) + (c.record.value?.length ?? 0);
      d.release();
      parentPort.postMessage(sink);
    });`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData: { src: join(__dirname, '..', 'src'), bytes: new Uint8Array(bytes) } }));
  const once = (w: Worker) => new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      w.off('message', done);
      reject(err);
    };
    const done = (): void => {
      w.off('error', fail); // one listener per call would pile up on the worker
      resolve();
    };
    w.once('message', done);
    w.once('error', fail);
    w.postMessage(0);
  });
  return {
    call: async () => {
      await Promise.all(workers.map(once));
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Where a zstd batch's CPU time goes, by thread, in the set-up of section 1 (16 batches per
 * call): what bounds the pool on two cores. Interleaved rounds of 2 s, medians.
 */
async function cpuByThread(): Promise<{ rows: CpuRow[]; md: string } | undefined> {
  const started = await poolsWithThreadIds();
  if (started === undefined) return undefined;
  const { pools, tids } = started;
  const arena = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  const batches = 16;
  const { bytes } = jsonBatches('zstd', batches);
  const cases: Array<[string, number, () => Promise<void>]> = [
    [
      'sync decodeRecordBatches',
      0,
      async () => {
        const d = decodeRecordBatches(bytes, { arena });
        for (const b of d) touch(b);
        d.release();
      },
    ],
  ];
  for (const [workers, pool] of pools) {
    for (const callerHelps of pool._helping() === 'never' ? [false] : [false, true]) {
      cases.push([
        `pool, ${workersLabel(workers)}${callerHelps ? ', callerHelps' : ''}`,
        workers,
        async () => {
          for await (const b of pool.decodeRecordBatches(bytes, { arena, callerHelps })) {
            touch(b);
            b.release();
          }
        },
      ]);
    }
  }
  // The peer that says what two threads can do here: the synchronous decoder on two threads at
  // once, each decoding its own copy of the fetch (no hand-off at all). Its rows' CPU columns
  // count those threads as "other".
  const ceiling = syncThreads(2, bytes);
  cases.push([SYNC_ON_TWO_THREADS, 0, ceiling.call]);
  const samples = new Map<string, CpuRow[]>(cases.map(([name]) => [name, []]));
  const seconds = QUICK ? 0.1 : 2;
  for (const [, , fn] of cases) await fn(); // warm up
  for (let round = 0; round < (QUICK ? 1 : 3); round++) {
    for (const [name, workers, fn] of cases) {
      const before = threadCpuMs(tids);
      const start = performance.now();
      let calls = 0;
      while (performance.now() - start < seconds * 1000) {
        await fn();
        calls++;
      }
      const wall = performance.now() - start;
      const after = threadCpuMs(tids);
      const per = (ms: number) => ms / (calls * batches * (name === SYNC_ON_TWO_THREADS ? 2 : 1));
      samples.get(name)!.push({ name, workers, wallMsPerBatch: per(wall), mainMs: per(after.main - before.main), workersMs: per(after.workers - before.workers), otherMs: per(after.other - before.other) });
    }
  }
  arena.close();
  await ceiling.close();
  await Promise.all([...pools.values()].map((p) => p.close()));
  const rows: CpuRow[] = [...samples.values()].map((xs) => ({
    name: xs[0].name,
    workers: xs[0].workers,
    wallMsPerBatch: median(xs.map((x) => x.wallMsPerBatch)),
    mainMs: median(xs.map((x) => x.mainMs)),
    workersMs: median(xs.map((x) => x.workersMs)),
    otherMs: median(xs.map((x) => x.otherMs)),
  }));
  const sync = rows[0];
  const total = (r: CpuRow) => r.mainMs + r.workersMs + r.otherMs;
  const cores = machine().cores as number;
  // The pool can go no faster than its CPU spread on the cores it can use, nor than its busiest thread.
  const bound = (r: CpuRow) => Math.max(total(r) / Math.min(cores, 1 + r.workers), r.mainMs, r.workersMs / r.workers);
  const md = [
    `Milliseconds per 1 MiB zstd batch (16 per call, every key and value touched): wall time, and CPU time by thread (Linux schedstat; "other": V8's GC and compiler helpers, libuv). Fresh pools, so that their threads are known. "Bound": the most the pool could reach × sync with this CPU time if no core ever idled (the synchronous CPU time over the larger of the pool's CPU time spread on the ${cores} cores and its busiest thread's).`,
    '',
    '| case | wall | main thread | workers | other | total CPU | × sync (wall) | bound on these cores |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      [
        r.name,
        fmt(r.wallMsPerBatch, 3),
        fmt(r.mainMs, 3),
        fmt(r.workersMs, 3),
        fmt(r.otherMs, 3),
        fmt(total(r), 3),
        `${fmt(sync.wallMsPerBatch / r.wallMsPerBatch, 2)}×`,
        r === sync || r.name === SYNC_ON_TWO_THREADS ? '' : `${fmt(total(sync) / bound(r), 2)}×`,
      ].join(' | '),
    ).map((l) => `| ${l} |`),
  ].join('\n');
  return { rows, md };
}

// ---------- 2. aggregate zstd MB/s ----------

/** Section 2: jobs kept in flight, and jobs per call (each input that many times over). */
const IN_FLIGHT = 16;
const JOBS_PER_CALL = 64;

async function aggregate(pools: Map<number, WorkerPool>): Promise<{ results: BenchResult[]; md: string }> {
  // The arena a consumer that sets nothing gets (64 MiB budget, 100 ms quarantine, poison).
  const arena = new Arena();
  // The budget the other sections use, four times the default: the quarantine then spreads the
  // jobs over more memory, which the caches miss more often (docs/pool.md, session 13).
  const roomy = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  // The default without the poison pattern written over released memory (src/arena/quarantine.ts),
  // which the pool's main thread writes for every lease and zstd-napi's Buffers never get.
  const plain = new Arena({ poisonOnRelease: false });
  const cases: BenchCase[] = [];
  for (const [label, size] of [['256 KiB', 256 * 1024], ['1 MiB', MiB]] as const) {
    const inputs = Array.from({ length: IN_FLIGHT }, (_, i) => codecs.zstd.compress(jsonEvents(size, 100 + i), { level: 3 }));
    cases.push({ group: label, name: 'zstd-napi (native), main thread', fn: () => inputs.forEach((b) => (sink += zstdNapi.decompress(b).length)), bytes: IN_FLIGHT * size });
    cases.push({ group: label, name: 'kafka-arena WASM, main thread', fn: () => inputs.forEach((b) => codecs.zstd.decompress(b, { arena }).release()), bytes: IN_FLIGHT * size });
    // A consumer's steady state: IN_FLIGHT jobs in flight, each lease released as its job ends
    // and the next job sent, JOBS_PER_CALL jobs per call (so the workers drain once per call).
    const pooled = (pool: WorkerPool, a: Arena) => async () => {
      let next = 0;
      const lane = async () => {
        for (let i; (i = next++) < JOBS_PER_CALL; ) (await pool.decompress('zstd', inputs[i % IN_FLIGHT], { arena: a })).release();
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    };
    for (const [workers, pool] of pools) {
      cases.push({ group: label, name: `pool, ${workersLabel(workers)} (WASM)`, fn: () => {}, asyncFn: pooled(pool, arena), bytes: JOBS_PER_CALL * size });
    }
    const last = [...pools].at(-1)!;
    cases.push({ group: label, name: `pool, ${workersLabel(last[0])} (WASM), arena of 256 MiB`, fn: () => {}, asyncFn: pooled(last[1], roomy), bytes: JOBS_PER_CALL * size });
    cases.push({ group: label, name: `pool, ${workersLabel(last[0])} (WASM), arena without poisonOnRelease`, fn: () => {}, asyncFn: pooled(last[1], plain), bytes: JOBS_PER_CALL * size });
  }
  const results = await runCases(cases, { maxTime: 1 });
  arena.close();
  roomy.close();
  plain.close();
  const napi = (g: string) => results.find((r) => r.group === g && r.name.startsWith('zstd-napi'))!.mbPerSec!;
  const md = pivotTable(results, (r) => `${fmt(r.mbPerSec)} (${fmt(r.mbPerSec! / napi(r.group), 2)}×, ±${fmt(r.spreadPercent)} %)`, 'output per job');
  writeSvg('pool-zstd-mbps', barChartSvg(`zstd decompression, aggregate MB/s of output (${machine().node})`, 'MB/s', results, (r) => r.mbPerSec));
  return { results, md };
}

// ---------- 3. event-loop delay ----------

interface DelayRow {
  mode: string;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  seconds: number;
  mbPerSec: number;
}

async function latency(pools: Map<number, WorkerPool>): Promise<{ rows: DelayRow[]; md: string }> {
  const arena = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  const distinct = 16;
  const { bytes } = jsonBatches('zstd', distinct);
  const totalMiB = QUICK ? 32 : 256;
  const rounds = totalMiB / distinct; // each round decodes the 16 distinct 1 MiB batches once
  const tick = () => new Promise((r) => setImmediate(r));
  const modes: Array<[string, () => Promise<void>]> = [
    [
      // The control: the same monitor with nothing to do, for what the machine's scheduling alone costs.
      'idle (control: no work, 1 s)',
      () => new Promise((r) => setTimeout(r, 1000)),
    ],
    [
      'sync, one decodeRecordBatches per 16-batch fetch',
      async () => {
        for (let r = 0; r < rounds; r++) {
          decodeRecordBatches(bytes, { arena }).release();
          await tick();
        }
      },
    ],
    [
      'sync, one batch at a time, yielding between batches',
      async () => {
        const one = decodeRecordBatches(bytes).batches.map((b) => bytes.subarray(b.position, b.position + b.byteLength));
        for (let r = 0; r < rounds; r++) {
          for (const b of one) {
            decodeRecordBatches(b, { arena }).release();
            await tick();
          }
        }
      },
    ],
  ];
  for (const [workers, pool] of pools) {
    for (const callerHelps of pool._helping() === 'never' ? [false] : [false, true]) {
      modes.push([
        `pool.decodeRecordBatches, ${workersLabel(workers)}${callerHelps ? ', callerHelps' : ''}`,
        async () => {
          for (let r = 0; r < rounds; r++) for await (const b of pool.decodeRecordBatches(bytes, { arena, callerHelps })) b.release();
        },
      ]);
    }
  }
  const rows: DelayRow[] = [];
  const reps = QUICK ? 1 : 3;
  const samples = new Map<string, DelayRow[]>();
  for (const [, fn] of modes) await fn(); // warm-up: JIT, WASM instances, the arena's pool
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < modes.length; i++) {
      const [mode, fn] = modes[(i + rep) % modes.length];
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t0 = performance.now();
      await fn();
      const s = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 2)); // lets the monitor record the last block
      h.disable();
      const idle = mode.startsWith('idle');
      const row = { mode, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, meanMs: h.mean / 1e6, seconds: s, mbPerSec: idle ? NaN : (totalMiB * MiB) / 1e6 / s };
      samples.set(mode, [...(samples.get(mode) ?? []), row]);
    }
  }
  for (const [mode] of modes) {
    const rs = samples.get(mode)!.sort((a, b) => a.maxMs - b.maxMs);
    rows.push(rs[rs.length >> 1]); // the median run by max delay
  }
  arena.close();
  const md = [
    `| mode (${totalMiB} MiB of 1 MiB zstd batches) | p99 delay ms | max delay ms | mean ms | MB/s of output |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.mode} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs, 2)} | ${fmt(r.meanMs, 2)} | ${fmt(r.mbPerSec)} |`),
  ].join('\n');
  const asResults = (key: 'p99Ms' | 'maxMs'): BenchResult[] => rows.map((r) => ({ group: key === 'p99Ms' ? 'p99' : 'max', name: r.mode, opsPerSec: r[key], spreadPercent: 0, rounds: reps }));
  writeSvg('pool-event-loop', barChartSvg(`Event-loop delay while 256 MiB of zstd decompresses, ms (lower is better; ${machine().node})`, 'ms', [...asResults('p99Ms'), ...asResults('maxMs')], (r) => r.opsPerSec));
  return { rows, md };
}

// ---------- 4. small batches: main-thread time per batch ----------

interface SmallRow {
  codec: CodecName;
  rawBytes: number;
  compressedBytes: number;
  syncUs: number;
  poolMainUs: number;
  poolWallUs: number;
}

async function small(pool: WorkerPool): Promise<{ rows: SmallRow[]; thresholds: Record<string, number | null>; md: string }> {
  const arena = new Arena({ maxBytes: 256 * MiB, trimIntervalMs: 0 });
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024].map((k) => k * 1024);
  const rows: SmallRow[] = [];
  const N = QUICK ? 100 : 500;
  const reps = QUICK ? 1 : 5;
  for (const codec of CODECS) {
    for (const raw of sizes) {
      const input = codecs[codec].compress(jsonEvents(raw, raw));
      const syncT: number[] = [];
      const mainT: number[] = [];
      const wallT: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        let t0 = performance.now();
        for (let i = 0; i < N; i++) codecs[codec].decompress(input, { arena }).release();
        syncT.push(((performance.now() - t0) * 1000) / N);
        // The pool with 8 jobs in flight, as kafkajs's concurrent fetches or the read-ahead keep it:
        // the event loop's active time per batch is what the main thread spends on it.
        const elu0 = performance.eventLoopUtilization();
        t0 = performance.now();
        let next = 0;
        const lane = async () => {
          while (next < N) {
            next++;
            (await pool.decompress(codec, input, { arena })).release();
          }
        };
        await Promise.all(Array.from({ length: 8 }, lane));
        const elu = performance.eventLoopUtilization(elu0);
        wallT.push(((performance.now() - t0) * 1000) / N);
        mainT.push((elu.active * 1000) / N);
      }
      rows.push({ codec, rawBytes: raw, compressedBytes: input.length, syncUs: median(syncT), poolMainUs: median(mainT), poolWallUs: median(wallT) });
    }
  }
  arena.close();
  const thresholds: Record<string, number | null> = {};
  for (const codec of CODECS) {
    // The smallest compressed size from which the hand-off costs the main thread less than decoding.
    const rs = rows.filter((r) => r.codec === codec);
    const first = rs.findIndex((r, i) => rs.slice(i).every((x) => x.poolMainUs < x.syncUs));
    thresholds[codec] = first >= 0 ? rs[first].compressedBytes : null;
  }
  const md = [
    '| codec | raw | compressed | sync µs/batch | pool: main thread µs/batch | pool: wall µs/batch (8 in flight) |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.codec} | ${fmt(r.rawBytes / 1024)} KiB | ${fmt(r.compressedBytes)} B | ${fmt(r.syncUs, 1)} | ${fmt(r.poolMainUs, 1)} | ${fmt(r.poolWallUs, 1)} |`),
    '',
    `Threshold (compressed bytes from which the pool costs the main thread less): ${CODECS.map((c) => `${c} ${thresholds[c] === null ? 'none' : fmt(thresholds[c]!)}`).join(', ')}.`,
  ].join('\n');
  return { rows, thresholds, md };
}

// ---------- 5. input: copy vs transfer ----------

interface CopyRow {
  size: number;
  copyUs: number;
  reusedUs: number;
  transferUs: number;
  cloneUs: number;
}

async function inputTransfer(): Promise<{ rows: CopyRow[]; md: string }> {
  // An echo worker: sends back what it got (by transfer), so each case is one round trip.
  const echo = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => parentPort.postMessage(m, m.buffer instanceof ArrayBuffer ? [m.buffer] : []));`,
    { eval: true },
  );
  const roundTrip = (msg: { buffer: ArrayBuffer | Uint8Array }, transfer: ArrayBuffer[]) =>
    new Promise<{ buffer: ArrayBuffer }>((resolve) => {
      echo.once('message', resolve);
      echo.postMessage(msg, transfer);
    });
  const rows: CopyRow[] = [];
  for (const size of [4, 16, 64, 256, 1024, 4096].map((k) => k * 1024)) {
    const N = Math.max(QUICK ? 10 : 30, Math.min(QUICK ? 50 : 300, Math.floor((16 * MiB) / size)));
    // The input as the codec receives it: a view into a larger response buffer.
    const response = Buffer.alloc(size * 2 + 100, 7);
    const view = response.subarray(50, 50 + size);
    let owned = new Uint8Array(size).buffer as ArrayBuffer;
    let staging = new Uint8Array(size).buffer as ArrayBuffer;
    const t = { copy: [] as number[], reused: [] as number[], transfer: [] as number[], clone: [] as number[] };
    for (let rep = 0; rep < 5; rep++) {
      let t0 = performance.now();
      for (let i = 0; i < N; i++) {
        const copy = new Uint8Array(view.length);
        copy.set(view);
        await roundTrip({ buffer: copy.buffer }, [copy.buffer]);
      }
      t.copy.push(((performance.now() - t0) * 1000) / N);
      t0 = performance.now();
      for (let i = 0; i < N; i++) {
        new Uint8Array(staging, 0, size).set(view);
        staging = (await roundTrip({ buffer: staging }, [staging])).buffer;
      }
      t.reused.push(((performance.now() - t0) * 1000) / N);
      t0 = performance.now();
      for (let i = 0; i < N; i++) owned = (await roundTrip({ buffer: owned }, [owned])).buffer;
      t.transfer.push(((performance.now() - t0) * 1000) / N);
      t0 = performance.now();
      for (let i = 0; i < N; i++) await roundTrip({ buffer: view.slice() }, []);
      t.clone.push(((performance.now() - t0) * 1000) / N);
    }
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[2];
    rows.push({ size, copyUs: med(t.copy), reusedUs: med(t.reused), transferUs: med(t.transfer), cloneUs: med(t.clone) });
  }
  await echo.terminate();
  const md = [
    '| input | copy into a new buffer + transfer µs | copy into a reused buffer + transfer µs (the pool) | transfer (caller gives its buffer up) µs | structured clone µs |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${fmt(r.size / 1024)} KiB | ${fmt(r.copyUs, 1)} | ${fmt(r.reusedUs, 1)} | ${fmt(r.transferUs, 1)} | ${fmt(r.cloneUs, 1)} |`),
  ].join('\n');
  return { rows, md };
}

// ---------- 6. kafkajs end to end, mock broker ----------

interface KafkajsRow {
  setup: string;
  msgsPerSec: number;
  p99Ms: number;
  maxMs: number;
  ms: number;
  /** Time kafkajs spent awaiting the zstd codec's decompress, as a share of the run. */
  decompressShare: number;
}

/**
 * Wraps the registered zstd codec so the time from each decompress call to its settling adds up
 * in `spent.ms`. kafkajs awaits each batch's decompression before it decodes the next one, so
 * with the pool this is the main thread's wait that reading ahead in the response could hide:
 * the share of the run it takes bounds what such a read-ahead can gain.
 */
function timeZstd(spent: { ms: number }): void {
  const map = CompressionCodecs as unknown as Record<number, () => { compress: unknown; decompress: (b: Buffer) => Promise<Buffer> }>;
  const registered = map[4];
  map[4] = () => {
    const c = registered();
    return {
      compress: c.compress,
      decompress: async (b: Buffer) => {
        const t = performance.now();
        try {
          return await c.decompress(b);
        } finally {
          spent.ms += performance.now() - t;
        }
      },
    };
  };
}

async function kafkajsE2e(pool: WorkerPool): Promise<{ rows: KafkajsRow[]; md: string }> {
  const broker = await startBroker({ brokers: 1 });
  const MESSAGES = QUICK ? 20000 : 100000;
  try {
    const topic = uniqueName('pool-e2e');
    await broker.createTopic(topic, 4);
    const rand = prng(5);
    const messages = Array.from({ length: MESSAGES }, (_, i) => jsonEvent(rand, i));
    await kcatProduce({
      bootstrap: broker.bootstrap,
      topic,
      codec: 'zstd',
      messages,
      properties: { 'batch.size': 1000000, 'linger.ms': 100, 'sticky.partitioning.linger.ms': 0, 'batch.num.messages': 100000 },
      timeoutMs: 120000,
    });
    const setups: Array<[string, boolean, boolean]> = [
      ['kafka-arena codecs', false, false],
      ['kafka-arena codecs + pool', true, false],
      ['recycling (arenaConsumer)', false, true],
      ['recycling (arenaConsumer) + pool', true, true],
    ];
    const runs = new Map<string, KafkajsRow[]>();
    const cleanContext = new AsyncResource('kafka-arena-bench-run');
    const reps = QUICK ? 1 : 3;
    for (let rep = 0; rep < reps; rep++) {
      for (let i = 0; i < setups.length; i++) {
        const [setup, withPool, recycle] = setups[(i + rep) % setups.length];
        // Each run starts from a context made before any consumer: arenaConsumer's fetch scope
        // (AsyncLocalStorage.enterWith) outlives its consumer in the caller's context on Node 20.
        const row = await cleanContext.runInAsyncScope(async (): Promise<KafkajsRow> => {
          registerCodecs(CompressionCodecs as never, withPool ? { pool } : {});
          const spent = { ms: 0 };
          timeZstd(spent);
          const consumer = new Kafka(kafkajsClientConfig(broker, { clientId: 'pool-bench' })).consumer(kafkajsConsumerConfig(uniqueName('pool-e2e')));
          const arena = recycle ? new Arena() : undefined;
          const helper = arena ? arenaConsumer(consumer, { arena }) : undefined;
          let got = 0;
          let spentMs = 0;
          let t0 = 0;
          let ms = 0;
          let finish: () => void = () => {};
          const done = new Promise<void>((r) => (finish = r));
          const h = monitorEventLoopDelay({ resolution: 1 });
          consumer.on(consumer.events.GROUP_JOIN, () => {
            if (t0 === 0) {
              t0 = performance.now();
              h.enable();
            }
          });
          const eachBatch = async ({ batch }: { batch: { messages: Array<{ value: Buffer | null }> } }) => {
            for (const m of batch.messages) sink += m.value?.length ?? 0;
            got += batch.messages.length;
            if (got >= MESSAGES && ms === 0) {
              ms = performance.now() - t0;
              spentMs = spent.ms;
              h.disable();
              finish();
            }
          };
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          if (helper) await helper.run({ eachBatch });
          else await consumer.run({ eachBatch });
          let timer: NodeJS.Timeout | undefined;
          const progress = setInterval(() => console.error(`  ${setup}: ${got}/${MESSAGES}, pool ${JSON.stringify(pool.stats())}`), 10000);
          try {
            await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${setup}: timed out with ${got} of ${MESSAGES} messages`)), 120000)))]);
          } finally {
            clearTimeout(timer);
            clearInterval(progress);
          }
          await consumer.disconnect();
          helper?.close();
          arena?.close();
          const row = { setup, msgsPerSec: (MESSAGES * 1000) / ms, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, ms, decompressShare: spentMs / ms };
          return row;
        });
        runs.set(setup, [...(runs.get(setup) ?? []), row]);
      }
    }
    registerCodecs(CompressionCodecs as never);
    const rows = setups.map(([setup]) => runs.get(setup)!.sort((a, b) => a.ms - b.ms)[reps >> 1]);
    const md = [
      `${fmt(MESSAGES)} JSON events, zstd, 4 partitions, ~1 MB kcat batches; median of ${reps} interleaved runs; event-loop delay between group join and the last message.`,
      'Awaiting decompress: the time kafkajs spent awaiting the zstd codec, as a share of the run (from the group join to the last message); with the pool, the most that reading ahead in the fetch response could hide.',
      '',
      '| kafkajs set-up | msgs/s | event-loop p99 ms | max ms | awaiting decompress |',
      '|---|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.setup} | ${fmt(r.msgsPerSec)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs, 2)} | ${fmt(r.decompressShare * 100, 1)} % |`),
    ].join('\n');
    return { rows, md };
  } finally {
    await broker.stop();
  }
}

// ---------- main ----------

export async function run(): Promise<string> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--') && ['records', 'aggregate', 'latency', 'small', 'input', 'kafkajs'].includes(a));
  const want = (s: string) => only.length === 0 || only.includes(s);
  const pools = new Map<number, WorkerPool>([
    [1, new WorkerPool({ workers: 1 })],
    [2, new WorkerPool({ workers: 2 })],
  ]);
  const probe = new WorkerPool();
  const data: Record<string, unknown> = { defaultWorkers: probe.workers };
  await probe.close();
  const out: string[] = [
    `Node ${machine().node}, ${machine().cpu}, ${machine().cores} cores (shared with other work: treat figures as lower bounds, ratios within a row as the result). Default worker count here: ${data.defaultWorkers}.`,
  ];
  // Written after every section, so a section that fails or is stopped keeps the ones before it.
  const section = (title: string, md: string) => {
    out.push('', title, '', md);
    writeResults('pool', data, out.join('\n'));
  };
  try {
    if (want('records')) {
      const r = await records(pools);
      data.records = r.results;
      section('### 1. Records/s through decodeRecordBatches, 1 MiB batches of JSON events (M records/s, × sync)', r.md);
      const cpu = await cpuByThread();
      data.cpuByThread = cpu?.rows ?? null;
      section(
        '### 1b. Where a zstd batch\'s CPU time goes, by thread (ms per batch)',
        cpu?.md ?? 'Not measured: this needs Linux /proc/self/task, and exactly the new pools\' worker threads appearing while they start.',
      );
      const heap = await recordsWithHeap(pools);
      data.recordsWithHeap = heap.results;
      section(`### 1c. Records/s with a larger live heap: zstd, 1 MiB batches (M records/s, × sync)`, heap.md);
    }
    if (want('aggregate')) {
      const r = await aggregate(pools);
      data.aggregate = r.results;
      section(
        '### 2. Aggregate zstd decompression, MB/s of output (× native zstd-napi on the main thread)',
        `${IN_FLIGHT} jobs in flight, each lease released as its job ends, ${JOBS_PER_CALL} jobs per call. kafka-arena's rows use \`new Arena()\` (64 MiB budget, 100 ms quarantine, poison on release) unless the column says otherwise.\n\n${r.md}`,
      );
    }
    if (want('latency')) {
      const r = await latency(pools);
      data.latency = r.rows;
      section('### 3. Event-loop delay while 1 MiB zstd batches decompress', r.md);
    }
    if (want('small')) {
      const r = await small(pools.get(1)!);
      data.small = r.rows;
      data.thresholds = r.thresholds;
      section('### 4. Small batches: main-thread time per batch, sync vs the pool (1 worker)', r.md);
    }
    if (want('input')) {
      const r = await inputTransfer();
      data.input = r.rows;
      section('### 5. Compressed input to a worker: copy vs transfer (round trip to an echo worker)', r.md);
    }
    if (want('kafkajs')) {
      const r = await kafkajsE2e(pools.get(1)!);
      data.kafkajs = r.rows;
      section('### 6. kafkajs against the mock broker, with and without the pool (1 worker)', r.md);
    }
  } finally {
    for (const p of pools.values()) await p.close();
  }
  const md = out.join('\n');
  if (sink < 0) console.log(sink);
  return md;
}

if (require.main === module) printRun(run);
