/**
 * `npm run soak [-- --quick | --duration <s> | --only <scenario,...> | --setup <name> | --heap-mb <n> | --rss-cap-mb <n>]`
 *
 * The real-world OOM scenarios against the mock broker (librdkafka's mock cluster): each scenario
 * runs once with kafkajs + the usual peer codecs and once with kafka-arena, each set-up in a fresh
 * child process (so one's heap never pollutes the other's figures) that samples
 * process.memoryUsage() every second. Writes per scenario a CSV and an SVG line chart (RSS and
 * arrayBuffers over time, both set-ups), plus bench/results/soak.json and soak.md (summary table
 * and a conclusion per scenario computed from the figures).
 *
 * Both set-ups run with the same V8 heap settings, those of a Node process sized for a container
 * with a memory limit: --max-old-space-size=<heap-mb> (default 96) and --max-semi-space-size=2.
 * Without a limit V8 grows its heap lazily on a 24 GiB machine, so RSS mostly measures garbage not
 * yet collected; `--heap-mb 0` runs with V8's defaults.
 *
 * Default: 30 s per set-up (10 set-ups, about 6 minutes with start-up); --quick: 8 s per set-up.
 * Runs unattended (no stdin), kills every child it started, exits 0 unless a set-up failed to run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, brokerAvailable, uniqueName, type Broker } from '../../test/broker/harness';
import { QUICK, RESULTS_DIR, fmt, noted, linearSlope, lineChartSvg, machine, writeResults, writeSvg, type LineSeries } from '../lib';
import { DELIVERY_SCENARIOS, runDelivery, type DeliveryResult } from './delivery';
import { KcatStream } from './kcat-stream';
import { DEDUPE_CACHE_ENTRIES, MAX_FETCH_BYTES, SCENARIOS, SETUPS, type Sample, type Scenario, type SetupName, type WorkerConfig, type WorkerMessage } from './scenarios';

const MiB = 1024 * 1024;
/** kafka-arena's default budget (Arena maxBytes). */
const ARENA_BUDGET = 64 * MiB;
/** The target: peak RSS at most the budget + 64 MiB. */
const RSS_TARGET = ARENA_BUDGET + 64 * MiB;
/** Fraction of the run ignored for the slope. */
const WARMUP_FRACTION = 0.2;

/** V8's young generation per semi-space in the soak's workers (MiB); the default is 16. */
const SEMI_SPACE_MB = 2;

interface Args {
  durationS: number;
  heapMb: number;
  only: string[] | undefined;
  setups: SetupName[];
  rssCapBytes: number;
}

