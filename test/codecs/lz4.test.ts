import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Arena, Lease } from '../../src/arena';
import { lz4, xxhash32 } from '../../src/codecs/lz4';
import { KafkaArenaError } from '../../src/errors';

/**
 * kafkajs-lz4 and the `lz4` package it wraps, loaded lazily: their native addon is compiled for the
 * Node that ran `npm ci`, and fails to load under another Node ABI (the suite also runs on 22 and 24).
 */
type LZ4CodecClass = typeof import('kafkajs-lz4').default;
interface NodeLz4 {
  encode(data: Buffer, options?: Record<string, unknown>): Buffer;
}
function loadKafkajsLz4(): { LZ4Codec: LZ4CodecClass; nodeLz4: NodeLz4 } | string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const LZ4Codec = require('kafkajs-lz4') as LZ4CodecClass;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeLz4 = require('lz4') as NodeLz4;
    return { LZ4Codec, nodeLz4 };
  } catch (err) {
    return `kafkajs-lz4's native lz4 addon does not load on Node ${process.version}: ${(err as { code?: string }).code ?? String(err)}`;
  }
}
const kafkajsLz4 = loadKafkajsLz4();

const KiB = 1024;
const MiB = 1024 * KiB;

// ------------------------------------------------------------------------------------------------
// Helpers

/** xorshift32: deterministic data and fuzzing. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Realistic JSON event lines, `n` bytes. */
function events(n: number, seed = 1): Buffer {
  const r = prng(seed);
  const kinds = ['click', 'view', 'purchase', 'scroll', 'add_to_cart'];
  const uas = [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  ];
  const parts: string[] = [];
  let len = 0;
  let ts = 1_700_000_000_000;
  while (len < n) {
    ts += r() % 1000;
    const line =
      JSON.stringify({
        ts,
        user: `u${r() % 5000}`,
        event: kinds[r() % kinds.length],
        page: `/products/${r() % 500}`,
        ua: uas[r() % uas.length],
        amount: (r() % 100000) / 100,
      }) + '\n';
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('').slice(0, n));
}

function randomBytes(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

interface FrameSpec {
  /** B.MaxSize id 4..7. */
  bsid?: number;
  linked?: boolean;
  blockChecksum?: boolean;
  /** Content size field value (any number, may lie). */
  contentSize?: number | bigint;
  /** Appends xxh32 of this (the decoded content) as content checksum. */
  contentChecksumOf?: Uint8Array;
  dictId?: number;
  blocks: { data: Uint8Array; raw?: boolean }[];
}

/** Builds an LZ4 frame by hand, with a correct header checksum. */
function frame(spec: FrameSpec): Buffer {
  const flg =
    0x40 |
    (spec.linked ? 0 : 0x20) |
    (spec.blockChecksum ? 0x10 : 0) |
    (spec.contentSize !== undefined ? 0x08 : 0) |
    (spec.contentChecksumOf ? 0x04 : 0) |
    (spec.dictId !== undefined ? 0x01 : 0);
  const desc: Buffer[] = [Buffer.from([flg, (spec.bsid ?? 4) << 4])];
  if (spec.contentSize !== undefined) {
    const cs = Buffer.alloc(8);
    cs.writeBigUInt64LE(BigInt(spec.contentSize));
    desc.push(cs);
  }
  if (spec.dictId !== undefined) desc.push(u32(spec.dictId));
  const d = Buffer.concat(desc);
  const parts: Buffer[] = [u32(0x184d2204), d, Buffer.from([(xxhash32(d) >>> 8) & 0xff])];
  for (const b of spec.blocks) {
    parts.push(u32(b.data.length | (b.raw ? 0x80000000 : 0)), Buffer.from(b.data));
    if (spec.blockChecksum) parts.push(u32(xxhash32(b.data)));
  }
  parts.push(u32(0));
  if (spec.contentChecksumOf) parts.push(u32(xxhash32(spec.contentChecksumOf)));
  return Buffer.concat(parts);
}

/** LZ4 length continuation bytes for `n` (the part past 15). */
function lenBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 255) {
    out.push(255);
    n -= 255;
  }
  out.push(n);
  return out;
}

