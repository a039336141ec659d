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
import { POOL_MIN_BYTES } from '../../src/pool/small-batches';
import { prng } from '../support/random';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
let dir: string;
let segment: string;
let batchStarts: number[];
let segmentBytes: Buffer;

/** Runs the CLI; a run past 60 s is killed (a hanging worker shows as code null and a signal). */
function run(args: string[], input?: Buffer): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
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

/**
 * Runs the CLI, counting stdout lines, and reads its peak RSS (a preload reports it on exit, so
 * the CLI itself is unchanged). `pauseMs`: read nothing at first, so the dump waits for 'drain'.
 */
async function dumpPeakRss(args: string[], pauseMs = 0): Promise<{ code: number | null; lines: number; last: string; stderr: string; rssMiB: number }> {
  const preload = join(dir, 'report-rss.js');
  writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(2, `maxRSS=${process.resourceUsage().maxRSS}\\n`));\n");
  const child = spawn(process.execPath, ['--require', preload, CLI, 'dump', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let last = '';
  if (pauseMs > 0) {
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), pauseMs);
  }
  child.stdout.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    last = (last + chunk.toString('latin1')).slice(-200);
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const rssMiB = (Number(/maxRSS=(\d+)/.exec(stderr)?.[1]) * 1024) / 2 ** 20;
  return { code, lines, last, stderr, rssMiB };
}

