import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CodecError } from '../errors';
import { Engine, growMemory, Instance } from './kernel';

/**
 * The zstd engine: the WebAssembly binary shipped by `@bokuweb/zstd-wasm` (dist/common/zstd.wasm,
 * libzstd compiled by emscripten for wasm32), run through the kernel layer (kernel.ts).
 *
 * We use only its binary, never its JS glue: the glue's `decompress` mallocs and frees on every
 * call, creates a fresh DCtx inside `ZSTD_decompress` every call, and guesses a 1 MiB output when a
 * frame has no content size. This file supplies the five imports the binary needs and exposes the
 * raw C functions; zstd.ts manages memory around them.
 *
 * Emscripten minifies export and import names. The mapping below was read from the package's
 * dist/common/zstd.js (v0.0.27). Because it is positional and could silently change with a new
 * release, every instance is checked (export kinds and arities, once per process) and runs a
 * behavioural self-test (error-code ABI, compressBound, a fixed frame produced by the zstd CLI, a
 * round trip) before it is used; a mismatch is `ERR_UNSUPPORTED` naming it.
 */

/** Export name -> [C function, parameter count]. `f` is the memory, `u` the function table. */
const EXPORTS = {
  g: ['__wasm_call_ctors', 0],
  h: ['ZSTD_isError', 1],
  i: ['ZSTD_compressBound', 1],
  j: ['ZSTD_createCCtx', 0],
  k: ['ZSTD_freeCCtx', 1],
  l: ['ZSTD_compress_usingDict', 8],
  m: ['ZSTD_compress', 5],
  n: ['ZSTD_createDCtx', 0],
  o: ['ZSTD_freeDCtx', 1],
  p: ['ZSTD_getFrameContentSize', 2],
  q: ['ZSTD_decompress_usingDict', 7],
  r: ['ZSTD_decompress', 4],
  s: ['malloc', 1],
  t: ['free', 1],
} as const;

/** Largest memory a wasm32 emscripten heap can have here (the module declares max 32768 pages). */
const HEAP_MAX = 2 ** 31;

type Fn = (...args: number[]) => number;
type Exports = Record<string, unknown>;

/** The raw libzstd functions of one instance. Pointers and size_t values are wasm32 i32s. */
export interface Libzstd {
  readonly malloc: (n: number) => number;
  readonly free: (ptr: number) => void;
  readonly compressBound: (n: number) => number;
  readonly createCCtx: () => number;
  readonly freeCCtx: (cctx: number) => number;
  /** ZSTD_compress_usingDict(cctx, dst, cap, src, n, dict, dictSize, level). NULL dict = ZSTD_compressCCtx. */
  readonly compressUsingDict: (cctx: number, dst: number, cap: number, src: number, n: number, dict: number, dictSize: number, level: number) => number;
  readonly createDCtx: () => number;
  readonly freeDCtx: (dctx: number) => number;
  /**
   * ZSTD_decompress_usingDict(dctx, dst, cap, src, n, dict, dictSize). With a NULL dict it is
   * ZSTD_decompressDCtx (which this build does not export): every frame of `src`, concatenated and
   * skippable ones included, decoded into `dst` with a reused DCtx.
   */
  readonly decompressUsingDict: (dctx: number, dst: number, cap: number, src: number, n: number, dict: number, dictSize: number) => number;
  readonly isError: (code: number) => number;
}

/** A buffer malloc'd in the instance's heap (`ptr` 0 until made). */
export interface Staging {
  ptr: number;
  cap: number;
}

/** What an instance keeps between calls: its functions, its contexts (0 until made) and its staging buffers. */
export interface ZstdState {
  readonly fn: Libzstd;
  dctx: number;
  cctx: number;
  readonly input: Staging;
  readonly output: Staging;
}

export type ZstdInstance = Instance<Exports, ZstdState>;

let wasmPath: string | undefined;

