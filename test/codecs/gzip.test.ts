import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { Arena, KafkaArenaError, Lease } from '../../src';
import { CodecError } from '../../src/errors';
import { gzip } from '../../src/codecs/gzip';
import { prng as mulberry32 } from '../support/random';

const MiB = 1024 * 1024;

/** Realistic Kafka payload: JSON event lines from a seeded PRNG. */
function events(size: number, seed = 1): Buffer {
  const r = mulberry32(seed);
  const kinds = ['click', 'view', 'purchase', 'add_to_cart', 'search'];
  let s = '';
  let ts = 1700000000000;
  while (s.length < size) {
    ts += Math.floor(r() * 1000);
    s += JSON.stringify({ ts, user: `u${Math.floor(r() * 5000)}`, event: kinds[Math.floor(r() * kinds.length)], page: `/products/${Math.floor(r() * 500)}`, ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', amount: Math.round(r() * 10000) / 100 }) + '\n';
  }
  return Buffer.from(s.slice(0, size));
}

function caught(fn: () => unknown): KafkaArenaError | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KafkaArenaError, `expected a KafkaArenaError, got ${String(err)}`);
    return err;
  }
  return undefined;
}

function code(fn: () => unknown): string {
  return caught(fn)?.code ?? 'ok';
}

/** Deflate blocks for 1 MiB of zeros ending in a full flush: byte-aligned, self-contained, repeatable. */
const ZERO_BLOCK = zlib.deflateRawSync(Buffer.alloc(MiB), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });

/**
 * One gzip member of `mib` MiB of zeros, built by repeating a flushed deflate block, so a
 * gigabyte bomb costs ~1 KiB per MiB and no compression work. The trailer is `crc` and the
 * length mod 2^32.
 */
function zeroBomb(mib: number, crc = 0): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((mib * MiB) % 2 ** 32, 4);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  return Buffer.concat([header, ...new Array<Buffer>(mib).fill(ZERO_BLOCK), Buffer.from([3, 0]), trailer]);
}

/** CRC-32 of n zero bytes, read from the trailer zlib writes (zlib.crc32 needs Node >= 20.15). */
function crcOfZeros(n: number): number {
  const member = zlib.gzipSync(Buffer.alloc(n), { level: 1 });
  return member.readUInt32LE(member.length - 8);
}

test('round trip at every level, and compress defaults to level 6 (Kafka: -1 = zlib default)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), fc.integer({ min: -1, max: 9 }), (data, level) => {
      const packed = gzip.compress(data, { level });
      assert.ok(gzip.decompress(packed).equals(data));
      assert.ok(zlib.gunzipSync(packed).equals(data));
    }),
    { seed: 0x9219, numRuns: 150 },
  );
  const data = events(100_000);
  assert.ok(gzip.compress(data).equals(zlib.gzipSync(data, { level: 6 })));
  assert.ok(gzip.decompress(gzip.compress(data)).equals(data));
  for (const level of [10, -2, 1.5, Number.NaN]) {
    assert.equal(code(() => gzip.compress(data, { level })), 'ERR_INVALID_ARGUMENT', `level ${level}`);
  }
});

test('multi-member input decodes completely', () => {
  const parts = [events(10_000, 1), Buffer.alloc(0), events(70_000, 2), events(5, 3)];
  const packed = Buffer.concat(parts.map((p) => zlib.gzipSync(p)));
  assert.ok(gzip.decompress(packed).equals(Buffer.concat(parts)));
  const arena = new Arena({ maxBytes: 4 * MiB });
  const lease = gzip.decompress(packed, { arena });
  assert.ok(lease.bytes.equals(Buffer.concat(parts)));
  lease.release();
  arena.close();
});

