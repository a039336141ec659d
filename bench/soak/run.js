"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
/**
 * `npm run soak [-- --quick | --duration <s> | --only <scenario,...> | --rss-cap-mb <n>]`
 *
 * The real-world OOM scenarios against the mock broker (librdkafka's mock cluster): each scenario
 * runs once with kafkajs + the usual peer codecs and once with kafka-arena, each set-up in a fresh
 * child process (so one's heap never pollutes the other's figures) that samples
 * process.memoryUsage() every second. Writes per scenario a CSV and an SVG line chart (RSS and
 * arrayBuffers over time, both set-ups), plus bench/results/soak.json and soak.md (summary table
 * and a conclusion per scenario computed from the figures).
 *
 * Default: 30 s per set-up (10 set-ups, about 6 minutes with start-up); --quick: 8 s per set-up.
 * Runs unattended (no stdin), kills every child it started, exits 0 unless a set-up failed to run.
 */
const node_child_process_1 = require("node:child_process");
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
const harness_1 = require("../../test/broker/harness");
const lib_1 = require("../lib");
const kcat_stream_1 = require("./kcat-stream");
const scenarios_1 = require("./scenarios");
const MiB = 1024 * 1024;
/** kafka-arena's default budget (Arena maxBytes). */
const ARENA_BUDGET = 64 * MiB;
/** The target: peak RSS at most the budget + 64 MiB. */
const RSS_TARGET = ARENA_BUDGET + 64 * MiB;
/** Fraction of the run ignored for the slope. */
const WARMUP_FRACTION = 0.2;
function parseArgs(argv) {
    let durationS = lib_1.QUICK ? 8 : 30;
    let only;
    let setups = scenarios_1.SETUPS;
    let rssCapMb = 3072;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const next = () => {
            const v = argv[++i];
            if (v === undefined)
                throw new Error(`${a} needs a value`);
            return v;
        };
        if (a === '--quick')
            continue;
        else if (a === '--duration')
            durationS = Number(next());
        else if (a === '--only')
            only = next().split(',');
        else if (a === '--rss-cap-mb')
            rssCapMb = Number(next());
        else if (a === '--setup')
            setups = next().split(',');
        else
            throw new Error(`unknown argument ${a} (use --quick, --duration <s>, --only <scenario,...>, --setup <kafkajs|kafka-arena>, --rss-cap-mb <n>)`);
    }
    if (!(durationS >= 3))
        throw new Error('--duration must be at least 3 seconds');
    if (!(rssCapMb >= 256))
        throw new Error('--rss-cap-mb must be at least 256');
    for (const o of only ?? []) {
        if (!scenarios_1.SCENARIOS.some((s) => s.name === o))
            throw new Error(`unknown scenario ${o}; one of ${scenarios_1.SCENARIOS.map((s) => s.name).join(', ')}`);
    }
    for (const x of setups)
        if (!scenarios_1.SETUPS.includes(x))
            throw new Error(`unknown setup ${x}; one of ${scenarios_1.SETUPS.join(', ')}`);
    return { durationS, only, setups, rssCapBytes: rssCapMb * MiB };
}
/** Processes to kill if we are interrupted. */
const liveChildren = new Set();
const liveKcats = new Set();
const liveBrokers = new Set();
function killAll() {
    for (const c of liveChildren)
        c.kill('SIGKILL');
    for (const k of liveKcats)
        k.kill();
    for (const b of liveBrokers)
        void b.stop(0);
}
async function runSetup(scenario, setup, args) {
    const topic = (0, harness_1.uniqueName)(`soak-${scenario.name}`);
    const broker = await (0, harness_1.startBroker)({ brokers: 1, topics: [{ name: topic, partitions: scenario.partitions }] });
    liveBrokers.add(broker);
    let kcat;
    let child;
    const samples = [];
    let outcome = 'ok';
    let error;
    let done;
    try {
        if (scenario.rttMs)
            await broker.setRtt(-1, scenario.rttMs);
        if (scenario.kcat) {
            kcat = new kcat_stream_1.KcatStream({
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
        const config = {
            scenario: scenario.name,
            setup,
            bootstrap: broker.bootstrap,
            topic,
            groupId: (0, harness_1.uniqueName)('soak-group'),
            sampleMs: 1000,
        };
        const c = (0, node_child_process_1.fork)((0, node_path_1.join)(__dirname, 'worker.js'), [JSON.stringify(config)], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            execArgv: [],
        });
        child = c;
        liveChildren.add(c);
        const exited = new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
        let capped = false;
        const gotDone = new Promise((resolve) => {
            c.on('message', (m) => {
                if (m.type === 'sample') {
                    samples.push(m.sample);
                    if (m.sample.rss > args.rssCapBytes && !capped) {
                        capped = true;
                        outcome = `killed at the RSS cap (${(0, lib_1.fmt)(args.rssCapBytes / MiB)} MiB) after ${m.sample.t.toFixed(0)} s`;
                        c.kill('SIGKILL');
                    }
                }
                else if (m.type === 'done') {
                    done = m;
                    resolve();
                }
                else if (m.type === 'error') {
                    error = m.message;
                }
            });
        });
        const deadline = new Promise((r) => setTimeout(() => r('time'), args.durationS * 1000).unref());
        const first = await Promise.race([deadline, exited.then(() => 'exit')]);
        if (first === 'exit') {
            const e = await exited;
            if (outcome === 'ok')
                outcome = error ? 'failed' : `exited early (code ${e.code}, signal ${e.signal})`;
        }
        else {
            if (kcat?.failure)
                error = kcat.failure;
            c.send('stop');
            const settled = await Promise.race([
                gotDone.then(() => 'done'),
                exited.then(() => 'exit'),
                new Promise((r) => setTimeout(() => r('timeout'), 15000).unref()),
            ]);
            if (settled === 'timeout') {
                outcome = 'did not stop within 15 s (killed)';
                c.kill('SIGKILL');
            }
            if (settled === 'exit' && !done)
                outcome = error ? 'failed' : 'exited before reporting';
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
        }
    }
    finally {
        if (child) {
            if (child.exitCode === null && child.signalCode === null)
                child.kill('SIGKILL');
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
function figures(r, durationS) {
    const s = r.samples;
    const peak = (f) => (s.length ? Math.max(...s.map(f)) / MiB : NaN);
    // Warm-up: the group join (or producer connect) and then the first 20 % of the active run.
    const active = s.find((x) => x.consumed > 0 || x.produced > 0)?.t ?? 0;
    const end = s.length ? s[s.length - 1].t : durationS;
    const from = active + (end - active) * WARMUP_FRACTION;
    const after = s.filter((x) => x.t >= from);
    const p = s.reduce((best, x) => (!best || x.rss > best.rss ? x : best), undefined);
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
    const slope = (f) => (0, lib_1.linearSlope)(after.map((x) => [x.t / 60, f(x) / 1e6]));
    const rssSlope = slope((x) => x.rss);
    const window = after.length > 1 ? (after[after.length - 1].t - after[0].t) / 60 : 0;
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
        idleRssMiB: s.length ? s[0].rss / MiB : NaN,
        atPeak,
        consumed: r.consumed,
        produced: r.produced,
        samples: s.length,
        seconds: s.length ? s[s.length - 1].t : 0,
    };
}
function writeCsv(scenario, results) {
    const extraKeys = [...new Set(results.flatMap((r) => r.samples.flatMap((s) => Object.keys(s.extra))))].sort();
    const lines = [
        ['setup', 't_s', 'rss_mib', 'heap_used_mib', 'heap_total_mib', 'external_mib', 'array_buffers_mib', 'consumed', 'produced', ...extraKeys].join(','),
    ];
    const mib = (b) => (b / MiB).toFixed(2);
    for (const r of results) {
        for (const s of r.samples) {
            lines.push([r.setup, s.t.toFixed(2), mib(s.rss), mib(s.heapUsed), mib(s.heapTotal), mib(s.external), mib(s.arrayBuffers), s.consumed, s.produced, ...extraKeys.map((k) => s.extra[k] ?? '')].join(','));
        }
    }
    (0, node_fs_1.mkdirSync)(lib_1.RESULTS_DIR, { recursive: true });
    (0, node_fs_1.writeFileSync)((0, node_path_1.join)(lib_1.RESULTS_DIR, `soak-${scenario.name}.csv`), lines.join('\n') + '\n');
}
function writeChart(scenario, results) {
    const series = [];
    for (const r of results) {
        const color = r.setup === 'kafkajs' ? 1 : 0;
        series.push({ name: `${r.setup} RSS`, color, points: r.samples.map((s) => [s.t, s.rss / MiB]) });
        series.push({ name: `${r.setup} arrayBuffers`, color, dashed: true, points: r.samples.map((s) => [s.t, s.arrayBuffers / MiB]) });
    }
    (0, lib_1.writeSvg)(`soak-${scenario.name}`, (0, lib_1.lineChartSvg)(scenario.title, 'seconds', 'MiB', series, [{ label: `target: arena budget + 64 MiB = ${RSS_TARGET / MiB} MiB RSS`, y: RSS_TARGET / MiB }]));
}
function ratio(a, b) {
    if (!(a > 0 && b > 0))
        return '—';
    return a >= b ? `${(0, lib_1.fmt)(a / b, 1)}× lower` : `${(0, lib_1.fmt)(b / a, 1)}× higher`;
}
/** One line per scenario, from the figures only. */
function conclusion(scenario, base, ours, results) {
    if (!base || !ours)
        return 'incomplete: a set-up did not run.';
    const parts = [];
    const met = ours.peakRssMiB <= RSS_TARGET / MiB && !ours.upwardTrend;
    parts.push(`kafka-arena peak RSS ${(0, lib_1.fmt)(ours.peakRssMiB)} MiB vs kafkajs ${(0, lib_1.fmt)(base.peakRssMiB)} MiB (${ratio(base.peakRssMiB, ours.peakRssMiB)})`);
    parts.push(`trend after warm-up: kafka-arena ${(0, lib_1.fmt)(ours.rssSlopeMBPerMin, 1)} MB/min (${ours.upwardTrend ? 'upward' : 'flat'}), kafkajs ${(0, lib_1.fmt)(base.rssSlopeMBPerMin, 1)} MB/min (${base.upwardTrend ? 'upward' : 'flat'})`);
    const work = (f) => (scenario.name === 'producer-rtt' ? f.produced : f.consumed);
    const wb = work(base);
    const wo = work(ours);
    const verb = scenario.name === 'producer-rtt' ? 'acknowledged' : 'processed';
    parts.push(`messages ${verb}: kafka-arena ${(0, lib_1.fmt)(wo)} vs kafkajs ${(0, lib_1.fmt)(wb)}${wb > 0 ? ` (${(0, lib_1.fmt)((100 * wo) / wb)} %)` : ''}`);
    if (scenario.name === 'kept-keys') {
        const fill = results.map((r) => {
            const full = r.samples.find((x) => (x.extra.cacheEntries ?? 0) >= scenarios_1.DEDUPE_CACHE_ENTRIES);
            return `${r.setup} ${full ? `at ${full.t.toFixed(0)} s` : 'never'}`;
        });
        parts.push(`the ${(0, lib_1.fmt)(scenarios_1.DEDUPE_CACHE_ENTRIES)}-entry cache filled: ${fill.join(', ')} (its own growth until then is the application's state)`);
    }
    const early = results.filter((r) => r.outcome !== 'ok').map((r) => `${r.setup} ${r.outcome}`);
    if (early.length)
        parts.push(early.join('; '));
    parts.push(`target (≤ ${RSS_TARGET / MiB} MiB RSS, no upward trend): ${met ? 'met' : 'MISSED'}`);
    let line = parts.join('; ') + '.';
    if (!met)
        line += ` ${breakdown('kafka-arena', ours)}`;
    return line;
}
/** Where the peak RSS went, from the peak sample. */
function breakdown(setup, f) {
    const b = f.atPeak;
    return (`${setup} at its peak sample: V8 heap ${(0, lib_1.fmt)(b.heapTotal)} MiB (used ${(0, lib_1.fmt)(b.heapUsed)}), arrayBuffers ${(0, lib_1.fmt)(b.arrayBuffers)} MiB ` +
        `(arena leased ${(0, lib_1.fmt)(b.arenaLeased)} + idle ${(0, lib_1.fmt)(b.arenaIdle)}), other external ${(0, lib_1.fmt)(b.otherExternal)} MiB (WASM memories, native buffers), ` +
        `rest ${(0, lib_1.fmt)(b.rest)} MiB (Node, code, native heap); the idle process (first sample) was ${(0, lib_1.fmt)(f.idleRssMiB)} MiB RSS.`);
}
async function main() {
    const args = parseArgs(process.argv.slice(2));
    const avail = (0, harness_1.brokerAvailable)();
    if (!avail.ok)
        throw new Error(`the soak needs the mock broker: ${avail.reason}`);
    const scenarios = scenarios_1.SCENARIOS.filter((s) => !args.only || args.only.includes(s.name));
    const m = (0, lib_1.machine)();
    console.log(`kafka-arena soak — ${args.durationS} s per set-up, ${scenarios.length} scenario(s) — ${JSON.stringify(m)}`);
    const t0 = Date.now();
    const summary = [];
    let failures = 0;
    for (const scenario of scenarios) {
        console.log(`\n## ${scenario.title}`);
        const results = [];
        for (const setup of args.setups) {
            const t1 = Date.now();
            let r;
            try {
                r = await runSetup(scenario, setup, args);
            }
            catch (err) {
                r = { scenario: scenario.name, setup, samples: [], consumed: 0, produced: 0, outcome: 'failed', extra: {}, error: String(err instanceof Error ? err.stack : err) };
            }
            results.push(r);
            const f = figures(r, args.durationS);
            if (r.error || r.samples.length === 0)
                failures++;
            console.log(`  ${setup}: peak RSS ${(0, lib_1.fmt)(f.peakRssMiB)} MiB, peak arrayBuffers ${(0, lib_1.fmt)(f.peakArrayBuffersMiB)} MiB, slope ${(0, lib_1.fmt)(f.rssSlopeMBPerMin, 1)} MB/min, ` +
                `consumed ${(0, lib_1.fmt)(f.consumed)}, produced ${(0, lib_1.fmt)(f.produced)}, ${r.outcome} (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
            if (r.error)
                console.log(`  error: ${r.error}`);
        }
        writeCsv(scenario, results);
        writeChart(scenario, results);
        const figs = {};
        for (const r of results)
            figs[r.setup] = figures(r, args.durationS);
        const line = conclusion(scenario, figs.kafkajs, figs['kafka-arena'], results);
        console.log(`  → ${line}`);
        summary.push({ scenario, results, figures: figs, conclusion: line });
    }
    const md = [];
    md.push(`# Soak: memory under the real-world OOM scenarios`);
    md.push('');
    md.push(`Mock broker (librdkafka mock cluster), ${args.durationS} s per set-up, each set-up in a fresh Node process sampling ` +
        `process.memoryUsage() every second. kafkajs set-up: kafkajs ${require('kafkajs/package.json').version} with kafkajs-lz4, ` +
        `kafkajs-snappy and a zstd-napi wrapper. kafka-arena set-up: registerCodecs + arenaConsumer (Arena default budget ` +
        `${ARENA_BUDGET / MiB} MiB) / boundedProducer. Slope: least squares over the samples after the warm-up (the group join / producer ` +
        `connect, then the first ${WARMUP_FRACTION * 100} % of the active run); "upward" = the fitted line rises more than 8 MiB and more than 10 % of the mean RSS over that window. ` +
        `Target for kafka-arena: peak RSS ≤ budget + 64 MiB = ${RSS_TARGET / MiB} MiB and no upward trend.`);
    md.push('');
    md.push(`Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}${lib_1.QUICK ? ' (quick run)' : ''}.`);
    if (args.durationS < 20) {
        md.push('');
        md.push(`**Short run (${args.durationS} s per set-up): a smoke test. Slopes over a few seconds are dominated by the GC sawtooth; use the default duration for trends.**`);
    }
    md.push('');
    md.push('| scenario | setup | peak RSS (MiB) | peak arrayBuffers (MiB) | peak heapUsed (MiB) | RSS slope (MB/min) | msgs consumed | msgs produced | outcome |');
    md.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
    for (const s of summary) {
        for (const r of s.results) {
            const f = s.figures[r.setup];
            md.push(`| ${s.scenario.name} | ${r.setup} | ${(0, lib_1.fmt)(f.peakRssMiB)} | ${(0, lib_1.fmt)(f.peakArrayBuffersMiB)} | ${(0, lib_1.fmt)(f.peakHeapUsedMiB)} | ${(0, lib_1.fmt)(f.rssSlopeMBPerMin, 1)}${f.upwardTrend ? ' ↑' : ''} | ${(0, lib_1.fmt)(f.consumed)} | ${(0, lib_1.fmt)(f.produced)} | ${r.outcome} |`);
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
        if (base)
            md.push(`For comparison, ${breakdown('kafkajs', base)}`, '');
    }
    const markdown = md.join('\n');
    (0, lib_1.writeResults)('soak', {
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
    }, markdown);
    console.log('\n' + markdown);
    console.log(`\n(soak: ${((Date.now() - t0) / 1000).toFixed(1)} s; results in bench/results/soak*.{md,json,csv,svg})`);
    if (failures > 0) {
        console.error(`${failures} set-up(s) failed to run`);
        process.exitCode = 1;
    }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
        killAll();
        process.exit(130);
    });
}
process.on('exit', () => {
    for (const c of liveChildren)
        c.kill('SIGKILL');
    for (const k of liveKcats)
        k.kill();
});
main().catch((err) => {
    console.error(err);
    killAll();
    process.exitCode = 1;
});
