/**
 * Delivery soak scenarios for the recycling consumer (issue 11), part of `npm run soak`:
 * - `fetch-3x-budget`: one fetch about 3x the arena budget (4 partitions of ~12 MB batches, 16 MiB arena);
 * - `batch-over-budget`: one record batch larger than the whole budget (~24 MB, 16 MiB arena) among small ones.
 * Each consumes a finite topic with arenaConsumer (default water marks) in a fresh Node process
 * (the soak's V8 heap settings), samples RSS every 50 ms, and checks that every record arrived,
 * in order, once, with the produced bytes (sha256 per partition), and compares peak RSS with the
 * issue's bound, budget + the largest fetch + 64 MiB, both as growth over the RSS before fetching
 * (the consumer's own memory) and as absolute RSS (which also carries Node's and kafkajs's idle
 * footprint, itself 60-75 MiB: more than the 64 MiB allowance on Node 24).
 * It also records what RSS is made of before fetching and at the peak (process.memoryUsage() and
 * the arena's leased/idle bytes); SOAK_SMAPS=1 prints the mappings of more than 2 MiB at the peak.
 *   node build/bench/soak/delivery.js          (all; also run by bench/soak/run.js)
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { CompressionCodecs, Kafka, logLevel } from 'kafkajs';
import { Arena } from '../../src';
import { arenaConsumer, registerCodecs } from '../../src/kafkajs';
import { kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName } from '../../test/broker/harness';
import { kcatProduce } from '../../test/broker/kcat';
import { fmt, prng, writeResults } from '../lib';

const MiB = 1024 * 1024;
const BUDGET = 16 * MiB;
const RECORD = 1000;

export interface DeliveryScenario {
  name: 'fetch-3x-budget' | 'batch-over-budget';
  title: string;
  /** Records per partition, produced as one batch each of `batch` records. */
  partitions: Array<{ records: number; batch: number }>;
}

export const DELIVERY_SCENARIOS: DeliveryScenario[] = [
  {
    name: 'fetch-3x-budget',
    title: '6. One fetch 3x the arena budget (16 MiB arena, 4 partitions of 12 MB batches)',
    partitions: Array.from({ length: 4 }, () => ({ records: 24_000, batch: 12_000 })),
  },
  {
    name: 'batch-over-budget',
    title: '7. One record batch over the whole budget (a 24 MB batch, 16 MiB arena)',
    partitions: [{ records: 24_000, batch: 24_000 }, ...Array.from({ length: 3 }, () => ({ records: 4_000, batch: 500 }))],
  },
];

interface WorkerConfig {
  bootstrap: string[];
  topic: string;
  expected: Array<{ records: number; sha256: string }>;
}

export interface DeliveryResult {
  scenario: string;
  records: number;
  delivered: number;
  inOrder: boolean;
  duplicates: number;
  checksumsMatch: boolean;
  peakRssMiB: number;
  /** RSS once connected, before the first fetch. */
  baselineRssMiB: number;
  largestFetchMiB: number;
  boundMiB: number;
  /** Peak RSS minus the RSS before fetching, within the bound. */
  withinBound: boolean;
  /** Peak RSS itself within the bound. */
  absoluteWithinBound: boolean;
  seconds: number;
  helper: Record<string, unknown>;
  /** What RSS is made of before fetching and at its peak, in MiB (see `breakdown`). */
  atBaselineMiB: Record<string, number>;
  atPeakMiB: Record<string, number>;
  error?: string;
}

function value(rand: () => number, p: number, i: number): string {
  const head = `{"p":${p},"seq":${i},"user":"u${Math.floor(rand() * 1e6)}","amount":${Math.floor(rand() * 1e5)},"items":[`;
  let s = head;
  while (s.length < RECORD - 20) s += `"item-${Math.floor(rand() * 50)}",`;
  return `${s}"end"]}`;
}

async function produce(bootstrap: string[], topic: string, scenario: DeliveryScenario): Promise<WorkerConfig['expected']> {
  const expected: WorkerConfig['expected'] = [];
  for (const [p, spec] of scenario.partitions.entries()) {
    const rand = prng(100 + p);
    const values = Array.from({ length: spec.records }, (_, i) => value(rand, p, i));
    const h = createHash('sha256');
    for (const v of values) h.update(v);
    expected.push({ records: spec.records, sha256: h.digest('hex') });
    for (let i = 0; i < values.length; i += spec.batch) {
      const bytes = spec.batch * RECORD;
      await kcatProduce({
        bootstrap,
        topic,
        partition: p,
        codec: 'zstd',
        messages: values.slice(i, i + spec.batch),
        properties: {
          'batch.num.messages': spec.batch,
          'batch.size': bytes + MiB,
          'message.max.bytes': bytes + 2 * MiB,
          'linger.ms': 2000,
          'queue.buffering.max.kbytes': 1048576,
        },
        timeoutMs: 120_000,
      });
    }
  }
  return expected;
}

