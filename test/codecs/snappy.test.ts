import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Arena, KafkaArenaError, Lease } from '../../src';
import { CodecError } from '../../src/errors';
import { snappy } from '../../src/codecs/snappy';
import { prng as mulberry32 } from '../support/random';

// Reference implementations, untyped CommonJS packages.
const snappyjs = require('snappyjs') as { compress(b: Uint8Array): Uint8Array; uncompress(b: Uint8Array): Uint8Array };
const napi = require('snappy') as { compressSync(b: Uint8Array): Buffer; uncompressSync(b: Uint8Array): Buffer };
const kafkajsSnappy = (require('kafkajs-snappy') as () => {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(b: Buffer): Promise<Buffer>;
})();

const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const HEADER = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);

/** Realistic Kafka payload: JSON event lines from a seeded PRNG. */
function events(size: number, seed = 1): Buffer {
  const r = mulberry32(seed);
  const kinds = ['click', 'view', 'purchase', 'add_to_cart', 'search'];
  const uas = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'];
  let s = '';
  let ts = 1700000000000;
  while (s.length < size) {
    ts += Math.floor(r() * 1000);
    s += JSON.stringify({ ts, user: `u${Math.floor(r() * 5000)}`, event: kinds[Math.floor(r() * kinds.length)], page: `/products/${Math.floor(r() * 500)}`, ua: uas[Math.floor(r() * uas.length)], amount: Math.round(r() * 10000) / 100 }) + '\n';
  }
  return Buffer.from(s.slice(0, size));
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A xerial stream around the given raw blocks. */
function xerial(blocks: Uint8Array[], header: Buffer = HEADER): Buffer {
  return Buffer.concat([header, ...blocks.flatMap((b) => [be32(b.length), Buffer.from(b)])]);
}

/** The raw blocks of a xerial stream (assumes a well-formed one). */
function chunksOf(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 16; p < stream.length; ) {
    const len = stream.readUInt32BE(p);
    out.push(stream.subarray(p + 4, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KafkaArenaError, `expected a KafkaArenaError, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

/**
 * Data built from literal runs and back-references at every distance (1..300) and length, so the
 * compressor finds overlapping and distant matches.
 */
const compressible = fc
  .array(
    fc.oneof(
      fc.record({ lit: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
      fc.record({ dist: fc.integer({ min: 1, max: 300 }), len: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ small: fc.array(fc.constantFrom(97, 98, 99), { maxLength: 200 }) }),
    ),
    { maxLength: 60 },
  )
  .map((ops) => {
    const out: number[] = [];
    for (const op of ops) {
      if ('lit' in op) out.push(...op.lit);
      else if ('small' in op) out.push(...op.small);
      else if (out.length > 0) {
        const start = out.length - Math.min(op.dist, out.length);
        for (let i = 0; i < op.len; i++) out.push(out[start + i]);
      }
    }
    return Uint8Array.from(out);
  });

/**
 * A random valid raw Snappy block using every element form (including copy4 and 1..4-byte
 * literal lengths, which the compressors here never emit), with its expected output computed
 * element by element.
 */
function randomBlock(r: () => number): { block: Buffer; expected: Buffer } {
  const out: number[] = [];
  const elems: number[] = [];
  const count = 1 + Math.floor(r() * 40);
  for (let e = 0; e < count; e++) {
    const form = out.length === 0 ? 0 : Math.floor(r() * 6);
    if (form <= 1) {
      const len = r() < 0.7 ? 1 + Math.floor(r() * 60) : 61 + Math.floor(r() * 400);
      const lm1 = len - 1;
      const need = lm1 < 60 ? 0 : lm1 < 256 ? 1 : 2;
      const nb = need === 0 ? 0 : need + Math.floor(r() * (5 - need)); // also over-long length fields
      elems.push(nb === 0 ? lm1 << 2 : (59 + nb) << 2);
      for (let i = 0; i < nb; i++) elems.push((lm1 >>> (8 * i)) & 0xff);
      for (let i = 0; i < len; i++) {
        const b = Math.floor(r() * 4) + 120;
        elems.push(b);
        out.push(b);
      }
      continue;
    }
    const off = 1 + Math.floor(r() * Math.min(out.length, r() < 0.5 ? 20 : 3000));
    let len: number;
    if (form === 2 && off < 2048) {
      len = 4 + Math.floor(r() * 8);
      elems.push(1 | ((len - 4) << 2) | ((off >> 8) << 5), off & 0xff);
    } else if (form === 3 || form === 2) {
      len = 1 + Math.floor(r() * 64);
      elems.push(2 | ((len - 1) << 2), off & 0xff, off >> 8);
    } else {
      len = 1 + Math.floor(r() * 64);
      elems.push(3 | ((len - 1) << 2), off & 0xff, (off >> 8) & 0xff, 0, 0);
    }
    const start = out.length - off;
    for (let i = 0; i < len; i++) out.push(out[start + i]);
  }
  return { block: Buffer.from([...varint(out.length), ...elems]), expected: Buffer.from(out) };
}

test('round trip: compress then decompress returns the input, sizes are exact', () => {
  fc.assert(
    fc.property(fc.oneof(compressible, fc.uint8Array({ maxLength: 3000 })), (data) => {
      const packed = snappy.compress(data);
      assert.deepEqual(snappy.decompressedSize(packed), { bytes: data.length, exact: true });
      assert.ok(snappy.decompress(packed).equals(data));
    }),
    { seed: 0x5eed, numRuns: 400 },
  );
});

test('round trip on JSON events across chunk and fragment boundaries', () => {
  for (const size of [0, 1, 15, 16, 17, 4096, 32767, 32768, 32769, 65536, 65537, 100_000, 1 << 20]) {
    const data = events(size, size);
    const packed = snappy.compress(data);
    assert.ok(snappy.decompress(packed).equals(data), `size ${size}`);
    if (size >= 4096) assert.ok(packed.length < data.length / 3, `compresses JSON (${size} -> ${packed.length})`);
  }
});

test('compress writes one raw Snappy block by default, as librdkafka does', () => {
  for (const size of [0, 1, 100, 32769, 100_000]) {
    const data = events(size, size);
    const packed = snappy.compress(data);
    assert.ok(!packed.subarray(0, 8).equals(MAGIC), `no xerial magic at size ${size}`);
    // A raw block is its varint length and elements: the napi package (raw only) reads it whole.
    assert.ok(napi.uncompressSync(packed).equals(data), `napi reads size ${size}`);
    assert.ok(Buffer.from(snappyjs.uncompress(packed)).equals(data), `snappyjs reads size ${size}`);
    assert.ok(packed.equals(snappy.compress(data, { format: 'raw' })));
    assert.ok(snappy.decompress(packed).equals(data));
  }
  assert.ok(snappy.compress(new Uint8Array(0)).equals(Buffer.from([0])));
});

test("compress with { format: 'xerial' } writes the Java client framing: magic, version 1, compat 1, 32 KiB chunks", () => {
  const data = events(100_000);
  const packed = snappy.compress(data, { format: 'xerial' });
  assert.ok(packed.subarray(0, 16).equals(HEADER));
  const chunks = chunksOf(packed);
  assert.equal(chunks.length, 4);
  assert.deepEqual(chunks.map((c) => snappy.decompressedSize(c).bytes), [32768, 32768, 32768, 100_000 - 3 * 32768]);
  assert.ok(snappy.decompress(packed).equals(data));
  // Empty input: snappy-java writes the header alone.
  assert.ok(snappy.compress(new Uint8Array(0), { format: 'xerial' }).equals(HEADER));
  assert.equal(snappy.decompress(HEADER).length, 0);
});

test('our output, raw and xerial, decodes with kafkajs-snappy, the snappy napi package and snappyjs', async () => {
  const rand = mulberry32(7);
  for (const size of [1, 100, 4096, 40_000, 300_000]) {
    const data = rand() < 0.5 ? events(size, size) : Buffer.from(fc.sample(compressible, { numRuns: 1, seed: size })[0]);
    const raw = snappy.compress(data);
    assert.ok((await kafkajsSnappy.decompress(raw)).equals(data), `kafkajs-snappy reads our default, size ${size}`);
    assert.ok(napi.uncompressSync(raw).equals(data), `napi, raw ${size}`);
    const framed = snappy.compress(data, { format: 'xerial' });
    assert.ok((await kafkajsSnappy.decompress(framed)).equals(data), `kafkajs-snappy, xerial ${size}`);
    const viaNapi = Buffer.concat(chunksOf(framed).map((c) => napi.uncompressSync(c)));
    assert.ok(viaNapi.equals(data), `napi, xerial ${size}`);
    const viaSnappyjs = Buffer.concat(chunksOf(framed).map((c) => Buffer.from(snappyjs.uncompress(c))));
    assert.ok(viaSnappyjs.equals(data), `snappyjs, xerial ${size}`);
  }
});

test('their output decodes with ours: raw blocks from napi and snappyjs, xerial from kafkajs-snappy', async () => {
  fc.assert(
    fc.property(fc.oneof(compressible, fc.uint8Array({ maxLength: 2000 })), (data) => {
      assert.ok(snappy.decompress(napi.compressSync(data)).equals(data));
      assert.ok(snappy.decompress(snappyjs.compress(data)).equals(data));
    }),
    { seed: 42, numRuns: 200 },
  );
  const data = events(200_000);
  assert.ok(snappy.decompress(napi.compressSync(data)).equals(data));
  // kafkajs-snappy compresses to a raw block; a Java-style stream of napi blocks decodes too.
  assert.ok(snappy.decompress(await kafkajsSnappy.compress({ buffer: data })).equals(data));
  const blocks = [0, 32768, 65536].map((s) => napi.compressSync(data.subarray(s, s + 32768)));
  assert.ok(snappy.decompress(xerial(blocks)).equals(data.subarray(0, 98304)));
});

test('every element form decodes like snappyjs and the napi package (copy4, long literals, overlaps)', () => {
  const r = mulberry32(99);
  for (let i = 0; i < 500; i++) {
    const { block, expected } = randomBlock(r);
    const ours = snappy.decompress(block);
    assert.ok(ours.equals(expected), `block ${i}`);
    assert.ok(napi.uncompressSync(block).equals(expected), `napi agrees on block ${i}`);
    assert.ok(Buffer.from(snappyjs.uncompress(block)).equals(expected), `snappyjs agrees on block ${i}`);
    assert.ok(snappy.decompress(xerial([block, block])).equals(Buffer.concat([expected, expected])));
  }
});

test('format vectors', () => {
  // "hello": varint 5, literal tag (5-1)<<2.
  const hello = Buffer.from([5, 0x10, ...Buffer.from('hello')]);
  assert.equal(snappy.decompress(hello).toString(), 'hello');
  // "ab" then copy1 len 4 offset 2 -> "ababab"; copy2 len 3 offset 1 -> "abababbbb".
  const overlap = Buffer.from([9, 0x04, 0x61, 0x62, 0x01, 0x02, 0x0a, 0x01, 0x00]);
  assert.equal(snappy.decompress(overlap).toString(), 'abababbbb');
  // Run of 1000 'x' via one literal and copy2 elements of length 64 at offset 1.
  const run = [...varint(1000), 0x00, 0x78];
  for (let left = 999; left > 0; left -= Math.min(64, left)) run.push(2 | ((Math.min(64, left) - 1) << 2), 1, 0);
  assert.ok(snappy.decompress(Buffer.from(run)).equals(Buffer.alloc(1000, 'x')));
  // Literal with a 2-byte length (61 << 2): 300 bytes.
  const long = Buffer.from([...varint(300), 61 << 2, 299 & 0xff, 299 >> 8, ...Buffer.alloc(300, 7)]);
  assert.ok(snappy.decompress(long).equals(Buffer.alloc(300, 7)));
  // Empty raw block.
  assert.equal(snappy.decompress(Buffer.from([0])).length, 0);
});

test('xerial framing: version/compat are not checked, concatenated streams are read through', () => {
  const a = events(50_000, 1);
  const b = events(20_000, 2);
  const odd = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 7, 0, 0, 0, 3])]);
  assert.ok(snappy.decompress(xerial([napi.compressSync(a)], odd)).equals(a));
  // Two streams back to back, as snappy-java's SnappyInputStream accepts.
  const both = Buffer.concat([snappy.compress(a, { format: 'xerial' }), snappy.compress(b, { format: 'xerial' })]);
  assert.deepEqual(snappy.decompressedSize(both), { bytes: a.length + b.length, exact: true });
  assert.ok(snappy.decompress(both).equals(Buffer.concat([a, b])));
  // A stream with no chunks (what snappy-java writes for an empty record set).
  assert.equal(snappy.decompress(HEADER).length, 0);
  // Old Kafka clients used 1 KiB blocks.
  const small = [];
  for (let s = 0; s < a.length; s += 1024) small.push(napi.compressSync(a.subarray(s, s + 1024)));
  assert.ok(snappy.decompress(xerial(small)).equals(a));
});

test('a length claiming 4 GiB (or past maxOutputBytes) fails before any output is allocated', () => {
  const claim4G = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61]);
  assert.deepEqual(snappy.decompressedSize(claim4G), { bytes: 2 ** 32 - 1, exact: true });
  const before = process.memoryUsage().rss;
  assert.equal(code(() => snappy.decompress(claim4G)), 'ERR_OUTPUT_LIMIT');
  assert.equal(code(() => snappy.decompress(claim4G, { maxOutputBytes: 2 ** 40 })), 'ERR_OUTPUT_LIMIT'); // past 4 GiB of WASM memory
  assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no large allocation');
  // xerial: the sum of chunk lengths counts, even when each chunk is small.
  const chunk = Buffer.from([...varint(200 << 20), 0x00, 0x61]);
  assert.equal(snappy.decompressedSize(xerial([chunk, chunk])).bytes, 400 << 20);
  assert.equal(code(() => snappy.decompress(xerial([chunk, chunk]))), 'ERR_OUTPUT_LIMIT');
  // The limit is inclusive.
  const data = events(5000);
  assert.equal(snappy.decompress(snappy.compress(data), { maxOutputBytes: 5000 }).length, 5000);
  assert.equal(code(() => snappy.decompress(snappy.compress(data), { maxOutputBytes: 4999 })), 'ERR_OUTPUT_LIMIT');
  assert.equal(code(() => snappy.decompress(snappy.compress(data), { maxOutputBytes: -1 })), 'ERR_INVALID_ARGUMENT');
});

test('malformed inputs fail with typed errors', () => {
  const hello = Buffer.from([5, 0x10, ...Buffer.from('hello')]);
  const cases: Array<[string, Uint8Array, string]> = [
    ['empty input', Buffer.alloc(0), 'ERR_TRUNCATED_INPUT'],
    ['varint runs off the end', Buffer.from([0x80, 0x80]), 'ERR_TRUNCATED_INPUT'],
    ['varint over 32 bits', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f]), 'ERR_CORRUPT_INPUT'],
    ['varint of 6 bytes', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 'ERR_CORRUPT_INPUT'],
    ['literal cut short', hello.subarray(0, 6), 'ERR_TRUNCATED_INPUT'],
    ['literal length bytes cut short', Buffer.from([100, 61 << 2, 99]), 'ERR_TRUNCATED_INPUT'],
    ['fewer bytes than declared', Buffer.from([6, 0x10, ...Buffer.from('hello')]), 'ERR_TRUNCATED_INPUT'],
    ['literal longer than declared', Buffer.from([4, 0x10, ...Buffer.from('hello')]), 'ERR_CORRUPT_INPUT'],
    ['bytes after a complete block', Buffer.concat([hello, Buffer.from([0x00, 0x61])]), 'ERR_TRAILING_DATA'],
    ['copy offset 0', Buffer.from([6, 0x00, 0x61, 0x05, 0x00]), 'ERR_CORRUPT_INPUT'],
    ['copy before the start', Buffer.from([6, 0x00, 0x61, 0x05, 0x02]), 'ERR_CORRUPT_INPUT'],
    ['copy past the declared end', Buffer.from([3, 0x00, 0x61, 0x05, 0x01]), 'ERR_CORRUPT_INPUT'],
    ['copy1 missing its offset byte', Buffer.from([6, 0x00, 0x61, 0x05]), 'ERR_TRUNCATED_INPUT'],
    ['copy2 missing an offset byte', Buffer.from([6, 0x00, 0x61, 0x12, 0x01]), 'ERR_TRUNCATED_INPUT'],
    ['copy4 missing offset bytes', Buffer.from([6, 0x00, 0x61, 0x13, 0x01, 0x00]), 'ERR_TRUNCATED_INPUT'],
    ['copy4 offset of 4 GiB', Buffer.from([6, 0x00, 0x61, 0x13, 0xff, 0xff, 0xff, 0xff]), 'ERR_CORRUPT_INPUT'],
    ['xerial header cut short', HEADER.subarray(0, 12), 'ERR_TRUNCATED_INPUT'],
    ['xerial stray length bytes', Buffer.concat([xerial([hello]), Buffer.from([0, 0])]), 'ERR_TRUNCATED_INPUT'],
    ['xerial chunk longer than the input', Buffer.concat([HEADER, be32(100), hello]), 'ERR_TRUNCATED_INPUT'],
    ['xerial zero-length chunk', xerial([hello, Buffer.alloc(0)]), 'ERR_CORRUPT_INPUT'],
    ['xerial negative chunk length', Buffer.concat([HEADER, be32(0x80000000), hello]), 'ERR_CORRUPT_INPUT'],
    ['xerial bad concatenated header', Buffer.concat([HEADER, MAGIC.subarray(0, 4), Buffer.from('XXXX'), Buffer.alloc(8)]), 'ERR_CORRUPT_INPUT'],
    ['xerial cut concatenated header', Buffer.concat([HEADER, MAGIC]), 'ERR_TRUNCATED_INPUT'],
    ['xerial chunk with trailing bytes', xerial([Buffer.concat([hello, Buffer.from([0x00, 0x61])])]), 'ERR_TRAILING_DATA'],
    ['xerial chunk cut short', xerial([hello.subarray(0, 5)]), 'ERR_TRUNCATED_INPUT'],
  ];
  for (const [name, input, expected] of cases) {
    assert.equal(code(() => snappy.decompress(input)), expected, name);
  }
  // decompressedSize reads headers only, but still rejects malformed ones.
  assert.equal(code(() => snappy.decompressedSize(Buffer.alloc(0))), 'ERR_TRUNCATED_INPUT');
  assert.equal(code(() => snappy.decompressedSize(HEADER.subarray(0, 9))), 'ERR_TRUNCATED_INPUT');
  assert.equal(code(() => snappy.decompressedSize(Buffer.concat([HEADER, be32(100), hello]))), 'ERR_TRUNCATED_INPUT');
  const err = (() => {
    try {
      snappy.decompress(Buffer.from([6, 0x00, 0x61, 0x05, 0x00]));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof CodecError);
  assert.equal(err.codec, 'snappy');
});

test('mutation fuzz: every call returns or throws a KafkaArenaError, and agrees with snappyjs when it returns', () => {
  const r = mulberry32(0xf00d);
  const seeds: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const data = i % 3 === 0 ? events(200 + Math.floor(r() * 6000), i) : Buffer.from(fc.sample(compressible, { numRuns: 1, seed: i })[0]);
    seeds.push(i % 2 === 0 ? snappy.compress(data, { format: i % 4 === 0 ? 'xerial' : 'raw' }) : napi.compressSync(data));
  }
  const counts: Record<string, number> = {};
  for (let iter = 0; iter < 6000; iter++) {
    const base = seeds[iter % seeds.length];
    let m = Buffer.from(base);
    const kind = Math.floor(r() * 5);
    if (kind === 0) {
      const flips = 1 + Math.floor(r() * 4);
      for (let f = 0; f < flips; f++) m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8);
    } else if (kind === 1) {
      m = m.subarray(0, Math.floor(r() * m.length));
    } else if (kind === 2) {
      const at = Math.floor(r() * (m.length + 1));
      const ins = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)));
      m = Buffer.concat([m.subarray(0, at), ins, m.subarray(at)]);
    } else if (kind === 3) {
      m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
    } else {
      const at = Math.floor(r() * m.length);
      m = Buffer.concat([m.subarray(0, at), m.subarray(at + 1 + Math.floor(r() * 16))]);
    }
    let result: Buffer | undefined;
    try {
      result = snappy.decompress(m, { maxOutputBytes: 1 << 20 });
      counts.ok = (counts.ok ?? 0) + 1;
    } catch (err) {
      assert.ok(err instanceof KafkaArenaError, `iteration ${iter}: ${String(err)}`);
      counts[err.code] = (counts[err.code] ?? 0) + 1;
    }
    if (result && !m.subarray(0, 8).equals(MAGIC)) {
      assert.ok(Buffer.from(snappyjs.uncompress(m)).equals(result), `iteration ${iter}: differs from snappyjs`);
    }
    try {
      snappy.decompressedSize(m);
    } catch (err) {
      assert.ok(err instanceof KafkaArenaError);
    }
  }
  assert.ok(counts.ERR_CORRUPT_INPUT > 0 && counts.ERR_TRUNCATED_INPUT > 0, JSON.stringify(counts));
  const data = events(10_000);
  assert.ok(snappy.decompress(snappy.compress(data)).equals(data), 'still works after the fuzz');
});

test('arena path returns a Lease of exactly the decompressed length', () => {
  const arena = new Arena({ maxBytes: 16 * 1024 * 1024 });
  const data = events(123_457);
  const lease = snappy.decompress(snappy.compress(data), { arena });
  assert.ok(lease instanceof Lease);
  assert.equal(lease.length, data.length);
  assert.ok(lease.bytes.equals(data));
  lease.release();
  const empty = snappy.decompress(Buffer.from([0]), { arena });
  assert.equal(empty.length, 0);
  empty.release();
  assert.equal(arena.stats().leasedBytes, 0);
  // Errors leave nothing leased.
  assert.equal(code(() => snappy.decompress(Buffer.from([9, 0x10]), { arena })), 'ERR_TRUNCATED_INPUT');
  assert.equal(code(() => snappy.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), { arena })), 'ERR_OUTPUT_LIMIT');
  assert.equal(arena.stats().leasedCount, 0);
  arena.close();
});

test('out path writes into the caller buffer, or fails with ERR_OUTPUT_TOO_SMALL', () => {
  const data = events(70_000);
  const packed = snappy.compress(data);
  const out = Buffer.alloc(80_000, 0xee);
  const view = snappy.decompress(packed, { out });
  assert.equal(view.buffer, out.buffer);
  assert.equal(view.byteOffset, out.byteOffset);
  assert.ok(view.equals(data));
  assert.equal(out[70_000], 0xee, 'nothing written past the output');
  assert.equal(code(() => snappy.decompress(packed, { out: Buffer.alloc(69_999) })), 'ERR_OUTPUT_TOO_SMALL');
  const exact = new Uint8Array(70_000);
  assert.ok(snappy.decompress(packed, { out: exact }).equals(data));
});

test('staging memory grows for large inputs and keeps working for small ones', () => {
  const small = events(1000, 3);
  const smallPacked = snappy.compress(small);
  const big = events(6 << 20, 4);
  const bigPacked = snappy.compress(big);
  assert.ok(snappy.decompress(smallPacked).equals(small));
  assert.ok(snappy.decompress(bigPacked).equals(big));
  assert.ok(snappy.decompress(smallPacked).equals(small));
  // Results are copies: a later call does not change an earlier result.
  const first = snappy.decompress(smallPacked);
  snappy.decompress(snappy.compress(events(1000, 5)));
  assert.ok(first.equals(small));
});
