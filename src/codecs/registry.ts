import { gzip } from './gzip';
import { lz4 } from './lz4';
import { snappy } from './snappy';
import type { Codec, CodecName } from './types';
import { zstd } from './zstd';

/**
 * The codec registry: the one list of codecs. Every lookup by name or by Kafka compression type
 * id, here and in protocol/ and kafkajs/, is derived from the codec objects' own `name` and
 * `kafkaType`.
 */
const ALL: readonly Codec[] = [gzip, snappy, lz4, zstd];

/** The codecs by name. */
export const codecs: Readonly<Record<CodecName, Codec>> = Object.freeze(Object.fromEntries(ALL.map((c) => [c.name, c])) as Record<CodecName, Codec>);

/** Every codec name, in Kafka id order. */
export const CODEC_NAMES: readonly CodecName[] = Object.freeze(ALL.map((c) => c.name));

/** Kafka's compression type ids by name (the low 3 bits of a batch's attributes), `none` included. */
export const KAFKA_COMPRESSION_TYPES: Readonly<Record<'none' | CodecName, number>> = Object.freeze({
  none: 0,
  ...(Object.fromEntries(ALL.map((c) => [c.name, c.kafkaType])) as Record<CodecName, number>),
});

const BY_ID: readonly (Codec | undefined)[] = ALL.reduce<(Codec | undefined)[]>((byId, c) => {
  byId[c.kafkaType] = c;
  return byId;
}, []);

/** The codec of a Kafka compression type id, or undefined (0 is none; 5-7 are unassigned). */
export function codecById(id: number): Codec | undefined {
  return BY_ID[id];
}

/** The codec of a name, or undefined. */
export function codecByName(name: string): Codec | undefined {
  return Object.prototype.hasOwnProperty.call(codecs, name) ? codecs[name as CodecName] : undefined;
}
