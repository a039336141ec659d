/** RecordBatch v2 decoding and encoding, CRC-32C and the codec registry. */
export { crc32c, crc32cUpdate } from './crc32c';
export { codecForType, compressionTypeOf, COMPRESSION_NAMES } from './compression';
export type { CompressionName } from './compression';
export {
  decodeRecordBatches,
  decodeRecordBatch,
  RecordBatches,
  RecordBatch,
  RecordCursor,
  RecordView,
  BATCH_HEADER_BYTES,
  BATCH_PREFIX_BYTES,
} from './record-batch';
export type { DecodeOptions, DecodedRecord, PartialBatch, RecordBatchHeader, RecordHeader, TimestampType, Uint8ArrayViewOptions, ViewKind } from './record-batch';
export { encodeRecordBatch } from './encode';
export type { BytesLike, EncodeOptions, HeadersInput, HeaderValue, RecordInput } from './encode';
export { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint';
export type { VarintRead } from './varint';
