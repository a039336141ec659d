/** The worker pool: decompression on other cores, into arena leases. */
export { WorkerPool } from './pool';
export type { WorkerPoolOptions, PoolDecompressOptions, WorkerPoolStats } from './pool';
export type { BatchSource, PoolDecodeOptions, PooledRecordBatches } from './batches';
