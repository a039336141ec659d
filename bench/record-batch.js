"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.run = run;
/**
 * RecordBatch decode: records/s over the same ~1 MiB of records, uncompressed and with each codec,
 * key and value of every record touched. kafka-arena (flyweight cursor) against kafkajs's
 * RecordBatch decoder and @platformatic/kafka's reader.
 *   node build/bench/record-batch.js [--quick]
 */
const node_path_1 = require("node:path");
const src_1 = require("../src");
const lib_1 = require("./lib");
/* eslint-disable @typescript-eslint/no-var-requires */
const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { CompressionCodecs } = require('kafkajs');
let sink = 0;
const keep = new Array(64);
async function run() {
    // kafkajs needs codecs for the compressed rows; give it ours so the rows compare decoding.
    (0, src_1.registerCodecs)(CompressionCodecs);
    let platformatic;
    try {
        // The package exports no subpaths; its reader lives in dist/protocol (build/bench -> root).
        const dist = (0, node_path_1.join)(__dirname, '..', '..', 'node_modules', '@platformatic', 'kafka', 'dist', 'protocol');
        const records = await Promise.resolve(`${(0, node_path_1.join)(dist, 'records.js')}`).then(s => __importStar(require(s)));
        const reader = await Promise.resolve(`${(0, node_path_1.join)(dist, 'reader.js')}`).then(s => __importStar(require(s)));
        platformatic = { readRecordsBatches: records.readRecordsBatches, Reader: reader.Reader };
    }
    catch (err) {
        console.error(`@platformatic/kafka reader unavailable here: ${err.message}`);
    }
    const rand = (0, lib_1.prng)(3);
    const records = [];
    let size = 0;
    for (let i = 0; size < 1 << 20; i++) {
        const key = `user-${Math.floor(rand() * 1e6)}`;
        const value = (0, lib_1.jsonEvent)(rand, i);
        records.push({ key, value, timestamp: 1763700000000 + i });
        size += key.length + value.length + 12;
    }
    const arena = new src_1.Arena({ maxBytes: 64 << 20, trimIntervalMs: 0 });
    const cases = [];
    const names = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    for (const compression of names) {
        const bytes = (0, src_1.encodeRecordBatch)(records, { compression });
        const n = records.length;
        const group = compression === 'none' ? 'uncompressed' : compression;
        const oursLoop = (verifyCrc) => () => {
            const batches = (0, src_1.decodeRecordBatches)(bytes, { arena, verifyCrc });
            let c = 0;
            for (const b of batches) {
                for (const r of b) {
                    const k = r.key;
                    const v = r.value;
                    keep[c & 63] = v;
                    sink += k.length + v.length;
                    c++;
                }
            }
            batches.release();
            if (c !== n)
                throw new Error(`decoded ${c} of ${n}`);
        };
        cases.push({ group, name: 'kafka-arena (CRC checked)', fn: oursLoop(true), records: n });
        cases.push({ group, name: 'kafka-arena (CRC off)', fn: oursLoop(false), records: n });
        cases.push({
            group,
            name: 'kafkajs decoder (no CRC check)',
            fn: () => { },
            asyncFn: async () => {
                const d = await kafkajsDecodeBatch(new KafkajsDecoder(bytes));
                let c = 0;
                for (const r of d.records) {
                    keep[c & 63] = r.value;
                    sink += r.key.length + r.value.length;
                    c++;
                }
                if (c !== n)
                    throw new Error(`kafkajs decoded ${c} of ${n}`);
            },
            records: n,
        });
        if (platformatic && compression === 'none') {
            const p = platformatic;
            cases.push({
                group,
                name: '@platformatic/kafka (no CRC check)',
                fn: () => {
                    let c = 0;
                    for (const b of p.readRecordsBatches(p.Reader.from(bytes))) {
                        for (const r of b.records) {
                            keep[c & 63] = r.value;
                            sink += r.key.length + r.value.length;
                            c++;
                        }
                    }
                    if (c !== n)
                        throw new Error(`platformatic decoded ${c} of ${n}`);
                },
                records: n,
            });
        }
    }
    const results = await (0, lib_1.runCasesAsync)(cases);
    const kj = (g) => results.find((r) => r.group === g && r.name.startsWith('kafkajs')).recordsPerSec;
    const md = [
        `Node ${(0, lib_1.machine)().node}, ${(0, lib_1.machine)().cpu}. ${records.length} records (~1 MiB of JSON events) per batch; M records/s (× kafkajs).`,
        '',
        (0, lib_1.pivotTable)(results, (r) => `${(0, lib_1.fmt)(r.recordsPerSec / 1e6, 2)} (${(0, lib_1.fmt)(r.recordsPerSec / kj(r.group), 1)}×)`, 'batch'),
    ].join('\n');
    (0, lib_1.writeResults)('record-batch', results, md);
    (0, lib_1.writeSvg)('record-batch', (0, lib_1.barChartSvg)('RecordBatch decode, M records/s (higher is better)', 'M records/s', results, (r) => r.recordsPerSec / 1e6));
    arena.close();
    if (sink < 0)
        console.log(sink);
    return md;
}
if (require.main === module) {
    run().then((md) => console.log(md), (err) => {
        console.error(err);
        process.exitCode = 1;
    });
}