test('trailing, truncated, corrupt and checksum failures are typed; errors zlib raised on the deflate data carry it as cause', () => {
  const data = events(20_000);
  const packed = zlib.gzipSync(data);
  const flipped = (at: number) => {
    const b = Buffer.from(packed);
    b[at] ^= 0x55;
    return b;
  };
  // The fourth field: the error comes from zlib inflating the deflate data (the framing is ours).
  const cases: Array<[string, Uint8Array, string, boolean?]> = [
    ['garbage after the member', Buffer.concat([packed, Buffer.from('garbage')]), 'ERR_TRAILING_DATA'],
    ['zero padding after the member (node skips it)', Buffer.concat([packed, Buffer.alloc(4)]), 'ERR_TRAILING_DATA'],
    ['one stray byte after the member', Buffer.concat([packed, Buffer.from([0x42])]), 'ERR_TRAILING_DATA'],
    ['1F and a byte that is not 8B after the member', Buffer.concat([packed, Buffer.from([0x1f, 0x42])]), 'ERR_TRAILING_DATA'],
    ['a lone 1F after the member (a member cut short)', Buffer.concat([packed, Buffer.from([0x1f])]), 'ERR_TRUNCATED_INPUT'],
    ['a cut second member', Buffer.concat([packed, packed.subarray(0, 30)]), 'ERR_TRUNCATED_INPUT', true],
    ['cut inside the deflate stream', packed.subarray(0, packed.length >> 1), 'ERR_TRUNCATED_INPUT', true],
    ['corrupt deflate data', flipped(12), 'ERR_CORRUPT_INPUT', true],
    ['cut inside the trailer', packed.subarray(0, packed.length - 3), 'ERR_TRUNCATED_INPUT'],
    ['cut inside the header', packed.subarray(0, 5), 'ERR_TRUNCATED_INPUT'],
    ['empty input', Buffer.alloc(0), 'ERR_TRUNCATED_INPUT'],
    ['not gzip', Buffer.from('{"plain":"json"}'), 'ERR_CORRUPT_INPUT'],
    ['unknown method', flipped(2), 'ERR_CORRUPT_INPUT'],
    ['reserved flags', flipped(3), 'ERR_CORRUPT_INPUT'],
    ['CRC-32 mismatch', flipped(packed.length - 6), 'ERR_CHECKSUM_MISMATCH'],
    ['ISIZE mismatch', flipped(packed.length - 2), 'ERR_CHECKSUM_MISMATCH'],
  ];
  for (const [name, input, expected, fromZlib] of cases) {
    const err = caught(() => gzip.decompress(input));
    assert.equal(err?.code, expected, name);
    assert.ok(err instanceof CodecError && err.codec === 'gzip', name);
    if (fromZlib) assert.ok(err.cause instanceof Error && typeof (err.cause as { errno?: unknown }).errno === 'number', `${name}: zlib's error as cause`);
  }
});

test('optional header fields (extra, name, comment, header CRC) are skipped and checked', () => {
  const data = events(3000, 9);
  const member = zlib.gzipSync(data);
  const extra = Buffer.from([4, 0, 1, 2, 3, 4]);
  const name = Buffer.from('name.json\0');
  const comment = Buffer.from('a comment\0');
  const head = Buffer.concat([member.subarray(0, 10), extra, name, comment]);
  head[3] = 4 | 8 | 16 | 2;
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(zlib.crc32(head) & 0xffff);
  const full = Buffer.concat([head, hcrc, member.subarray(10)]);
  assert.ok(gzip.decompress(full).equals(data));
  assert.ok(gzip.decompress(Buffer.concat([full, member])).equals(Buffer.concat([data, data])));
  const badCrc = Buffer.from(full);
  badCrc[head.length] ^= 1;
  assert.equal(code(() => gzip.decompress(badCrc)), 'ERR_CHECKSUM_MISMATCH');
  for (const cut of [11, 14, head.length - 3, head.length + 1]) assert.equal(code(() => gzip.decompress(full.subarray(0, cut))), 'ERR_TRUNCATED_INPUT', `cut at ${cut}`);
});

