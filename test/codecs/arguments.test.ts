import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, Codec, codecs, crc32c, gzip, lz4, snappy, zstd } from '../../src';
import { registerCodecs } from '../../src/kafkajs';
import { xxhash32 } from '../../src/codecs/lz4';

/*
 * Every codec validates every argument and option through src/validate.ts: a bad one is an
 * ArgumentError (ERR_INVALID_ARGUMENT) naming it, thrown before any work.
 */

function rejects(fn: () => unknown, argument: string, what: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ArgumentError, `${what}: expected an ArgumentError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_INVALID_ARGUMENT', what);
    assert.equal(err.argument, argument, what);
    assert.match(err.message, new RegExp(`"${argument.replace('.', '\\.')}"`), what);
    return true;
  });
}

const NOT_BYTES: unknown[] = [undefined, null, 123, 'abc', [1, 2, 3], {}, new ArrayBuffer(4)];
const NOT_OPTIONS: unknown[] = [null, 5, 'x', [], true];
const BAD_LIMITS: unknown[] = [-1, 1.5, Number.NaN, Infinity, '5', null, 2 ** 60];
const all = Object.values(codecs) as Codec[];
const sample = Buffer.from('{"event":"click","page":"/products/1"}\n'.repeat(20));

for (const codec of all) {
  const packed = codec.compress(sample);

  test(`${codec.name}.decompress: input, options, maxOutputBytes, out and arena`, () => {
    for (const bad of NOT_BYTES) rejects(() => codec.decompress(bad as Uint8Array), 'input', `input ${String(bad)}`);
    for (const bad of NOT_OPTIONS) rejects(() => codec.decompress(packed, bad as object), 'options', `options ${String(bad)}`);
    for (const bad of BAD_LIMITS) rejects(() => codec.decompress(packed, { maxOutputBytes: bad as number }), 'maxOutputBytes', `maxOutputBytes ${String(bad)}`);
    for (const bad of [5, 'x', {}, [0]]) rejects(() => codec.decompress(packed, { out: bad as Uint8Array }), 'out', `out ${String(bad)}`);
    for (const bad of [5, {}, null]) rejects(() => codec.decompress(packed, { arena: bad as never }), 'arena', `arena ${String(bad)}`);
    // Defaults are still defaults, and the codec still works.
    assert.ok(codec.decompress(packed, { maxOutputBytes: undefined, out: undefined, arena: undefined }).equals(sample));
    assert.ok(codec.decompress(packed, {}).equals(sample));
  });

  test(`${codec.name}.compress and decompressedSize: input, options, level`, () => {
    for (const bad of NOT_BYTES) {
      rejects(() => codec.compress(bad as Uint8Array), 'input', `compress input ${String(bad)}`);
      rejects(() => codec.decompressedSize(bad as Uint8Array), 'input', `decompressedSize input ${String(bad)}`);
    }
    for (const bad of NOT_OPTIONS) rejects(() => codec.compress(sample, bad as object), 'options', `options ${String(bad)}`);
    const range = codec.levels;
    if (range !== undefined) {
      for (const bad of [range.min - 1, range.max + 1, 1.5, Number.NaN, '3', null]) {
        rejects(() => codec.compress(sample, { level: bad as number }), 'level', `level ${String(bad)}`);
      }
      for (const level of [range.min, range.default, range.max]) assert.ok(codec.decompress(codec.compress(sample, { level })).equals(sample), `level ${level}`);
    }
  });
}

test('codec-specific options: snappy format, lz4 contentChecksum; xxhash32 and crc32c arguments', () => {
  for (const bad of ['lz', 'RAW', 5, null]) rejects(() => snappy.compress(sample, { format: bad as 'raw' }), 'format', `format ${String(bad)}`);
  for (const bad of ['yes', 1, null]) rejects(() => lz4.compress(sample, { contentChecksum: bad as unknown as boolean }), 'contentChecksum', `contentChecksum ${String(bad)}`);
  for (const bad of NOT_BYTES) rejects(() => xxhash32(bad as Uint8Array), 'data', `xxhash32 ${String(bad)}`);
  rejects(() => xxhash32(sample, 1.5), 'seed', 'seed 1.5');
  for (const bad of NOT_BYTES) rejects(() => crc32c(bad as Uint8Array), 'data', `crc32c ${String(bad)}`);
  // snappy has no levels: `level` is ignored rather than validated.
  assert.equal(snappy.levels, undefined);
  assert.ok(snappy.decompress(snappy.compress(sample, { level: 99 })).equals(sample));
});

test('the cases the issue names: maxOutputBytes, snappy.decompress(123), gzip.decompress(undefined)', () => {
  rejects(() => zstd.decompress(zstd.compress(sample), { maxOutputBytes: -1 }), 'maxOutputBytes', 'zstd maxOutputBytes');
  rejects(() => snappy.decompress(123 as unknown as Uint8Array), 'input', 'snappy.decompress(123)');
  rejects(() => gzip.decompress(undefined as unknown as Uint8Array), 'input', 'gzip.decompress(undefined)');
});

test('registerCodecs validates its map and every option, naming it', () => {
  rejects(() => registerCodecs({}, { codecs: ['x' as 'gzip'] }), 'codecs', "codecs ['x']");
  rejects(() => registerCodecs({}, { codecs: 'gzip' as unknown as ['gzip'] }), 'codecs', "codecs 'gzip'");
  rejects(() => registerCodecs({}, { maxOutputBytes: -1 }), 'maxOutputBytes', 'maxOutputBytes -1');
  rejects(() => registerCodecs({}, { levels: { zstd: 99 } }), 'levels.zstd', 'levels.zstd 99');
  rejects(() => registerCodecs({}, { levels: { gzip: 'high' as unknown as number } }), 'levels.gzip', 'levels.gzip high');
  rejects(() => registerCodecs({}, { levels: { snappy: 1 } }), 'levels.snappy', 'snappy has no levels');
  rejects(() => registerCodecs({}, { levels: { brotli: 1 } as never }), 'levels', 'levels.brotli');
  rejects(() => registerCodecs({}, { levels: 3 as never }), 'levels', 'levels 3');
  rejects(() => registerCodecs({}, 5 as never), 'options', 'options 5');
  rejects(() => registerCodecs(null as never), 'compressionCodecs', 'compressionCodecs null');
  // Nothing was registered by a rejected call; a valid one registers by the codecs' own ids.
  const map: Parameters<typeof registerCodecs>[0] = {};
  assert.throws(() => registerCodecs(map, { codecs: ['zstd', 'x' as 'gzip'] }));
  assert.deepEqual(Object.keys(map), []);
  registerCodecs(map, { codecs: ['zstd', 'lz4'], levels: { zstd: 5 } });
  assert.deepEqual(Object.keys(map).map(Number).sort(), [lz4.kafkaType, zstd.kafkaType].sort());
});
