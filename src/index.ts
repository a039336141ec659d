/**
 * kafka-arena: WASM-accelerated decompression and RecordBatch core for Kafka clients, with a
 * pooled ArrayBuffer arena, explicit leases and a memory budget.
 */
export * from './errors';
export * from './arena';
export * from './codecs';
export * from './kafkajs';
export * from './protocol';
