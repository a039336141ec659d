/**
 * Loads the `lz4-wasm` package in Node. It ships only a bundler build (`import * as wasm from
 * './lz4_wasm_bg.wasm'`), which Node cannot import, so this evaluates its JS glue with that one
 * import replaced and instantiates the .wasm itself. Benchmark peer only: kafka-arena does not use
 * it at run time (see the README for the measurements that decided that).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Lz4Wasm {
  compress(input: Uint8Array): Uint8Array;
  decompress(input: Uint8Array): Uint8Array;
}

export async function loadLz4Wasm(): Promise<Lz4Wasm> {
  const dir = dirname(require.resolve('lz4-wasm/package.json'));
  const glue = readFileSync(join(dir, 'lz4_wasm_bg.js'), 'utf8').replace(
    "import * as wasm from './lz4_wasm_bg.wasm';",
    'let wasm; export function __setWasm(w) { wasm = w; }',
  );
  // A real dynamic import (tsc would turn `import()` into `require()` under CommonJS).
  const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;
  const mod = (await dynamicImport(`data:text/javascript;base64,${Buffer.from(glue).toString('base64')}`)) as Record<string, unknown> & { __setWasm(w: unknown): void };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(dir, 'lz4_wasm_bg.wasm'))), { './lz4_wasm_bg.js': mod });
  mod.__setWasm(instance.exports);
  return mod as unknown as Lz4Wasm;
}
