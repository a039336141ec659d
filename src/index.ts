/**
 * kafka-arena: WASM-accelerated decompression and RecordBatch core for Kafka clients, with a
 * pooled ArrayBuffer arena, explicit leases and a memory budget.
 *
 * This entry point has no kafkajs in it: the arena, the codecs, record batches and the errors.
 * The kafkajs adapter (registerCodecs, arenaConsumer, boundedProducer, message memory helpers)
 * is `kafka-arena/kafkajs`.
 */
export * from './errors';
export * from './arena';
export * from './codecs';
export * from './protocol';
export * from './pool';
