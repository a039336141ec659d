/** The worker pool: decompression on other cores, into arena leases. */
export { WorkerPool } from './pool';
export type { WorkerPoolOptions, PoolDecompressOptions, WorkerPoolStats } from './pool';
export { PooledRecordBatches } from './batches';
export type { BatchSource, PoolDecodeOptions } from './batches';