/** Absolute path of the binary inside node_modules (never copied into this package). */
export function bokuwebZstdPath(): string {
  if (wasmPath === undefined) {
    let main: string;
    try {
      // The package's "exports" map exposes only its entry point (dist/common/index.node.js, next
      // to zstd.wasm); resolving it does not load it.
      main = require.resolve('@bokuweb/zstd-wasm');
    } catch (cause) {
      throw new CodecError('zstd', 'ERR_UNSUPPORTED', 'the zstd codec needs the @bokuweb/zstd-wasm package, which is not installed', { cause });
    }
    wasmPath = join(dirname(main), 'zstd.wasm');
  }
  return wasmPath;
}

function unsupported(path: string, message: string, cause?: unknown): CodecError {
  return new CodecError('zstd', 'ERR_UNSUPPORTED', `the zstd WebAssembly binary at ${path} is not the @bokuweb/zstd-wasm build this loader expects: ${message}`, { cause });
}

/** Is a size_t result (read back as an i32) a zstd error code? Mirrors ZSTD_isError: r > (size_t)-120. */
export function isZstdError(r: number): boolean {
  return (r >>> 0) > 0xffffff88;
}

function compile(path: string): WebAssembly.Module {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new CodecError('zstd', 'ERR_UNSUPPORTED', `cannot read the zstd WebAssembly binary at ${path}`, { cause });
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (cause) {
    throw unsupported(path, 'it does not compile', cause);
  }
  checkShape(module, path);
  return module;
}

/** Emscripten's imports, by minified name (from zstd.js `wasmImports`). */
function imports(memory: () => WebAssembly.Memory): WebAssembly.Imports {
  const trap = (what: string) => {
    throw new WebAssembly.RuntimeError(`zstd wasm: ${what}`);
  };
  return {
    a: {
      a: (code: number) => trap(`proc_exit(${code})`), // _proc_exit
      b: () => {}, // _emscripten_runtime_keepalive_clear
      c: () => trap('abort()'), // __abort_js
      d: () => 0, // __setitimer_js: timers are never armed by libzstd
      // _emscripten_resize_heap(requestedSize): malloc asks for more memory; 1 = granted.
      e: (requested: number) => (growMemory(memory(), requested >>> 0, HEAP_MAX) ? 1 : 0),
    },
  };
}

function init(k: ZstdInstance, path: string): ZstdState {
  const fn = (name: keyof typeof EXPORTS) => k.exports[name] as Fn;
  try {
    fn('g')(); // static constructors
  } catch (cause) {
    throw unsupported(path, 'its constructors trapped', cause);
  }
  const z: Libzstd = {
    isError: fn('h'),
    compressBound: fn('i'),
    createCCtx: fn('j'),
    freeCCtx: fn('k'),
    compressUsingDict: fn('l'),
    createDCtx: fn('n'),
    freeDCtx: fn('o'),
    decompressUsingDict: fn('q'),
    malloc: fn('s'),
    free: fn('t') as (ptr: number) => void,
  };
  selfTest(z, k, path);
  return { fn: z, dctx: 0, cctx: 0, input: { ptr: 0, cap: 0 }, output: { ptr: 0, cap: 0 } };
}

/** An engine over the binary at `path` (default: the installed package's). */
export function zstdEngine(path: string = bokuwebZstdPath()): Engine<Exports, ZstdState> {
  return new Engine<Exports, ZstdState>({
    codec: 'zstd',
    module: () => compile(path),
    imports,
    memoryExport: 'f',
    init: (k) => init(k, path),
  });
}

/**
 * For tests and benchmarks: a fresh, self-tested instance of the binary outside the codec's
 * engine, its libzstd functions with `heap` (the instance, for `heap.u8()`).
 */
export function loadBokuwebZstd(path?: string): Libzstd & { heap: ZstdInstance } {
  const k = zstdEngine(path).run((i) => i, 'ERR_UNSUPPORTED');
  return { ...k.state.fn, heap: k };
}

/** Export kinds and arities, checked once per process. */
function checkShape(module: WebAssembly.Module, path: string): void {
  const kinds = new Map(WebAssembly.Module.exports(module).map((d) => [d.name, d.kind]));
  if (kinds.get('f') !== 'memory') throw unsupported(path, 'export "f" is not the memory');
  for (const [name, [cName]] of Object.entries(EXPORTS)) {
    if (kinds.get(name) !== 'function') throw unsupported(path, `export "${name}" (${cName}) is missing or not a function`);
  }
  const imports = WebAssembly.Module.imports(module);
  const names = imports.map((i) => `${i.module}.${i.name}`).sort().join(',');
  if (names !== 'a.a,a.b,a.c,a.d,a.e') throw unsupported(path, `unexpected imports ${names}`);
}

