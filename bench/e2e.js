"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.run = run;
/**
 * End-to-end consumer throughput against the mock broker: messages/s and MB/s a kafkajs consumer
 * gets through, per codec (gzip, snappy, lz4, zstd), with
 *   - kafkajs + the popular peer codecs (built-in zlib gzip, kafkajs-snappy, kafkajs-lz4, a
 *     zstd-napi wrapper),
 *   - kafkajs + kafka-arena's codecs (registerCodecs),
 *   - kafkajs + kafka-arena in recycling mode (registerCodecs + arenaConsumer),
 * on the same data: N JSON events pre-produced once per codec by kcat (librdkafka), each
 * consumer reading its topic from offset 0 to the end in a fresh process.
 *
 * It also reports where the time goes: decompression time inside kafkajs (codecStats or a timer
 * around the peer codec), and how fast kafka-arena's own decodeRecordBatches decodes the very
 * same record batches (captured from the fetch responses) — the gap between the two is
 * kafkajs's own decoding, which decompression speed cannot remove.
 *
 *   node build/bench/e2e.js [--quick]
 */
const node_child_process_1 = require("node:child_process");
const kafkajs_1 = require("kafkajs");
const src_1 = require("../src");
const harness_1 = require("../test/broker/harness");
const kcat_1 = require("../test/broker/kcat");
const lib_1 = require("./lib");
const worker_1 = require("./soak/worker");
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];
const SETUPS = ['kafkajs + peer codecs', 'kafkajs + kafka-arena codecs', 'kafkajs + kafka-arena recycling'];
const PARTITIONS = 8;
const MESSAGES = lib_1.QUICK ? 40000 : 200000;
/** Timed runs per (codec, set-up); the best is reported (noisy shared machine). */
const RUNS = lib_1.QUICK ? 1 : 2;
// ---------- worker side ----------
function timedPeerCodecs(stats) {
    (0, worker_1.registerPeerCodecs)();
    const map = kafkajs_1.CompressionCodecs;
    for (const type of [1, 2, 3, 4]) {
        const factory = map[type];
        const codec = factory();
        const wrapped = {
            compress: codec.compress,
            async decompress(b) {
                const t0 = performance.now();
                const out = await codec.decompress(b);
                stats.ms += performance.now() - t0;
                stats.bytes += out.length;
                return out;
            },
        };
        map[type] = () => wrapped;
    }
}
async function consume(job) {
    const peer = { ms: 0, bytes: 0 };
    if (job.setup === 'kafkajs + peer codecs')
        timedPeerCodecs(peer);
    else
        (0, src_1.registerCodecs)(kafkajs_1.CompressionCodecs);
    const fake = { bootstrap: job.bootstrap };
    const kafka = new kafkajs_1.Kafka((0, harness_1.kafkajsClientConfig)(fake, { clientId: 'e2e' }));
    const consumer = kafka.consumer((0, harness_1.kafkajsConsumerConfig)((0, harness_1.uniqueName)('e2e')));
    const arena = job.setup === 'kafkajs + kafka-arena recycling' ? new src_1.Arena() : undefined;
    const ac = arena ? (0, src_1.arenaConsumer)(consumer, { arena }) : undefined;
    const expected = job.expected.reduce((a, b) => a + b, 0);
    let messages = 0;
    let bytes = 0;
    let t0 = 0;
    let t1 = 0;
    let finish = () => undefined;
    const finished = new Promise((r) => (finish = r));
    consumer.on(consumer.events.GROUP_JOIN, () => {
        if (t0 === 0)
            t0 = performance.now();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: job.topics, fromBeginning: true });
    const eachBatch = async ({ batch }) => {
        for (const m of batch.messages)
            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
        messages += batch.messages.length;
        if (messages >= expected && t1 === 0) {
            t1 = performance.now();
            finish();
        }
    };
    if (ac)
        await ac.run({ eachBatch });
    else
        await consumer.run({ eachBatch });
    await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out: ${messages}/${expected}`)), 120000).unref())]);
    await consumer.disconnect();
    ac?.close();
    const stats = (0, src_1.codecStats)()[job.codec];
    return {
        messages,
        bytes,
        ms: t1 - t0,
        decompressMs: arena || job.setup !== 'kafkajs + peer codecs' ? stats.decompressMs : peer.ms,
        decompressedBytes: job.setup === 'kafkajs + peer codecs' ? peer.bytes : stats.decompressBytesOut,
    };
}
/**
 * Consumes every topic once with kafkajs while capturing the raw `records` section of each
 * partition in each fetch response (kafkajs 2.2.4's fetch/v4/decodeMessages, used by every fetch
 * version >= 4), then times decodeRecordBatches over exactly those bytes.
 */
async function capture(job) {
    const sections = new Map();
    // Replace the module before kafkajs loads its fetch response decoders (they load lazily).
    const path = require.resolve('kafkajs/src/protocol/requests/fetch/v4/decodeMessages');
    const original = require(path);
    require.cache[path].exports = async (decoder) => {
        const size = decoder.buffer.readInt32BE(decoder.offset);
        if (size > 0 && decoder.offset + 4 + size <= decoder.buffer.length) {
            const bytes = Buffer.from(decoder.buffer.subarray(decoder.offset + 4, decoder.offset + 4 + size));
            const type = bytes.length > 22 ? bytes.readInt16BE(21) & 7 : 0;
            const list = sections.get(type) ?? [];
            list.push(bytes);
            sections.set(type, list);
        }
        return original(decoder);
    };
    (0, src_1.registerCodecs)(kafkajs_1.CompressionCodecs);
    const fake = { bootstrap: job.bootstrap };
    const consumer = new kafkajs_1.Kafka((0, harness_1.kafkajsClientConfig)(fake, { clientId: 'e2e-capture' })).consumer((0, harness_1.kafkajsConsumerConfig)((0, harness_1.uniqueName)('e2e-capture')));
    const expected = job.expected.reduce((a, b) => a + b, 0);
    let messages = 0;
    let finish = () => undefined;
    const finished = new Promise((r) => (finish = r));
    await consumer.connect();
    await consumer.subscribe({ topics: job.topics, fromBeginning: true });
    await consumer.run({
        eachBatch: async ({ batch }) => {
            messages += batch.messages.length;
            if (messages >= expected)
                finish();
        },
    });
    await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error(`capture timed out: ${messages}/${expected}`)), 120000).unref())]);
    await consumer.disconnect();
    const arena = new src_1.Arena({ trimIntervalMs: 0 });
    const results = [];
    const typeOf = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
    for (const codec of CODECS) {
        const list = sections.get(typeOf[codec]) ?? [];
        const pass = (withArena) => {
            let n = 0;
            let bytes = 0;
            let batches = 0;
            const t0 = performance.now();
            for (const section of list) {
                const decoded = (0, src_1.decodeRecordBatches)(section, withArena ? { arena } : {});
                for (const batch of decoded) {
                    batches++;
                    for (const r of batch) {
                        const k = r.key;
                        const v = r.value;
                        bytes += (k?.length ?? 0) + (v?.length ?? 0);
                        n++;
                    }
                }
                decoded.release();
            }
            return { ms: performance.now() - t0, n, bytes, batches };
        };
        pass(false); // warm-up
        let best = pass(false);
        let bestArena = pass(true);
        for (let i = 1; i < 3; i++) {
            const a = pass(false);
            if (a.ms < best.ms)
                best = a;
            const b = pass(true);
            if (b.ms < bestArena.ms)
                bestArena = b;
        }
        results.push({ codec, batches: best.batches, messages: best.n, bytes: best.bytes, decodeMs: best.ms, decodeArenaMs: bestArena.ms });
    }
    return results;
}
async function workerMain(job) {
    const reply = (m) => new Promise((r) => process.send(m, undefined, {}, () => r()));
    try {
        if (job.mode === 'capture')
            await reply({ type: 'decode', results: await capture(job) });
        else
            await reply({ type: 'result', result: await consume(job) });
        process.exit(0);
    }
    catch (err) {
        await reply({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        process.exit(1);
    }
}
// ---------- parent side ----------
function runWorker(job) {
    return new Promise((resolve, reject) => {
        const child = (0, node_child_process_1.fork)(__filename, ['--worker', JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
        let reply;
        const timer = setTimeout(() => child.kill('SIGKILL'), 180000);
        child.on('message', (m) => (reply = m));
        child.once('error', reject);
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            if (reply?.type === 'error')
                reject(new Error(`e2e worker failed: ${reply.message}`));
            else if (reply)
                resolve(reply);
            else
                reject(new Error(`e2e worker exited without a result (code ${code}, signal ${signal})`));
        });
    });
}
/** Produces MESSAGES distinct JSON events into `topic` with kcat; returns the message count per partition. */
async function produce(broker, topic, codec) {
    const rand = (0, lib_1.prng)(5);
    const messages = [];
    for (let i = 0; i < MESSAGES; i++)
        messages.push((0, lib_1.jsonEvent)(rand, i));
    await (0, kcat_1.kcatProduce)({
        bootstrap: broker.bootstrap,
        topic,
        codec,
        messages,
        // 1 MB batches, spread over every partition.
        properties: { 'batch.size': 1000000, 'linger.ms': 100, 'sticky.partitioning.linger.ms': 0, 'batch.num.messages': 100000 },
        timeoutMs: 120000,
    });
    const admin = new kafkajs_1.Kafka((0, harness_1.kafkajsClientConfig)(broker)).admin();
    await admin.connect();
    try {
        const offsets = await admin.fetchTopicOffsets(topic);
        for (const o of offsets) {
            if (o.low !== '0')
                throw new Error(`${topic} partition ${o.partition} lost data to the mock's retention (low ${o.low})`);
        }
        return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high) - Number(o.low));
    }
    finally {
        await admin.disconnect();
    }
}
/** Runs the benchmark; returns its Markdown report (also written to bench/results/e2e.*). */
async function run() {
    const broker = await (0, harness_1.startBroker)({ brokers: 1 });
    const rows = [];
    let decode = [];
    try {
        const topics = {};
        const counts = {};
        for (const codec of CODECS) {
            const topic = (0, harness_1.uniqueName)(`e2e-${codec}`);
            await broker.createTopic(topic, PARTITIONS);
            topics[codec] = topic;
            counts[codec] = await produce(broker, topic, codec);
        }
        for (const codec of CODECS) {
            for (const setup of SETUPS) {
                let best;
                for (let i = 0; i < RUNS; i++) {
                    const r = await runWorker({ mode: 'consume', setup, codec, bootstrap: broker.bootstrap, topics: [topics[codec]], expected: counts[codec] });
                    if (r.type !== 'result')
                        throw new Error('unexpected reply');
                    if (!best || r.result.ms < best.ms)
                        best = r.result;
                }
                const b = best;
                rows.push({
                    codec,
                    setup,
                    messages: b.messages,
                    mb: b.bytes / 1e6,
                    ms: b.ms,
                    msgsPerSec: (b.messages * 1000) / b.ms,
                    mbPerSec: b.bytes / 1e3 / b.ms,
                    decompressMs: b.decompressMs,
                    decompressShare: b.decompressMs / b.ms,
                });
                console.error(`  e2e ${codec} ${setup}: ${(0, lib_1.fmt)((b.messages * 1000) / b.ms)} msgs/s, decompress ${(0, lib_1.fmt)(b.decompressMs)} of ${(0, lib_1.fmt)(b.ms)} ms`);
            }
        }
        const cap = await runWorker({
            mode: 'capture',
            bootstrap: broker.bootstrap,
            topics: CODECS.map((c) => topics[c]),
            expected: CODECS.flatMap((c) => counts[c]),
        });
        if (cap.type !== 'decode')
            throw new Error('unexpected reply');
        decode = cap.results;
    }
    finally {
        await broker.stop();
    }
    const lines = [];
    lines.push(`End-to-end consumption, mock broker, ${(0, lib_1.fmt)(MESSAGES)} JSON events (~${(0, lib_1.fmt)(rows[0]?.mb ?? 0, 1)} MB of keys+values) per codec, ` +
        `${PARTITIONS} partitions, 1 MB kcat batches; eachBatch touching every message; time from group join to the last message, best of ${RUNS}.`);
    lines.push('');
    lines.push('| codec | setup | msgs/s | MB/s | time (ms) | decompression (ms) | share of time |');
    lines.push('|---|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
        lines.push(`| ${r.codec} | ${r.setup} | ${(0, lib_1.fmt)(r.msgsPerSec)} | ${(0, lib_1.fmt)(r.mbPerSec, 1)} | ${(0, lib_1.fmt)(r.ms)} | ${(0, lib_1.fmt)(r.decompressMs)} | ${(0, lib_1.fmt)(r.decompressShare * 100)} % |`);
    }
    lines.push('');
    lines.push('kafka-arena decodeRecordBatches alone, on the record batches captured from the same fetch responses (CRC check, decompression, reading every key and value):');
    lines.push('');
    lines.push('| codec | batches | msgs | decode → Buffers (msgs/s) | MB/s | decode → arena (msgs/s) | MB/s | vs kafkajs + kafka-arena codecs |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const d of decode) {
        const ours = rows.find((r) => r.codec === d.codec && r.setup === 'kafkajs + kafka-arena codecs');
        const rate = (d.messages * 1000) / d.decodeMs;
        lines.push(`| ${d.codec} | ${(0, lib_1.fmt)(d.batches)} | ${(0, lib_1.fmt)(d.messages)} | ${(0, lib_1.fmt)(rate)} | ${(0, lib_1.fmt)(d.bytes / 1e3 / d.decodeMs, 1)} | ${(0, lib_1.fmt)((d.messages * 1000) / d.decodeArenaMs)} | ${(0, lib_1.fmt)(d.bytes / 1e3 / d.decodeArenaMs, 1)} | ${ours ? `${(0, lib_1.fmt)(rate / ours.msgsPerSec, 1)}×` : '—'} |`);
    }
    lines.push('');
    for (const codec of CODECS) {
        const peer = rows.find((r) => r.codec === codec && r.setup === 'kafkajs + peer codecs');
        const ours = rows.find((r) => r.codec === codec && r.setup === 'kafkajs + kafka-arena codecs');
        const rec = rows.find((r) => r.codec === codec && r.setup === 'kafkajs + kafka-arena recycling');
        const d = decode.find((x) => x.codec === codec);
        if (!peer || !ours || !rec)
            continue;
        const nonDecomp = 100 - ours.decompressShare * 100;
        lines.push(`- ${codec}: kafka-arena codecs ${(0, lib_1.fmt)(ours.msgsPerSec / peer.msgsPerSec, 2)}× the peer codec's msgs/s (recycling ${(0, lib_1.fmt)(rec.msgsPerSec / peer.msgsPerSec, 2)}×); ` +
            `decompression is ${(0, lib_1.fmt)(peer.decompressShare * 100)} % of the time with the peer codec and ${(0, lib_1.fmt)(ours.decompressShare * 100)} % with ours, ` +
            `so ${(0, lib_1.fmt)(nonDecomp)} % is the rest (fetch round trips to the broker, kafkajs's record decoding and message objects)` +
            (d ? `; decodeRecordBatches alone decodes the same batches ${(0, lib_1.fmt)((d.messages * 1000) / d.decodeMs / ours.msgsPerSec, 1)}× faster than kafkajs consumes them.` : '.'));
    }
    const markdown = lines.join('\n');
    const results = rows.map((r) => ({ group: r.codec, name: r.setup, opsPerSec: r.msgsPerSec, rmePercent: 0, samples: RUNS, mbPerSec: r.mbPerSec }));
    for (const d of decode) {
        results.push({ group: d.codec, name: 'decodeRecordBatches alone', opsPerSec: (d.messages * 1000) / d.decodeMs, rmePercent: 0, samples: 3, mbPerSec: d.bytes / 1e3 / d.decodeMs });
    }
    (0, lib_1.writeResults)('e2e', { messages: MESSAGES, partitions: PARTITIONS, runs: RUNS, rows, decode }, markdown);
    (0, lib_1.writeSvg)('e2e', (0, lib_1.barChartSvg)('End-to-end consumption (mock broker): messages/s', 'msgs/s', results, (r) => r.opsPerSec));
    return markdown;
}
if (require.main === module) {
    const i = process.argv.indexOf('--worker');
    if (i >= 0) {
        void workerMain(JSON.parse(process.argv[i + 1]));
    }
    else {
        console.log(`kafka-arena e2e — ${JSON.stringify((0, lib_1.machine)())}`);
        run().then((md) => console.log(md), (err) => {
            console.error(err);
            process.exitCode = 1;
        });
    }
}
