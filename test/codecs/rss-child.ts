/**
 * Child process of rss.test.ts, run as `node --expose-gc rss-child.js <codec> <decompress|compress>`:
 * one batch of 200 MiB through one codec in a fresh process, printing the resident set size before
 * (after a small warm-up call, so the engine is loaded) and after (the output dropped, gc run) as JSON.
 * `decompress-fails` decodes the batch into a closed arena: the call fails after the engine's
 * memory has grown, which is the path a policy applied only on success would miss.
 */
import { Arena, codecs, CodecName, KafkaArenaError } from '../../src';

const MiB = 1024 * 1024;
const BATCH_MIB = 200;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/**
 * Full collections with turns of the event loop between them, until the resident set stops
 * shrinking: V8 frees large ArrayBuffer backing stores on a background thread after the collection.
 */
async function settledRss(): Promise<number> {
  let best = Infinity;
  let calm = 0;
  for (let i = 0; i < 80 && calm < 5; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 25));
    const rss = process.memoryUsage().rss;
    calm = rss < best - 1024 * 1024 ? 0 : calm + 1;
    best = Math.min(best, rss);
  }
  return best;
}

/** 1 MiB of JSON event lines (compressible like real payloads), deterministic. */
function unit(): Buffer {
  let s = '';
  for (let i = 0; s.length < MiB; i++) {
    s += JSON.stringify({ ts: 1700000000000 + i * 137, user: `u${(i * 7919) % 5000}`, event: ['click', 'view', 'purchase'][i % 3], page: `/products/${(i * 31) % 500}`, amount: (i * 13) % 10000 }) + '\n';
  }
  return Buffer.from(s.slice(0, MiB));
}

async function main(): Promise<void> {
  const [name, op] = process.argv.slice(2) as [CodecName, string];
  const codec = codecs[name];
  const raw = unit();
  // gzip level 1 and snappy's xerial framing only keep the setup short and concatenable.
  const options = name === 'gzip' ? { level: 1 } : name === 'snappy' ? { format: 'xerial' } : undefined;
  const packed = codec.compress(raw, options as never);
  let result: Uint8Array | undefined;
  let before: number;
  if (op === 'decompress' || op === 'decompress-fails') {
    // The WebAssembly codecs read concatenated frames / xerial streams: 200 copies decode to 200 MiB
    // without one large call (which would grow an instance) during setup. gzip has no instance to
    // grow; it gets one member, as Kafka batches are (200 members would measure how the allocator
    // keeps 200 freed 1 MiB chunks, not the codec).
    const input = name === 'gzip'
      ? codec.compress(Buffer.concat(Array.from({ length: BATCH_MIB }, () => raw)), options as never)
      : Buffer.concat(Array.from({ length: BATCH_MIB }, () => packed));
    codec.decompress(packed);
    before = await settledRss();
    if (op === 'decompress') {
      result = codec.decompress(input);
      if (result.length !== BATCH_MIB * MiB) throw new Error(`decoded ${result.length} bytes`);
    } else {
      const closed = new Arena();
      closed.close();
      try {
        codec.decompress(input, { arena: closed });
        throw new Error('decompressing into a closed arena succeeded');
      } catch (err) {
        if (!(err instanceof KafkaArenaError) || err.code !== 'ERR_ARENA_CLOSED') throw err;
      }
    }
  } else {
    const input = Buffer.concat(Array.from({ length: BATCH_MIB }, () => raw));
    codec.compress(raw, options as never);
    before = await settledRss();
    result = codec.compress(input, options as never);
    if (result.length === 0) throw new Error('no output');
  }
  result = undefined;
  const after = await settledRss();
  process.stdout.write(JSON.stringify({ before, after }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
