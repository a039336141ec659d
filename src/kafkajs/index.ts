export { registerCodecs, codecStats } from './codecs';
export type { CodecStats, RegisterCodecsOptions, RegisteredCodecs, KafkajsCodec, CompressionCodecsMap } from './codecs';
export { arenaConsumer, ArenaConsumer, detachMessage } from './consumer';
export type { ArenaConsumerOptions, ArenaConsumerStats, ArenaEachBatchPayload, KafkajsConsumer, KafkajsMessage, KafkajsBatch } from './consumer';
export { boundedProducer, BoundedProducer, recordBytes } from './producer';
export type { BoundedProducerOptions, BoundedProducerStats, KafkajsProducer, MessageLike, ProducerRecordLike } from './producer';
