import { codecById, codecByName, CODEC_NAMES } from '../codecs/registry';
import type { Codec, CodecName } from '../codecs/types';
import { ProtocolError } from '../errors';

/** Compression names as used by the encoder options and `RecordBatch.compression`. */
export type CompressionName = 'none' | CodecName;

/** Names by Kafka compression type id (attributes bits 0-2), from the codec registry. */
export const COMPRESSION_NAMES: readonly CompressionName[] = Object.freeze(
  Array.from({ length: CODEC_NAMES.length + 1 }, (_, id): CompressionName => (id === 0 ? 'none' : codecById(id)!.name)),
);

/**
 * The codec for a Kafka compression type id: 1 gzip, 2 snappy, 3 lz4, 4 zstd. Type 0 (none) is
 * the caller's business and, like ids 5-7, throws `ERR_UNKNOWN_COMPRESSION`.
 * `position` is the batch position reported in the error.
 */
export function codecForType(type: number, position = 0): Codec {
  const codec = codecById(type);
  if (codec === undefined) {
    throw new ProtocolError('ERR_UNKNOWN_COMPRESSION', `unknown compression type ${type} (attributes bits 0-2)`, position);
  }
  return codec;
}

/** The Kafka compression type id of a compression name, or -1 when unknown. */
export function compressionTypeOf(name: string): number {
  return name === 'none' ? 0 : codecByName(name)?.kafkaType ?? -1;
}