/** A compressed block of `n` zero bytes (n >= 10): 1 literal, one offset-1 match, 5 literals. */
function zeroBlock(n: number): Buffer {
  const ml = n - 1 - 5;
  const bytes = [0x1f, 0x00, 0x01, 0x00, ...lenBytes(ml - 4 - 15), 0x50, 0, 0, 0, 0, 0];
  return Buffer.from(bytes);
}

/** A literal-only compressed block. */
function literalBlock(data: Uint8Array): Buffer {
  const n = data.length;
  const head = n >= 15 ? [0xf0, ...lenBytes(n - 15)] : [n << 4];
  return Buffer.concat([Buffer.from(head), Buffer.from(data)]);
}

/** Rewrites compress() output made with `{ contentChecksum: true }` without content size and checksum, HC fixed. */
function stripFrameExtras(f: Buffer): Buffer {
  assert.equal(f[4], 0x6c);
  const d = Buffer.from([0x60, f[5]]);
  return Buffer.concat([u32(0x184d2204), d, Buffer.from([(xxhash32(d) >>> 8) & 0xff]), f.subarray(15, f.length - 4)]);
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KafkaArenaError, `expected a KafkaArenaError, got ${String(err)}`);
    assert.equal(err.code, code, (err as Error).message);
    return true;
  });
}

const cliAvailable = spawnSync('lz4', ['--version'], { stdio: 'ignore' }).status === 0;
const needCli = cliAvailable ? false : 'the lz4 CLI is not on PATH (CI installs it)';

function cli(args: string[], input?: Uint8Array): Buffer {
  return execFileSync('lz4', args, { input, stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 64 * MiB });
}

function roundTrip(data: Uint8Array, level?: number): void {
  const c = lz4.compress(data, level === undefined ? undefined : { level });
  const d = lz4.decompress(c);
  assert.ok(Buffer.from(data).equals(d), `round trip of ${data.length} bytes at level ${level}`);
  assert.deepEqual(lz4.decompressedSize(c), { bytes: data.length, exact: true });
}

// ------------------------------------------------------------------------------------------------