/**
 * process.memoryUsage() and the arena's share, in MiB. `external` minus `arrayBuffers` is mostly
 * WebAssembly memory (the codecs' staging heaps); `arrayBuffers` includes the arena's buffers
 * (leased, idle, and dropped ones not yet collected) and kafkajs's response buffers.
 */
function breakdown(m: NodeJS.MemoryUsage, arena: Arena): Record<string, number> {
  const a = arena.stats();
  const r = (v: number) => Math.round((v / MiB) * 10) / 10;
  return {
    rss: r(m.rss),
    heapTotal: r(m.heapTotal),
    heapUsed: r(m.heapUsed),
    external: r(m.external),
    arrayBuffers: r(m.arrayBuffers),
    externalNotArrayBuffers: r(m.external - m.arrayBuffers),
    arenaLeased: r(a.leasedBytes),
    arenaIdle: r(a.idleBytes),
    arenaPendingFree: r(a.pendingFreeBytes),
  };
}

function bigMappings(): string {
  const lines = readFileSync('/proc/self/smaps', 'utf8').split('\n');
  const out: string[] = [];
  let head = '';
  let size = 0;
  for (const l of lines) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) head = l;
    else if (l.startsWith('Size:')) size = parseInt(l.slice(5), 10);
    else if (l.startsWith('Rss:')) {
      const rss = parseInt(l.slice(4), 10);
      if (rss > 2048) out.push(`rss ${(rss / 1024).toFixed(1)} MiB size ${(size / 1024).toFixed(0)} MiB ${head}`);
    }
  }
  return out.join('\n');
}

