import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch } from '../../src/protocol/encode';
import type { CompressionName } from '../../src/protocol/compression';
import { crc32c } from '../../src/protocol/crc32c';
import { zstd } from '../../src/codecs/zstd';
import * as L from '../../src/protocol/layout';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
let dir: string;
let segment: string;
let batchStarts: number[];
let segmentBytes: Buffer;

function run(args: string[], input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-arena-dump-'));
  // A segment: one batch per codec, 3 records each, offsets continuing across batches.
  const batches: Buffer[] = [];
  batchStarts = [];
  let pos = 0;
  CODECS.forEach((compression, i) => {
    const b = encodeRecordBatch(
      [
        { key: `key-${i}-0`, value: `value ${compression} "quoted"`, timestamp: 1_700_000_000_000 + i, headers: { source: compression } },
        { key: null, value: Buffer.from([0xff, 0x00, 0x10]), timestamp: 1_700_000_000_500 },
        { key: `key-${i}-2`, value: null, timestamp: 1_700_000_001_000 },
      ],
      { compression, baseOffset: BigInt(i * 3) },
    );
    batchStarts.push(pos);
    pos += b.length;
    batches.push(b);
  });
  segmentBytes = Buffer.concat(batches);
  segment = join(dir, '00000000000000000000.log');
  writeFileSync(segment, segmentBytes);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('text output lists every batch and record of a segment with all codecs', () => {
  const r = run(['dump', segment]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  const batchLines = lines.filter((l) => l.startsWith('batch '));
  assert.equal(batchLines.length, 5);
  CODECS.forEach((c, i) => {
    assert.match(batchLines[i], new RegExp(`^batch position=${batchStarts[i]} baseOffset=${i * 3} lastOffset=${i * 3 + 2} records=3 .*compression=${c} `));
  });
  const recordLines = lines.filter((l) => l.startsWith('  offset='));
  assert.equal(recordLines.length, 15);
  assert.equal(recordLines[0], '  offset=0 timestamp=1700000000000 (2023-11-14T22:13:20.000Z) key="key-0-0" value="value none \\"quoted\\"" headers={"source": "none"}');
  assert.equal(recordLines[1], '  offset=1 timestamp=1700000000500 (2023-11-14T22:13:20.500Z) key=null value=0xff0010');
  assert.equal(recordLines[14], '  offset=14 timestamp=1700000001000 (2023-11-14T22:13:21.000Z) key="key-4-2" value=null');
  assert.equal(lines[lines.length - 1], `# 5 batches, 15 records, ${segmentBytes.length} bytes`);
});

test('json lines are lossless; hex prints bytes in hex; stdin works', () => {
  const r = run(['dump', '--format', 'json', '-'], segmentBytes);
  assert.equal(r.code, 0, r.stderr);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(objs.length, 15);
  assert.deepEqual(objs[3], { offset: '3', timestamp: 1_700_000_000_001, key: 'key-1-0', value: 'value gzip "quoted"', headers: [{ key: 'source', value: 'gzip' }], batchPosition: batchStarts[1] });
  assert.deepEqual(objs[4].value, { base64: Buffer.from([0xff, 0x00, 0x10]).toString('base64') });
  assert.equal(objs[4].key, null);
  const h = run(['dump', '-f', 'hex', segment]);
  assert.equal(h.code, 0);
  const hex = (s: string): string => Buffer.from(s).toString('hex');
  assert.ok(h.stdout.includes(`offset=0 timestamp=1700000000000 (2023-11-14T22:13:20.000Z) key=${hex('key-0-0')} value=${hex('value none "quoted"')} headers={"source": ${hex('none')}}\n`));
  assert.match(h.stdout, /offset=1 .* key=null value=ff0010\n/);
});

test('a corrupt byte is reported with the batch position; later batches are still dumped', () => {
  const bad = Buffer.from(segmentBytes);
  const victim = 2; // the snappy batch
  bad[batchStarts[victim] + 70] ^= 0x55;
  const file = join(dir, 'corrupt.log');
  writeFileSync(file, bad);
  const r = run(['dump', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`corrupt batch at byte ${batchStarts[victim]} \\(ERR_CRC_MISMATCH\\)`));
  const offsets = [...r.stdout.matchAll(/^ {2}offset=(\d+)/gm)].map((m) => Number(m[1]));
  assert.deepEqual(offsets, [0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14]);
  assert.match(r.stdout, /# 4 batches, 12 records, .* 1 problems/);
  // --no-crc: the flipped byte now reaches the codec or the record parser, or slips through.
  const lax = run(['dump', '--no-crc', file]);
  assert.ok(!/ERR_CRC_MISMATCH/.test(lax.stderr));
  // Damage only the stored CRC: --no-crc dumps everything cleanly.
  const crcOnly = Buffer.from(segmentBytes);
  crcOnly[batchStarts[1] + 17] ^= 0xff;
  const crcFile = join(dir, 'crc.log');
  writeFileSync(crcFile, crcOnly);
  assert.equal(run(['dump', crcFile]).code, 1);
  const clean = run(['dump', '--no-crc', crcFile]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /# 5 batches, 15 records/);
});

test('a broken length field stops the dump; a truncated tail is reported', () => {
  const bad = Buffer.from(segmentBytes);
  bad.writeInt32BE(-7, batchStarts[3] + 8);
  const file = join(dir, 'length.log');
  writeFileSync(file, bad);
  const r = run(['dump', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`corrupt batch at byte ${batchStarts[3]}: batch length -7 is invalid.*stopping`));
  assert.match(r.stdout, /# 3 batches, 9 records/);

  const cut = segmentBytes.subarray(0, batchStarts[4] + 20);
  const t = run(['dump', '-'], cut);
  assert.equal(t.code, 1);
  assert.match(t.stderr, new RegExp(`truncated batch at byte ${batchStarts[4]}: declares \\d+ bytes, only 20 present`));
  assert.match(t.stdout, /# 4 batches, 12 records/);
});

test('legacy magic is reported as unsupported and skipped', () => {
  const bad = Buffer.from(segmentBytes);
  bad[batchStarts[0] + 16] = 1;
  const r = run(['dump', '-'], bad);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unsupported batch at byte 0 \(ERR_UNSUPPORTED_MAGIC\)/);
  assert.match(r.stdout, /# 4 batches, 12 records/);
});

test('a segment bigger than the read chunks streams batch by batch', () => {
  const big: Buffer[] = [];
  let offset = 0n;
  for (let i = 0; i < 12; i++) {
    const recs = Array.from({ length: 200 }, (_, j) => ({ key: `k${j}`, value: Buffer.alloc(1000, j) }));
    big.push(encodeRecordBatch(recs, { baseOffset: offset, compression: i % 2 ? 'lz4' : 'none' }));
    offset += 200n;
  }
  const file = join(dir, 'big.log');
  writeFileSync(file, Buffer.concat(big));
  assert.ok(statSync(file).size > 1 << 20, 'more than one 1 MiB read');
  const r = run(['dump', '-f', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2400);
  assert.equal(JSON.parse(lines[2399]).offset, '2399');
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a TTY');
  // Forced on, the bar is drawn on stderr and erased at the end.
  const p = run(['dump', '--progress', '-f', 'json', file]);
  assert.equal(p.code, 0);
  assert.match(p.stderr, /^\r\[#* *\] +\d+% [\d.]+\/[\d.]+ MiB/);
  assert.ok(p.stderr.endsWith('\r\x1b[K'));
});

test('usage: --help, bad arguments, missing file', () => {
  const h = run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: kafka-arena dump/);
  assert.equal(run([]).code, 2);
  assert.equal(run(['frobnicate', 'x']).code, 2);
  assert.equal(run(['dump', segment, '--format', 'xml']).code, 2);
  assert.equal(run(['dump', segment, '--bogus']).code, 2);
  const missing = run(['dump', join(dir, 'nope.log')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read/);
  assert.ok(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
});

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = run([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  }
  assert.match(run(['--help']).stdout, /--version/);
});

test('a zero-filled file stops at the first length field below the batch header, with one message', () => {
  const file = join(dir, 'zeros.log');
  writeFileSync(file, Buffer.alloc(12 << 20));
  const r = run(['dump', file]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line of stderr, got ${lines.length}: ${lines.slice(0, 3).join(' | ')}`);
  assert.match(lines[0], /^kafka-arena dump: corrupt batch at byte 0: batch length 0 is below the 49-byte batch header .*stopping/);
  assert.match(r.stdout, /# 0 batches, 0 records/);
  // Valid batches before a zeroed (preallocated or sparse) tail are dumped, then it stops once.
  const tail = join(dir, 'zero-tail.log');
  writeFileSync(tail, Buffer.concat([segmentBytes, Buffer.alloc(1 << 20)]));
  const t = run(['dump', tail]);
  assert.equal(t.code, 1);
  assert.equal(t.stderr.trimEnd().split('\n').length, 1);
  assert.match(t.stderr, new RegExp(`corrupt batch at byte ${segmentBytes.length}: batch length 0 is below`));
  assert.match(t.stdout, /# 5 batches, 15 records/);
});

/** One zstd batch of `n` minimal records (7 bytes each: no key, no value, no headers). */
function minimalRecordsBatch(n: number): Buffer {
  const one = Buffer.from([12, 0, 0, 0, 1, 1, 0]); // length 6, attributes, tsDelta 0, offsetDelta 0, key -1, value -1, 0 headers
  const section = Buffer.alloc(one.length * n);
  for (let i = 0; i < n; i++) one.copy(section, i * one.length);
  const compressed = zstd.compress(section);
  const batch = Buffer.alloc(L.RECORDS + compressed.length);
  compressed.copy(batch, L.RECORDS);
  batch.writeInt32BE(batch.length - L.BATCH_PREFIX_BYTES, L.BATCH_LENGTH);
  batch.writeInt32BE(-1, L.PARTITION_LEADER_EPOCH);
  batch.writeInt8(L.CURRENT_MAGIC, L.MAGIC);
  batch.writeInt16BE(4, L.ATTRIBUTES); // zstd
  batch.writeBigInt64BE(1_700_000_000_000n, L.BASE_TIMESTAMP);
  batch.writeBigInt64BE(1_700_000_000_000n, L.MAX_TIMESTAMP);
  batch.writeBigInt64BE(-1n, L.PRODUCER_ID);
  batch.writeInt16BE(-1, L.PRODUCER_EPOCH);
  batch.writeInt32BE(-1, L.BASE_SEQUENCE);
  batch.writeInt32BE(n, L.RECORD_COUNT);
  batch.writeUInt32BE(crc32c(batch, L.CRC_START, batch.length), L.CRC);
  return batch;
}

test('dump streams a 4M-record batch record by record: peak RSS of the dump process under 300 MiB', async () => {
  const n = 4_000_000;
  const file = join(dir, 'minimal.log');
  writeFileSync(file, minimalRecordsBatch(n));
  // The child reports its own peak RSS on exit (a preload, so the CLI itself is unchanged).
  const preload = join(dir, 'report-rss.js');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `maxRSS=${process.resourceUsage().maxRSS}\\n`));\n");
  const child = spawn(process.execPath, ['--require', preload, CLI, 'dump', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let last = '';
  child.stdout.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    last = (last + chunk.toString('latin1')).slice(-200);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(lines, n + 2, 'a batch line, one line per record and the summary');
  assert.match(last, new RegExp(`# 1 batches, ${n} records`));
  const rss = Number(/maxRSS=(\d+)/.exec(stderr)?.[1]) * 1024;
  console.log(`# dump of ${n} records: peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(rss > 0, stderr);
  assert.ok(rss < 300 * 2 ** 20, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
});
