import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { Arena, Lease } from '../../src/arena';
import { CodecError, KafkaArenaError } from '../../src/errors';
import { zstd, _zstdHeapBytes, _zstdInstances } from '../../src/codecs/zstd';
import { scanZstd } from '../../src/codecs/zstd-frame';
import { isZstdError, loadBokuwebZstd } from '../../src/codecs/zstd-engine';
import { prng } from '../support/random';

// zstd-napi is a dev dependency without bundled types we rely on.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const napi = require('zstd-napi') as {
  compress(b: Uint8Array, p?: Record<string, unknown>): Buffer;
  decompress(b: Uint8Array): Buffer;
  CompressStream: new (p?: Record<string, unknown>) => NodeJS.ReadWriteStream;
  Decompressor: new () => { decompress(b: Uint8Array): Buffer };
};

const KiB = 1024;
const MiB = 1024 * 1024;

/** Realistic Kafka payload: JSON events, one per line, from a seeded PRNG. */
function events(bytes: number, seed = 1): Buffer {
  const r = prng(seed);
  const kinds = ['click', 'view', 'purchase', 'scroll', 'add_to_cart', 'search'];
  const uas = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0', 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'];
  const lines: string[] = [];
  let n = 0;
  let ts = 1_700_000_000_000;
  while (n < bytes) {
    ts += Math.floor(r() * 50);
    const line = `${JSON.stringify({ ts, user: `u${Math.floor(r() * 100000)}`, event: kinds[Math.floor(r() * kinds.length)], page: `/products/${Math.floor(r() * 5000)}`, ua: uas[Math.floor(r() * uas.length)], amount: Math.round(r() * 100000) / 100 })}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

function randomBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

function header(opts: { fcs8?: number; windowDescriptor?: number }): number[] {
  if (opts.fcs8 !== undefined) {
    // FCS_flag 3 (8 bytes), not single segment
    const out = [0x28, 0xb5, 0x2f, 0xfd, 0xc0, opts.windowDescriptor ?? 0x50];
    let v = opts.fcs8;
    for (let i = 0; i < 8; i++) {
      out.push(v % 256);
      v = Math.floor(v / 256);
    }
    return out;
  }
  return [0x28, 0xb5, 0x2f, 0xfd, 0x00, opts.windowDescriptor ?? 0x50];
}

function block(type: 0 | 1 | 2, size: number, last: boolean): number[] {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
}

/** A frame of `n` RLE blocks of `size` bytes each (4 input bytes per block). */
function rleFrame(n: number, size: number, fcs?: number): Buffer {
  const h = header({ fcs8: fcs, windowDescriptor: 0x50 /* 1 MiB window */ });
  const buf = Buffer.alloc(h.length + n * 4);
  buf.set(h);
  for (let i = 0; i < n; i++) {
    buf.set(block(1, size, i === n - 1), h.length + i * 4);
    buf[h.length + i * 4 + 3] = 0x41 + (i % 26);
  }
  return buf;
}

function skippable(payload: Buffer, magicLow = 0x50): Buffer {
  const h = Buffer.from([magicLow, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

function errorOf(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CodecError, `expected a CodecError, got ${String(err)}`);
    assert.equal(err.codec, 'zstd');
    return err;
  }
  assert.fail('expected an error');
}

const SANITY = zstd.compress(Buffer.from('still works after a failure'));
function stillWorks(): void {
  assert.equal(zstd.decompress(SANITY).toString(), 'still works after a failure');
}

const hasCli = spawnSync('zstd', ['--version']).status === 0;
const noCli = !hasCli && 'zstd CLI not installed';
function cli(args: string[], input: Uint8Array): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 256 * MiB });
  assert.equal(r.status, 0, `zstd ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function streamCompress(input: Buffer, params: Record<string, unknown>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = new napi.CompressStream(params);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    // Feed it in 64 KiB writes, as a client would.
    for (let i = 0; i < input.length; i += 64 * KiB) s.write(input.subarray(i, i + 64 * KiB));
    s.end();
  });
}

/** LEB128 for the hand-built modules below. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/**
 * A WebAssembly module with the binary's outward shape (imports a.a..a.e, memory "f", functions
 * "g".."t" with the given arities) whose functions all return `result`: what a rebuilt package with
 * reshuffled minified names could look like to the loader.
 */
