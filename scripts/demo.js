'use strict';
// `npm run demo [-- --seconds <n>] [--out <dir>]`: the point of kafka-arena in one command.
//
// Starts an embedded Kafka broker (librdkafka's mock cluster, test/broker), streams zstd JSON
// events into it with kcat, and runs the same slow consumer twice, side by side, each in its own
// process: plain kafkajs (with the usual zstd-napi codec) and kafkajs + kafka-arena (registerCodecs
// + arenaConsumer). Prints a live line per second and a final table, and writes demo.svg (RSS over
// time) and demo.md into docs/ (or --out).
//
// The consumer, the producer and the figures are the soak's (bench/soak, scenario "large-fetch":
// maxBytes raised tenfold, as one does for throughput), imported from the build, not copied.
const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const build = (p) => path.join(root, 'build', p);
const MiB = 1024 * 1024;
const SCENARIO = 'large-fetch';
/** The soak's V8 settings: a process sized for a container, the same for both set-ups. */
const V8_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2'];
const SETUPS = [
  { name: 'kafkajs', label: 'plain kafkajs' },
  { name: 'kafka-arena', label: 'kafkajs + kafka-arena' },
];

function parseArgs(argv) {
  let seconds = 40;
  let out = path.join(root, 'docs');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds' && /^\d+$/.test(argv[i + 1] ?? '')) seconds = Number(argv[++i]);
    else if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (use --seconds <n>, --out <dir>)`);
  }
  if (seconds < 10 || seconds > 600) throw new Error('--seconds must be 10..600');
  return { seconds, out };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes) => (bytes / MiB).toFixed(0);

async function main() {
  const { seconds, out } = parseArgs(process.argv.slice(2));
  const harness = require(build('test/broker/harness.js'));
  const available = harness.brokerAvailable();
  if (!available.ok) {
    console.error(`npm run demo needs a C compiler, librdkafka's mock cluster and kcat: sudo apt-get install -y gcc libc6-dev librdkafka-dev kcat (${available.reason.split('\n')[0]})`);
    process.exitCode = 1;
    return;
  }
  const problem = peerCodecsProblem();
  if (problem) {
    console.error(problem);
    process.exitCode = 1;
    return;
  }
  const { KcatStream } = require(build('bench/soak/kcat-stream.js'));
  const { SCENARIOS } = require(build('bench/soak/scenarios.js'));
  const { lineChartSvg, linearSlope } = require(build('bench/lib.js'));
  const scenario = SCENARIOS.find((s) => s.name === SCENARIO);

  const topic = harness.uniqueName('demo');
  const broker = await harness.startBroker({ topics: [{ name: topic, partitions: scenario.partitions }] });
  const children = [];
  let kcat;
  const cleanup = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    kcat?.kill();
    void broker.stop(0);
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    console.log(`kcat streams zstd JSON events at ${scenario.kcat.mbPerSec} MB/s into ${scenario.partitions} partitions; the same slow consumer`);
    console.log(`(${SCENARIO}: eachBatch at 20,000 msgs/s, maxBytes 100 MiB) runs for ${seconds} s with each set-up, side by side.\n`);
    kcat = new KcatStream({
      bootstrap: broker.bootstrap,
      topic,
      codec: 'zstd',
      mbPerSec: scenario.kcat.mbPerSec,
      properties: { 'sticky.partitioning.linger.ms': 0, ...scenario.kcat.properties },
    });
    const runs = SETUPS.map((setup) => startWorker(setup, broker, topic, harness.uniqueName('demo-group'), children));
    const t0 = Date.now();
    let lastLine = 0;
    while (Date.now() - t0 < seconds * 1000 && runs.some((r) => r.exit === undefined)) {
      await sleep(250);
      if (Date.now() - lastLine >= 1000) {
        lastLine = Date.now();
        progress(runs, kcat, (Date.now() - t0) / 1000);
      }
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    if (kcat.failure) throw new Error(kcat.failure);
    await Promise.all(runs.map((r) => stopWorker(r)));
    await kcat.stop();
    const eventBytes = kcat.written > 0 ? kcat.bytesWritten / kcat.written : 0;
    report(runs, kcat, eventBytes, { lineChartSvg, linearSlope, seconds, out, mbPerSec: scenario.kcat.mbPerSec });
  } finally {
    cleanup();
    await broker.stop();
  }
}