test('dump streams a 4M-record batch record by record: peak RSS of the dump process under 300 MiB', async () => {
  const n = 4_000_000;
  const file = join(dir, 'minimal.log');
  writeFileSync(file, minimalRecordsBatch(n));
  const r = await dumpPeakRss([file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines, n + 2, 'a batch line, one line per record and the summary');
  assert.match(r.last, new RegExp(`# 1 batches, ${n} records`));
  console.log(`# dump of ${n} records: peak RSS ${r.rssMiB.toFixed(0)} MiB`);
  assert.ok(r.rssMiB > 0, r.stderr);
  assert.ok(r.rssMiB < 300, `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
});

// ---- --workers N: decompression on a WorkerPool, output identical to --workers 0 ----

const SAMPLE = join(__dirname, '..', '..', '..', 'examples', 'data', 'sample.log');

/** Everything the user sees (stdout, stderr, exit status) from `--workers 2` and `--workers 0`, asserted equal. */
function samePooled(args: string[], input?: Buffer): ReturnType<typeof run> {
  const want = run(['dump', '--workers', '0', ...args], input);
  const got = run(['dump', '--workers', '2', ...args], input);
  assert.equal(want.signal, null, `--workers 0 ${args.join(' ')}: killed`);
  assert.deepEqual(got, want, `--workers 2 ${args.join(' ')}`);
  return want;
}

/** Recomputes the CRC-32C of the batch at `start`, so damage behind it reaches the codec or the record parser. */
function fixCrc(buf: Buffer, start: number): void {
  const end = start + L.BATCH_PREFIX_BYTES + buf.readInt32BE(start + L.BATCH_LENGTH);
  buf.writeUInt32BE(crc32c(buf, start + L.CRC_START, end), start + L.CRC);
}

/**
 * 20 batches in every codec, offsets continuing: enough to keep a read-ahead busy. The first
 * five and every third are large (~200 KiB of JSON with random base64 in it, which hardly
 * compresses), so they go to the workers; the others (8-25 KiB of repetitive JSON) are below the
 * pool's threshold and decoded on the main thread, in their turn.
 */
function mixedSegment(): { bytes: Buffer; starts: number[]; codecs: CompressionName[]; large: boolean[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  const codecs: CompressionName[] = [];
  const large: boolean[] = [];
  const rand = prng(5);
  const noise = (n: number): string => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256))).toString('base64');
  let pos = 0;
  let offset = 0n;
  for (let i = 0; i < 20; i++) {
    const compression = CODECS[i % CODECS.length];
    const big = i < 5 || i % 3 === 0;
    const n = (big ? 500 : 30) + ((i * 37) % 60);
    const recs = Array.from({ length: n }, (_, j) => ({
      key: j % 7 === 0 ? null : `user-${(i * 31 + j) % 97}`,
      value: JSON.stringify({ i, j, type: ['view', 'click', 'buy'][j % 3], pad: big ? noise(300) : 'x'.repeat(200 + ((i + j) % 50)) }),
      timestamp: 1_700_000_000_000 + i * 1000 + j,
      headers: j % 5 === 0 ? { source: compression, bin: Buffer.from([j & 0xff, 0xfe]) } : undefined,
    }));
    const b = encodeRecordBatch(recs, { compression, baseOffset: offset });
    if (compression !== 'none') assert.equal(b.length - L.RECORDS >= POOL_MIN_BYTES[compression], big, `batch ${i} (${compression}): ${b.length - L.RECORDS} compressed bytes`);
    starts.push(pos);
    codecs.push(compression);
    large.push(big);
    parts.push(b);
    pos += b.length;
    offset += BigInt(n);
  }
  return { bytes: Buffer.concat(parts), starts, codecs, large };
}

test('--workers 2 prints exactly what --workers 0 prints: every codec, every format, --no-crc, stdin', () => {
  const mixed = join(dir, 'mixed.log');
  writeFileSync(mixed, mixedSegment().bytes);
  const cases = [[SAMPLE], ['-f', 'json', SAMPLE], [segment], ['-f', 'hex', segment], [mixed], ['-f', 'hex', mixed], ['-f', 'json', mixed], ['--no-crc', mixed]];
  for (const args of cases) {
    const r = samePooled(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, args.includes('json') ? /^\{"offset":"0"/ : /^batch position=0 .*\n# \d+ batches/s);
  }
  const s = samePooled(['-'], readFileSync(mixed));
  assert.match(s.stdout, /# 20 batches, \d+ records/);
  // No flag is --workers 0.
  assert.deepEqual(run(['dump', mixed]), run(['dump', '--workers', '0', mixed]));
});

test('--workers 2 reports and skips corrupt batches, and stops, exactly as --workers 0 does', () => {
  const { bytes, starts, codecs, large } = mixedSegment();
  assert.deepEqual(codecs.slice(0, 5), CODECS);
  assert.deepEqual(large.slice(0, 5), [true, true, true, true, true]);
  // Damage that is skipped, one batch each (the codec cycles none, gzip, snappy, lz4, zstd), in file order.
  const skips = Buffer.from(bytes);
  const reports: RegExp[] = [];
  for (const i of [1, 2, 3, 4]) {
    // Garbage in the compressed records with a matching CRC: the codec itself fails (on a worker).
    skips.fill(0xa5, starts[i] + L.RECORDS, starts[i] + L.RECORDS + 16);
    fixCrc(skips, starts[i]);
    reports.push(new RegExp(`^kafka-arena dump: corrupt batch at byte ${starts[i]} \\(ERR_\\w+\\): record batch: ${codecs[i]} decompression failed`));
  }
  skips[starts[6] + 200] ^= 0x55;
  reports.push(new RegExp(`^kafka-arena dump: corrupt batch at byte ${starts[6]} \\(ERR_CRC_MISMATCH\\)`));
  skips.writeInt32BE(1 << 24, starts[7] + L.RECORD_COUNT);
  fixCrc(skips, starts[7]);
  reports.push(new RegExp(`^kafka-arena dump: corrupt batch at byte ${starts[7]} \\(ERR_BAD_LENGTH\\): record batch: recordCount`));
  for (const i of [8, 10, 14]) {
    // One record more than there are: the records before it print, then the error.
    skips.writeInt32BE(skips.readInt32BE(starts[i] + L.RECORD_COUNT) + 1, starts[i] + L.RECORD_COUNT);
    fixCrc(skips, starts[i]);
    reports.push(new RegExp(`^kafka-arena dump: corrupt batch at byte ${starts[i]} \\(ERR_`));
  }
  skips[starts[9] + L.MAGIC] = 1;
  reports.splice(-2, 0, new RegExp(`^kafka-arena dump: unsupported batch at byte ${starts[9]} \\(ERR_UNSUPPORTED_MAGIC\\)`));
  skips[starts[11] + L.ATTRIBUTES + 1] |= 7;
  fixCrc(skips, starts[11]);
  reports.splice(-1, 0, new RegExp(`^kafka-arena dump: corrupt batch at byte ${starts[11]} \\(ERR_UNKNOWN_COMPRESSION\\)`));

  // Then what stops the dump, each after the damage above.
  const stopAt = (i: number, length: number): Buffer => {
    const b = Buffer.from(skips);
    b.writeInt32BE(length, starts[i] + L.BATCH_LENGTH);
    return b;
  };
  const variants: Array<{ name: string; bytes: Buffer; stop?: RegExp }> = [
    { name: 'damage that is skipped', bytes: skips },
    { name: 'a negative length field', bytes: stopAt(16, -7), stop: new RegExp(`corrupt batch at byte ${starts[16]}: batch length -7 is invalid`) },
    { name: 'a length field below the header', bytes: stopAt(17, 3), stop: new RegExp(`corrupt batch at byte ${starts[17]}: batch length 3 is below`) },
    { name: 'a length past --max-batch-bytes', bytes: stopAt(18, 1 << 30), stop: new RegExp(`corrupt batch at byte ${starts[18]}: batch length 1073741824 is invalid`) },
    { name: 'a zero-filled tail', bytes: Buffer.concat([skips, Buffer.alloc(3 << 20)]), stop: new RegExp(`corrupt batch at byte ${bytes.length}: batch length 0 is below`) },
    { name: 'a truncated tail', bytes: skips.subarray(0, starts[19] + 100), stop: new RegExp(`truncated batch at byte ${starts[19]}: declares \\d+ bytes, only 100 present`) },
    { name: 'a stray trailing byte', bytes: Buffer.concat([skips, Buffer.from([7])]), stop: new RegExp(`truncated batch at byte ${bytes.length}: only 1 bytes left`) },
  ];
  const others = [['-f', 'json'], ['-f', 'hex'], ['--no-crc']];
  for (const [i, v] of variants.entries()) {
    const file = join(dir, 'damaged.log');
    writeFileSync(file, v.bytes);
    const r = samePooled([file]);
    assert.equal(r.code, 1, `${v.name}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    const want = v.stop ? [...reports, v.stop] : reports;
    assert.equal(lines.length, want.length, `${v.name}: ${r.stderr}`);
    want.forEach((re, k) => assert.match(lines[k], re, v.name));
    // The other formats and --no-crc (the damage then reaches the codec): the same output is all that is asked.
    for (const o of i === 0 ? others : [others[i % 3]]) samePooled([...o, file]);
  }
});

test('bad --workers values are usage errors (exit 2) naming the option', () => {
  for (const bad of ['-1', '1.5', 'two', '', '1e1', '0x2', '65', '1000']) {
    const r = run(['dump', segment, `--workers=${bad}`]);
    assert.equal(r.code, 2, `--workers=${bad}: ${r.stderr}`);
    assert.match(r.stderr, /^kafka-arena: "--workers" must be an integer from 0 to 64, got /, bad);
    assert.equal(r.stdout, '');
  }
  assert.equal(run(['dump', segment, '--workers']).code, 2);
  assert.match(run(['--help']).stdout, /--workers <n> .*\(0 to 64;/);
});

test('with a pool the process exits at once: at the end, on a stop, and when stdout closes early', async () => {
  // A hang would show as a kill by run()'s timeout (signal set, code null).
  for (const args of [['--workers', '3', segment], ['--workers', '1', join(dir, 'zeros.log')]]) {
    writeFileSync(join(dir, 'zeros.log'), Buffer.alloc(1 << 20));
    const r = run(['dump', ...args]);
    assert.equal(r.signal, null);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
  }
  // `| head -1`: the reader goes away while batches are still decompressing ahead.
  const file = join(dir, 'mixed-epipe.log');
  writeFileSync(file, Buffer.concat(Array.from({ length: 6 }, () => mixedSegment().bytes)));
  const child = spawn(process.execPath, [CLI, 'dump', '--workers', '2', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, 'not killed by the timeout');
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});

test('--workers reads ahead a bounded amount: 320 MiB of batches dump with peak RSS under 250 MiB', async () => {
  // 320 zstd batches of 1 MiB of records that compress to almost nothing: a read-ahead that
  // ignored its bound would decompress them all while the first ones print.
  const one = encodeRecordBatch(
    Array.from({ length: 8 }, (_, j) => ({ key: `k${j}`, value: Buffer.alloc(128 << 10, 97 + j) })),
    { compression: 'zstd' },
  );
  const file = join(dir, 'airy.log');
  writeFileSync(file, Buffer.concat(Array.from({ length: 320 }, () => one)));
  // A slow reader first: the dump waits for 'drain' while the workers have all the time they want.
  const r = await dumpPeakRss(['--workers', '2', file], 2000);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines, 320 * 9 + 1);
  assert.match(r.last, /# 320 batches, 2560 records/);
  console.log(`# dump --workers 2 of 320 MiB of records: peak RSS ${r.rssMiB.toFixed(0)} MiB`);
  assert.ok(r.rssMiB > 0, r.stderr);
  assert.ok(r.rssMiB < 250, `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
});
