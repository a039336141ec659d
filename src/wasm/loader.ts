import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * Directory of the `.wasm` files this package builds (`wasm/` at the package root). The compiled
 * JS lives at build/src/wasm/, three levels below the root.
 */
export const WASM_DIR = join(__dirname, '..', '..', '..', 'wasm');

/**
 * Compiles and instantiates a WebAssembly module synchronously (Node allows synchronous
 * compilation of any size), so codecs are usable on import without an async init step.
 * `file` is a name under {@link WASM_DIR} or an absolute path.
 */
export function instantiateWasm(file: string, imports: WebAssembly.Imports = {}): WebAssembly.Instance {
  const path = isAbsolute(file) ? file : join(WASM_DIR, file);
  const module = new WebAssembly.Module(readFileSync(path));
  return new WebAssembly.Instance(module, imports);
}

/**
 * A view of a WebAssembly memory that is re-derived whenever the memory has grown: growing
 * detaches the old ArrayBuffer, and a stale view reads as empty. Call `u8()` after any call that
 * can grow memory instead of keeping a Uint8Array across calls.
 */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  #buffer: ArrayBuffer;
  #u8: Uint8Array;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.#buffer = memory.buffer;
    this.#u8 = new Uint8Array(this.#buffer);
  }

  /** A byte view of the whole memory, current as of now. */
  u8(): Uint8Array {
    if (this.#buffer !== this.memory.buffer) {
      this.#buffer = this.memory.buffer;
      this.#u8 = new Uint8Array(this.#buffer);
    }
    return this.#u8;
  }

  /** Current size in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows the memory so that it is at least `bytes` long. Growth is geometric to amortize it. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.max(bytes, Math.min(have * 2, have + 256 * 1024 * 1024));
    const pages = Math.ceil((want - have) / 65536);
    this.memory.grow(pages);
  }
}