/**
 * The plain set-up uses the codecs a kafkajs user installs (kafkajs-lz4, kafkajs-snappy, zstd-napi),
 * two of them native addons built by `npm ci` for the Node that ran it. Why they do not load, or
 * undefined.
 */
function peerCodecsProblem() {
  for (const name of ['zstd-napi', 'lz4', 'kafkajs-snappy']) {
    try {
      require(name);
    } catch (err) {
      return `the plain kafkajs set-up needs ${name}, which does not load on Node ${process.version} (${String(err.message).split('\n')[0]}): run the demo with the Node that ran npm ci, or npm rebuild ${name}`;
    }
  }
  return undefined;
}

function startWorker(setup, broker, topic, groupId, children) {
  const config = { scenario: SCENARIO, setup: setup.name, bootstrap: broker.bootstrap, topic, groupId, sampleMs: 1000 };
  const child = fork(build('bench/soak/worker.js'), [JSON.stringify(config)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: V8_FLAGS,
  });
  children.push(child);
  const run = { setup, child, samples: [], done: undefined, exit: undefined, error: undefined, stderr: '' };
  child.stderr.on('data', (d) => (run.stderr = (run.stderr + d).slice(-2000)));
  child.on('message', (m) => {
    if (m.type === 'sample') run.samples.push(m.sample);
    else if (m.type === 'done') run.done = m;
    else if (m.type === 'error') run.error = m.message;
  });
  run.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      // V8 aborts the process when its heap limit is reached.
      run.exit = signal === 'SIGABRT' || code === 134 ? 'out of memory' : code === 0 ? 'ok' : `exited (code ${code}, signal ${signal})`;
      resolve();
    }),
  );
  return run;
}

async function stopWorker(run) {
  if (run.exit === undefined) {
    run.child.send('stop');
    await Promise.race([run.exited, sleep(15000)]);
    if (run.exit === undefined) run.child.kill('SIGKILL');
  }
  await run.exited;
  if (run.error || (run.exit !== 'ok' && run.exit !== 'out of memory')) {
    throw new Error(`${run.setup.label}: ${run.error ?? run.exit}\n${run.stderr}`);
  }
}

function progress(runs, kcat, t) {
  const eventBytes = kcat.written > 0 ? kcat.bytesWritten / kcat.written : 0;
  const parts = runs.map((r) => {
    const s = r.samples;
    const last = s[s.length - 1];
    const prev = s.length > 5 ? s[s.length - 6] : s[0];
    if (!last) return `${r.setup.label}: starting`;
    if (r.exit && r.exit !== 'ok') return `${r.setup.label}: ${r.exit}`;
    const rate = last.t > prev.t ? ((last.consumed - prev.consumed) * eventBytes) / 1e6 / (last.t - prev.t) : 0;
    return `${r.setup.label}: ${(last.consumed / 1000).toFixed(0)}k msgs ${rate.toFixed(1)} MB/s RSS ${mib(last.rss)} MiB`;
  });
  const line = `[${t.toFixed(0).padStart(3)} s] produced ${(kcat.bytesWritten / 1e6).toFixed(0)} MB | ${parts.join(' | ')}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(process.stdout.columns ? process.stdout.columns - 1 : line.length)}`);
  else if (Math.round(t) % 5 === 0) console.log(line);
}

