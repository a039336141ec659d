/**
 * RecordBatch decode: records/s over the same ~1 MiB of records, uncompressed and with each codec,
 * key and value of every record touched. Each row's cases run interleaved in 5 rounds (median). kafka-arena (flyweight cursor) against kafkajs's
 * RecordBatch decoder and @platformatic/kafka's reader.
 *   node build/bench/record-batch.js [--quick]
 */
import { join } from 'node:path';
import { Arena, decodeRecordBatches, encodeRecordBatch } from '../src';
import { registerCodecs } from '../src/kafkajs';
import type { CompressionName } from '../src';
import { BenchCase, barChartSvg, fmt, jsonEvent, machine, pivotTable, printRun, prng, runCases, writeResults, writeSvg } from './lib';

/* eslint-disable @typescript-eslint/no-var-requires */
const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { CompressionCodecs } = require('kafkajs');

let sink = 0;
const keep: unknown[] = new Array(64);

export async function run(): Promise<string> {
  // kafkajs needs codecs for the compressed rows; give it ours so the rows compare decoding.
  registerCodecs(CompressionCodecs);
  let platformatic: { readRecordsBatches(r: unknown): Array<{ records: Array<{ key: Buffer; value: Buffer }> }>; Reader: { from(b: Buffer): unknown } } | undefined;
  try {
    // The package exports no subpaths; its reader lives in dist/protocol (build/bench -> root).
    const dist = join(__dirname, '..', '..', 'node_modules', '@platformatic', 'kafka', 'dist', 'protocol');
    const records = await import(join(dist, 'records.js'));
    const reader = await import(join(dist, 'reader.js'));
    platformatic = { readRecordsBatches: records.readRecordsBatches, Reader: reader.Reader };
  } catch (err) {
    console.error(`@platformatic/kafka reader unavailable here: ${(err as Error).message}`);
  }

  const rand = prng(3);
  const records = [];
  let size = 0;
  for (let i = 0; size < 1 << 20; i++) {
    const key = `user-${Math.floor(rand() * 1e6)}`;
    const value = jsonEvent(rand, i);
    records.push({ key, value, timestamp: 1763700000000 + i });
    size += key.length + value.length + 12;
  }
  const arena = new Arena({ maxBytes: 64 << 20, trimIntervalMs: 0 });
  const cases: BenchCase[] = [];
  const names: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  for (const compression of names) {
    const bytes = encodeRecordBatch(records, { compression });
    const n = records.length;
    const group = compression === 'none' ? 'uncompressed' : compression;
    const oursLoop = (verifyCrc: boolean, views: 'buffer' | 'uint8array' = 'buffer') => () => {
      const batches = decodeRecordBatches(bytes, { arena, verifyCrc, views });
      let c = 0;
      for (const b of batches) {
        for (const r of b) {
          const k = r.key!;
          const v = r.value!;
          keep[c & 63] = v;
          sink += k.length + v.length;
          c++;
        }
      }
      batches.release();
      if (c !== n) throw new Error(`decoded ${c} of ${n}`);
    };
    cases.push({ group, name: 'kafka-arena (CRC checked)', fn: oursLoop(true), records: n });
    cases.push({ group, name: 'kafka-arena (CRC off)', fn: oursLoop(false), records: n });
    cases.push({ group, name: 'kafka-arena (CRC off, Uint8Array views)', fn: oursLoop(false, 'uint8array'), records: n });
    cases.push({
      group,
      name: 'kafkajs decoder (no CRC check)',
      fn: () => {},
      asyncFn: async () => {
        const d = await kafkajsDecodeBatch(new KafkajsDecoder(bytes));
        let c = 0;
        for (const r of d.records) {
          keep[c & 63] = r.value;
          sink += r.key.length + r.value.length;
          c++;
        }
        if (c !== n) throw new Error(`kafkajs decoded ${c} of ${n}`);
      },
      records: n,
    });
    if (platformatic && compression === 'none') {
      const p = platformatic;
      cases.push({
        group,
        name: '@platformatic/kafka (no CRC check)',
        fn: () => {
          let c = 0;
          for (const b of p.readRecordsBatches(p.Reader.from(bytes))) {
            for (const r of b.records) {
              keep[c & 63] = r.value;
              sink += r.key.length + r.value.length;
              c++;
            }
          }
          if (c !== n) throw new Error(`platformatic decoded ${c} of ${n}`);
        },
        records: n,
      });
    }
  }
  const results = await runCases(cases);
  const kj = (g: string) => results.find((r) => r.group === g && r.name.startsWith('kafkajs'))!.recordsPerSec!;
  const md = [
    `Node ${machine().node}, ${machine().cpu}. ${records.length} records (~1 MiB of JSON events) per batch; M records/s (× kafkajs).`,
    '',
    pivotTable(results, (r) => `${fmt(r.recordsPerSec! / 1e6, 2)} (${fmt(r.recordsPerSec! / kj(r.group), 1)}×)`, 'batch'),
  ].join('\n');
  writeResults('record-batch', results, md);
  writeSvg('record-batch', barChartSvg('RecordBatch decode, M records/s (higher is better)', 'M records/s', results, (r) => r.recordsPerSec! / 1e6));
  arena.close();
  if (sink < 0) console.log(sink);
  return md;
}

if (require.main === module) printRun(run);