describe('lz4 codec', () => {
  test('identity', () => {
    assert.equal(lz4.name, 'lz4');
    assert.equal(lz4.kafkaType, 3);
  });

  test('xxhash32 known vectors', () => {
    assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
    assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxhash32(Buffer.from('hello')), 0xfb0077f9);
    assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });

  test('round trips at edge sizes and block boundaries, both levels', () => {
    const sizes = [0, 1, 2, 4, 5, 11, 12, 13, 14, 15, 16, 17, 31, 32, 33, 255, 256, 270, 65535, 65536, 65537, 131072, 131073, 200_001];
    for (const n of sizes) {
      for (const level of [undefined, 1, 2, 9]) {
        roundTrip(events(n, n + 1), level);
        roundTrip(randomBytes(n, n + 7), level);
        roundTrip(Buffer.alloc(n, 0x61), level);
      }
    }
  });

  test('periodic data (match offsets 1..40, overlapping copies) round trips', () => {
    for (let period = 1; period <= 40; period++) {
      const pattern = randomBytes(period, period);
      for (const n of [20, 100, 1000, 70_000]) {
        const data = Buffer.alloc(n);
        for (let i = 0; i < n; i++) data[i] = pattern[i % period];
        roundTrip(data);
      }
    }
  });

  test('property: random and compressible inputs round trip', () => {
    const compressible = fc
      .tuple(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 3000 }))
      .map(([words, picks]) => Buffer.concat(picks.map((p) => words[p % words.length])));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 140_000 }), compressible), fc.constantFrom(1, 2), (data, level) => {
        const c = lz4.compress(data, { level });
        assert.ok(Buffer.from(data).equals(lz4.decompress(c)));
      }),
      { numRuns: 120, seed: 0x4c5a34 },
    );
  });

  test('compression actually compresses JSON events', () => {
    const data = events(MiB, 3);
    for (const level of [1, 2]) {
      const ratio = data.length / lz4.compress(data, { level }).length;
      assert.ok(ratio > 4, `level ${level} ratio ${ratio}`);
    }
    // Incompressible data is stored, with a small fixed overhead per 64 KiB block.
    const rnd = randomBytes(300_000, 9);
    assert.ok(lz4.compress(rnd).length <= rnd.length + 15 + 5 * 4 + 8);
  });

  test('compress frames as the Kafka clients do: no content checksum unless asked for', () => {
    const data = events(100_000, 12);
    const plain = lz4.compress(data);
    // FLG: version 01, independent blocks, content size; BD: 64 KiB blocks.
    assert.equal(plain[4], 0x68);
    assert.equal(plain[5], 0x40);
    const checked = lz4.compress(data, { contentChecksum: true });
    assert.equal(checked[4], 0x6c);
    assert.equal(checked.length, plain.length + 4);
    assert.equal(checked.readUInt32LE(checked.length - 4), xxhash32(data));
    assert.ok(data.equals(lz4.decompress(plain)));
    assert.ok(data.equals(lz4.decompress(checked)));
  });

  test('compress rejects bad levels', () => {
    for (const level of [0, -1, 13, 1.5, Number.NaN]) expectCode(() => lz4.compress(Buffer.from('x'), { level }), 'ERR_INVALID_ARGUMENT');
  });

  test('decompressedSize: exact with a content size, else a bound from block headers', () => {
    const data = events(200_000, 4);
    assert.deepEqual(lz4.decompressedSize(lz4.compress(data)), { bytes: 200_000, exact: true });
    const bare = stripFrameExtras(lz4.compress(data, { contentChecksum: true }));
    // 4 blocks of 64 KiB max: 3 full compressed, and the last of 200000 - 196608 bytes.
    const hint = lz4.decompressedSize(bare);
    assert.equal(hint.exact, false);
    assert.equal(hint.bytes, 4 * 64 * KiB);
    assert.ok(Buffer.from(data).equals(lz4.decompress(bare)));
    // Stored blocks count exactly; compressed blocks at the maximum of their frame.
    const raw = frame({ bsid: 5, blocks: [{ data: Buffer.alloc(1000, 1), raw: true }, { data: zeroBlock(5000) }] });
    assert.deepEqual(lz4.decompressedSize(raw), { bytes: 1000 + 256 * KiB, exact: false });
    assert.equal(lz4.decompress(raw).length, 6000);
    expectCode(() => lz4.decompressedSize(Buffer.from('not an lz4 frame')), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompressedSize(bare.subarray(0, 30)), 'ERR_TRUNCATED_INPUT');
  });

  test('hand-built frames: stored blocks, checksums, all block sizes, multiple frames, skippable frames', () => {
    const a = events(3000, 5);
    const b = Buffer.from('second frame');
    for (const bsid of [4, 5, 6, 7]) {
      const f = frame({ bsid, blockChecksum: true, contentSize: a.length, contentChecksumOf: a, blocks: [{ data: literalBlock(a.subarray(0, 1000)) }, { data: a.subarray(1000), raw: true }] });
      assert.ok(a.equals(lz4.decompress(f)));
    }
    const f1 = frame({ contentChecksumOf: a, blocks: [{ data: literalBlock(a) }] });
    const f2 = frame({ contentSize: b.length, blocks: [{ data: b, raw: true }] });
    const skip = Buffer.concat([u32(0x184d2a5f), u32(5), Buffer.from('skip!')]);
    const emptySkip = Buffer.concat([u32(0x184d2a50), u32(0)]);
    assert.ok(Buffer.concat([a, b]).equals(lz4.decompress(Buffer.concat([skip, f1, emptySkip, f2, skip]))));
    assert.equal(lz4.decompress(skip).length, 0);
    // An empty frame (EndMark only) decodes to nothing.
    assert.equal(lz4.decompress(frame({ contentSize: 0, contentChecksumOf: Buffer.alloc(0), blocks: [] })).length, 0);
  });

  test('linked blocks may reference the previous block; independent blocks may not', () => {
    const first = Buffer.from('The quick brown fox jumps over the lazy dog. ');
    // Block 2: a 40-byte match at offset 45 (inside block 1), then 5 literals.
    const second = Buffer.from([0x0f, 45, 0, ...lenBytes(40 - 4 - 15), 0x50, ...Buffer.from('END!!')]);
    const expected = Buffer.concat([first, first.subarray(0, 40), Buffer.from('END!!')]);
    const linked = frame({ linked: true, contentChecksumOf: expected, blocks: [{ data: literalBlock(first) }, { data: second }] });
    assert.ok(expected.equals(lz4.decompress(linked)));
    const independent = frame({ linked: false, blocks: [{ data: literalBlock(first) }, { data: second }] });
    expectCode(() => lz4.decompress(independent), 'ERR_CORRUPT_INPUT');
  });

  test('checksums are verified: header, block, content', () => {
    const data = events(100_000, 6);
    const good = frame({ blockChecksum: true, contentChecksumOf: data, blocks: [{ data: literalBlock(data.subarray(0, 60_000)) }, { data: data.subarray(60_000), raw: true }] });
    assert.ok(data.equals(lz4.decompress(good)));
    const badHeader = Buffer.from(good);
    badHeader[6] ^= 0x01;
    expectCode(() => lz4.decompress(badHeader), 'ERR_CHECKSUM_MISMATCH');
    const badBlock = Buffer.from(good);
    badBlock[5000] ^= 0x10;
    expectCode(() => lz4.decompress(badBlock), 'ERR_CHECKSUM_MISMATCH');
    // Without block checksums, the content checksum still catches a flipped literal.
    const ours = lz4.compress(data, { contentChecksum: true });
    let caught = 0;
    for (let i = 200; i < ours.length - 8; i += 97) {
      const m = Buffer.from(ours);
      m[i] ^= 0x01;
      try {
        // A flip may still decode to the same bytes (an offset moved to an equal substring); it
        // must never decode to different bytes.
        assert.ok(data.equals(lz4.decompress(m)), `flip at ${i} decoded to different bytes`);
      } catch (err) {
        if (!(err instanceof KafkaArenaError)) throw err;
        if (err.code === 'ERR_CHECKSUM_MISMATCH') caught++;
      }
    }
    assert.ok(caught > 0);
    const badContent = Buffer.from(ours);
    badContent[badContent.length - 1] ^= 0x80;
    expectCode(() => lz4.decompress(badContent), 'ERR_CHECKSUM_MISMATCH');
  });

  test('errors: truncation at every length, trailing data, bad magic, dictionary id, content size mismatch', () => {
    const data = events(5000, 7);
    const f = lz4.compress(data);
    for (let n = 0; n < f.length; n++) expectCode(() => lz4.decompress(f.subarray(0, n)), 'ERR_TRUNCATED_INPUT');
    expectCode(() => lz4.decompress(Buffer.concat([f, Buffer.from('garbage!')])), 'ERR_TRAILING_DATA');
    expectCode(() => lz4.decompress(Buffer.concat([f, Buffer.from([0, 0])])), 'ERR_TRAILING_DATA');
    expectCode(() => lz4.decompress(Buffer.from('garbage that is not lz4')), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ dictId: 7, blocks: [{ data: Buffer.from('x'), raw: true }] })), 'ERR_UNSUPPORTED');
    // Version bits, reserved bits, block size id below 4, block bigger than the maximum.
    const v = Buffer.from(f);
    v[4] = 0x80 | (v[4] & 0x3f);
    expectCode(() => lz4.decompress(v), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ bsid: 3, blocks: [] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: Buffer.alloc(64 * KiB + 1), raw: true }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: zeroBlock(64 * KiB + 1) }] })), 'ERR_CORRUPT_INPUT');
    // Content size smaller or larger than the content.
    expectCode(() => lz4.decompress(frame({ contentSize: 99, blocks: [{ data: Buffer.alloc(100), raw: true }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ contentSize: 101, blocks: [{ data: Buffer.alloc(100), raw: true }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ contentSize: 10 * MiB, blocks: [{ data: Buffer.alloc(100), raw: true }] })), 'ERR_CORRUPT_INPUT');
    // Block-level corruption: offset 0, offset before the output start, match past the block end.
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: Buffer.from([0x10, 0x41, 0x00, 0x00, 0x50, 1, 2, 3, 4, 5]) }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: Buffer.from([0x10, 0x41, 0x02, 0x00, 0x50, 1, 2, 3, 4, 5]) }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: Buffer.from([0x10, 0x41, 0x01]) }] })), 'ERR_CORRUPT_INPUT');
    expectCode(() => lz4.decompress(frame({ blocks: [{ data: Buffer.from([0xf0, 255, 255]) }] })), 'ERR_CORRUPT_INPUT');
    // The codec still works after all of that.
    assert.ok(data.equals(lz4.decompress(f)));
  });

  test('decompression bombs fail fast with ERR_OUTPUT_LIMIT, without allocating the output', () => {
    // 2 GiB of zeros: 512 compressed 4 MiB blocks of ~16 KiB each, no content size.
    const block = zeroBlock(4 * MiB);
    assert.ok(Buffer.alloc(4 * MiB).equals(lz4.decompress(frame({ bsid: 7, blocks: [{ data: block }] }))));
    const bomb = frame({ bsid: 7, blocks: Array.from({ length: 512 }, () => ({ data: block })) });
    assert.ok(bomb.length < 9 * MiB);
    assert.deepEqual(lz4.decompressedSize(bomb), { bytes: 2048 * MiB, exact: false });
    const rssBefore = process.memoryUsage().rss;
    expectCode(() => lz4.decompress(bomb), 'ERR_OUTPUT_LIMIT');
    expectCode(() => lz4.decompress(bomb, { maxOutputBytes: 1024 * MiB }), 'ERR_OUTPUT_LIMIT');
    assert.ok(process.memoryUsage().rss - rssBefore < 128 * MiB, 'the bomb must not be materialised');
    // A frame that claims a huge content size.
    const claim = frame({ contentSize: 2n ** 40n, blocks: [{ data: Buffer.alloc(10), raw: true }] });
    expectCode(() => lz4.decompress(claim), 'ERR_OUTPUT_LIMIT');
    // decompressedSize has no limit to check first: the claim is simply inconsistent with the blocks.
    expectCode(() => lz4.decompressedSize(claim), 'ERR_CORRUPT_INPUT');
    const honest = frame({ contentSize: 2n ** 40n, blocks: Array.from({ length: 4 }, () => ({ data: Buffer.alloc(10), raw: true })) });
    expectCode(() => lz4.decompress(honest), 'ERR_OUTPUT_LIMIT');
  });

  test('maxOutputBytes is exact even when the header bound is loose', () => {
    // One 4 MiB-max block holding 3000 bytes: the bound (4 MiB) passes a 10 KiB limit, the content does not.
    const data = events(3000, 8);
    const f = frame({ bsid: 7, blocks: [{ data: literalBlock(data) }] });
    assert.deepEqual(lz4.decompressedSize(f), { bytes: 4 * MiB, exact: false });
    assert.ok(data.equals(lz4.decompress(f, { maxOutputBytes: 10 * KiB })));
    assert.ok(data.equals(lz4.decompress(f, { maxOutputBytes: 3000 })));
    expectCode(() => lz4.decompress(f, { maxOutputBytes: 2999 }), 'ERR_OUTPUT_LIMIT');
    const sized = lz4.compress(data);
    expectCode(() => lz4.decompress(sized, { maxOutputBytes: 2999 }), 'ERR_OUTPUT_LIMIT');
    assert.equal(lz4.decompress(Buffer.concat([sized, sized]), { maxOutputBytes: 6000 }).length, 6000);
    expectCode(() => lz4.decompress(Buffer.concat([sized, sized]), { maxOutputBytes: 5999 }), 'ERR_OUTPUT_LIMIT');
    expectCode(() => lz4.decompress(sized, { maxOutputBytes: -1 }), 'ERR_INVALID_ARGUMENT');
  });

  test('arena path returns a Lease of exactly the decompressed length', () => {
    const arena = new Arena({ maxBytes: 8 * MiB, trimIntervalMs: 0 });
    for (const n of [0, 1, 1000, 70_000, 300_000]) {
      const data = events(n, n + 11);
      for (const f of [lz4.compress(data), stripFrameExtras(lz4.compress(data, { contentChecksum: true }))]) {
        const lease = lz4.decompress(f, { arena });
        assert.ok(lease instanceof Lease);
        assert.equal(lease.length, n);
        assert.ok(data.equals(lease.bytes));
        lease.release();
      }
    }
    assert.equal(arena.stats().leasedCount, 0);
  });

  test('out path writes into the caller buffer; ERR_OUTPUT_TOO_SMALL when it does not fit', () => {
    const data = events(50_000, 12);
    const out = new Uint8Array(60_000);
    const r = lz4.decompress(lz4.compress(data), { out });
    assert.equal(r.buffer, out.buffer);
    assert.equal(r.length, 50_000);
    assert.ok(data.equals(r));
    const exact = new Uint8Array(50_000);
    assert.ok(data.equals(lz4.decompress(lz4.compress(data), { out: exact })));
    expectCode(() => lz4.decompress(lz4.compress(data), { out: new Uint8Array(49_999) }), 'ERR_OUTPUT_TOO_SMALL');
    // Without a content size the size is known only after decoding: same error.
    expectCode(() => lz4.decompress(stripFrameExtras(lz4.compress(data, { contentChecksum: true })), { out: new Uint8Array(49_999) }), 'ERR_OUTPUT_TOO_SMALL');
    assert.ok(data.equals(lz4.decompress(lz4.compress(data))));
  });

  test('mutation fuzz: every call returns or throws a KafkaArenaError, and the codec keeps working', () => {
    const r = prng(0xfeed);
    const seeds: Buffer[] = [];
    for (const n of [100, 2000, 20_000, 70_000]) {
      const data = events(n, n);
      seeds.push(lz4.compress(data), stripFrameExtras(lz4.compress(data, { contentChecksum: true })));
      const pattern = randomBytes(1 + (n % 13), n);
      const periodic = Buffer.alloc(n);
      for (let i = 0; i < n; i++) periodic[i] = pattern[i % pattern.length];
      seeds.push(stripFrameExtras(lz4.compress(periodic, { contentChecksum: true })));
    }
    seeds.push(frame({ linked: true, bsid: 5, blockChecksum: true, blocks: [{ data: literalBlock(events(500, 1)) }, { data: zeroBlock(3000) }] }));
    const valid = seeds[2];
    const validData = lz4.decompress(valid);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const src = seeds[r() % seeds.length];
      let m: Buffer;
      switch (i % 5) {
        case 0: {
          m = Buffer.from(src);
          const flips = 1 + (r() % 3);
          for (let k = 0; k < flips; k++) m[r() % m.length] ^= 1 << (r() % 8);
          break;
        }
        case 1:
          m = src.subarray(0, r() % src.length);
          break;
        case 2: {
          const at = r() % (src.length + 1);
          m = Buffer.concat([src.subarray(0, at), randomBytes(1 + (r() % 8), r()), src.subarray(at)]);
          break;
        }
        case 3: {
          m = Buffer.from(src);
          // Overwrite a byte in the header or a block header: exercises the structure checks.
          m[r() % Math.min(m.length, 24)] = r() & 0xff;
          break;
        }
        default: {
          m = Buffer.from(src);
          const at = r() % m.length;
          m.fill(r() & 0xff, at, Math.min(m.length, at + 1 + (r() % 6)));
        }
      }
      let key = 'ok';
      try {
        const out = lz4.decompress(m, { maxOutputBytes: 4 * MiB });
        assert.ok(Buffer.isBuffer(out));
      } catch (err) {
        if (!(err instanceof KafkaArenaError)) throw err;
        key = err.code;
      }
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (i % 100 === 99) assert.ok(validData.equals(lz4.decompress(valid)));
    }
    // The mutations reached every failure class the decoder reports.
    for (const code of ['ERR_CORRUPT_INPUT', 'ERR_TRUNCATED_INPUT', 'ERR_CHECKSUM_MISMATCH', 'ERR_TRAILING_DATA']) {
      assert.ok((outcomes.get(code) ?? 0) > 0, `${code} never seen: ${JSON.stringify([...outcomes])}`);
    }
    assert.ok(validData.equals(lz4.decompress(valid)));
  });

  test('kafkajs-lz4 output decodes, and kafkajs-lz4 decodes ours', { skip: typeof kafkajsLz4 === 'string' ? kafkajsLz4 : false }, async () => {
    if (typeof kafkajsLz4 === 'string') return;
    const { LZ4Codec, nodeLz4 } = kafkajsLz4;
    const data = events(300_000, 13);
    const theirs = new LZ4Codec().codec();
    const theirFrame = await theirs.compress({ buffer: data });
    assert.ok(data.equals(lz4.decompress(theirFrame)));
    // kafkajs-lz4 drops its options (it calls an unbound method), so ask the lz4 package it wraps
    // for 64 KiB blocks. (Its streamSize and blockChecksum options throw RangeErrors.)
    const f2 = nodeLz4.encode(data, { blockMaxSize: 64 * KiB });
    assert.equal(f2[5], 0x40);
    assert.ok(data.equals(lz4.decompress(f2)));
    for (const level of [1, 2]) {
      const back = await theirs.decompress(lz4.compress(data, { level }));
      assert.ok(data.equals(back));
    }
    assert.equal((await theirs.decompress(lz4.compress(Buffer.alloc(0)))).length, 0);
  });
});

