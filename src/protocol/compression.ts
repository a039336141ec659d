import { gzip } from '../codecs/gzip';
import { lz4 } from '../codecs/lz4';
import { snappy } from '../codecs/snappy';
import type { Codec } from '../codecs/types';
import { zstd } from '../codecs/zstd';
import { ProtocolError } from '../errors';

/** Compression names as used by the encoder options and `RecordBatch.compression`. */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Names by Kafka compression type id (attributes bits 0-2). */
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const CODECS: readonly (Codec | undefined)[] = [undefined, gzip, snappy, lz4, zstd];

/**
 * The codec for a Kafka compression type id: 1 gzip, 2 snappy, 3 lz4, 4 zstd. Type 0 (none) is
 * the caller's business and, like ids 5-7, throws `ERR_UNKNOWN_COMPRESSION`.
 * `position` is the batch position reported in the error.
 */
export function codecForType(type: number, position = 0): Codec {
  const codec = CODECS[type];
  if (codec === undefined) {
    throw new ProtocolError('ERR_UNKNOWN_COMPRESSION', `unknown compression type ${type} (attributes bits 0-2)`, position);
  }
  return codec;
}

/** The Kafka compression type id of a compression name, or -1 when unknown. */
export function compressionTypeOf(name: string): number {
  return (COMPRESSION_NAMES as readonly string[]).indexOf(name);
}