/**
 * A frame made by `printf 'kafka-arena zstd self-test, kafka-arena zstd self-test.' | zstd -19 --check -c`:
 * no content size (stdin), a checksum, one compressed block with a repeat match.
 */
const CLI_FRAME = Buffer.from('KLUv/QRoHQEA6GthZmthLWFyZW5hIHpzdGQgc2VsZi10ZXN0LCAuAQC8PZ3Ohbab', 'base64');
const CLI_TEXT = 'kafka-arena zstd self-test, kafka-arena zstd self-test.';

/** Behavioural checks: if the positional mapping were wrong, one of these fails loudly. */
function selfTest(z: Libzstd, heap: ZstdInstance, path: string): void {
  const fail = (what: string) => {
    throw unsupported(path, `self-test failed: ${what}`);
  };
  try {
    for (const [f, name] of [[z.malloc, 'malloc'], [z.compressUsingDict, 'ZSTD_compress_usingDict'], [z.decompressUsingDict, 'ZSTD_decompress_usingDict']] as const) {
      const want = Object.values(EXPORTS).find(([n]) => n === name)![1];
      if (f.length !== want) fail(`${name} takes ${f.length} parameters, expected ${want}`);
    }
    // size_t error codes come back as small negative i32s: ZSTD_isError((size_t)-20) is 1.
    if (z.isError(-20) !== 1 || z.isError(0) !== 0 || z.isError(1000) !== 0 || z.isError(-120) !== 0) fail('ZSTD_isError');
    if (isZstdError(-120) || !isZstdError(-119) || !isZstdError(-1)) fail('isZstdError');
    // ZSTD_COMPRESSBOUND(1000) = 1000 + (1000 >> 8) + ((128 KiB - 1000) >> 11) = 1066
    if (z.compressBound(1000) !== 1066) fail(`ZSTD_compressBound(1000) = ${z.compressBound(1000)}`);

    const text = Buffer.from(CLI_TEXT);
    const dctx = z.createDCtx();
    const cctx = z.createCCtx();
    const src = z.malloc(256);
    const dst = z.malloc(256);
    if (dctx === 0 || cctx === 0 || src === 0 || dst === 0 || src === dst) fail('allocation');
    try {
      // 1. A frame from the reference CLI decodes to the expected text.
      heap.u8().set(CLI_FRAME, src);
      let n = z.decompressUsingDict(dctx, dst, 256, src, CLI_FRAME.length, 0, 0);
      if (n !== text.length || !text.equals(heap.u8().subarray(dst, dst + n))) fail('decoding a CLI frame');
      // 2. A short destination is reported as dstSize_tooSmall (70).
      n = z.decompressUsingDict(dctx, dst, 10, src, CLI_FRAME.length, 0, 0);
      if (n !== -70) fail(`short destination gave ${n}, expected -70`);
      // 3. Our level-3 output round-trips and is a zstd frame with the content size.
      heap.u8().set(text, src);
      const c = z.compressUsingDict(cctx, dst, 256, src, text.length, 0, 0, 3);
      if (isZstdError(c) || c < 6) fail(`compress returned ${c}`);
      const u8 = heap.u8();
      if (u8[dst] !== 0x28 || u8[dst + 1] !== 0xb5 || u8[dst + 2] !== 0x2f || u8[dst + 3] !== 0xfd) fail('compressed output has no zstd magic');
      u8.copyWithin(src, dst, dst + c);
      n = z.decompressUsingDict(dctx, dst, 256, src, c, 0, 0);
      if (n !== text.length || !text.equals(heap.u8().subarray(dst, dst + n))) fail('round trip');
    } finally {
      z.free(src);
      z.free(dst);
      z.freeCCtx(cctx);
      z.freeDCtx(dctx);
    }
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw unsupported(path, 'self-test trapped', err);
  }
}
