import type { Lease } from '../arena';
import { CodecError, ErrorCode } from '../errors';
import { bytesArg } from '../validate';
import { isZstdError, Staging, ZstdInstance, zstdEngine } from './zstd-engine';
import { compressArgs, decompressArgs, deliver, levelArg } from './output';
import type { Codec, CompressOptions, DecompressOptions, SizeHint } from './types';
import { scanZstd, WASM32_WINDOWLOG_MAX } from './zstd-frame';

/*
 * Input: one or more Zstandard frames and skippable frames (RFC 8878), as Kafka producers write
 * them (librdkafka and the Java client stream-compress, so their frames usually carry no content
 * size). The frame and block grammar is in zstd-frame.ts.
 *
 * Decoding: scanZstd walks the frame and block headers in JS and yields the output size (exact, or an
 * upper bound from the block headers) and refuses bombs before anything is allocated. Then ONE call
 * of libzstd's ZSTD_decompress_usingDict (NULL dictionary, a DCtx kept across calls) decodes every
 * frame into staging memory in the WebAssembly heap sized to the bound, and deliver() copies the
 * result into the caller's lease / `out` / Buffer. No guess, no retry loop.
 */

const CODEC = 'zstd';
/** ZSTD_minCLevel() of libzstd >= 1.3.4 (-ZSTD_TARGETLENGTH_MAX). */
export const ZSTD_MIN_LEVEL = -(1 << 17);
/** ZSTD_maxCLevel(). */
export const ZSTD_MAX_LEVEL = 22;
/** Default compression level (ZSTD_CLEVEL_DEFAULT). */
export const ZSTD_DEFAULT_LEVEL = 3;
/** Accepted levels: 0 means the default, as in libzstd. */
const LEVELS = { min: ZSTD_MIN_LEVEL, max: ZSTD_MAX_LEVEL, default: ZSTD_DEFAULT_LEVEL } as const;
/**
 * Largest output staged in one call. A wasm32 heap is at most 2 GiB and also holds the input, the
 * DCtx and the runtime; only a caller who raised maxOutputBytes past this can reach it.
 */
const MAX_STAGING_BYTES = 2 ** 31 - 2 ** 26;
/** Window descriptor for windowLog 30, mantissa 0: what a wasm32 libzstd accepts at most. */
const WINDOW_DESCRIPTOR_LOG30 = (WASM32_WINDOWLOG_MAX - 10) << 3;

/** libzstd error names (zstd_errors.h; values below 100 are stable since v1.3.1). */
const ZSTD_ERRORS: Record<number, string> = {
  1: 'GENERIC',
  10: 'prefix_unknown',
  12: 'version_unsupported',
  14: 'frameParameter_unsupported',
  16: 'frameParameter_windowTooLarge',
  20: 'corruption_detected',
  22: 'checksum_wrong',
  24: 'literals_headerWrong',
  30: 'dictionary_corrupted',
  32: 'dictionary_wrong',
  34: 'dictionaryCreation_failed',
  40: 'parameter_unsupported',
  41: 'parameter_combination_unsupported',
  42: 'parameter_outOfBound',
  44: 'tableLog_tooLarge',
  46: 'maxSymbolValue_tooLarge',
  48: 'maxSymbolValue_tooSmall',
  49: 'cannotProduce_uncompressedBlock',
  50: 'stabilityCondition_notRespected',
  60: 'stage_wrong',
  62: 'init_missing',
  64: 'memory_allocation',
  66: 'workSpace_tooSmall',
  70: 'dstSize_tooSmall',
  72: 'srcSize_wrong',
  74: 'dstBuffer_null',
};

/** `ZSTD_error_<name> (code)` for a size_t error result. */
export function zstdErrorName(result: number): string {
  const code = -result;
  return `ZSTD_error_${ZSTD_ERRORS[code] ?? 'unknown'} (${code})`;
}

