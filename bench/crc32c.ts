/**
 * CRC-32C GB/s at 1 KiB, 64 KiB and 1 MiB: kafka-arena (WASM slicing-by-16, TypeScript below 128
 * bytes) against @platformatic/wasm-utils and kafkajs's JavaScript table.
 *   node build/bench/crc32c.js [--quick]
 */
import { randomBytes } from 'node:crypto';
import { crc32c } from '../src';
import { BenchCase, barChartSvg, fmt, machine, pivotTable, printRun, runCases, writeResults, writeSvg } from './lib';

/* eslint-disable @typescript-eslint/no-var-requires */
const kafkajsCrc32C: (b: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C');
const wasmUtils = require('@platformatic/wasm-utils');

export async function run(): Promise<string> {
  const cases: BenchCase[] = [];
  for (const [label, size] of [['1 KiB', 1024], ['64 KiB', 64 * 1024], ['1 MiB', 1024 * 1024]] as const) {
    const data = randomBytes(size);
    const expect = crc32c(data);
    if (kafkajsCrc32C(data) !== expect || wasmUtils.crc32c(data) >>> 0 !== expect) throw new Error('CRC-32C implementations disagree');
    cases.push({ group: label, name: 'kafka-arena', fn: () => void crc32c(data), bytes: size });
    cases.push({ group: label, name: '@platformatic/wasm-utils', fn: () => void wasmUtils.crc32c(data), bytes: size });
    cases.push({ group: label, name: 'kafkajs (JS)', fn: () => void kafkajsCrc32C(data), bytes: size });
  }
  const results = await runCases(cases);
  const oursOf = (g: string) => results.find((r) => r.group === g && r.name === 'kafka-arena')!.mbPerSec!;
  const md = [
    `Node ${machine().node}, ${machine().cpu}. GB/s (ours ÷ peer).`,
    '',
    pivotTable(results, (r) => (r.name === 'kafka-arena' ? `**${fmt(r.mbPerSec! / 1000, 2)}**` : `${fmt(r.mbPerSec! / 1000, 2)} (${fmt(oursOf(r.group) / r.mbPerSec!, 2)}×)`), 'size'),
  ].join('\n');
  writeResults('crc32c', results, md);
  writeSvg('crc32c', barChartSvg('CRC-32C, GB/s (higher is better)', 'GB/s', results, (r) => r.mbPerSec! / 1000));
  return md;
}

if (require.main === module) printRun(run);