function lookalike(arity: Record<string, number>, result = 0): Buffer {
  const names = Object.keys(arity);
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  const vec = (items: number[][]) => [...leb(items.length), ...items.flat()];
  const str = (x: string) => [...leb(x.length), ...Buffer.from(x)];
  const types = [[0x60, 0, 0], ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => [0x60, ...leb(k), ...new Array(k).fill(0x7f), 1, 0x7f])];
  const imports = ['a', 'b', 'c', 'd', 'e'].map((n) => [...str('a'), ...str(n), 0x00, 0]);
  const funcs = names.map((n) => leb(1 + arity[n]));
  const exports = [[...str('f'), 0x02, 0], ...names.map((n, i) => [...str(n), 0x00, ...leb(5 + i)])];
  const body = [0x00, 0x41, ...leb(result), 0x0b]; // no locals; i32.const result; end
  const code = names.map(() => [...leb(body.length), ...body]);
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(5, vec([[0x00, 2]])),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ]);
}

const ARITIES = { g: 0, h: 1, i: 1, j: 0, k: 1, l: 8, m: 5, n: 0, o: 1, p: 2, q: 7, r: 4, s: 1, t: 1 };

describe('bokuweb zstd.wasm loader', () => {
  function loadFile(bytes: Buffer): CodecError {
    const dir = mkdtempSync(join(tmpdir(), 'ka-zstd-loader-'));
    try {
      const file = join(dir, 'zstd.wasm');
      writeFileSync(file, bytes);
      return errorOf(() => loadBokuwebZstd(file));
    } finally {
      rmSync(dir, { recursive: true });
    }
  }

  it('loads the installed binary, whose exports pass the self-test', () => {
    const z = loadBokuwebZstd();
    assert.equal(z.compressBound(0), 64);
    assert.equal(z.isError(-70), 1);
  });

  it('refuses a binary with the wrong shape or behaviour, naming what differs', () => {
    let err = loadFile(lookalike(Object.fromEntries(Object.entries(ARITIES).filter(([k]) => k !== 'q'))));
    assert.equal(err.code, 'ERR_UNSUPPORTED');
    assert.match(err.message, /"q" \(ZSTD_decompress_usingDict\) is missing/);
    // Same names, but the decompressor and the compressor swapped places (arities differ).
    err = loadFile(lookalike({ ...ARITIES, l: 7, q: 8 }, 1));
    assert.equal(err.code, 'ERR_UNSUPPORTED');
    assert.match(err.message, /self-test failed: ZSTD_compress_usingDict takes 7 parameters, expected 8/);
    // Right shape, wrong behaviour.
    err = loadFile(lookalike(ARITIES, 0));
    assert.match(err.message, /self-test failed: ZSTD_isError/);
    err = loadFile(Buffer.from('not wasm'));
    assert.match(err.message, /does not compile/);
  });
});

