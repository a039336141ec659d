import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodecError } from '../../src/errors';
import { readFrameHeader, scanZstd } from '../../src/codecs/zstd-frame';

const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const KiB = 1024;

interface HeaderSpec {
  /** Content size to declare, or undefined for none. */
  fcs?: number;
  /** Force the FCS field width (1, 2, 4, 8). */
  fcsBytes?: 1 | 2 | 4 | 8;
  singleSegment?: boolean;
  /** Window descriptor byte (non-single-segment frames). Default 0x00 = 1 KiB. */
  windowDescriptor?: number;
  checksum?: boolean;
  dictId?: number;
  dictBytes?: 1 | 2 | 4;
}

/** A frame header built from the spec's fields (RFC 8878 §3.1.1.1). */
function header(s: HeaderSpec): number[] {
  const fcsBytes = s.fcs === undefined ? 0 : s.fcsBytes ?? (s.fcs < 256 && s.singleSegment ? 1 : s.fcs < 65536 + 256 && s.fcs >= 256 ? 2 : s.fcs < 2 ** 32 ? 4 : 8);
  const fcsFlag = fcsBytes === 0 || fcsBytes === 1 ? 0 : fcsBytes === 2 ? 1 : fcsBytes === 4 ? 2 : 3;
  const dictBytes = s.dictId === undefined ? 0 : s.dictBytes ?? 4;
  const dictFlag = dictBytes === 4 ? 3 : dictBytes;
  const fhd = (fcsFlag << 6) | (s.singleSegment ? 0x20 : 0) | (s.checksum ? 0x04 : 0) | dictFlag;
  const out = [...MAGIC, fhd];
  if (!s.singleSegment) out.push(s.windowDescriptor ?? 0);
  for (let i = 0; i < dictBytes; i++) out.push(((s.dictId ?? 0) / 2 ** (8 * i)) & 0xff);
  let v = s.fcs === undefined ? 0 : fcsBytes === 2 ? s.fcs - 256 : s.fcs;
  for (let i = 0; i < fcsBytes; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}

/** Block header: 3 bytes little-endian, bit 0 last, bits 1-2 type, bits 3-23 size. */
function block(type: 0 | 1 | 2 | 3, size: number, last: boolean): number[] {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CodecError, `expected a CodecError, got ${err}`);
    assert.equal(err.codec, 'zstd');
    return err.code;
  }
  return 'ok';
}