/** The worker: consumes the topic with arenaConsumer and reports. */
async function worker(config: WorkerConfig): Promise<Omit<DeliveryResult, 'scenario' | 'boundMiB' | 'withinBound' | 'absoluteWithinBound'>> {
  registerCodecs(CompressionCodecs);
  const t0 = Date.now();
  let peakRss = 0;
  let atPeak: Record<string, number> = {};
  let peakMaps = '';
  const arena = new Arena({ maxBytes: BUDGET });
  // What makes up RSS at its peak: V8 heap, external and ArrayBuffer memory, the arena's share.
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss <= peakRss) return;
    peakRss = m.rss;
    if (process.env.SOAK_SMAPS) peakMaps = bigMappings();
    atPeak = breakdown(m, arena);
  }, 50);
  const kafka = new Kafka(kafkajsClientConfig({ bootstrap: config.bootstrap } as never, { logLevel: logLevel.ERROR }));
  // A long session: kafkajs decodes a whole fetch before it heartbeats again, and a 24 MB batch
  // on a loaded 2-core machine can take longer than the harness's 5 s session.
  const consumer = kafka.consumer(
    kafkajsConsumerConfig(uniqueName('g-delivery'), { maxBytes: 200 * MiB, maxBytesPerPartition: 50 * MiB, sessionTimeout: 30_000, rebalanceTimeout: 30_000 }),
  );
  const helper = arenaConsumer(consumer, { arena });
  const total = config.expected.reduce((n, e) => n + e.records, 0);
  const next = config.expected.map(() => 0);
  const hashes = config.expected.map(() => createHash('sha256'));
  let delivered = 0;
  let duplicates = 0;
  let inOrder = true;
  let baselineRss = 0;
  let atBaseline: Record<string, number> = {};
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
    baselineRss = process.memoryUsage.rss();
    atBaseline = breakdown(process.memoryUsage(), arena);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await helper.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const o = Number(m.offset);
          if (o < next[batch.partition]) duplicates++;
          else if (o > next[batch.partition]) inOrder = false;
          else {
            hashes[batch.partition].update(m.value!);
            next[batch.partition]++;
            delivered++;
          }
        }
        if (delivered >= total) done();
      },
    });
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out with ${delivered} of ${total}`)), 180_000))]);
  } finally {
    await consumer.disconnect();
    helper.close();
    clearInterval(sampler);
  }
  const h = helper.stats();
  if (process.env.SOAK_SMAPS) console.log(peakMaps);
  return {
    records: total,
    delivered,
    inOrder,
    duplicates,
    checksumsMatch: hashes.every((x, p) => x.digest('hex') === config.expected[p].sha256),
    peakRssMiB: peakRss / MiB,
    baselineRssMiB: baselineRss / MiB,
    largestFetchMiB: h.largestFetchBytes / MiB,
    seconds: (Date.now() - t0) / 1000,
    helper: h as unknown as Record<string, unknown>,
    atBaselineMiB: atBaseline,
    atPeakMiB: atPeak,
  };
}

function runWorker(config: WorkerConfig, execArgv: string[]): Promise<Omit<DeliveryResult, 'scenario' | 'boundMiB' | 'withinBound' | 'absoluteWithinBound'>> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--worker'], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send(config);
    child.on('message', (m: { ok: boolean; result?: never; error?: string }) => (m.ok ? resolve(m.result!) : reject(new Error(m.error))));
    child.on('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

/** Runs the scenarios (`only`: names to run) with the workers' V8 flags; returns results and a markdown section. */
export async function runDelivery(execArgv: string[], only?: string[]): Promise<{ results: DeliveryResult[]; markdown: string }> {
  const results: DeliveryResult[] = [];
  for (const scenario of DELIVERY_SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    console.log(`\n## ${scenario.title}`);
    const broker = await startBroker({ brokers: 1 });
    try {
      const topic = uniqueName(scenario.name);
      await broker.createTopic(topic, scenario.partitions.length);
      const expected = await produce([...broker.bootstrap], topic, scenario);
      const r = await runWorker({ bootstrap: [...broker.bootstrap], topic, expected }, execArgv);
      // The largest fetch memory the helper counted includes the message objects; the bound uses it as "one fetch".
      const boundMiB = BUDGET / MiB + r.largestFetchMiB + 64;
      results.push({ scenario: scenario.name, ...r, boundMiB, withinBound: r.peakRssMiB - r.baselineRssMiB <= boundMiB, absoluteWithinBound: r.peakRssMiB <= boundMiB });
    } catch (err) {
      results.push({ scenario: scenario.name, records: 0, delivered: 0, inOrder: false, duplicates: 0, checksumsMatch: false, peakRssMiB: 0, baselineRssMiB: 0, largestFetchMiB: 0, boundMiB: 0, withinBound: false, absoluteWithinBound: false, seconds: 0, helper: {}, atBaselineMiB: {}, atPeakMiB: {}, error: String(err) });
    } finally {
      await broker.stop();
    }
    const r = results[results.length - 1];
    console.log(`  ${JSON.stringify(r)}`);
  }
  const md = [
    `## Delivery under a fetch larger than the budget (arenaConsumer, 16 MiB arena, default water marks; Node ${process.versions.node})`,
    '',
    'Each in a fresh Node process with the soak heap settings; peak RSS sampled every 50 ms. Bound: budget + the largest fetch (decompressed bytes + message objects, as the helper counts it) + 64 MiB, compared with the growth of RSS over its value before fetching (what the consumer adds) and with RSS itself (which also holds the idle process: Node, kafkajs, the connections).',
    '',
    '| scenario | records | delivered | in order | duplicates | sha256 | largest fetch (MiB) | RSS before fetching (MiB) | peak RSS (MiB) | growth (MiB) | bound (MiB) | growth ≤ bound | peak ≤ bound | oversize fetches | seconds |',
    '|---|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${fmt(r.records)} | ${fmt(r.delivered)} | ${r.inOrder ? 'yes' : 'NO'} | ${r.duplicates} | ${r.checksumsMatch ? 'match' : 'MISMATCH'} | ${fmt(r.largestFetchMiB, 1)} | ${fmt(r.baselineRssMiB)} | ${fmt(r.peakRssMiB)} | ${fmt(r.peakRssMiB - r.baselineRssMiB)} | ${fmt(r.boundMiB)} | ${r.withinBound ? 'yes' : 'NO'} | ${r.absoluteWithinBound ? 'yes' : 'no'} | ${r.helper.oversizeFetches ?? '-'} | ${fmt(r.seconds, 1)} |` +
        (r.error ? ` error: ${r.error}` : ''),
    ),
    '',
    'What RSS is made of, before fetching → at the peak (MiB; process.memoryUsage() and arena.stats(); external − arrayBuffers is mostly the zstd WebAssembly heap):',
    '',
    '| scenario | RSS | heapTotal | heapUsed | arrayBuffers | arena leased | arena idle | arena pending free | external − arrayBuffers |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const b = r.atBaselineMiB;
      const p = r.atPeakMiB;
      const cell = (k: string) => `${b[k] ?? '-'} → ${p[k] ?? '-'}`;
      return `| ${r.scenario} | ${cell('rss')} | ${cell('heapTotal')} | ${cell('heapUsed')} | ${cell('arrayBuffers')} | ${cell('arenaLeased')} | ${cell('arenaIdle')} | ${cell('arenaPendingFree')} | ${cell('externalNotArrayBuffers')} |`;
    }),
  ].join('\n');
  return { results, markdown: md };
}

if (process.argv.includes('--worker')) {
  process.once('message', (config: WorkerConfig) => {
    worker(config).then(
      (result) => process.send!({ ok: true, result }, () => process.exit(0)),
      (err) => process.send!({ ok: false, error: String(err instanceof Error ? err.stack : err) }, () => process.exit(0)),
    );
  });
} else if (require.main === module) {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  runDelivery(['--max-old-space-size=96', '--max-semi-space-size=2'], names.length > 0 ? names : undefined).then(
    ({ results, markdown }) => {
      console.log(`\n${markdown}`);
      writeResults('soak-delivery', { results }, markdown);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
