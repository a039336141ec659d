/**
 * The pool in kafkajs's codecs (`registerCodecs(CompressionCodecs, { pool })`): batches whose
 * compressed records section is at least the codec's threshold (small-batches.ts) go to the
 * pool; smaller ones are decompressed on the main thread, where they cost less than the hand-off.
 */
import type { Arena, Lease } from '../arena';
import type { Codec } from '../codecs/types';
import { invalid } from '../validate';
import { WorkerPool } from './pool';

/** How kafkajs's adapter decompresses one batch: on the main thread, or with the pool from the threshold up. */
export type KafkajsDecompress = (codec: Codec, input: Buffer, arena: Arena | undefined, maxOutputBytes: number) => Lease | Buffer | Promise<Lease | Buffer>;

export function kafkajsDecompress(pool: WorkerPool | undefined): KafkajsDecompress {
  if (pool !== undefined && !(pool instanceof WorkerPool)) invalid('pool', 'a WorkerPool', pool);
  return (codec, input, arena, maxOutputBytes) => {
    if (pool !== undefined && pool._sends(codec.name, input.length)) {
      return arena ? pool.decompress(codec, input, { arena, maxOutputBytes }) : pool.decompress(codec, input, { maxOutputBytes });
    }
    return arena ? codec.decompress(input, { arena, maxOutputBytes }) : codec.decompress(input, { maxOutputBytes });
  };
}
