import { gzip } from './gzip';
import { lz4 } from './lz4';
import { snappy } from './snappy';
import { zstd } from './zstd';
import type { Codec, CodecName } from './types';

export { gzip, lz4, snappy, zstd };
export { DEFAULT_MAX_OUTPUT_BYTES, KAFKA_COMPRESSION_TYPES } from './types';
export type { Codec, CodecName, CompressOptions, DecompressOptions, SizeHint } from './types';
export type { Lz4CompressOptions } from './lz4';

/** The four codecs by name. */
export const codecs: Readonly<Record<CodecName, Codec>> = Object.freeze({ gzip, snappy, lz4, zstd });
