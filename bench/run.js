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
/**
 * `npm run bench [-- --quick]`: every microbenchmark in one go. Each writes its table (.md),
 * figures (.json) and chart (.svg) under bench/results/.
 */
const lib_1 = require("./lib");
const BENCHES = [
    ['arena', () => Promise.resolve().then(() => __importStar(require('./arena')))],
    ['codecs', () => Promise.resolve().then(() => __importStar(require('./codecs')))],
    ['crc32c', () => Promise.resolve().then(() => __importStar(require('./crc32c')))],
    ['record-batch', () => Promise.resolve().then(() => __importStar(require('./record-batch')))],
    ['e2e', () => Promise.resolve().then(() => __importStar(require('./e2e')))],
];
async function main() {
    const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
    console.log(`kafka-arena benchmarks — ${JSON.stringify((0, lib_1.machine)())}`);
    for (const [name, load] of BENCHES) {
        if (only.length > 0 && !only.includes(name))
            continue;
        const t0 = Date.now();
        console.log(`\n## ${name}\n`);
        const mod = await load();
        console.log(await mod.run());
        console.log(`\n(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
}
main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
});