test('an input with a stray trailing byte is decoded once (counted calls into zlib)', () => {
  const z = require('node:zlib') as Record<string, unknown>;
  const names = ['gunzipSync', 'inflateRawSync', 'inflateSync', 'unzipSync'];
  const originals = names.map((n) => z[n]);
  let calls = 0;
  names.forEach((n, i) => {
    z[n] = (...args: unknown[]) => {
      calls++;
      return (originals[i] as (...a: unknown[]) => unknown)(...args);
    };
  });
  try {
    const packed = zlib.gzipSync(events(100_000, 4));
    assert.equal(code(() => gzip.decompress(Buffer.concat([packed, Buffer.from([0x42])]))), 'ERR_TRAILING_DATA');
    assert.equal(calls, 1, 'one pass of zlib over the deflate data');
    calls = 0;
    assert.equal(code(() => gzip.decompress(Buffer.concat([packed, packed.subarray(0, packed.length - 1)]))), 'ERR_TRUNCATED_INPUT');
    assert.equal(calls, 2, 'one pass per member');
  } finally {
    names.forEach((n, i) => (z[n] = originals[i]));
  }
});

test('maxOutputBytes is enforced while decoding, inclusively, with RangeError as cause', () => {
  const data = events(50_000);
  const packed = zlib.gzipSync(data);
  assert.equal(gzip.decompress(packed, { maxOutputBytes: 50_000 }).length, 50_000);
  const err = caught(() => gzip.decompress(packed, { maxOutputBytes: 49_999 }));
  assert.equal(err?.code, 'ERR_OUTPUT_LIMIT');
  assert.ok(err.cause instanceof RangeError);
  assert.equal(code(() => gzip.decompress(packed, { maxOutputBytes: 0 })), 'ERR_OUTPUT_LIMIT');
  assert.equal(gzip.decompress(zlib.gzipSync(Buffer.alloc(0)), { maxOutputBytes: 0 }).length, 0);
  // A forged ISIZE only changes buffer sizing, never the result.
  for (const isize of [0, 1, 49_999, 0xffffffff]) {
    const forged = Buffer.from(packed);
    forged.writeUInt32LE(isize, forged.length - 4);
    assert.equal(code(() => gzip.decompress(forged)), isize === 50_000 ? 'ok' : 'ERR_CHECKSUM_MISMATCH');
  }
});

test('decompression bombs fail with ERR_OUTPUT_LIMIT (1 GiB single member; 4 GiB multi-member)', () => {
  // The builder makes valid gzip: checked on 8 MiB with the right CRC (taken from a real member).
  const valid = zeroBomb(8, crcOfZeros(8 * MiB));
  assert.ok(gzip.decompress(valid).equals(Buffer.alloc(8 * MiB)));

  // 1 GiB from ~1 MiB of input (ratio ~1000), default 256 MiB limit: stops at the limit.
  const gig = zeroBomb(1024);
  assert.ok(gig.length < 1.1 * MiB);
  assert.equal(code(() => gzip.decompress(gig)), 'ERR_OUTPUT_LIMIT');
  const arena = new Arena({ maxBytes: 4 * MiB });
  assert.equal(code(() => gzip.decompress(gig, { arena, maxOutputBytes: 4 * MiB })), 'ERR_OUTPUT_LIMIT');
  assert.equal(arena.stats().leasedCount, 0);
  arena.close();

  // 4 GiB + 1 MiB in one member: ISIZE wraps to 1 MiB, which must not be trusted.
  const wrapped = zeroBomb(4097);
  assert.equal(wrapped.readUInt32LE(wrapped.length - 4), MiB);
  assert.equal(code(() => gzip.decompress(wrapped, { maxOutputBytes: 16 * MiB })), 'ERR_OUTPUT_LIMIT');

  // 4096 members of 1 MiB each.
  const member = zeroBomb(1, crcOfZeros(MiB));
  const multi = Buffer.concat(new Array<Buffer>(4096).fill(member));
  assert.equal(code(() => gzip.decompress(multi, { maxOutputBytes: 16 * MiB })), 'ERR_OUTPUT_LIMIT');
  assert.equal(gzip.decompress(multi.subarray(0, member.length * 3)).length, 3 * MiB);
});

