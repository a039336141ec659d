/**
 * The pool in kafkajs's codecs (`registerCodecs(CompressionCodecs, { pool })`): batches whose
 * compressed records section is at least the codec's threshold go to the pool; smaller ones are
 * decompressed on the main thread, where they cost less than the hand-off.
 */
import type { Arena, Lease } from '../arena';
import type { Codec, CodecName } from '../codecs/types';
import { invalid } from '../validate';
import { WorkerPool } from './pool';

/**
 * Compressed bytes from which a batch goes to the pool, per codec: below it the main thread
 * spends less on decompressing than on handing the job over (docs/pool.md, "Small batches").
 */
export const POOL_MIN_BYTES: Readonly<Record<CodecName, number>> = Object.freeze({ zstd: 8192, lz4: 131072, snappy: 98304, gzip: 8192 });

/** How kafkajs's adapter decompresses one batch: on the main thread, or with the pool from the threshold up. */
export type KafkajsDecompress = (codec: Codec, input: Buffer, arena: Arena | undefined, maxOutputBytes: number) => Lease | Buffer | Promise<Lease | Buffer>;

export function kafkajsDecompress(pool: WorkerPool | undefined): KafkajsDecompress {
  if (pool !== undefined && !(pool instanceof WorkerPool)) invalid('pool', 'a WorkerPool', pool);
  return (codec, input, arena, maxOutputBytes) => {
    if (pool !== undefined && input.length >= POOL_MIN_BYTES[codec.name]) {
      return arena ? pool.decompress(codec, input, { arena, maxOutputBytes }) : pool.decompress(codec, input, { maxOutputBytes });
    }
    return arena ? codec.decompress(input, { arena, maxOutputBytes }) : codec.decompress(input, { maxOutputBytes });
  };
}
