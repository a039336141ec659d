"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.registerPeerCodecs = registerPeerCodecs;
/**
 * One soak setup in a fresh process (forked by run.ts with an IPC channel): the scenario's
 * consumer or producer, with either plain kafkajs + the usual peer codecs or kafka-arena.
 * Samples process.memoryUsage() every second and sends it to the parent; on 'stop' it shuts
 * down, reports its totals and exits.
 */
const kafkajs_1 = require("kafkajs");
const src_1 = require("../../src");
const harness_1 = require("../../test/broker/harness");
const lib_1 = require("../lib");
const scenarios_1 = require("./scenarios");
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
/* eslint-disable @typescript-eslint/no-var-requires */
/** The codecs a kafkajs user installs: kafkajs-lz4, kafkajs-snappy and a zstd-napi wrapper (GZIP is built in). */
function registerPeerCodecs() {
    const LZ4Codec = require('kafkajs-lz4');
    const SnappyCodec = require('kafkajs-snappy');
    const zstdNapi = require('zstd-napi');
    const codecs = kafkajs_1.CompressionCodecs;
    codecs[kafkajs_1.CompressionTypes.LZ4] = new LZ4Codec().codec;
    codecs[kafkajs_1.CompressionTypes.Snappy] = SnappyCodec;
    // What @kafkajs/zstd and the hand-written wrappers in the wild do: native one-shot calls.
    const zstdCodec = {
        async compress(encoder) {
            return zstdNapi.compress(encoder.buffer, { compressionLevel: 3 });
        },
        async decompress(buffer) {
            return zstdNapi.decompress(buffer);
        },
    };
    codecs[kafkajs_1.CompressionTypes.ZSTD] = () => zstdCodec;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function send(msg) {
    return new Promise((resolve) => {
        if (!process.send)
            return resolve();
        process.send(msg, undefined, {}, () => resolve());
    });
}
const PURCHASE = Buffer.from('"event":"purchase"');
async function main(config) {
    const scenario = scenarios_1.SCENARIOS.find((s) => s.name === config.scenario);
    if (!scenario)
        throw new Error(`unknown scenario ${config.scenario}`);
    const arenaMode = config.setup === 'kafka-arena';
    if (arenaMode)
        (0, src_1.registerCodecs)(kafkajs_1.CompressionCodecs);
    else
        registerPeerCodecs();
    const t0 = performance.now();
    const fakeBroker = { bootstrap: config.bootstrap };
    const kafka = new kafkajs_1.Kafka((0, harness_1.kafkajsClientConfig)(fakeBroker, { clientId: `soak-${config.setup}` }));
    const arena = arenaMode ? new src_1.Arena() : undefined;
    const sampler = setInterval(() => {
        const m = process.memoryUsage();
        const sample = {
            t: (performance.now() - t0) / 1000,
            rss: m.rss,
            heapUsed: m.heapUsed,
            heapTotal: m.heapTotal,
            external: m.external,
            arrayBuffers: m.arrayBuffers,
            consumed: running?.consumed() ?? 0,
            produced: running?.produced() ?? 0,
            extra: { ...(running?.extra() ?? {}), ...(arena ? arenaGauges(arena) : {}) },
        };
        void send({ type: 'sample', sample });
    }, config.sampleMs);
    let running;
    if (scenario.name === 'producer-rtt')
        running = await runProducer(kafka, config, arenaMode);
    else
        running = await runConsumer(kafka, config, arena);
    await new Promise((resolve) => process.once('message', () => resolve()));
    clearInterval(sampler);
    const extra = await running.stop();
    await send({ type: 'done', consumed: running.consumed(), produced: running.produced(), extra });
}
function arenaGauges(arena) {
    const s = arena.stats();
    return { arenaLeasedBytes: s.leasedBytes, arenaIdleBytes: s.idleBytes, arenaOverBudget: s.overBudget };
}
async function runConsumer(kafka, config, arena) {
    const scenario = scenarios_1.SCENARIOS.find((s) => s.name === config.scenario);
    const consumer = kafka.consumer((0, harness_1.kafkajsConsumerConfig)(config.groupId, {
        ...(scenario.maxBytes ? { maxBytes: scenario.maxBytes } : {}),
        ...(scenario.maxBytesPerPartition ? { maxBytesPerPartition: scenario.maxBytesPerPartition } : {}),
    }));
    let consumed = 0;
    let crashes = 0;
    consumer.on(consumer.events.CRASH, () => crashes++);
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
    const ac = arena ? (0, src_1.arenaConsumer)(consumer, { arena }) : undefined;
    // In recycling mode the handlers go through the helper (lease release, retainBatch).
    const run = (cfg) => (ac ? ac.run(cfg) : consumer.run(cfg));
    const gauges = {};
    const cleanup = [];
    switch (config.scenario) {
        case 'slow-consumer':
        case 'large-fetch': {
            await run({
                eachBatch: async ({ batch, heartbeat }) => {
                    let bytes = 0;
                    for (const m of batch.messages)
                        bytes += m.value?.length ?? 0;
                    if (bytes < 0)
                        throw new Error('unreachable');
                    // One sleep per batch, as long as the batch takes at the handler's speed.
                    await sleep((batch.messages.length / scenarios_1.SLOW_HANDLER_MSGS_PER_SEC) * 1000);
                    consumed += batch.messages.length;
                    await heartbeat();
                },
            });
            break;
        }
        case 'kept-keys': {
            const cache = new Map();
            let duplicates = 0;
            gauges.cacheEntries = () => cache.size;
            gauges.duplicates = () => duplicates;
            await run({
                eachMessage: async ({ message }) => {
                    consumed++;
                    if (!message.key || !message.value || !message.value.includes(PURCHASE))
                        return;
                    const id = message.key.toString('latin1');
                    if (cache.has(id)) {
                        duplicates++;
                        return;
                    }
                    // The baseline keeps the view kafkajs hands out; kafka-arena's contract says copy.
                    cache.set(id, arena ? Buffer.from(message.key) : message.key);
                    if (cache.size > scenarios_1.DEDUPE_CACHE_ENTRIES)
                        cache.delete(cache.keys().next().value);
                },
            });
            break;
        }
        case 'pipeline-queue': {
            let stopped = false;
            if (arena) {
                const queue = new src_1.ByteQueue({ capacityBytes: scenarios_1.PIPELINE_QUEUE_BYTES });
                gauges.queueBytes = () => queue.bytes;
                gauges.queueMessages = () => {
                    let n = 0;
                    // ByteQueue has no per-item view; report batches instead of messages.
                    n = queue.length;
                    return n;
                };
                const processor = (async () => {
                    for (;;) {
                        const item = await queue.shift();
                        if (item === undefined)
                            return;
                        await processMessages(item.messages.length, (n) => (consumed += n), () => stopped);
                        item.release();
                    }
                })();
                await run({
                    eachBatch: async ({ batch, retainBatch, heartbeat, }) => {
                        let bytes = 0;
                        for (const m of batch.messages)
                            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
                        const release = retainBatch();
                        const pushed = queue.push({ messages: batch.messages, release }, bytes);
                        // Waiting for room can take longer than a heartbeat interval: keep the session alive.
                        const hb = setInterval(() => void heartbeat().catch(() => undefined), 1000);
                        try {
                            await pushed;
                        }
                        catch (err) {
                            release();
                            throw err;
                        }
                        finally {
                            clearInterval(hb);
                        }
                    },
                });
                cleanup.push(async () => {
                    stopped = true;
                    queue.close();
                    for (const item of queue.drain())
                        item.release();
                    await processor;
                });
            }
            else {
                const queue = [];
                let head = 0;
                gauges.queueMessages = () => queue.length - head;
                const processor = (async () => {
                    while (!stopped) {
                        const n = Math.min(1000, queue.length - head);
                        if (n === 0) {
                            await sleep(10);
                            continue;
                        }
                        // Drop references as they are processed (compact now and then).
                        for (let i = 0; i < n; i++)
                            queue[head + i] = undefined;
                        head += n;
                        if (head > 100000 && head * 2 > queue.length) {
                            queue.splice(0, head);
                            head = 0;
                        }
                        await processMessages(n, (k) => (consumed += k), () => stopped);
                    }
                })();
                await run({
                    eachBatch: async ({ batch }) => {
                        for (const m of batch.messages)
                            queue.push(m);
                    },
                });
                cleanup.push(async () => {
                    stopped = true;
                    await processor;
                });
            }
            break;
        }
        default:
            throw new Error(`no consumer for ${config.scenario}`);
    }
    return {
        consumed: () => consumed,
        produced: () => 0,
        extra: () => {
            const out = { crashes };
            for (const [k, f] of Object.entries(gauges))
                out[k] = f();
            if (ac) {
                const s = ac.stats();
                out.pauses = s.pauses;
                out.leasesHeld = s.held;
            }
            return out;
        },
        stop: async () => {
            for (const c of cleanup)
                await c();
            await consumer.disconnect();
            const extra = { crashes };
            if (ac) {
                extra.arenaConsumer = ac.stats();
                ac.close();
            }
            if (arena)
                extra.arena = arena.stats();
            return extra;
        },
    };
}
/** The processor's work: `n` messages at SLOW_HANDLER_MSGS_PER_SEC, in slices of 1000. */
async function processMessages(n, done, stopped) {
    for (let i = 0; i < n && !stopped(); i += 1000) {
        const k = Math.min(1000, n - i);
        await sleep((k / scenarios_1.SLOW_HANDLER_MSGS_PER_SEC) * 1000);
        done(k);
    }
}
async function runProducer(kafka, config, arenaMode) {
    // One request in flight per connection: with the RTT, the broker accepts one send per 200 ms.
    const producer = kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 1 });
    await producer.connect();
    // A pool of distinct events; every send carries fresh Buffers, as data read from a source would.
    const rand = (0, lib_1.prng)(11);
    const pool = [];
    for (let i = 0; i < 20000; i++)
        pool.push((0, lib_1.jsonEvent)(rand, i));
    let cursor = 0;
    const record = () => {
        const messages = new Array(scenarios_1.PRODUCER_RECORD_MESSAGES);
        for (let i = 0; i < scenarios_1.PRODUCER_RECORD_MESSAGES; i++) {
            messages[i] = { value: Buffer.from(pool[cursor]) };
            cursor = (cursor + 1) % pool.length;
        }
        return { topic: config.topic, compression: kafkajs_1.CompressionTypes.ZSTD, messages };
    };
    let acked = 0;
    let failed = 0;
    let pending = 0;
    let stopped = false;
    let loops = [];
    const bounded = arenaMode ? (0, src_1.boundedProducer)(producer) : undefined;
    if (bounded) {
        loops = Array.from({ length: scenarios_1.PRODUCER_SENDERS }, async () => {
            while (!stopped) {
                try {
                    await bounded.send(record());
                    acked += scenarios_1.PRODUCER_RECORD_MESSAGES;
                }
                catch {
                    failed += scenarios_1.PRODUCER_RECORD_MESSAGES;
                }
            }
        });
    }
    else {
        loops = [
            (async () => {
                while (!stopped) {
                    pending++;
                    producer.send(record()).then(() => {
                        pending--;
                        acked += scenarios_1.PRODUCER_RECORD_MESSAGES;
                    }, () => {
                        pending--;
                        failed += scenarios_1.PRODUCER_RECORD_MESSAGES;
                    });
                    // Yield to I/O between sends, as a source loop reading input would.
                    await new Promise((r) => setImmediate(r));
                }
            })(),
        ];
    }
    return {
        consumed: () => 0,
        produced: () => acked,
        extra: () => {
            const out = { failedMessages: failed };
            if (bounded) {
                const s = bounded.stats();
                out.inFlightBytes = s.inFlightBytes;
                out.inFlightRequests = s.inFlightRequests;
            }
            else {
                out.pendingSends = pending;
            }
            return out;
        },
        stop: async () => {
            stopped = true;
            // Sends still pending are abandoned: the point is the memory they held, not their fate.
            await Promise.race([Promise.all(loops), sleep(2000)]);
            await Promise.race([producer.disconnect(), sleep(3000)]);
            return { failedMessages: failed, pendingSends: pending, bounded: bounded?.stats() };
        },
    };
}
if (require.main === module) {
    const config = JSON.parse(process.argv[2] ?? '{}');
    process.on('disconnect', () => process.exit(0));
    main(config).then(() => process.exit(0), async (err) => {
        await send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        process.exit(1);
    });
}
