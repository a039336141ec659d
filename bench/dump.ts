/**
 * `kafka-arena dump --workers N`: wall time of the CLI on a large zstd segment (~1 MiB batches of
 * JSON events, written to a temp file), output to /dev/null, with --workers 0 (decode on the main
 * thread), 1 and 2. Each round runs the three once, in a rotated order, so load on the shared
 * machine hits them alike; the figure is the median over the rounds, the ratio is against
 * --workers 0 of the same run. The child's CPU time and peak RSS come from a preload that reports
 * `process.resourceUsage()` on exit. Results: bench/results/dump.{md,json}.
 *   node build/bench/dump.js [--quick] [--mib 128] [--rounds 5] [--format text|hex|json]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { QUICK, fmt, jsonBatches, median, printRun, writeResults } from './lib';

const MiB = 1024 * 1024;
const CLI = join(__dirname, '..', 'src', 'cli', 'main.js');
const WORKERS = [0, 1, 2];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

interface Sample {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
}

function dumpOnce(file: string, workers: number, format: string, preload: string): Sample {
  const devNull = openSync('/dev/null', 'w');
  try {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--require', preload, CLI, 'dump', '--workers', String(workers), '--format', format, file], {
      stdio: ['ignore', devNull, 'pipe'],
      encoding: 'utf8',
    });
    const seconds = (performance.now() - t0) / 1000;
    const usage = /usage=(\d+) (\d+) (\d+)/.exec(r.stderr);
    if (r.status !== 0 || usage === null) throw new Error(`dump --workers ${workers} failed (status ${r.status}): ${r.stderr}`);
    return { seconds, cpuSeconds: (Number(usage[1]) + Number(usage[2])) / 1e6, maxRssMiB: Number(usage[3]) / 1024 };
  } finally {
    closeSync(devNull);
  }
}

export async function run(): Promise<string> {
  const mib = QUICK ? 8 : Number(arg('mib', '128'));
  const rounds = QUICK ? 1 : Number(arg('rounds', '5'));
  const format = arg('format', 'text');
  const dir = mkdtempSync(join(tmpdir(), 'kafka-arena-bench-dump-'));
  try {
    const file = join(dir, '00000000000000000000.log');
    // Seed 11: the segment of the figures in docs/pool.md.
    const { bytes, records } = jsonBatches('zstd', mib, MiB, 11);
    writeFileSync(file, bytes);
    const seg = { batches: mib, records, bytes: bytes.length };
    const preload = join(dir, 'usage.js');
    writeFileSync(preload, "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeSync(2, `usage=${u.userCPUTime} ${u.systemCPUTime} ${u.maxRSS}\\n`); });\n");
    const samples = new Map<number, Sample[]>(WORKERS.map((w) => [w, []]));
    dumpOnce(file, 0, format, preload); // warm the page cache
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < WORKERS.length; i++) {
        const w = WORKERS[(i + r) % WORKERS.length];
        samples.get(w)!.push(dumpOnce(file, w, format, preload));
      }
    }
    const base = median(samples.get(0)!.map((s) => s.seconds));
    const rows = WORKERS.map((w) => {
      const s = samples.get(w)!;
      const secs = s.map((x) => x.seconds);
      const m = median(secs);
      return {
        workers: w,
        medianSeconds: m,
        spreadPercent: ((Math.max(...secs) - Math.min(...secs)) / 2 / m) * 100,
        ratio: m / base,
        cpuSeconds: median(s.map((x) => x.cpuSeconds)),
        maxRssMiB: median(s.map((x) => x.maxRssMiB)),
        seconds: secs,
      };
    });
    const md = [
      `dump --format ${format} of ${(seg.bytes / MiB).toFixed(1)} MiB (${seg.batches} zstd batches of ~1 MiB of JSON events, ${seg.records} records) to /dev/null, ` +
        `${process.version}, median of ${rounds} interleaved rounds`,
      '',
      '| --workers | wall s | × --workers 0 | ± | CPU s (all threads) | peak RSS MiB |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.workers} | ${fmt(r.medianSeconds, 2)} | ${fmt(r.ratio, 2)} | ${fmt(r.spreadPercent, 0)}% | ${fmt(r.cpuSeconds, 2)} | ${fmt(r.maxRssMiB, 0)} |`),
    ].join('\n');
    writeResults('dump', { segment: seg, format, rounds, rows }, md);
    return md;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) printRun(run);
