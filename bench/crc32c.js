"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.run = run;
/**
 * CRC-32C GB/s at 1 KiB, 64 KiB and 1 MiB: kafka-arena (WASM slicing-by-16, TypeScript below 128
 * bytes) against @platformatic/wasm-utils and kafkajs's JavaScript table.
 *   node build/bench/crc32c.js [--quick]
 */
const node_crypto_1 = require("node:crypto");
const src_1 = require("../src");
const lib_1 = require("./lib");
/* eslint-disable @typescript-eslint/no-var-requires */
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C');
const wasmUtils = require('@platformatic/wasm-utils');
function run() {
    const cases = [];
    for (const [label, size] of [['1 KiB', 1024], ['64 KiB', 64 * 1024], ['1 MiB', 1024 * 1024]]) {
        const data = (0, node_crypto_1.randomBytes)(size);
        const expect = (0, src_1.crc32c)(data);
        if (kafkajsCrc32C(data) !== expect || wasmUtils.crc32c(data) >>> 0 !== expect)
            throw new Error('CRC-32C implementations disagree');
        cases.push({ group: label, name: 'kafka-arena', fn: () => void (0, src_1.crc32c)(data), bytes: size });
        cases.push({ group: label, name: '@platformatic/wasm-utils', fn: () => void wasmUtils.crc32c(data), bytes: size });
        cases.push({ group: label, name: 'kafkajs (JS)', fn: () => void kafkajsCrc32C(data), bytes: size });
    }
    const results = (0, lib_1.runCases)(cases);
    const oursOf = (g) => results.find((r) => r.group === g && r.name === 'kafka-arena').mbPerSec;
    const md = [
        `Node ${(0, lib_1.machine)().node}, ${(0, lib_1.machine)().cpu}. GB/s (ours ÷ peer).`,
        '',
        (0, lib_1.pivotTable)(results, (r) => (r.name === 'kafka-arena' ? `**${(0, lib_1.fmt)(r.mbPerSec / 1000, 2)}**` : `${(0, lib_1.fmt)(r.mbPerSec / 1000, 2)} (${(0, lib_1.fmt)(oursOf(r.group) / r.mbPerSec, 2)}×)`), 'size'),
    ].join('\n');
    (0, lib_1.writeResults)('crc32c', results, md);
    (0, lib_1.writeSvg)('crc32c', (0, lib_1.barChartSvg)('CRC-32C, GB/s (higher is better)', 'GB/s', results, (r) => r.mbPerSec / 1000));
    return md;
}
if (require.main === module)
    console.log(run());
