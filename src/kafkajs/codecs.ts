import type { Lease } from '../arena';
import { CODEC_NAMES, codecs as ALL } from '../codecs/registry';
import type { Codec, CodecName } from '../codecs/types';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../codecs/types';
import { integerArg, invalid, oneOfArg, optionsArg } from '../validate';
import { activeFetchScope } from './scope';
import { kafkajsDecompress, type KafkajsDecompress } from '../pool/kafkajs';
import type { WorkerPool } from '../pool/pool';

/** kafkajs's codec contract: one object per type, both methods async. */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** kafkajs's `CompressionCodecs` map: `CompressionCodecs[CompressionTypes.ZSTD] = () => codec`. */
export type CompressionCodecsMap = Record<number, () => KafkajsCodec>;

/** Per-codec counters. */
export interface CodecStats {
  decompressCalls: number;
  /** Compressed bytes read. */
  decompressBytesIn: number;
  /** Decompressed bytes produced. */
  decompressBytesOut: number;
  /** Milliseconds spent decompressing. */
  decompressMs: number;
  decompressErrors: number;
  /** Decompressions that went into an arena lease (recycling mode). */
  decompressIntoLeases: number;
  compressCalls: number;
  compressBytesIn: number;
  compressBytesOut: number;
  compressMs: number;
  compressErrors: number;
}

/** Options for {@link registerCodecs}. */
export interface RegisterCodecsOptions {
  /** Which codecs to register. Default all four: gzip, snappy, lz4, zstd. */
  codecs?: CodecName[];
  /** Compression level per codec for producers (zstd default 3, gzip default 6, lz4 1). */
  levels?: Partial<Record<CodecName, number>>;
  /** Cap on one batch's decompressed size. Default 256 MiB. */
  maxOutputBytes?: number;
  /** Decompress batches from a size threshold up on this pool's workers, in plain and recycling mode. */
  pool?: WorkerPool;
}

/** The registered codecs and their counters. */
export interface RegisteredCodecs {
  /** A snapshot of the counters, per codec. */
  stats(): Record<CodecName, CodecStats>;
}


function emptyStats(): CodecStats {
  return {
    decompressCalls: 0,
    decompressBytesIn: 0,
    decompressBytesOut: 0,
    decompressMs: 0,
    decompressErrors: 0,
    decompressIntoLeases: 0,
    compressCalls: 0,
    compressBytesIn: 0,
    compressBytesOut: 0,
    compressMs: 0,
    compressErrors: 0,
  };
}

const registry = new Map<CodecName, CodecStats>();

function adapt(codec: Codec, level: number | undefined, maxOutputBytes: number, stats: CodecStats, decode: KafkajsDecompress): KafkajsCodec {
  return {
    async compress(encoder) {
      const input = encoder.buffer;
      const t0 = performance.now();
      try {
        const out = codec.compress(input, level === undefined ? undefined : { level });
        stats.compressCalls++;
        stats.compressBytesIn += input.length;
        stats.compressBytesOut += out.length;
        return out;
      } catch (err) {
        stats.compressErrors++;
        throw err;
      } finally {
        stats.compressMs += performance.now() - t0;
      }
    },
    async decompress(buffer) {
      const t0 = performance.now();
      try {
        const scope = activeFetchScope();
        let out: Buffer;
        if (scope !== undefined) {
          // Recycling mode: decode into the consumer's arena; the helper releases the lease.
          const lease = (await decode(codec, buffer, scope.arena, maxOutputBytes)) as Lease;
          scope.adopt(lease);
          stats.decompressIntoLeases++;
          out = lease.bytes;
        } else {
          out = (await decode(codec, buffer, undefined, maxOutputBytes)) as Buffer;
        }
        stats.decompressCalls++;
        stats.decompressBytesIn += buffer.length;
        stats.decompressBytesOut += out.length;
        return out;
      } catch (err) {
        stats.decompressErrors++;
        throw err;
      } finally {
        stats.decompressMs += performance.now() - t0;
      }
    },
  };
}

/**
 * Registers kafka-arena's codecs in kafkajs's `CompressionCodecs` in one call:
 *
 * ```js
 * const { CompressionCodecs } = require('kafkajs')
 * require('kafka-arena').registerCodecs(CompressionCodecs)
 * ```
 *
 * kafkajs calls the factory once per batch, so each factory returns one shared codec object.
 * On its own this mode hands kafkajs Buffers it owns: nothing is ever revoked. The recycling
 * mode is opt-in per consumer, through {@link arenaConsumer}.
 */
export function registerCodecs(compressionCodecs: CompressionCodecsMap, options?: RegisterCodecsOptions): RegisteredCodecs {
  if (typeof compressionCodecs !== 'object' || compressionCodecs === null) invalid('compressionCodecs', "kafkajs's CompressionCodecs object", compressionCodecs);
  const opts = optionsArg<RegisterCodecsOptions>('options', options);
  if (opts.codecs !== undefined && !Array.isArray(opts.codecs)) invalid('codecs', `an array of ${CODEC_NAMES.join(', ')}`, opts.codecs);
  const names = (opts.codecs ?? CODEC_NAMES).map((name) => oneOfArg('codecs', name, CODEC_NAMES));
  const maxOutputBytes = integerArg('maxOutputBytes', opts.maxOutputBytes, 0, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_OUTPUT_BYTES);
  const levels = optionsArg<Record<string, unknown>>('levels', opts.levels);
  for (const [name, level] of Object.entries(levels)) {
    const range = ALL[oneOfArg('levels', name, CODEC_NAMES)].levels;
    if (level === undefined) continue;
    if (range === undefined) invalid(`levels.${name}`, `absent (${name} has no levels)`, level);
    integerArg(`levels.${name}`, level, range.min, range.max);
  }
  for (const name of names) {
    const codec = ALL[name];
    let stats = registry.get(name);
    if (stats === undefined) {
      stats = emptyStats();
      registry.set(name, stats);
    }
    const adapted = adapt(codec, levels[name] as number | undefined, maxOutputBytes, stats, kafkajsDecompress(opts.pool));
    compressionCodecs[codec.kafkaType] = () => adapted;
  }
  return { stats: codecStats };
}

/** Counters of every codec registered through {@link registerCodecs}, process-wide. */
export function codecStats(): Record<CodecName, CodecStats> {
  const out = {} as Record<CodecName, CodecStats>;
  for (const name of CODEC_NAMES) out[name] = { ...(registry.get(name) ?? emptyStats()) };
  return out;
}
