/**
 * The kafkajs versions the recycling consumer was tested with. It relies on kafkajs internals
 * (FETCH_START emitted synchronously before `consumerGroup.fetch`, the decode inside that async
 * context, pauses read when the next fetch starts, messages as views of the decompressed buffer;
 * test/kafkajs/contract.test.ts checks them), so another version gets a warning or an error.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { KafkaArenaError } from '../../errors';

/** The tested range, as in package.json's peerDependencies. */
export const TESTED_KAFKAJS_RANGE = '~2.2.4';

/** Whether `version` is in {@link TESTED_KAFKAJS_RANGE}. */
export function isTestedKafkajs(version: string): boolean {
  const m = /^2\.2\.(\d+)$/.exec(version);
  return m !== null && Number(m[1]) >= 4;
}

/**
 * The version of the kafkajs the application uses: resolved from here first (the usual install,
 * kafkajs next to kafka-arena), then from the application's main module and working directory
 * (kafka-arena linked or installed elsewhere). Undefined when none resolves.
 */
export function installedKafkajsVersion(): string | undefined {
  const bases = [__filename, require.main?.filename, path.join(process.cwd(), 'index.js')];
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      const version = (createRequire(base)('kafkajs/package.json') as { version?: unknown }).version;
      if (typeof version === 'string') return version;
    } catch {
      // not resolvable from there
    }
  }
  return undefined;
}

const warned = new Set<string>();

/** Applies the `untestedKafkajs` option to `version`. */
export function checkKafkajsVersion(mode: 'warn' | 'throw' | 'ignore', version: string | undefined = installedKafkajsVersion()): void {
  if (mode === 'ignore' || version === undefined || isTestedKafkajs(version)) return;
  const message = `kafka-arena's arenaConsumer was tested with kafkajs ${TESTED_KAFKAJS_RANGE}, not ${version}: it relies on kafkajs internals (see docs/recycling.md)`;
  if (mode === 'throw') throw new KafkaArenaError('ERR_UNSUPPORTED', message);
  if (warned.has(version)) return;
  warned.add(version);
  process.emitWarning(message, { code: 'KAFKA_ARENA_UNTESTED_KAFKAJS' });
}
