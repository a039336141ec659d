/** RecordBatch v2 decoding and encoding, CRC-32C and the codec registry. */
export { crc32c, crc32cUpdate } from './crc32c';
export { codecForType, compressionTypeOf, COMPRESSION_NAMES } from './compression';
export type { CompressionName } from './compression';
export { decodeRecordBatches, decodeRecordBatch } from './decode';
export type { DecodeOptions, Uint8ArrayViewOptions } from './decode';
export { RecordBatches, RecordBatch } from './batch';
export type { PartialBatch, RecordBatchHeader, ViewKind } from './batch';
export { RecordCursor, RecordView } from './record-view';
export type { DecodedRecord, RecordHeader } from './record-view';
export { BATCH_HEADER_BYTES, BATCH_PREFIX_BYTES } from './layout';
export type { TimestampType } from './layout';
export { encodeRecordBatch } from './encode';
export type { BytesLike, EncodeOptions, HeadersInput, HeaderValue, RecordInput } from './encode';
export { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint';
export type { VarintRead } from './varint';
