export { gzip } from './gzip';
export { lz4 } from './lz4';
export { snappy } from './snappy';
export { zstd } from './zstd';
export { codecs, KAFKA_COMPRESSION_TYPES } from './registry';
export { DEFAULT_MAX_OUTPUT_BYTES } from './types';
export type { Codec, CodecName, CompressOptions, DecompressOptions, LevelRange, SizeHint } from './types';
export type { Lz4CompressOptions } from './lz4';
export type { SnappyCompressOptions } from './snappy';
