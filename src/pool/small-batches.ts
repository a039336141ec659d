import type { CodecName } from '../codecs/types';

/**
 * Compressed bytes from which a batch goes to the pool, per codec: below it the main thread
 * spends less on decompressing it than on handing the job over and taking the answer back
 * (docs/pool.md, "Small batches"). Both users of the pool apply it: kafkajs's codecs
 * (kafkajs.ts) and the read-ahead of `pool.decodeRecordBatches` (read-ahead.ts).
 */
export const POOL_MIN_BYTES: Readonly<Record<CodecName, number>> = Object.freeze({ zstd: 8192, lz4: 131072, snappy: 98304, gzip: 8192 });
