import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codecForType, codecs, COMPRESSION_NAMES, compressionTypeOf, gzip, KAFKA_COMPRESSION_TYPES, lz4, snappy, zstd } from '../../src';
import { codecById, codecByName, CODEC_NAMES } from '../../src/codecs/registry';

test('every lookup agrees with the codec objects, and Kafka ids are the protocol values', () => {
  // Kafka's ids (KIP-110, the Java client's CompressionType) pinned once, here.
  assert.deepEqual(
    [gzip, snappy, lz4, zstd].map((c) => [c.name, c.kafkaType]),
    [['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]],
  );
  assert.deepEqual(CODEC_NAMES, ['gzip', 'snappy', 'lz4', 'zstd']);
  for (const codec of [gzip, snappy, lz4, zstd]) {
    assert.equal(codecs[codec.name], codec);
    assert.equal(codecByName(codec.name), codec);
    assert.equal(codecById(codec.kafkaType), codec);
    assert.equal(codecForType(codec.kafkaType), codec);
    assert.equal(KAFKA_COMPRESSION_TYPES[codec.name], codec.kafkaType);
    assert.equal(COMPRESSION_NAMES[codec.kafkaType], codec.name);
    assert.equal(compressionTypeOf(codec.name), codec.kafkaType);
  }
  assert.equal(KAFKA_COMPRESSION_TYPES.none, 0);
  assert.equal(COMPRESSION_NAMES[0], 'none');
  assert.equal(compressionTypeOf('none'), 0);
  assert.equal(COMPRESSION_NAMES.length, 5);
  for (const unknown of ['brotli', 'toString', '__proto__', '']) {
    assert.equal(codecByName(unknown), undefined, unknown);
    assert.equal(compressionTypeOf(unknown), -1, unknown);
  }
  for (const id of [0, 5, 7, -1, 1.5]) assert.equal(codecById(id), undefined, String(id));
  assert.ok(Object.isFrozen(codecs) && Object.isFrozen(KAFKA_COMPRESSION_TYPES) && Object.isFrozen(COMPRESSION_NAMES));
});