describe('lz4 codec against the lz4 CLI', { skip: needCli }, () => {
  // Over 1 MiB so that -B7 really uses 4 MiB blocks (the CLI shrinks blocks for smaller inputs).
  const data = events(1536 * KiB, 21);
  let dir = '';
  const file = (): string => {
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'lz4-test-'));
      writeFileSync(join(dir, 'data.json'), data);
    }
    return join(dir, 'data.json');
  };

  const variants: { args: string[]; flg: number; mask: number; bd?: number }[] = [
    { args: ['-B4'], flg: 0x64, mask: 0xfc, bd: 0x40 },
    { args: ['-B5'], flg: 0x64, mask: 0xfc, bd: 0x50 },
    { args: ['-B6'], flg: 0x64, mask: 0xfc, bd: 0x60 },
    { args: ['-B7'], flg: 0x64, mask: 0xfc, bd: 0x70 },
    { args: ['-B4', '-BD'], flg: 0x44, mask: 0xfc, bd: 0x40 },
    { args: ['-B6', '-BD'], flg: 0x44, mask: 0xfc, bd: 0x60 },
    { args: ['-BX'], flg: 0x74, mask: 0xfc },
    { args: ['--no-frame-crc'], flg: 0x60, mask: 0xfc },
    { args: ['-B4', '-BD', '-BX', '--no-frame-crc'], flg: 0x50, mask: 0xfc, bd: 0x40 },
    { args: ['-9', '-B5'], flg: 0x64, mask: 0xfc, bd: 0x50 },
  ];
  for (const v of variants) {
    test(`decodes lz4 ${v.args.join(' ')}`, () => {
      const f = cli(['-c', ...v.args], data);
      assert.equal(f[4] & v.mask, v.flg, `FLG ${f[4].toString(16)}`);
      if (v.bd !== undefined) assert.equal(f[5], v.bd);
      assert.ok(data.equals(lz4.decompress(f)));
      const hint = lz4.decompressedSize(f);
      assert.equal(hint.exact, false);
      assert.ok(hint.bytes >= data.length);
    });
  }

  test('decodes --content-size frames with an exact size hint', () => {
    const f = cli(['-c', '--content-size', '-B4', file()]);
    assert.equal(f[4] & 0x08, 0x08);
    assert.deepEqual(lz4.decompressedSize(f), { bytes: data.length, exact: true });
    assert.ok(data.equals(lz4.decompress(f)));
    const lease = lz4.decompress(f, { arena: new Arena({ trimIntervalMs: 0 }) });
    assert.equal(lease.length, data.length);
    lease.release();
  });

  test('linked CLI frames really use cross-block matches', () => {
    const f = Buffer.from(cli(['-c', '-B4', '-BD', '--no-frame-crc'], data));
    // Mark the frame independent (fixing the header checksum): the decoder must now refuse it.
    f[4] |= 0x20;
    f[6] = (xxhash32(f.subarray(4, 6)) >>> 8) & 0xff;
    expectCode(() => lz4.decompress(f), 'ERR_CORRUPT_INPUT');
  });

  test('concatenated CLI frames decode to the concatenation', () => {
    const a = cli(['-c', '-B4'], data.subarray(0, 100_000));
    const b = cli(['-c', '-BD', '-BX'], data.subarray(100_000));
    assert.ok(data.equals(lz4.decompress(Buffer.concat([a, b]))));
  });

  test('lz4 -d reads our frames', () => {
    for (const n of [0, 1, 15, 65536, 65537, data.length]) {
      for (const level of [1, 2]) {
        const back = cli(['-d', '-c'], lz4.compress(data.subarray(0, n), { level }));
        assert.ok(data.subarray(0, n).equals(back), `${n} bytes level ${level}`);
      }
    }
    const rnd = randomBytes(200_000, 5);
    assert.ok(rnd.equals(cli(['-d', '-c'], lz4.compress(rnd))));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
});
