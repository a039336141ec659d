import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CodecError, ErrorCode, KafkaArenaError } from '../errors';

/**
 * The one layer between kafka-arena and its WebAssembly engines (lz4, snappy and CRC-32C built
 * from wasm/src/ by wasm/build.sh, and libzstd from @bokuweb/zstd-wasm).
 *
 * ABI: a module exports its memory and functions that take and return integers only (byte
 * offsets into that memory, lengths, flags, and negative error codes). JS copies the input into
 * the memory, calls one function, and copies the output out; no object crosses the boundary.
 *
 * Grown-memory policy (the only one): WebAssembly memory never shrinks, so an {@link Engine}
 * drops its instance after a call — in `finally`, so on success and on failure alike — when the
 * instance's footprint passed {@link RETAIN_BYTES}, and the next call instantiates a fresh one
 * from the compiled module. The footprint is the highest byte a call handed in or out through
 * `write`/`view`/`touch` (what the process actually has resident; memory grown for a loose size
 * bound but never written costs no RSS), or the whole memory after a call that threw, because a
 * failed call may have written anywhere. An instance that trapped is never reused.
 */

/** Directory of the `.wasm` files built from wasm/src/ (wasm/ at the package root; this file compiles to build/src/codecs/). */
export const WASM_DIR = join(__dirname, '..', '..', '..', 'wasm');

/** Footprint above which an instance is dropped after the call (see the policy above). */
export const RETAIN_BYTES = 64 * 1024 * 1024;
/** wasm32 memory is at most 4 GiB. */
export const WASM32_MAX_BYTES = 4 * 1024 * 1024 * 1024;
const PAGE = 65536;

/** Rounds up to the 16-byte alignment the kernels' SIMD paths prefer. */
export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/**
 * Grows `memory` to at least `bytes`, geometrically (doubling, by at most 256 MiB a step) so that
 * a run of growing inputs does not grow it on every call, falling back to the exact size. Returns
 * false when even that cannot be had. The one growth rule, also behind libzstd's malloc.
 */
export function growMemory(memory: WebAssembly.Memory, bytes: number, max = WASM32_MAX_BYTES): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > max) return false;
  const target = Math.min(max, Math.max(bytes, have + Math.min(have, 256 * 1024 * 1024)));
  for (const size of target > bytes ? [target, bytes] : [bytes]) {
    try {
      memory.grow(Math.ceil((size - have) / PAGE));
      return true;
    } catch {
      // try the exact size
    }
  }
  return false;
}

/** One live instance: its exports, its memory, and the engine-specific state kept with it. */
export class Instance<X, S = undefined> {
  readonly exports: X;
  readonly memory: WebAssembly.Memory;
  /** First free byte above the module's data and stack (`__heap_base`), 16-aligned; 0 when the module has no such export. */
  readonly base: number;
  /** Engine-specific state (contexts, staging pointers), dropped with the instance. */
  state!: S;
  readonly #codec: string;
  #buffer: ArrayBuffer;
  #u8: Uint8Array;
  #footprint = 0;
  /** Set when a call trapped: the engine never reuses this instance. */
  poisoned = false;

  constructor(codec: string, exports: X, memory: WebAssembly.Memory) {
    this.#codec = codec;
    this.exports = exports;
    this.memory = memory;
    const heapBase = (exports as { __heap_base?: WebAssembly.Global }).__heap_base;
    this.base = heapBase === undefined ? 0 : align16(heapBase.value as number);
    this.#buffer = memory.buffer;
    this.#u8 = new Uint8Array(this.#buffer);
  }