function parseArgs(argv: string[]): Args {
  let durationS = QUICK ? 8 : 30;
  let only: string[] | undefined;
  let setups: SetupName[] = SETUPS;
  let rssCapMb = 3072;
  let heapMb = 96;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') continue;
    else if (a === '--duration') durationS = Number(next());
    else if (a === '--only') only = next().split(',');
    else if (a === '--rss-cap-mb') rssCapMb = Number(next());
    else if (a === '--heap-mb') heapMb = Number(next());
    else if (a === '--setup') setups = next().split(',') as SetupName[];
    else throw new Error(`unknown argument ${a} (use --quick, --duration <s>, --only <scenario,...>, --setup <kafkajs|kafka-arena>, --heap-mb <n, 0 = V8 defaults>, --rss-cap-mb <n>)`);
  }
  if (!(durationS >= 3)) throw new Error('--duration must be at least 3 seconds');
  if (!(rssCapMb >= 256)) throw new Error('--rss-cap-mb must be at least 256');
  if (!(heapMb === 0 || heapMb >= 32)) throw new Error('--heap-mb must be 0 (V8 defaults) or at least 32');
  for (const o of only ?? []) {
    if (!SCENARIOS.some((s) => s.name === o) && !DELIVERY_SCENARIOS.some((s) => s.name === o)) throw new Error(`unknown scenario ${o}; one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  for (const x of setups) if (!SETUPS.includes(x)) throw new Error(`unknown setup ${x}; one of ${SETUPS.join(', ')}`);
  return { durationS, only, setups, heapMb, rssCapBytes: rssCapMb * MiB };
}

/** Processes to kill if we are interrupted. */
const liveChildren = new Set<ChildProcess>();
const liveKcats = new Set<KcatStream>();
const liveBrokers = new Set<Broker>();

function killAll(): void {
  for (const c of liveChildren) c.kill('SIGKILL');
  for (const k of liveKcats) k.kill();
  for (const b of liveBrokers) void b.stop(0);
}

interface SetupResult {
  scenario: string;
  setup: SetupName;
  samples: Sample[];
  consumed: number;
  produced: number;
  /** 'ok', or why the run ended early. */
  outcome: string;
  extra: Record<string, unknown>;
  error?: string;
}

/** The workers' V8 flags: the same for both set-ups. */
function v8Flags(args: Args): string[] {
  return args.heapMb > 0 ? [`--max-old-space-size=${args.heapMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`] : [];
}

async function runSetup(scenario: Scenario, setup: SetupName, args: Args): Promise<SetupResult> {
  const topic = uniqueName(`soak-${scenario.name}`);
  const broker = await startBroker({ brokers: 1, topics: [{ name: topic, partitions: scenario.partitions }] });
  liveBrokers.add(broker);
  let kcat: KcatStream | undefined;
  let child: ChildProcess | undefined;
  const samples: Sample[] = [];
  let outcome = 'ok';
  let error: string | undefined;
  let done: Extract<WorkerMessage, { type: 'done' }> | undefined;
  try {
    if (scenario.rttMs) await broker.setRtt(-1, scenario.rttMs);
    if (scenario.kcat) {
      kcat = new KcatStream({
        bootstrap: broker.bootstrap,
        topic,
        codec: 'zstd',
        mbPerSec: scenario.kcat.mbPerSec,
        keys: scenario.kcat.keys,
        // Keyless messages: no sticky partitioning, so every partition gets its share.
        properties: { 'sticky.partitioning.linger.ms': 0, ...scenario.kcat.properties },
      });
      liveKcats.add(kcat);
    }
    const config: WorkerConfig = {
      scenario: scenario.name,
      setup,
      bootstrap: broker.bootstrap,
      topic,
      groupId: uniqueName('soak-group'),
      sampleMs: 1000,
    };
    const c = fork(join(__dirname, 'worker.js'), [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: v8Flags(args),
    });
    child = c;
    liveChildren.add(c);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      c.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let capped = false;
    const gotDone = new Promise<void>((resolve) => {
      c.on('message', (m: WorkerMessage) => {
        if (m.type === 'sample') {
          samples.push(m.sample);
          if (m.sample.rss > args.rssCapBytes && !capped) {
            capped = true;
            outcome = `killed at the RSS cap (${fmt(args.rssCapBytes / MiB)} MiB) after ${m.sample.t.toFixed(0)} s`;
            c.kill('SIGKILL');
          }
        } else if (m.type === 'done') {
          done = m;
          resolve();
        } else if (m.type === 'error') {
          error = m.message;
        }
      });
    });
    const deadline = new Promise<'time'>((r) => setTimeout(() => r('time'), args.durationS * 1000).unref());
    const first = await Promise.race([deadline, exited.then(() => 'exit' as const)]);
    if (first === 'exit') {
      const e = await exited;
      const t = samples.length ? samples[samples.length - 1]!.t.toFixed(0) : '0';
      // V8 aborts the process when the heap limit is reached ("JavaScript heap out of memory").
      if (outcome === 'ok' && (e.signal === 'SIGABRT' || e.code === 134)) outcome = `out of memory: V8 heap limit reached after ${t} s`;
      if (outcome === 'ok') outcome = error ? 'failed' : `exited early (code ${e.code}, signal ${e.signal})`;
    } else {
      if (kcat?.failure) error = kcat.failure;
      c.send('stop');
      const settled = await Promise.race([
        gotDone.then(() => 'done' as const),
        exited.then(() => 'exit' as const),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15000).unref()),
      ]);
      if (settled === 'timeout') {
        outcome = 'did not stop within 15 s (killed)';
        c.kill('SIGKILL');
      }
      if (settled === 'exit' && !done) outcome = error ? 'failed' : 'exited before reporting';
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
  } finally {
    if (child) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      liveChildren.delete(child);
    }
    if (kcat) {
      await kcat.stop();
      liveKcats.delete(kcat);
    }
    await broker.stop();
    liveBrokers.delete(broker);
  }
  const last = samples[samples.length - 1];
  return {
    scenario: scenario.name,
    setup,
    samples,
    consumed: done?.consumed ?? last?.consumed ?? 0,
    produced: scenario.kcat ? (kcat?.written ?? 0) : (done?.produced ?? last?.produced ?? 0),
    outcome,
    extra: done?.extra ?? {},
    error,
  };
}

interface Figures {
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
  peakHeapUsedMiB: number;
  meanRssAfterWarmupMiB: number;
  /** MB/min (10^6 bytes) of RSS after warm-up. */
  rssSlopeMBPerMin: number;
  arrayBuffersSlopeMBPerMin: number;
  heapUsedSlopeMBPerMin: number;
  /** RSS rise over the post-warm-up window implied by the slope, MiB. */
  fittedRiseMiB: number;
  upwardTrend: boolean;
  /** Start of the slope window, s (warm-up skipped). */
  slopeFromS: number;
  /** RSS of the first sample (the idle process: Node + kafkajs + modules loaded), MiB. */
  idleRssMiB: number;
  /** What the peak-RSS sample was made of, MiB. */
  atPeak: { rss: number; heapTotal: number; heapUsed: number; arrayBuffers: number; otherExternal: number; rest: number; arenaLeased: number; arenaIdle: number };
  consumed: number;
  produced: number;
  samples: number;
  seconds: number;
}

function figures(r: SetupResult, durationS: number): Figures {
  const s = r.samples;
  const peak = (f: (x: Sample) => number) => (s.length ? Math.max(...s.map(f)) / MiB : NaN);
  // Warm-up: the group join (or producer connect) and then the first 20 % of the active run.
  const active = s.find((x) => x.consumed > 0 || x.produced > 0)?.t ?? 0;
  const end = s.length ? s[s.length - 1]!.t : durationS;
  const from = active + (end - active) * WARMUP_FRACTION;
  const after = s.filter((x) => x.t >= from);
  const p = s.reduce<Sample | undefined>((best, x) => (!best || x.rss > best.rss ? x : best), undefined);
  const atPeak = p
    ? {
        rss: p.rss / MiB,
        heapTotal: p.heapTotal / MiB,
        heapUsed: p.heapUsed / MiB,
        arrayBuffers: p.arrayBuffers / MiB,
        otherExternal: (p.external - p.arrayBuffers) / MiB,
        rest: (p.rss - p.heapTotal - p.external) / MiB,
        arenaLeased: (p.extra.arenaLeasedBytes ?? 0) / MiB,
        arenaIdle: (p.extra.arenaIdleBytes ?? 0) / MiB,
      }
    : { rss: NaN, heapTotal: NaN, heapUsed: NaN, arrayBuffers: NaN, otherExternal: NaN, rest: NaN, arenaLeased: NaN, arenaIdle: NaN };
  const slope = (f: (x: Sample) => number) => (linearSlope(after.map((x) => [x.t / 60, f(x) / 1e6])) as number);
  const rssSlope = slope((x) => x.rss);
  const window = after.length > 1 ? (after[after.length - 1]!.t - after[0]!.t) / 60 : 0;
  const mean = after.length ? after.reduce((a, x) => a + x.rss, 0) / after.length / MiB : NaN;
  const rise = (rssSlope * 1e6 * window) / MiB;
  return {
    peakRssMiB: peak((x) => x.rss),
    peakArrayBuffersMiB: peak((x) => x.arrayBuffers),
    peakHeapUsedMiB: peak((x) => x.heapUsed),
    meanRssAfterWarmupMiB: mean,
    rssSlopeMBPerMin: rssSlope,
    arrayBuffersSlopeMBPerMin: slope((x) => x.arrayBuffers),
    heapUsedSlopeMBPerMin: slope((x) => x.heapUsed),
    fittedRiseMiB: rise,
    // Upward: the fitted line climbs more than 8 MiB and more than 10 % of the mean over the window.
    upwardTrend: rise > 8 && rise > 0.1 * mean,
    slopeFromS: from,
    idleRssMiB: s.length ? s[0]!.rss / MiB : NaN,
    atPeak,
    consumed: r.consumed,
    produced: r.produced,
    samples: s.length,
    seconds: s.length ? s[s.length - 1]!.t : 0,
  };
}

function writeCsv(scenario: Scenario, results: SetupResult[]): void {
  const extraKeys = [...new Set(results.flatMap((r) => r.samples.flatMap((s) => Object.keys(s.extra))))].sort();
  const lines = [
    ['setup', 't_s', 'rss_mib', 'heap_used_mib', 'heap_total_mib', 'external_mib', 'array_buffers_mib', 'consumed', 'produced', ...extraKeys].join(','),
  ];
  const mib = (b: number) => (b / MiB).toFixed(2);
  for (const r of results) {
    for (const s of r.samples) {
      lines.push(
        [r.setup, s.t.toFixed(2), mib(s.rss), mib(s.heapUsed), mib(s.heapTotal), mib(s.external), mib(s.arrayBuffers), s.consumed, s.produced, ...extraKeys.map((k) => s.extra[k] ?? '')].join(','),
      );
    }
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `soak-${scenario.name}.csv`), lines.join('\n') + '\n');
}

function writeChart(scenario: Scenario, results: SetupResult[]): void {
  const series: LineSeries[] = [];
  for (const r of results) {
    const color = r.setup === 'kafkajs' ? 1 : 0;
    // A set-up that ended early says why where its line stops.
    const endLabel = r.outcome === 'ok' ? undefined : r.outcome.startsWith('out of memory') ? 'out of memory' : r.outcome;
    series.push({ name: `${r.setup} RSS`, color, endLabel, points: r.samples.map((s) => [s.t, s.rss / MiB]) });
    series.push({ name: `${r.setup} arrayBuffers`, color, dashed: true, points: r.samples.map((s) => [s.t, s.arrayBuffers / MiB]) });
  }
  writeSvg(
    `soak-${scenario.name}`,
    lineChartSvg(scenario.title, 'seconds', 'MiB', series, [{ label: `target: arena budget + 64 MiB = ${RSS_TARGET / MiB} MiB RSS`, y: RSS_TARGET / MiB }]),
  );
}

function ratio(a: number, b: number): string {
  if (!(a > 0 && b > 0)) return '—';
  return a >= b ? `${fmt(a / b, 1)}× lower` : `${fmt(b / a, 1)}× higher`;
}

/** One line per scenario, from the figures only. */
function conclusion(scenario: Scenario, base: Figures | undefined, ours: Figures | undefined, results: SetupResult[]): string {
  if (!base || !ours) return 'incomplete: a set-up did not run.';
  const parts: string[] = [];
  const met = ours.peakRssMiB <= RSS_TARGET / MiB && !ours.upwardTrend;
  parts.push(
    `kafka-arena peak RSS ${fmt(ours.peakRssMiB)} MiB vs kafkajs ${fmt(base.peakRssMiB)} MiB (${ratio(base.peakRssMiB, ours.peakRssMiB)})`,
  );
  parts.push(
    `trend after warm-up: kafka-arena ${fmt(ours.rssSlopeMBPerMin, 1)} MB/min (${ours.upwardTrend ? 'upward' : 'flat'}), kafkajs ${fmt(base.rssSlopeMBPerMin, 1)} MB/min (${base.upwardTrend ? 'upward' : 'flat'})`,
  );
  const work = (f: Figures) => (scenario.name === 'producer-rtt' ? f.produced : f.consumed);
  const wb = work(base);
  const wo = work(ours);
  const verb = scenario.name === 'producer-rtt' ? 'acknowledged' : 'processed';
  parts.push(`messages ${verb}: kafka-arena ${fmt(wo)} vs kafkajs ${fmt(wb)}${wb > 0 ? ` (${fmt((100 * wo) / wb)} %)` : ''}`);
  if (scenario.name === 'kept-keys') {
    const fill = results.map((r) => {
      const full = r.samples.find((x) => (x.extra.cacheEntries ?? 0) >= DEDUPE_CACHE_ENTRIES);
      return `${r.setup} ${full ? `at ${full.t.toFixed(0)} s` : 'never'}`;
    });
    parts.push(`the ${fmt(DEDUPE_CACHE_ENTRIES)}-entry cache filled: ${fill.join(', ')} (its own growth until then is the application's state)`);
  }
  const early = results.filter((r) => r.outcome !== 'ok').map((r) => `${r.setup} ${r.outcome}`);
  if (early.length) parts.push(early.join('; '));
  parts.push(`target (≤ ${RSS_TARGET / MiB} MiB RSS, no upward trend): ${met ? 'met' : 'MISSED'}`);
  let line = parts.join('; ') + '.';
  if (!met) line += ` ${breakdown('kafka-arena', ours)}`;
  return line;
}

/** Where the peak RSS went, from the peak sample. */
function breakdown(setup: string, f: Figures): string {
  const b = f.atPeak;
  return (
    `${setup} at its peak sample: V8 heap ${fmt(b.heapTotal)} MiB (used ${fmt(b.heapUsed)}), arrayBuffers ${fmt(b.arrayBuffers)} MiB ` +
    `(arena leased ${fmt(b.arenaLeased)} + idle ${fmt(b.arenaIdle)}), other external ${fmt(b.otherExternal)} MiB (WASM memories, native buffers), ` +
    `rest ${fmt(b.rest)} MiB (Node, code, native heap); the idle process (first sample) was ${fmt(f.idleRssMiB)} MiB RSS.`
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const avail = brokerAvailable();
  if (!avail.ok) throw new Error(`the soak needs the mock broker: ${avail.reason}`);
  const scenarios = SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
  const m = machine();
  console.log(`kafka-arena soak — ${args.durationS} s per set-up, ${scenarios.length} scenario(s) — ${JSON.stringify(m)}`);
  const t0 = Date.now();
  const summary: Array<{ scenario: Scenario; results: SetupResult[]; figures: Partial<Record<SetupName, Figures>>; conclusion: string }> = [];
  let failures = 0;
  for (const scenario of scenarios) {
    console.log(`\n## ${scenario.title}`);
    const results: SetupResult[] = [];
    for (const setup of args.setups) {
      const t1 = Date.now();
      let r: SetupResult;
      try {
        r = await runSetup(scenario, setup, args);
      } catch (err) {
        r = { scenario: scenario.name, setup, samples: [], consumed: 0, produced: 0, outcome: 'failed', extra: {}, error: String(err instanceof Error ? err.stack : err) };
      }
      results.push(r);
      const f = figures(r, args.durationS);
      if (r.error || r.samples.length === 0) failures++;
      console.log(
        `  ${setup}: peak RSS ${fmt(f.peakRssMiB)} MiB, peak arrayBuffers ${fmt(f.peakArrayBuffersMiB)} MiB, slope ${fmt(f.rssSlopeMBPerMin, 1)} MB/min, ` +
          `consumed ${fmt(f.consumed)}, produced ${fmt(f.produced)}, ${r.outcome} (${((Date.now() - t1) / 1000).toFixed(1)} s)`,
      );
      if (r.error) console.log(`  error: ${r.error}`);
    }
    writeCsv(scenario, results);
    writeChart(scenario, results);
    const figs: Partial<Record<SetupName, Figures>> = {};
    for (const r of results) figs[r.setup] = figures(r, args.durationS);
    const line = conclusion(scenario, figs.kafkajs, figs['kafka-arena'], results);
    console.log(`  → ${line}`);
    summary.push({ scenario, results, figures: figs, conclusion: line });
  }

  const md: string[] = [];
  md.push(`# Soak: memory under the real-world OOM scenarios`);
  md.push('');
  md.push(
    `Mock broker (librdkafka mock cluster), ${args.durationS} s per set-up, each set-up in a fresh Node process sampling ` +
      `process.memoryUsage() every second, ${
        args.heapMb > 0
          ? `both set-ups with the V8 heap settings of a process sized for a container (${v8Flags(args).join(' ')})`
          : "both set-ups with V8's default heap settings"
      }. kafkajs set-up: kafkajs ${require('kafkajs/package.json').version} with kafkajs-lz4, ` +
      `kafkajs-snappy and a zstd-napi wrapper. kafka-arena set-up: registerCodecs + arenaConsumer (Arena default budget ` +
      `${ARENA_BUDGET / MiB} MiB, default watermarks, maxFetchBytes ${MAX_FETCH_BYTES / MiB} MiB = budget − high-water mark) / boundedProducer (default bound). Slope: least squares over the samples after the warm-up (the group join / producer ` +
      `connect, then the first ${WARMUP_FRACTION * 100} % of the active run); "upward" = the fitted line rises more than 8 MiB and more than 10 % of the mean RSS over that window. ` +
      `Target for kafka-arena: peak RSS ≤ budget + 64 MiB = ${RSS_TARGET / MiB} MiB and no upward trend.`,
  );
  md.push('');
  md.push(`Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}${QUICK ? ' (quick run)' : ''}.`);
  if (args.durationS < 20) {
    md.push('');
    md.push(`**Short run (${args.durationS} s per set-up): a smoke test. Slopes over a few seconds are dominated by the GC sawtooth; use the default duration for trends.**`);
  }
  md.push('');
  md.push('| scenario | setup | peak RSS (MiB) | peak arrayBuffers (MiB) | peak heapUsed (MiB) | RSS slope (MB/min) | msgs consumed | msgs produced | outcome |');
  md.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const s of summary) {
    for (const r of s.results) {
      const f = s.figures[r.setup]!;
      md.push(
        `| ${s.scenario.name} | ${r.setup} | ${fmt(f.peakRssMiB)} | ${fmt(f.peakArrayBuffersMiB)} | ${fmt(f.peakHeapUsedMiB)} | ${fmt(f.rssSlopeMBPerMin, 1)}${f.upwardTrend ? ' ↑' : ''} | ${fmt(f.consumed)} | ${fmt(f.produced)} | ${r.outcome} |`,
      );
    }
  }
  md.push('');
  for (const s of summary) {
    md.push(`## ${s.scenario.title}`);
    md.push('');
    md.push(s.scenario.description);
    md.push('');
    md.push(`![${s.scenario.name}](soak-${s.scenario.name}.svg) — data: soak-${s.scenario.name}.csv`);
    md.push('');
    md.push(`**Result:** ${s.conclusion}`);
    md.push('');
    const base = s.figures.kafkajs;
    if (base) md.push(`For comparison, ${breakdown('kafkajs', base)}`, '');
  }
  // The recycling consumer's delivery scenarios (a fetch larger than the budget): finite topics, checked record by record.
  const deliveryNames = DELIVERY_SCENARIOS.map((s) => s.name as string).filter((n) => !args.only || args.only.includes(n));
  let delivery: DeliveryResult[] = [];
  if (deliveryNames.length > 0) {
    const d = await runDelivery(v8Flags(args), deliveryNames);
    delivery = d.results;
    md.push(d.markdown, '');
    failures += d.results.filter((r) => r.error).length;
  }
  const markdown = md.join('\n');
  writeResults(
    'soak',
    {
      durationS: args.durationS,
      arenaBudgetBytes: ARENA_BUDGET,
      rssTargetBytes: RSS_TARGET,
      warmupFraction: WARMUP_FRACTION,
      scenarios: summary.map((s) => ({
        name: s.scenario.name,
        title: s.scenario.title,
        description: s.scenario.description,
        conclusion: s.conclusion,
        setups: s.results.map((r) => ({ setup: r.setup, outcome: r.outcome, error: r.error, ...s.figures[r.setup], final: r.extra })),
      })),
      delivery,
    },
    markdown,
  );
  console.log('\n' + noted(markdown));
  console.log(`\n(soak: ${((Date.now() - t0) / 1000).toFixed(1)} s; results in bench/results/soak*.{md,json,csv,svg})`);
  if (failures > 0) {
    console.error(`${failures} set-up(s) failed to run`);
    process.exitCode = 1;
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}
process.on('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
  for (const k of liveKcats) k.kill();
});

main().catch((err) => {
  console.error(err);
  killAll();
  process.exitCode = 1;
});