/** Our code for a libzstd decoding error. `clamped`: the staging was cut to the output limit. */
function decodeErrorCode(code: number, clamped: boolean): ErrorCode {
  switch (code) {
    case 22:
      return 'ERR_CHECKSUM_MISMATCH';
    case 72:
      return 'ERR_TRUNCATED_INPUT';
    case 70:
      // The staging was sized from headers: exceeding it means the output passes the limit we
      // clamped to, or the frame's content size (or a block) lies.
      return clamped ? 'ERR_OUTPUT_LIMIT' : 'ERR_CORRUPT_INPUT';
    case 12:
    case 16:
    case 30:
    case 32:
    case 64:
      return 'ERR_UNSUPPORTED';
    default:
      return 'ERR_CORRUPT_INPUT';
  }
}

/** The DCtx of an instance, created on first use and kept. */
function dctx(k: ZstdInstance): number {
  const st = k.state;
  if (st.dctx === 0) st.dctx = created(st.fn.createDCtx(), 'ZSTD_createDCtx');
  return st.dctx;
}

/** The CCtx of an instance, created on first use and kept. */
function cctx(k: ZstdInstance): number {
  const st = k.state;
  if (st.cctx === 0) st.cctx = created(st.fn.createCCtx(), 'ZSTD_createCCtx');
  return st.cctx;
}

function created(p: number, what: string): number {
  if (p === 0) throw new CodecError(CODEC, 'ERR_UNSUPPORTED', `${what} failed: out of WebAssembly memory`);
  return p;
}

/** A staging buffer (`state.input` or `state.output`) of at least `n` bytes, kept between calls. May grow memory. */
function stage(k: ZstdInstance, buf: Staging, n: number): number {
  if (n > buf.cap || buf.ptr === 0) {
    if (buf.ptr !== 0) k.state.fn.free(buf.ptr);
    buf.ptr = 0;
    buf.cap = roundUp(Math.max(n, 1));
    buf.ptr = alloc(k, buf.cap);
  }
  return buf.ptr;
}

function alloc(k: ZstdInstance, n: number): number {
  const p = n <= 0x7fffffff ? k.state.fn.malloc(n) >>> 0 : 0;
  if (p === 0) {
    throw new CodecError(CODEC, 'ERR_UNSUPPORTED', `cannot allocate ${n} bytes of WebAssembly memory (a wasm32 heap holds at most 2 GiB)`);
  }
  return p;
}

/**
 * Staging sizes: at least 64 KiB, in 64 KiB steps, with 1/8 headroom so growth is not per call.
 * Never less than `n` (an impossible size then fails in malloc, with a clear error).
 */
function roundUp(n: number): number {
  const want = n < 65536 ? 65536 : n + Math.floor(n / 8);
  return Math.max(n, Math.min(Math.ceil(want / 65536) * 65536, MAX_STAGING_BYTES));
}

/** The one engine: its instance, contexts and staging are kept between calls (see kernel.ts for when it is dropped). */
const engine = zstdEngine();

function decompress(input: Uint8Array, options: DecompressOptions & { arena: NonNullable<DecompressOptions['arena']> }): Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease;
function decompress(input: Uint8Array, options?: DecompressOptions): Buffer | Lease {
  const limit = decompressArgs(input, options);
  const scan = scanZstd(input, limit);
  const out = options?.out;
  if (out !== undefined && !options?.arena && scan.exact && out.length < scan.maxBytes) {
    throw new CodecError(CODEC, 'ERR_OUTPUT_TOO_SMALL', `output buffer of ${out.length} bytes is smaller than the ${scan.maxBytes} decompressed bytes`);
  }
  if (scan.frames === 0) return deliver(CODEC, EMPTY, options); // only skippable frames

  // The bound is an exact size or an upper bound; never stage more than the limit allows. If a
  // frame without content size really produces more, libzstd stops with dstSize_tooSmall.
  const clamped = scan.maxBytes > limit;
  let capacity = clamped ? limit : scan.maxBytes;
  const wasmCap = capacity > MAX_STAGING_BYTES;
  if (wasmCap) {
    if (scan.minBytes > MAX_STAGING_BYTES) throw tooBigForWasm(scan.minBytes);
    capacity = MAX_STAGING_BYTES;
  }
  return engine.run((k) => {
    const fn = k.state.fn;
    const ctx = dctx(k);
    // Input first: the output staging, sized to a bound that may be loose (many tiny blocks), then
    // lies above it, so the footprint (kernel.ts) counts only the output bytes really written and
    // the instance is kept.
    const src = stage(k, k.state.input, input.length);
    const dst = stage(k, k.state.output, capacity);
    k.write(input, src); // after the mallocs, which may have grown memory
    if (scan.wideWindows !== undefined) {
      // Windows above 1 GiB: legal, and irrelevant one-shot (the output buffer is the window, and
      // it is below 2 GiB here), but a wasm32 libzstd refuses them. Patch our private copy.
      const u8 = k.u8();
      for (const at of scan.wideWindows) u8[src + at] = WINDOW_DESCRIPTOR_LOG30;
    }
    const n = fn.decompressUsingDict(ctx, dst, capacity, src, input.length, 0, 0);
    if (isZstdError(n)) {
      const code = -n;
      if (code === 70 && wasmCap) throw tooBigForWasm(capacity + 1);
      const limitHit = code === 70 && clamped;
      throw new CodecError(
        CODEC,
        decodeErrorCode(code, clamped),
        limitHit ? `decompressed size exceeds the limit of ${limit} bytes (${zstdErrorName(n)})` : `cannot decompress: ${zstdErrorName(n)}`,
      );
    }
    return deliver(CODEC, k.view(dst, n >>> 0), options);
  });
}