describe('zstd frame header', () => {
  it('reads every content-size width, including the +256 bias of the 2-byte form', () => {
    const cases: Array<[HeaderSpec, number]> = [
      [{ fcs: 200, singleSegment: true }, 200],
      [{ fcs: 256, fcsBytes: 2 }, 256],
      [{ fcs: 65535 + 256, fcsBytes: 2 }, 65791],
      [{ fcs: 1_000_000, fcsBytes: 4 }, 1_000_000],
      [{ fcs: 2 ** 32 - 1, fcsBytes: 4 }, 2 ** 32 - 1],
      [{ fcs: 2 ** 40 + 5, fcsBytes: 8 }, 2 ** 40 + 5],
      [{}, -1],
    ];
    for (const [spec, want] of cases) {
      const h = readFrameHeader(Uint8Array.from(header(spec)), 0);
      assert.equal(h.contentSize, want, JSON.stringify(spec));
      assert.equal(h.headerSize, header(spec).length);
    }
  });

  it('computes window sizes from exponent and mantissa, and Block_Maximum_Size', () => {
    // exponent 0 mantissa 0 -> 1 KiB; exponent 10 (2^20) mantissa 3 -> 1 MiB + 3/8 MiB; exponent 31 -> 2^41
    const h0 = readFrameHeader(Uint8Array.from(header({ windowDescriptor: 0x00 })), 0);
    assert.deepEqual([h0.windowLog, h0.windowSize, h0.blockMaxSize], [10, 1024, 1024]);
    const h1 = readFrameHeader(Uint8Array.from(header({ windowDescriptor: (10 << 3) | 3 })), 0);
    assert.deepEqual([h1.windowLog, h1.windowSize, h1.blockMaxSize], [20, 2 ** 20 + 3 * 2 ** 17, 128 * KiB]);
    const h2 = readFrameHeader(Uint8Array.from(header({ windowDescriptor: 0xff })), 0);
    assert.deepEqual([h2.windowLog, h2.windowSize], [41, 2 ** 41 + 7 * 2 ** 38]);
    // single segment: the window is the content size
    const h3 = readFrameHeader(Uint8Array.from(header({ fcs: 100, singleSegment: true })), 0);
    assert.deepEqual([h3.windowLog, h3.windowSize, h3.blockMaxSize, h3.singleSegment], [-1, 100, 100, true]);
  });

  it('reads the checksum flag and refuses dictionaries and the reserved bit', () => {
    assert.equal(readFrameHeader(Uint8Array.from(header({ checksum: true })), 0).checksum, true);
    assert.equal(codeOf(() => readFrameHeader(Uint8Array.from(header({ dictId: 7, dictBytes: 1 })), 0)), 'ERR_UNSUPPORTED');
    assert.equal(codeOf(() => readFrameHeader(Uint8Array.from(header({ dictId: 70000, dictBytes: 4 })), 0)), 'ERR_UNSUPPORTED');
    // a dictionary-id field holding 0 means "no dictionary"
    assert.equal(readFrameHeader(Uint8Array.from(header({ dictId: 0, dictBytes: 2 })), 0).dictId, 0);
    const reserved = header({});
    reserved[4] |= 0x08;
    assert.equal(codeOf(() => readFrameHeader(Uint8Array.from(reserved), 0)), 'ERR_CORRUPT_INPUT');
  });

  it('reports a truncated header as truncated, at every cut', () => {
    const full = header({ fcs: 1_000_000, fcsBytes: 8, checksum: true, dictId: 0, dictBytes: 4 });
    for (let n = 4; n < full.length; n++) {
      assert.equal(codeOf(() => readFrameHeader(Uint8Array.from(full.slice(0, n)), 0)), 'ERR_TRUNCATED_INPUT', `cut at ${n}`);
    }
  });
});

