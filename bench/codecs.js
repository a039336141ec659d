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
 * Codec benchmark: decompression and compression MB/s (of uncompressed bytes) on JSON events at
 * 4 KiB, 16 KiB, 256 KiB and 1 MiB, kafka-arena (arena path: decompress into a lease, release)
 * against every peer, in one process.
 *   node build/bench/codecs.js [--quick]
 */
const zlib = __importStar(require("node:zlib"));
const src_1 = require("../src");
const lz4_wasm_1 = require("./peers/lz4-wasm");
const lib_1 = require("./lib");
/* eslint-disable @typescript-eslint/no-var-requires */
const zstdNapi = require('zstd-napi');
const fzstd = require('fzstd');
const lz4Addon = require('lz4');
const lz4js = require('lz4js');
const snappyNapi = require('snappy');
const snappyjs = require('snappyjs');
const wasmUtils = require('@platformatic/wasm-utils');
function ours(codec, arena, level) {
    return {
        name: 'kafka-arena',
        decompress: (input) => {
            const lease = codec.decompress(input, { arena });
            lease.release();
        },
        compress: (raw) => codec.compress(raw, level === undefined ? undefined : { level }),
    };
}
async function loadBokuweb() {
    const boku = require('@bokuweb/zstd-wasm');
    await boku.init();
    return boku;
}
async function run() {
    const arena = new src_1.Arena({ maxBytes: 64 << 20, trimIntervalMs: 0 });
    const boku = await loadBokuweb();
    const lz4wasm = await (0, lz4_wasm_1.loadLz4Wasm)();
    const zstdNode = zlib;
    const only = process.argv.find((a) => a.startsWith('--codec='))?.slice('--codec='.length);
    const codecs = [
        {
            codec: 'zstd',
            input: (raw) => zstdNapi.compress(raw, { compressionLevel: 3 }),
            peers: [
                ours(src_1.zstd, arena, 3),
                { name: '@bokuweb/zstd-wasm', decompress: (b) => void boku.decompress(b), compress: (raw) => Buffer.from(boku.compress(raw, 3)) },
                { name: 'zstd-napi (native)', decompress: (b) => void zstdNapi.decompress(b), compress: (raw) => zstdNapi.compress(raw, { compressionLevel: 3 }) },
                { name: 'fzstd', decompress: (b) => void fzstd.decompress(b) },
                ...(zstdNode.zstdDecompressSync
                    ? [{ name: 'node:zlib zstd (native)', decompress: (b) => void zstdNode.zstdDecompressSync(b), compress: (raw) => zstdNode.zstdCompressSync(raw) }]
                    : []),
            ],
        },
        {
            codec: 'lz4',
            // Frames as the Java producer writes them: 64 KiB independent blocks. (The lz4 addon's own
            // encoder writes 4 MiB blocks, which makes block-buffer-allocating decoders look slow at
            // small sizes for a reason Kafka traffic does not have.)
            input: (raw) => src_1.lz4.compress(raw),
            peers: [
                ours(src_1.lz4, arena),
                { name: '@platformatic/wasm-utils', decompress: (b) => void wasmUtils.lz4Decompress(b), compress: (raw) => wasmUtils.lz4Compress(raw) },
                { name: 'lz4 addon (kafkajs-lz4)', decompress: (b) => void lz4Addon.decode(b), compress: (raw) => lz4Addon.encode(raw) },
                { name: 'lz4js', decompress: (b) => void lz4js.decompress(b), compress: (raw) => Buffer.from(lz4js.compress(raw)) },
                {
                    name: 'lz4-wasm (size-prefixed block)',
                    input: (raw) => lz4wasm.compress(raw),
                    decompress: (b) => void lz4wasm.decompress(b),
                    compress: (raw) => Buffer.from(lz4wasm.compress(raw)),
                },
            ],
        },
        {
            codec: 'snappy',
            input: (raw) => snappyNapi.compressSync(raw),
            peers: [
                ours(src_1.snappy, arena),
                { name: '@platformatic/wasm-utils', decompress: (b) => void wasmUtils.snappyDecompress(b), compress: (raw) => wasmUtils.snappyCompress(raw) },
                { name: 'snappyjs (kafkajs-snappy)', decompress: (b) => void snappyjs.uncompress(b), compress: (raw) => Buffer.from(snappyjs.compress(raw)) },
                { name: 'snappy (napi)', decompress: (b) => void snappyNapi.uncompressSync(b), compress: (raw) => snappyNapi.compressSync(raw) },
            ],
        },
        {
            codec: 'gzip',
            input: (raw) => zlib.gzipSync(raw),
            peers: [ours(src_1.gzip, arena), { name: 'zlib.gunzipSync', decompress: (b) => void zlib.gunzipSync(b), compress: (raw) => zlib.gzipSync(raw) }],
        },
    ];
    const sections = [`Node ${(0, lib_1.machine)().node}, ${(0, lib_1.machine)().cpu}, ${(0, lib_1.machine)().cores} cores. MB/s of uncompressed bytes; ratio = ours ÷ peer.`];
    const all = {};
    for (const { codec, input, peers } of codecs.filter((c) => !only || only.split(',').includes(c.codec))) {
        const dCases = [];
        const cCases = [];
        const ratios = {};
        for (const [label, size] of lib_1.SIZES) {
            const raw = (0, lib_1.jsonEvents)(size);
            const compressed = input(raw);
            for (const p of peers) {
                const own = p.input ? Buffer.from(p.input(raw)) : compressed;
                if (p.decompress)
                    dCases.push({ group: label, name: p.name, fn: () => p.decompress(own, size), bytes: size });
                if (p.compress) {
                    const out = p.compress(raw);
                    ratios[`${label}|${p.name}`] = raw.length / out.length;
                    cCases.push({ group: label, name: p.name, fn: () => void p.compress(raw), bytes: size });
                }
            }
        }
        const decompress = (0, lib_1.runCases)(dCases);
        const compress = (0, lib_1.runCases)(cCases);
        all[codec] = { decompress, compress, ratios };
        const oursOf = (rs, g) => rs.find((r) => r.group === g && r.name === 'kafka-arena')?.mbPerSec ?? NaN;
        const cellWithRatio = (rs) => (r) => r.name === 'kafka-arena' ? `**${(0, lib_1.fmt)(r.mbPerSec)}**` : `${(0, lib_1.fmt)(r.mbPerSec)} (${(0, lib_1.fmt)(oursOf(rs, r.group) / (r.mbPerSec ?? NaN), 2)}×)`;
        sections.push(`### ${codec}: decompress MB/s (ours ÷ peer)\n\n${(0, lib_1.pivotTable)(decompress, cellWithRatio(decompress), 'size')}`);
        sections.push(`### ${codec}: compress MB/s and ratio\n\n${(0, lib_1.pivotTable)(compress, (r) => `${(0, lib_1.fmt)(r.mbPerSec)} · ${(0, lib_1.fmt)(ratios[`${r.group}|${r.name}`], 2)}×`, 'size')}`);
        (0, lib_1.writeSvg)(`codecs-${codec}-decompress`, (0, lib_1.barChartSvg)(`${codec} decompression, MB/s (higher is better)`, 'MB/s', decompress, (r) => r.mbPerSec));
        (0, lib_1.writeResults)(`codecs-${codec}`, all[codec], [sections[0], ...sections.slice(-2)].join('\n\n'));
    }
    const md = sections.join('\n\n');
    if (!only)
        (0, lib_1.writeResults)('codecs', all, md);
    arena.close();
    return md;
}
if (require.main === module) {
    run().then((md) => console.log(md), (err) => {
        console.error(err);
        process.exitCode = 1;
    });
}