const EMPTY = new Uint8Array(0);

function tooBigForWasm(bytes: number): CodecError {
  return new CodecError(CODEC, 'ERR_UNSUPPORTED', `decompressed size of at least ${bytes} bytes does not fit a wasm32 heap (at most ${MAX_STAGING_BYTES} bytes per call)`);
}

function compress(input: Uint8Array, options?: CompressOptions): Buffer {
  let level = levelArg(compressArgs(input, options), LEVELS);
  if (level === 0) level = ZSTD_DEFAULT_LEVEL;
  return engine.run((k) => {
    const fn = k.state.fn;
    const ctx = cctx(k);
    const bound = fn.compressBound(input.length) >>> 0;
    if (isZstdError(bound)) throw new CodecError(CODEC, 'ERR_UNSUPPORTED', `input of ${input.length} bytes is too large to compress in a wasm32 heap`);
    const src = stage(k, k.state.input, input.length);
    const dst = stage(k, k.state.output, bound);
    k.write(input, src);
    const n = fn.compressUsingDict(ctx, dst, bound, src, input.length, 0, 0, level);
    // The CCtx's tables, allocated inside libzstd, are in use too: count the whole memory.
    k.touch(k.byteLength);
    if (isZstdError(n)) throw new CodecError(CODEC, 'ERR_UNSUPPORTED', `cannot compress: ${zstdErrorName(n)}`);
    return Buffer.from(k.view(dst, n >>> 0));
  }, 'ERR_UNSUPPORTED');
}

function decompressedSize(input: Uint8Array): SizeHint {
  bytesArg('input', input);
  const scan = scanZstd(input);
  return { bytes: scan.maxBytes, exact: scan.exact };
}

/**
 * Zstandard (Kafka compression type 4), on libzstd compiled to WebAssembly (the binary of
 * `@bokuweb/zstd-wasm`, driven directly).
 *
 * - `decompress` accepts every valid input: frames with or without content size, concatenated and
 *   skippable frames, any window size, checksummed frames. The output is sized from the headers
 *   before decoding; `maxOutputBytes` is enforced before allocation for declared sizes and raw/RLE
 *   blocks, and by the staging size otherwise. Dictionaries and legacy (pre-1.0) frames are
 *   `ERR_UNSUPPORTED`.
 * - `compress` writes one frame with the content size and no checksum. `level`: 1..22, negative
 *   levels down to -131072 for faster, weaker compression, 0 or absent = 3.
 * - Errors are `CodecError`s whose message carries the libzstd error name.
 */
export const zstd: Codec = {
  name: 'zstd',
  kafkaType: 4,
  levels: LEVELS,
  decompress,
  compress,
  decompressedSize,
};

/** @internal For tests: how many instances the codec has created so far. */
export function _zstdInstances(): number {
  return engine.instances;
}

/** @internal For tests: the live instance's heap size, or 0 when none is loaded. */
export function _zstdHeapBytes(): number {
  return engine.live?.byteLength ?? 0;
}
