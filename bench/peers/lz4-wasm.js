"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.loadLz4Wasm = loadLz4Wasm;
/**
 * Loads the `lz4-wasm` package in Node. It ships only a bundler build (`import * as wasm from
 * './lz4_wasm_bg.wasm'`), which Node cannot import, so this evaluates its JS glue with that one
 * import replaced and instantiates the .wasm itself. Benchmark peer only: kafka-arena does not use
 * it at run time (see the README for the measurements that decided that).
 */
const node_fs_1 = require("node:fs");
const node_path_1 = require("node:path");
async function loadLz4Wasm() {
    const dir = (0, node_path_1.dirname)(require.resolve('lz4-wasm/package.json'));
    const glue = (0, node_fs_1.readFileSync)((0, node_path_1.join)(dir, 'lz4_wasm_bg.js'), 'utf8').replace("import * as wasm from './lz4_wasm_bg.wasm';", 'let wasm; export function __setWasm(w) { wasm = w; }');
    // A real dynamic import (tsc would turn `import()` into `require()` under CommonJS).
    const dynamicImport = new Function('specifier', 'return import(specifier)');
    const mod = (await dynamicImport(`data:text/javascript;base64,${Buffer.from(glue).toString('base64')}`));
    const instance = new WebAssembly.Instance(new WebAssembly.Module((0, node_fs_1.readFileSync)((0, node_path_1.join)(dir, 'lz4_wasm_bg.wasm'))), { './lz4_wasm_bg.js': mod });
    mod.__setWasm(instance.exports);
    return mod;
}