  /** A byte view of the whole memory, re-derived after growth (growing detaches the old buffer). */
  u8(): Uint8Array {
    if (this.#buffer !== this.memory.buffer) {
      this.#buffer = this.memory.buffer;
      this.#u8 = new Uint8Array(this.#buffer);
    }
    return this.#u8;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Highest byte written so far (see the policy in this module's comment). */
  get footprint(): number {
    return this.#footprint;
  }

  /** Records that the bytes below `end` are in use. */
  touch(end: number): void {
    if (end > this.#footprint) this.#footprint = end;
  }

  /** Makes the memory at least `bytes` long; a request it cannot meet is `ERR_OUTPUT_LIMIT`. */
  ensure(bytes: number, what = 'this call'): void {
    if (!growMemory(this.memory, bytes)) {
      throw new CodecError(this.#codec, 'ERR_OUTPUT_LIMIT', `${what} needs ${bytes} bytes of WebAssembly memory, more than it can grow to`);
    }
  }

  /** Copies `data` to `at` (growing the memory to `at + data.length + slack`). */
  write(data: Uint8Array, at: number, slack = 0): void {
    const end = at + data.length + slack;
    this.ensure(end, 'the input');
    this.u8().set(data, at);
    this.touch(end);
  }

  /** The `n` bytes the engine wrote at `at` (a view of the memory: copy it before the next call). */
  view(at: number, n: number, slack = 0): Uint8Array {
    this.touch(at + n + slack);
    return this.u8().subarray(at, at + n);
  }

  /** Maps a negative return code to its error from `errors` (`fallback` for codes not listed); returns `rc` otherwise. */
  check(rc: number, errors: Readonly<Record<number, readonly [ErrorCode, string]>>, fallback: readonly [ErrorCode, string]): number {
    if (rc >= 0) return rc;
    const [code, message] = errors[rc] ?? fallback;
    throw new CodecError(this.#codec, code, message);
  }
}

/** How to build an {@link Engine}'s instances. */
export interface EngineSpec<X, S> {
  /** Codec name, for errors. */
  codec: string;
  /** A file under {@link WASM_DIR} (or an absolute path), or a function that compiles the module. Compiled once per process. */
  module: string | (() => WebAssembly.Module);
  /** Imports of an instance; `memory()` is its memory once instantiated. Default none. */
  imports?(memory: () => WebAssembly.Memory): WebAssembly.Imports;
  /** Name of the memory export. Default `memory`. */
  memoryExport?: string;
  /** Runs once per instance (constructors, tables, self-tests) and returns its state; throwing refuses the instance. */
  init?(k: Instance<X, S>): S;
}

/**
 * A WebAssembly engine: the compiled module, at most one live instance, and the grown-memory
 * policy applied around every call. Synchronous, so one instance serves every call in turn.
 */
export class Engine<X, S = undefined> {
  readonly #spec: EngineSpec<X, S>;
  #module: WebAssembly.Module | undefined;
  #live: Instance<X, S> | undefined;
  /** Instances created so far (tests check reuse with it). */
  instances = 0;

  constructor(spec: EngineSpec<X, S>) {
    this.#spec = spec;
  }

  /** The live instance, if any (for tests and benchmarks). */
  get live(): Instance<X, S> | undefined {
    return this.#live;
  }

  /**
   * The live instance, for an engine whose calls never grow its memory (CRC-32C's fixed window):
   * its footprint is fixed at instantiation, so the policy has nothing to apply and the call
   * skips `run`'s bookkeeping.
   */
  fixed(): Instance<X, S> {
    return this.#live ?? this.#instantiate();
  }

  /**
   * Runs `fn` on the live instance (instantiating one when there is none), then applies the
   * grown-memory policy. A WebAssembly trap becomes a `CodecError` with `trapCode`.
   */
  run<T>(fn: (k: Instance<X, S>) => T, trapCode: ErrorCode = 'ERR_CORRUPT_INPUT'): T {
    const k = this.#live ?? this.#instantiate();
    let failed = true;
    try {
      const result = fn(k);
      failed = false;
      return result;
    } catch (err) {
      if (err instanceof KafkaArenaError) throw err;
      k.poisoned = true;
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      throw new CodecError(this.#spec.codec, trapCode, `WebAssembly trapped: ${err.message}`, { cause: err });
    } finally {
      if (failed) k.touch(k.byteLength);
      if ((k.poisoned || k.footprint > RETAIN_BYTES) && this.#live === k) this.#live = undefined;
    }
  }

  #instantiate(): Instance<X, S> {
    const spec = this.#spec;
    this.#module ??= typeof spec.module === 'string' ? compileFile(spec.module) : spec.module();
    let memory: WebAssembly.Memory | undefined;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#module, spec.imports?.(() => memory!) ?? {});
    } catch (cause) {
      throw new CodecError(spec.codec, 'ERR_UNSUPPORTED', `cannot instantiate its WebAssembly module: ${(cause as Error).message}`, { cause });
    }
    memory = instance.exports[spec.memoryExport ?? 'memory'] as WebAssembly.Memory;
    const k = new Instance<X, S>(spec.codec, instance.exports as unknown as X, memory);
    if (spec.init) k.state = spec.init(k);
    this.instances++;
    this.#live = k;
    return k;
  }
}

function compileFile(file: string): WebAssembly.Module {
  return new WebAssembly.Module(readFileSync(isAbsolute(file) ? file : join(WASM_DIR, file)));
}