test('decompressedSize is an honest upper bound, not the untrusted ISIZE', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 9 }), (data, level) => {
      const packed = zlib.gzipSync(data, { level });
      const hint = gzip.decompressedSize(packed);
      assert.equal(hint.exact, false);
      assert.ok(hint.bytes >= data.length);
    }),
    { seed: 7, numRuns: 100 },
  );
  // The bound holds for the most compressible input there is, and for several members.
  const bomb = zeroBomb(64);
  assert.ok(gzip.decompressedSize(bomb).bytes >= 64 * MiB);
  const zeros = zlib.gzipSync(Buffer.alloc(8 * MiB), { level: 9 });
  assert.ok(gzip.decompressedSize(zeros).bytes >= 8 * MiB);
  const two = Buffer.concat([zeros, zeros]);
  assert.ok(gzip.decompressedSize(two).bytes >= 16 * MiB);
  assert.equal(code(() => gzip.decompressedSize(Buffer.from('not gzip at all, no'))), 'ERR_CORRUPT_INPUT');
  assert.equal(code(() => gzip.decompressedSize(Buffer.from([0x1f, 0x8b, 8]))), 'ERR_TRUNCATED_INPUT');
  assert.equal(code(() => gzip.decompressedSize(Buffer.alloc(0))), 'ERR_TRUNCATED_INPUT');
});

test('mutation fuzz: every call returns or throws a KafkaArenaError', () => {
  const r = mulberry32(0xbeef);
  const seeds = [events(3000, 1), events(12_000, 2), Buffer.alloc(5000, 'a'), events(100, 3)].flatMap((d) => [zlib.gzipSync(d, { level: 1 }), zlib.gzipSync(d, { level: 9 })]);
  seeds.push(Buffer.concat([seeds[0], seeds[7]]));
  const counts: Record<string, number> = {};
  for (let iter = 0; iter < 3000; iter++) {
    let m = Buffer.from(seeds[iter % seeds.length]);
    const kind = Math.floor(r() * 4);
    if (kind === 0) {
      for (let f = 1 + Math.floor(r() * 3); f > 0; f--) m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8);
    } else if (kind === 1) {
      m = m.subarray(0, Math.floor(r() * m.length));
    } else if (kind === 2) {
      const at = Math.floor(r() * (m.length + 1));
      m = Buffer.concat([m.subarray(0, at), Buffer.from([Math.floor(r() * 256), Math.floor(r() * 256)]), m.subarray(at)]);
    } else {
      m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
    }
    const c = code(() => gzip.decompress(m, { maxOutputBytes: MiB }));
    counts[c] = (counts[c] ?? 0) + 1;
    code(() => gzip.decompressedSize(m));
  }
  for (const expected of ['ERR_CORRUPT_INPUT', 'ERR_TRUNCATED_INPUT', 'ERR_CHECKSUM_MISMATCH', 'ERR_TRAILING_DATA']) {
    assert.ok(counts[expected] > 0, `${expected} seen: ${JSON.stringify(counts)}`);
  }
  const data = events(10_000);
  assert.ok(gzip.decompress(gzip.compress(data)).equals(data), 'still works after the fuzz');
});

test('arena path returns a Lease of exactly the decompressed length', () => {
  const arena = new Arena({ maxBytes: 16 * MiB });
  for (const size of [0, 1, 4096, 123_457, 2 * MiB + 3]) {
    const data = events(size, size);
    const lease = gzip.decompress(gzip.compress(data), { arena });
    assert.ok(lease instanceof Lease);
    assert.equal(lease.length, size);
    assert.ok(lease.bytes.equals(data));
    lease.release();
  }
  assert.equal(code(() => gzip.decompress(Buffer.from('nope'), { arena })), 'ERR_CORRUPT_INPUT');
  assert.equal(arena.stats().leasedCount, 0);
  arena.close();
});

test('out path writes into the caller buffer, or fails with ERR_OUTPUT_TOO_SMALL', () => {
  const data = events(70_000);
  const packed = gzip.compress(data);
  const out = Buffer.alloc(80_000, 0xee);
  const view = gzip.decompress(packed, { out });
  assert.equal(view.buffer, out.buffer);
  assert.equal(view.byteOffset, out.byteOffset);
  assert.ok(view.equals(data));
  assert.equal(out[70_000], 0xee, 'nothing written past the output');
  assert.equal(code(() => gzip.decompress(packed, { out: Buffer.alloc(69_999) })), 'ERR_OUTPUT_TOO_SMALL');
  assert.ok(gzip.decompress(packed, { out: new Uint8Array(70_000) }).equals(data));
});
