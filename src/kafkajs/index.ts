/**
 * kafka-arena/kafkajs: the kafkajs adapter. `registerCodecs` (the one-line drop-in codecs), the
 * recycling consumer (`arenaConsumer`), `boundedProducer`, and the message memory helpers.
 */
export { registerCodecs, codecStats } from './codecs';
export type { CodecStats, RegisterCodecsOptions, RegisteredCodecs, KafkajsCodec, CompressionCodecsMap } from './codecs';
export { arenaConsumer, detachMessage } from './consumer';
export type { ArenaConsumer, ArenaConsumerOptions, ArenaConsumerStats, ArenaEachBatchPayload, ArenaRunConfig, KafkajsConsumer, KafkajsMessage, KafkajsBatch } from './consumer';
export { boundedProducer, recordBytes } from './producer';
export type { BoundedProducer, BoundedProducerOptions, BoundedProducerStats, KafkajsProducer, MessageLike, ProducerRecordLike } from './producer';
export { messageObjectBytes, messageMemoryBytes, batchMemoryBytes, MESSAGE_OBJECT_BYTES, BUFFER_VIEW_BYTES, HEADER_ENTRY_BYTES } from './memory';
export type { MessageShape } from './memory';