describe('zstd codec', () => {
  it('is Kafka compression type 4', () => {
    assert.equal(zstd.name, 'zstd');
    assert.equal(zstd.kafkaType, 4);
  });

  it('round-trips arbitrary and compressible inputs at random levels (fast-check)', () => {
    const arena = new Arena({ maxBytes: 16 * MiB, leakDetection: 'disabled' });
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 3000 })).map(([s, n]) => Buffer.from(s.repeat(n))),
      fc.integer({ min: 0, max: 300_000 }).map((n) => events(n, n)),
    );
    fc.assert(
      fc.property(data, fc.integer({ min: -20, max: 12 }), (input, level) => {
        const c = zstd.compress(input, { level });
        assert.deepEqual(zstd.decompressedSize(c), { bytes: input.length, exact: true });
        assert.ok(Buffer.from(input).equals(zstd.decompress(c)));
        const lease = zstd.decompress(c, { arena });
        assert.equal(lease.length, input.length);
        assert.ok(lease.bytes.equals(input));
        lease.release();
      }),
      { seed: 0x5eed, numRuns: 150 },
    );
    assert.equal(arena.stats().leasedCount, 0);
  });

  it('compresses at levels 1..22 and negative levels; higher levels compress better; bad levels are refused', () => {
    const input = events(200 * KiB, 7);
    const sizes = new Map<number, number>();
    for (const level of [-50, -5, -1, 1, 3, 9, 19, 22]) {
      const c = zstd.compress(input, { level });
      sizes.set(level, c.length);
      assert.ok(zstd.decompress(c).equals(input), `level ${level}`);
    }
    assert.equal(zstd.compress(input, { level: 0 }).length, sizes.get(3), 'level 0 means the default, 3');
    assert.equal(zstd.compress(input).length, sizes.get(3));
    assert.ok(sizes.get(19)! < sizes.get(3)! && sizes.get(3)! < sizes.get(-5)! && sizes.get(-5)! < sizes.get(-50)!, JSON.stringify([...sizes]));
    for (const level of [23, -131073, 1.5, Number.NaN]) {
      assert.throws(() => zstd.compress(input, { level }), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
    }
  });

  it('handles empty input both ways', () => {
    const c = zstd.compress(Buffer.alloc(0));
    assert.equal(zstd.decompress(c).length, 0);
    const arena = new Arena({ leakDetection: 'disabled' });
    const lease = zstd.decompress(c, { arena });
    assert.equal(lease.length, 0);
    lease.release();
    assert.equal(errorOf(() => zstd.decompress(Buffer.alloc(0))).code, 'ERR_TRUNCATED_INPUT');
  });

  it('decodes concatenated frames and skippable frames (all 16 magics), skipping their payload', () => {
    const a = events(100 * KiB, 1);
    const b = randomBytes(10 * KiB, 2); // stored as raw blocks
    const c = Buffer.from('x'.repeat(300 * KiB)); // RLE-ish
    const parts: Buffer[] = [];
    for (let m = 0; m < 16; m++) parts.push(skippable(Buffer.from(`meta ${m}`), 0x50 + m));
    const input = Buffer.concat([skippable(Buffer.alloc(0)), zstd.compress(a), ...parts, zstd.compress(b, { level: 1 }), zstd.compress(c, { level: -3 }), skippable(randomBytes(100, 3))]);
    assert.ok(zstd.decompress(input).equals(Buffer.concat([a, b, c])));
    // Only skippable frames: valid, no output.
    assert.equal(zstd.decompress(Buffer.concat(parts)).length, 0);
  });

  describe('cross-checks with the zstd CLI', { skip: noCli }, () => {
    const input = events(700 * KiB, 11);
    // Reading stdin, the CLI streams: no content size unless --stream-size says it.
    const cases: Array<[string, string[]]> = [
      ['stdin stream, no content size, checksum', []],
      ['stdin stream, no checksum', ['--no-check']],
      ['with content size', [`--stream-size=${input.length}`]],
      ['with content size, no checksum', [`--stream-size=${input.length}`, '--no-check']],
      ['--long=27 (128 MiB window)', ['--long=27']],
      ['-22 --ultra', ['-22', '--ultra']],
      ['--long=31 (2 GiB window, over wasm32 ZSTD_WINDOWLOG_MAX)', ['--long=31']],
      ['1 KiB window, many small blocks', ['--zstd=wlog=10']],
      ['--fast=5', ['--fast=5']],
      ['-1 with 16 KiB target blocks', ['-1', '--zstd=tlen=16']],
    ];
    for (const [name, args] of cases) {
      it(`decodes ${name}`, () => {
        const z = cli(args, input);
        const scan = scanZstd(z);
        assert.equal(scan.exact, args.some((a) => a.startsWith('--stream-size')), 'content size presence as expected');
        assert.ok(zstd.decompress(z).equals(input));
      });
    }

    it('decodes a multi-frame file (cat a.zst b.zst) and a frame after a skippable frame', () => {
      const a = events(300 * KiB, 12);
      const b = randomBytes(50 * KiB, 13);
      const multi = Buffer.concat([cli(['-3'], a), cli(['-19', '--no-check'], b), skippable(Buffer.from('x')), cli([`--stream-size=${a.length}`], a)]);
      // The CLI agrees on what the file contains.
      assert.ok(spawnSync('zstd', ['-d', '-c', '-q'], { input: multi, maxBuffer: 64 * MiB }).stdout.equals(Buffer.concat([a, b, a])));
      assert.ok(zstd.decompress(multi).equals(Buffer.concat([a, b, a])));
    });

    it('writes frames the CLI reads back (levels -5, 1, 3, 19)', () => {
      for (const level of [-5, 1, 3, 19]) {
        const c = zstd.compress(input, { level });
        const r = spawnSync('zstd', ['-d', '-c', '-q'], { input: c, maxBuffer: 64 * MiB });
        assert.equal(r.status, 0, String(r.stderr));
        assert.ok(r.stdout.equals(input), `level ${level}`);
      }
    });

    it('reports a corrupted checksum as ERR_CHECKSUM_MISMATCH with the zstd error name', () => {
      const z = cli(['--check', `--stream-size=${input.length}`], input);
      z[z.length - 1] ^= 0x55;
      const err = errorOf(() => zstd.decompress(z));
      assert.equal(err.code, 'ERR_CHECKSUM_MISMATCH');
      assert.match(err.message, /ZSTD_error_checksum_wrong/);
      stillWorks();
    });
  });

  it('libzstd (wasm32) itself refuses windows over 2^30; we patch our private copy and decode', () => {
    // A frame with a 2 GiB window (windowLog 31): one raw block, no content size.
    const frame = Buffer.from([...header({ windowDescriptor: 21 << 3 }), ...block(0, 5, true), 104, 101, 108, 108, 111]);
    const z = loadBokuwebZstd();
    const dctx = z.createDCtx();
    const src = z.malloc(64);
    const dst = z.malloc(64);
    z.heap.u8().set(frame, src);
    const r = z.decompressUsingDict(dctx, dst, 64, src, frame.length, 0, 0);
    assert.ok(isZstdError(r));
    assert.equal(-r, 16, 'frameParameter_windowTooLarge');
    assert.equal(zstd.decompress(frame).toString(), 'hello');
    assert.equal(frame[5], 21 << 3, 'the caller’s input is not modified');
  });

  describe('frames without a content size, as Kafka producers write them', () => {
    it('decodes a streamed frame (no content size) over 1 MiB, where a 1 MiB output guess would fail', async () => {
      // What librdkafka and the Java client write: a streamed frame, no content size. 2.5 MB.
      const input = events(2_500_000, 21);
      const streamed = await streamCompress(input, { compressionLevel: 3 });
      assert.equal(scanZstd(streamed).exact, false, 'no content size in the frame');
      assert.ok(zstd.decompress(streamed).equals(input));
      assert.ok(zstd.decompress(streamed, { maxOutputBytes: input.length }).equals(input), 'staged within an exact limit');
      // The same data with a content size, and a small streamed frame, decode the same way.
      assert.ok(zstd.decompress(napi.compress(input)).equals(input));
      const small = events(900 * KiB, 22);
      assert.ok(zstd.decompress(await streamCompress(small, { compressionLevel: 3 })).equals(small));
    });

    it('decodes zstd-napi streaming output (checksum, > 1 MiB, several levels) into an arena lease of the exact size', async () => {
      const arena = new Arena({ maxBytes: 64 * MiB, leakDetection: 'disabled' });
      for (const [level, checksum] of [[1, true], [3, false], [12, true]] as const) {
        const input = events(1_300_000 + level, 30 + level);
        const streamed = await streamCompress(input, { compressionLevel: level, checksumFlag: checksum });
        const lease: Lease = zstd.decompress(streamed, { arena });
        assert.equal(lease.length, input.length);
        assert.ok(lease.bytes.equals(input));
        lease.release();
      }
      assert.equal(arena.stats().leasedCount, 0);
    });
  });

  describe('decompression bombs and output limits', () => {
    it('refuses a frame claiming 4 GiB of content before allocating anything', () => {
      stillWorks(); // make sure an instance is loaded, to watch its heap
      const heapBefore = _zstdHeapBytes();
      const claim = Buffer.concat([Buffer.from(header({ fcs8: 4 * 1024 * MiB })), rleFrame(3, 128 * KiB).subarray(6)]);
      const err = errorOf(() => zstd.decompress(claim));
      assert.equal(err.code, 'ERR_OUTPUT_LIMIT');
      assert.equal(errorOf(() => zstd.decompress(claim, { maxOutputBytes: 2 ** 40 })).code, 'ERR_CORRUPT_INPUT', 'and the claim does not match its blocks anyway');
      assert.equal(_zstdHeapBytes(), heapBefore, 'the WebAssembly heap did not grow');
      assert.throws(() => zstd.decompressedSize(claim), (e: unknown) => e instanceof CodecError && e.code === 'ERR_CORRUPT_INPUT');
    });

    it('refuses thousands of RLE blocks expanding past the limit, before allocating anything', () => {
      stillWorks();
      const heapBefore = _zstdHeapBytes();
      const bomb = rleFrame(20_000, 128 * KiB); // 80 KB of input -> 2.5 GiB
      assert.equal(errorOf(() => zstd.decompress(bomb)).code, 'ERR_OUTPUT_LIMIT');
      assert.equal(errorOf(() => zstd.decompress(bomb.subarray(0, 6 + 100 * 4 + 3), { maxOutputBytes: MiB })).code, 'ERR_OUTPUT_LIMIT', 'even when cut short');
      assert.equal(_zstdHeapBytes(), heapBefore, 'the WebAssembly heap did not grow');
      // The same structure under the limit decodes to the right bytes.
      const ok = zstd.decompress(rleFrame(24, 128 * KiB));
      assert.equal(ok.length, 24 * 128 * KiB);
      for (let i = 0; i < 24; i++) assert.equal(ok[i * 128 * KiB + 77], 0x41 + i);
      assert.equal(errorOf(() => zstd.decompress(rleFrame(24, 128 * KiB), { maxOutputBytes: 3 * MiB - 1 })).code, 'ERR_OUTPUT_LIMIT');
      assert.equal(zstd.decompress(rleFrame(24, 128 * KiB), { maxOutputBytes: 3 * MiB }).length, 3 * MiB);
    });

    it('refuses an output over what a wasm32 heap can stage (2 GiB) up front, even under a raised limit', () => {
      stillWorks();
      const heapBefore = _zstdHeapBytes();
      const blocks = 24 * 1024; // x 128 KiB = 3 GiB, from 96 KiB of input
      for (const fcs of [blocks * 128 * KiB, undefined]) {
        const err = errorOf(() => zstd.decompress(rleFrame(blocks, 128 * KiB, fcs), { maxOutputBytes: 2 ** 40 }));
        assert.equal(err.code, 'ERR_UNSUPPORTED');
        assert.match(err.message, /wasm32/);
      }
      assert.equal(_zstdHeapBytes(), heapBefore, 'the WebAssembly heap did not grow');
    });

    it('enforces the limit exactly on frames without content size (bound over the limit, output under it)', async () => {
      const input = events(640_000, 41);
      const streamed = await streamCompress(input, { compressionLevel: 3 });
      const { maxBytes } = scanZstd(streamed);
      assert.ok(maxBytes > input.length, 'the header bound is above the real size');
      assert.ok(zstd.decompress(streamed, { maxOutputBytes: input.length }).equals(input));
      const err = errorOf(() => zstd.decompress(streamed, { maxOutputBytes: input.length - 1 }));
      assert.equal(err.code, 'ERR_OUTPUT_LIMIT');
      assert.match(err.message, /ZSTD_error_dstSize_tooSmall/);
      stillWorks();
    });

    it('keeps its instance for inputs of many tiny blocks (a loose bound, a small output)', () => {
      // 1500 compressed blocks of 5 literals each: 16 KB of input, 7.5 KB of output, but each block
      // may regenerate up to 128 KiB, so the output is staged for a bound of ~188 MiB.
      const blocks = 1500;
      const parts = [header({ windowDescriptor: 0x50 /* 1 MiB window */ })];
      for (let i = 0; i < blocks; i++) {
        const lit = Buffer.from(`b${String(i % 10000).padStart(4, '0')}`);
        // Raw literals (type 0, 5-bit size), then a sequences section of zero sequences.
        parts.push([...block(2, 1 + lit.length + 1, i === blocks - 1), lit.length << 3, ...lit, 0]);
      }
      const frame = Buffer.from(parts.flat());
      const expected = Buffer.from(Array.from({ length: blocks }, (_, i) => `b${String(i % 10000).padStart(4, '0')}`).join(''));
      assert.ok(scanZstd(frame).maxBytes > 128 * MiB, 'the header bound is far above the output');
      assert.ok(zstd.decompress(frame).equals(expected));
      const instances = _zstdInstances();
      for (let i = 0; i < 20; i++) assert.ok(zstd.decompress(frame).equals(expected));
      assert.equal(_zstdInstances(), instances, 'no call re-created the instance');
      stillWorks();
      assert.equal(_zstdInstances(), instances);
    });

    it('drops a WebAssembly heap that grew past 64 MiB after the call, and keeps working', () => {
      const big = rleFrame(600, 128 * KiB, 600 * 128 * KiB); // 75 MiB, declared
      const out = zstd.decompress(big);
      assert.equal(out.length, 600 * 128 * KiB);
      assert.equal(out[600 * 128 * KiB - 1], 0x41 + (599 % 26));
      assert.equal(_zstdHeapBytes(), 0, 'the grown instance was released');
      stillWorks();
      assert.ok(_zstdHeapBytes() > 0 && _zstdHeapBytes() < 64 * MiB);
    });
  });

  describe('errors', () => {
    const input = events(200 * KiB, 51);

    it('maps a content size that lies to ERR_CORRUPT_INPUT, naming the zstd error', () => {
      const c = zstd.compress(input); // FCS present, compressed blocks only
      const fhd = c[4];
      assert.equal(fhd >> 6, 2, '4-byte content size field');
      const at = 5 + ((fhd & 0x20) !== 0 ? 0 : 1);
      for (const delta of [-1000, -1, 1, 1000]) {
        const lie = Buffer.from(c);
        lie.writeUInt32LE(input.length + delta, at);
        const err = errorOf(() => zstd.decompress(lie));
        assert.equal(err.code, 'ERR_CORRUPT_INPUT', `delta ${delta}`);
        assert.match(err.message, delta < 0 ? /ZSTD_error_dstSize_tooSmall/ : /ZSTD_error_corruption_detected/);
        stillWorks();
      }
    });

    it('maps damaged block contents to ERR_CORRUPT_INPUT and truncation to ERR_TRUNCATED_INPUT', () => {
      const c = zstd.compress(input);
      const damaged = Buffer.from(c);
      for (let i = 20; i < 60; i++) damaged[i] ^= 0xa5;
      assert.equal(errorOf(() => zstd.decompress(damaged)).code, 'ERR_CORRUPT_INPUT');
      stillWorks();
      assert.equal(errorOf(() => zstd.decompress(c.subarray(0, c.length - 1))).code, 'ERR_TRUNCATED_INPUT');
      assert.equal(errorOf(() => zstd.decompress(Buffer.concat([c, Buffer.from([0, 0, 0, 0])]))).code, 'ERR_TRAILING_DATA');
      assert.equal(errorOf(() => zstd.decompress(Buffer.from('definitely not zstd'))).code, 'ERR_CORRUPT_INPUT');
      stillWorks();
    });

    it('rejects a non-Uint8Array input and a bad maxOutputBytes', () => {
      assert.throws(() => zstd.decompress('abc' as unknown as Uint8Array), (e: unknown) => e instanceof KafkaArenaError && e.code === 'ERR_INVALID_ARGUMENT');
      assert.throws(() => zstd.decompress(SANITY, { maxOutputBytes: -1 }), (e: unknown) => e instanceof KafkaArenaError);
    });
  });

  describe('output targets', () => {
    const input = events(300 * KiB, 61);
    const withSize = zstd.compress(input);
    const arena = new Arena({ maxBytes: 8 * MiB, leakDetection: 'disabled' });

    it('arena: a lease of exactly the decompressed length, for exact and bounded sizes', async () => {
      const streamed = await streamCompress(input, { compressionLevel: 3 });
      for (const c of [withSize, streamed]) {
        const lease = zstd.decompress(c, { arena });
        assert.ok(lease instanceof Lease);
        assert.equal(lease.length, input.length);
        assert.equal(lease.bytes.length, input.length);
        assert.ok(lease.bytes.equals(input));
        lease.release();
      }
      // A failed call leaves no lease behind.
      assert.equal(errorOf(() => zstd.decompress(withSize.subarray(0, 100), { arena })).code, 'ERR_TRUNCATED_INPUT');
      assert.equal(arena.stats().leasedCount, 0);
    });

    it('out: a view of the caller’s buffer; ERR_OUTPUT_TOO_SMALL when it is short', async () => {
      const out = new Uint8Array(input.length + 10);
      const r = zstd.decompress(withSize, { out });
      assert.equal(r.buffer, out.buffer);
      assert.equal(r.length, input.length);
      assert.ok(r.equals(input));
      const short = new Uint8Array(input.length - 1);
      assert.equal(errorOf(() => zstd.decompress(withSize, { out: short })).code, 'ERR_OUTPUT_TOO_SMALL');
      // Without a content size the shortfall is found after decoding.
      const streamed = await streamCompress(input, { compressionLevel: 3 });
      assert.equal(errorOf(() => zstd.decompress(streamed, { out: short })).code, 'ERR_OUTPUT_TOO_SMALL');
      assert.ok(zstd.decompress(streamed, { out }).equals(input));
    });

    it('decompressedSize: exact with a content size, an upper bound without', async () => {
      assert.deepEqual(zstd.decompressedSize(withSize), { bytes: input.length, exact: true });
      const streamed = await streamCompress(input, { compressionLevel: 3 });
      const hint = zstd.decompressedSize(streamed);
      assert.equal(hint.exact, false);
      assert.ok(hint.bytes >= input.length && hint.bytes <= input.length + 128 * KiB, String(hint.bytes));
    });
  });

  it('node:zlib zstd (Node >= 23.8) and this codec read each other', { skip: typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync !== 'function' && 'node:zlib has no zstd' }, () => {
    const z = zlib as unknown as { zstdCompressSync(b: Uint8Array): Buffer; zstdDecompressSync(b: Uint8Array): Buffer };
    const input = events(1_500_000, 71);
    assert.ok(zstd.decompress(z.zstdCompressSync(input)).equals(input));
    assert.ok(z.zstdDecompressSync(zstd.compress(input)).equals(input));
  });

  it('mutation fuzz: every call returns or throws a KafkaArenaError; successes match native libzstd', async () => {
    const seeds: Buffer[] = [
      zstd.compress(events(3000, 81)),
      zstd.compress(randomBytes(700, 82), { level: 1 }),
      await streamCompress(events(20 * KiB, 83), { compressionLevel: 5, checksumFlag: true }),
      Buffer.concat([zstd.compress(Buffer.from('abc'.repeat(500))), skippable(Buffer.from('pad')), zstd.compress(events(2000, 84), { level: -3 })]),
      rleFrame(5, 1000, 5000),
    ];
    if (hasCli) seeds.push(cli(['--zstd=wlog=10', '--check'], events(8 * KiB, 85)));
    const r = prng(0xf022);
    const pick = (n: number) => Math.floor(r() * n);
    let ok = 0;
    let failed = 0;
    let wideWindows = 0;
    const codes = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const seed = seeds[i % seeds.length];
      let m = Buffer.from(seed);
      const kind = pick(5);
      if (kind === 0) {
        for (let k = 1 + pick(3); k > 0; k--) m[pick(m.length)] ^= 1 << pick(8);
      } else if (kind === 1) {
        m = m.subarray(0, pick(m.length));
      } else if (kind === 2) {
        const at = pick(m.length + 1);
        m = Buffer.concat([m.subarray(0, at), randomBytes(1 + pick(8), i), m.subarray(at)]);
      } else if (kind === 3) {
        const at = pick(m.length);
        m = Buffer.concat([m.subarray(0, at), m.subarray(at + 1 + pick(8))]);
      } else {
        // damage the headers, where the interesting decisions are
        m[pick(Math.min(m.length, 16))] = pick(256);
      }
      let mine: Buffer | undefined;
      try {
        mine = zstd.decompress(m, { maxOutputBytes: 4 * MiB });
        ok++;
      } catch (err) {
        assert.ok(err instanceof KafkaArenaError, `mutation ${i}: ${String(err)}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
        failed++;
      }
      if (mine !== undefined) {
        // What we accept, the reference (native libzstd 1.5.7) accepts, with the same bytes.
        // Exception: large windows. The format allows windowLog up to 41 and we decode any (one-shot,
        // the window is irrelevant); zstd-napi refuses over 31 (ZSTD_WINDOWLOG_MAX_64), and over 27
        // when it streams a frame without content size (ZSTD_WINDOWLOG_LIMIT_DEFAULT).
        let ref: Buffer | undefined;
        try {
          // A fresh context each time: zstd-napi's shared one can be left mid-frame by a failed
          // streaming call, and then refuses the next input with stage_wrong.
          ref = new napi.Decompressor().decompress(m);
        } catch (err) {
          const s = scanZstd(m);
          assert.ok(s.maxWindowLog > (s.exact ? 31 : 27), `mutation ${i}: we decoded ${mine.length} bytes, native libzstd refused: ${String(err)}`);
          wideWindows++;
          continue;
        }
        assert.ok(ref.equals(mine), `mutation ${i}: output differs from native libzstd`);
      }
    }
    assert.ok(ok > 0 && failed > 0 && wideWindows < ok, `ok ${ok}, failed ${failed}, wide windows ${wideWindows}`);
    assert.ok((codes.get('ERR_CORRUPT_INPUT') ?? 0) > 0 && (codes.get('ERR_TRUNCATED_INPUT') ?? 0) > 0, JSON.stringify([...codes]));
    stillWorks();
  });
});
