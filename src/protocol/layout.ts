/**
 * The RecordBatch v2 wire layout, in one place: the decoder, the encoder and the dump CLI read
 * field positions from here.
 *
 * RecordBatch v2 (magic 2), as stored in log segments and returned in the `records` field of a
 * fetch partition (several batches back to back, the last one possibly cut short):
 *
 *   RecordBatch =>
 *     baseOffset           int64
 *     batchLength          int32    bytes after this field
 *     partitionLeaderEpoch int32
 *     magic                int8     2 (0 and 1 are the legacy MessageSet formats)
 *     crc                  uint32   CRC-32C of attributes .. end of batch
 *     attributes           int16    bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
 *                                   bit 3 timestamp type (0 CreateTime, 1 LogAppendTime)
 *                                   bit 4 transactional, bit 5 control, bit 6 delete horizon set
 *     lastOffsetDelta      int32
 *     baseTimestamp        int64
 *     maxTimestamp         int64
 *     producerId           int64
 *     producerEpoch        int16
 *     baseSequence         int32
 *     recordCount          int32
 *     records              [Record] recordCount records; compressed as a whole when bits 0-2 != 0
 *
 *   Record =>
 *     length               varint   bytes after this field
 *     attributes           int8     unused
 *     timestampDelta       varlong
 *     offsetDelta          varint
 *     keyLength            varint   -1 = null key
 *     key                  bytes
 *     valueLength          varint   -1 = null value
 *     value                bytes
 *     headerCount          varint
 *     headers              [Header]
 *
 *   Header =>
 *     headerKeyLength      varint
 *     headerKey            utf-8 string
 *     headerValueLength    varint   -1 = null value
 *     headerValue          bytes
 */

/** Field positions, relative to the batch's first byte. */
export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORD_COUNT = 57;
export const RECORDS = 61;

/** The CRC covers attributes .. end of batch. */
export const CRC_START = ATTRIBUTES;

/** Bytes before `batchLength` ends: baseOffset + batchLength. */
export const BATCH_PREFIX_BYTES = 12;
/** Bytes of a v2 batch header after the `batchLength` field, up to and including `recordCount`. */
export const BATCH_HEADER_AFTER_LENGTH = 49;
/** Bytes of a whole v2 batch header (61). */
export const BATCH_HEADER_BYTES = BATCH_PREFIX_BYTES + BATCH_HEADER_AFTER_LENGTH;
/** Smallest encoded record: 1-byte length and 6 one-byte fields. */
export const MIN_RECORD_BYTES = 7;
/** The only magic this library decodes; 0 and 1 are the legacy MessageSet formats. */
export const CURRENT_MAGIC = 2;

/** Attribute bits. */
export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

/** Kafka's timestamp types (attributes bit 3). */
export type TimestampType = 'CreateTime' | 'LogAppendTime';