describe('scanZstd', () => {
  const raw3 = [...header({ fcs: 3, singleSegment: true }), ...block(0, 3, true), 1, 2, 3];
  const rleNoFcs = [...header({ windowDescriptor: 0x00 }), ...block(1, 1000, false), 7, ...block(1, 24, true), 7];

  it('is exact when every frame declares its size, and sums concatenated frames', () => {
    assert.deepEqual(scanZstd(Uint8Array.from(raw3)), { frames: 1, skippableFrames: 0, exact: true, minBytes: 3, maxBytes: 3, wideWindows: undefined, maxWindowLog: -1 });
    const two = Uint8Array.from([...raw3, ...raw3]);
    assert.deepEqual([scanZstd(two).maxBytes, scanZstd(two).frames], [6, 2]);
  });

  it('bounds frames without content size by their blocks: raw and RLE exactly, compressed by min(window, 128 KiB)', () => {
    assert.deepEqual(scanZstd(Uint8Array.from(rleNoFcs)), { frames: 1, skippableFrames: 0, exact: false, minBytes: 1024, maxBytes: 1024, wideWindows: undefined, maxWindowLog: 10 });
    // 1 KiB window: each compressed block makes at most 1 KiB
    const small = [...header({ windowDescriptor: 0x00 }), ...block(2, 2, false), 0, 0, ...block(0, 5, false), 1, 2, 3, 4, 5, ...block(2, 2, true), 0, 0];
    assert.deepEqual([scanZstd(Uint8Array.from(small)).minBytes, scanZstd(Uint8Array.from(small)).maxBytes], [5, 5 + 2 * 1024]);
    // 8 MiB window: capped at 128 KiB per compressed block
    const big = [...header({ windowDescriptor: 13 << 3 }), ...block(2, 2, false), 0, 0, ...block(2, 2, true), 0, 0];
    assert.equal(scanZstd(Uint8Array.from(big)).maxBytes, 2 * 128 * KiB);
    // mixed: one exact frame + one bounded frame
    const mixed = scanZstd(Uint8Array.from([...raw3, ...rleNoFcs]));
    assert.deepEqual([mixed.exact, mixed.minBytes, mixed.maxBytes], [false, 1027, 1027]);
  });

  it('skips skippable frames of every magic 0x184D2A50..5F', () => {
    for (let m = 0; m < 16; m++) {
      const skip = [0x50 + m, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9];
      const s = scanZstd(Uint8Array.from([...skip, ...raw3, ...skip]));
      assert.deepEqual([s.frames, s.skippableFrames, s.maxBytes], [1, 2, 3]);
    }
    const onlySkippable = scanZstd(Uint8Array.from([0x5f, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]));
    assert.deepEqual([onlySkippable.frames, onlySkippable.skippableFrames, onlySkippable.maxBytes], [0, 1, 0]);
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1]))), 'ERR_TRUNCATED_INPUT');
  });

  it('refuses garbage, empty input, legacy frames, and reserved block types', () => {
    assert.equal(codeOf(() => scanZstd(new Uint8Array(0))), 'ERR_TRUNCATED_INPUT');
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([1, 2, 3, 4, 5, 6]))), 'ERR_CORRUPT_INPUT');
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([0x27, 0xb5, 0x2f, 0xfd, 0, 0, 0]))), 'ERR_UNSUPPORTED');
    const reserved = [...header({}), ...block(3, 1, true), 0];
    assert.equal(codeOf(() => scanZstd(Uint8Array.from(reserved))), 'ERR_CORRUPT_INPUT');
  });

  it('reports bytes after the last frame as trailing data, and a cut frame as truncated', () => {
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([...raw3, 0, 0, 0, 0, 0]))), 'ERR_TRAILING_DATA');
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([...raw3, 0]))), 'ERR_TRAILING_DATA');
    assert.equal(codeOf(() => scanZstd(Uint8Array.from([...raw3, 0x28, 0xb5]))), 'ERR_TRUNCATED_INPUT');
    // Every prefix of a two-frame input is truncated, except the frame boundary, which is valid.
    const two = [...raw3, ...[...header({ checksum: true, windowDescriptor: 0x08 }), ...block(1, 10, false), 5, ...block(0, 2, true), 1, 2, 0, 0, 0, 0]];
    for (let n = 1; n < two.length; n++) {
      const code = codeOf(() => scanZstd(Uint8Array.from(two.slice(0, n))));
      assert.equal(code, n === raw3.length ? 'ok' : 'ERR_TRUNCATED_INPUT', `cut at ${n}`);
    }
  });

  it('refuses blocks larger than Block_Maximum_Size = min(window, 128 KiB)', () => {
    // 1 KiB window: 1024-byte blocks are fine, 1025 is not, for every block type
    const ok = [...header({ windowDescriptor: 0 }), ...block(1, 1024, true), 0];
    assert.equal(scanZstd(Uint8Array.from(ok)).maxBytes, 1024);
    for (const type of [0, 1, 2] as const) {
      const big = [...header({ windowDescriptor: 0 }), ...block(type, 1025, true), ...new Array(1025).fill(0)];
      assert.equal(codeOf(() => scanZstd(Uint8Array.from(big))), 'ERR_CORRUPT_INPUT', `type ${type}`);
    }
    // large window: the cap is 128 KiB
    const rle = [...header({ windowDescriptor: 15 << 3 }), ...block(1, 128 * KiB + 1, true), 0];
    assert.equal(codeOf(() => scanZstd(Uint8Array.from(rle))), 'ERR_CORRUPT_INPUT');
  });

  it('refuses a declared content size that the blocks cannot produce', () => {
    const tooBig = [...header({ fcs: 300, fcsBytes: 2 }), ...block(0, 3, true), 1, 2, 3];
    assert.equal(codeOf(() => scanZstd(Uint8Array.from(tooBig))), 'ERR_CORRUPT_INPUT');
    const tooSmall = [...header({ fcs: 2, singleSegment: true }), ...block(1, 100, true), 1];
    assert.equal(codeOf(() => scanZstd(Uint8Array.from(tooSmall))), 'ERR_CORRUPT_INPUT');
  });

  it('fails a 4 GiB content-size claim with ERR_OUTPUT_LIMIT from the header alone', () => {
    // Only the header: the claim is refused before any block is read (else this would be truncated).
    const claim = Uint8Array.from(header({ fcs: 4 * 2 ** 30, fcsBytes: 8 }));
    assert.equal(codeOf(() => scanZstd(claim, 256 * 2 ** 20)), 'ERR_OUTPUT_LIMIT');
    assert.equal(codeOf(() => scanZstd(claim)), 'ERR_TRUNCATED_INPUT');
  });

  it('stops an RLE bomb as soon as it passes the limit, without walking the rest', () => {
    // 40 000 RLE blocks of 128 KiB (4 bytes each -> 5 GiB), then a truncated block header: a scan
    // that walked everything would report truncation; ours stops at the limit.
    const blocks = 40_000;
    const buf = new Uint8Array(6 + blocks * 4 + 1);
    buf.set(header({ windowDescriptor: 10 << 3 }));
    for (let i = 0; i < blocks; i++) {
      buf.set(block(1, 128 * KiB, false), 6 + i * 4);
      buf[6 + i * 4 + 3] = 0x61;
    }
    assert.equal(codeOf(() => scanZstd(buf, 256 * 2 ** 20)), 'ERR_OUTPUT_LIMIT');
    assert.equal(codeOf(() => scanZstd(buf)), 'ERR_TRUNCATED_INPUT');
  });

  it('records windows above 2^30 (which a wasm32 libzstd refuses) for patching', () => {
    const f = [...header({ windowDescriptor: 21 << 3 }), ...block(0, 1, true), 1];
    assert.deepEqual(scanZstd(Uint8Array.from([...raw3, ...f])).wideWindows, [raw3.length + 5]);
    const ok = [...header({ windowDescriptor: 20 << 3 }), ...block(0, 1, true), 1];
    assert.equal(scanZstd(Uint8Array.from(ok)).wideWindows, undefined);
  });

  const cli = spawnSync('zstd', ['--version']).status === 0;
  it('agrees with `zstd -lv` on content size and window size of CLI frames', { skip: !cli && 'zstd CLI not installed' }, () => {
    const input = Buffer.from('0123456789abcdef'.repeat(40_000)); // 640 000 bytes
    // Reading stdin, the CLI writes no content size unless told the size with --stream-size.
    const sized = `--stream-size=${input.length}`;
    for (const args of [['-3', sized], ['-3'], ['-19', sized], ['--zstd=wlog=12'], ['--long=27'], ['--long=27', sized]]) {
      const z = spawnSync('zstd', ['-c', '-q', ...args], { input, maxBuffer: 1 << 26 }).stdout;
      const s = scanZstd(z);
      const h = readFrameHeader(z, 0);
      // zstd -l cannot read stdin: write a temp file.
      const dir = mkdtempSync(join(tmpdir(), 'ka-zstd-'));
      const file = join(dir, 'x.zst');
      writeFileSync(file, z);
      const lv = spawnSync('zstd', ['-lv', file], { encoding: 'utf8' }).stdout;
      rmSync(dir, { recursive: true });
      const win = /Window Size: .*\((\d+) B\)/.exec(lv);
      const dec = /Decompressed Size: .*\((\d+) B\)/.exec(lv);
      assert.ok(win, lv);
      assert.equal(h.windowSize, Number(win[1]), args.join(' '));
      if (!args.includes(sized)) {
        assert.equal(dec, null, 'the CLI agrees there is no content size');
        assert.equal(s.exact, false);
        assert.ok(s.maxBytes >= input.length && s.minBytes <= input.length, `${s.minBytes} <= ${input.length} <= ${s.maxBytes}`);
      } else {
        assert.ok(dec, lv);
        assert.deepEqual([s.exact, s.maxBytes, Number(dec[1])], [true, input.length, input.length]);
      }
    }
  });
});