function figures(run, eventBytes, linearSlope) {
  const s = run.samples;
  const active = s.find((x) => x.consumed > 0)?.t ?? 0;
  const last = s[s.length - 1];
  // The warm-up (group join, first fetches) is left out of the slope, as in the soak.
  const from = active + ((last?.t ?? 0) - active) * 0.2;
  const window = s.filter((x) => x.t >= from);
  const consumed = run.done?.consumed ?? last?.consumed ?? 0;
  const activeS = Math.max(1, (last?.t ?? 1) - active);
  return {
    consumed,
    mbPerSec: (consumed * eventBytes) / 1e6 / activeS,
    peakRss: Math.max(0, ...s.map((x) => x.rss)),
    lastRss: last?.rss ?? 0,
    slope: linearSlope(window.map((x) => [x.t / 60, x.rss / 1e6])),
  };
}

function report(runs, kcat, eventBytes, { lineChartSvg, linearSlope, seconds, out, mbPerSec }) {
  const rows = runs.map((r) => ({ run: r, f: figures(r, eventBytes, linearSlope) }));
  const header = '| set-up | messages | MB/s | peak RSS | RSS at the end | RSS trend after warm-up | outcome |';
  const table = [
    header,
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(({ run, f }) =>
      `| ${run.setup.label} | ${f.consumed.toLocaleString('en-US')} | ${f.mbPerSec.toFixed(1)} | ${mib(f.peakRss)} MiB | ${mib(f.lastRss)} MiB | ${f.slope >= 0 ? '+' : ''}${f.slope.toFixed(0)} MB/min | ${run.exit} |`,
    ),
  ].join('\n');
  console.log(`\nproduced ${(kcat.bytesWritten / 1e6).toFixed(0)} MB of zstd JSON events (${kcat.written.toLocaleString('en-US')} messages) in ${seconds} s\n`);
  console.log(table);

  const svg = lineChartSvg(
    `The same slow consumer, ${SCENARIO} (maxBytes 100 MiB), Node ${process.versions.node}`,
    'seconds',
    'RSS (MiB)',
    rows.map(({ run }, i) => ({ name: `${run.setup.label}: RSS`, color: i, points: run.samples.map((x) => [x.t, x.rss / MiB]), endLabel: run.exit === 'ok' ? undefined : run.exit })),
  );
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'demo.svg'), svg);
  const md = [
    '# `npm run demo`',
    '',
    `Written by \`npm run demo\` (Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}). kcat (librdkafka) streams zstd JSON events`,
    `into librdkafka's mock cluster (up to ${mbPerSec} MB/s, ${(kcat.bytesWritten / 1e6).toFixed(0)} MB in ${seconds} s) while two processes consume them at the same time, each with its own`,
    `consumer group: the soak's "${SCENARIO}" consumer ([soak.md](soak.md)), an \`eachBatch\` handler that processes 20,000`,
    'messages a second, with `maxBytes` 100 MiB and `maxBytesPerPartition` 10 MiB. One process runs plain kafkajs with a',
    'zstd-napi codec; the other adds kafka-arena (`registerCodecs` + `arenaConsumer`, 64 MiB budget, `maxFetchBytes` 16 MiB).',
    `Both run with \`${V8_FLAGS.join(' ')}\`, the V8 settings of a process sized for a container. Messages and MB/s`,
    'count what the handler finished; RSS is sampled every second; the trend is a least-squares line after the warm-up.',
    "The plain consumer's peak depends on how many of the 8 MB batches land in one fetch, so it varies from run to run, up to",
    "V8's heap limit (\"out of memory\"). The soak's target for kafka-arena is its budget + 64 MiB = 128 MiB.",
    '',
    table,
    '',
    '![RSS over time](demo.svg)',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(out, 'demo.md'), md);
  console.log(`\nchart: ${path.relative(process.cwd(), path.join(out, 'demo.svg'))}, report: ${path.relative(process.cwd(), path.join(out, 'demo.md'))}`);
}


module.exports = { peerCodecsProblem };
if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
