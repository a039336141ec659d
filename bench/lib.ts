/**
 * Shared benchmark plumbing: runs cases with benchmark.js, prints a table, writes JSON and an SVG
 * bar chart under bench/results/. Every figure is measured in the same process as its peers, so
 * ratios are meaningful on a noisy shared machine even when absolute numbers drift.
 */
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch, type CodecName } from '../src';
import { prng } from '../test/support/random';

export { prng };

export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/**
 * Where results go: bench/results/, or bench/results/quick/ (not committed) for `--quick` runs;
 * with BENCH_TAG=node24, a subfolder of that name.
 */
export const RESULTS_DIR = join(
  __dirname,
  '..',
  '..',
  'bench',
  'results',
  ...(QUICK ? ['quick'] : []),
  // A run on another Node version goes beside the main one: bench/results/node24/.
  ...(process.env.BENCH_TAG ? [process.env.BENCH_TAG.replace(/[^a-z0-9_-]/gi, '')] : []),
);

/** One thing to time. `bytes` is the payload per call, for MB/s. */
export interface BenchCase {
  /** Row label, e.g. the payload size. */
  group: string;
  /** Column label, e.g. the library. */
  name: string;
  fn: () => void;
  /** For asynchronous subjects (kafkajs's decoder): timed with benchmark.js's deferred mode. */
  asyncFn?: () => Promise<unknown>;
  bytes?: number;
  /** Records per call, for records/s. */
  records?: number;
}

export interface BenchResult {
  group: string;
  name: string;
  /** Median over the rounds. */
  opsPerSec: number;
  /** Half the range of the rounds, as a percent of the median. */
  spreadPercent: number;
  rounds: number;
  mbPerSec?: number;
  recordsPerSec?: number;
}

/** How to time a list of cases. */
export interface RunOptions {
  /** Seconds per case and round (benchmark.js maxTime). Default 0.4; 0.05 with --quick. */
  maxTime?: number;
  /** Rounds per group. Default 5; 1 with --quick. */
  rounds?: number;
}

/**
 * Times every case with benchmark.js, in rounds: within a group (one row of a table) each round
 * runs every case once, in a rotated order, and a case's figure is the median over its rounds.
 * On a shared, noisy machine a slow spell then hits all peers of a row alike instead of whichever
 * case happened to run during it, so the ratios in a row are comparable.
 */
export async function runCases(cases: BenchCase[], options: RunOptions = {}): Promise<BenchResult[]> {
  const rounds = QUICK ? 1 : (options.rounds ?? 5);
  const seconds = QUICK ? 0.05 : (options.maxTime ?? 0.4);
  const hz = new Map<BenchCase, number[]>();
  const groups = [...new Set(cases.map((c) => c.group))];
  for (const g of groups) {
    const row = cases.filter((c) => c.group === g);
    for (const c of row) {
      // Warm up and fail fast before timing.
      if (c.asyncFn) await c.asyncFn();
      else c.fn();
      hz.set(c, []);
    }
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < row.length; i++) {
        const c = row[(i + r) % row.length];
        hz.get(c)!.push(await timeOnce(c, seconds));
        // Let the event loop run between cases: finalizers, and the native memory of peers
        // that is freed from callbacks (zlib handles, WASM instances), never run inside a
        // synchronous benchmark.js loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  return cases.map((c) => toResult(c, hz.get(c)!));
}

function timeSync(c: BenchCase, seconds: number): number {
  const bench = new Benchmark(`${c.group} ${c.name}`, c.fn, { maxTime: seconds, minSamples: QUICK ? 2 : 5, initCount: 1 });
  bench.run({ async: false });
  if (bench.error) throw bench.error;
  return bench.hz;
}

async function timeOnce(c: BenchCase, seconds: number): Promise<number> {
  if (!c.asyncFn) return timeSync(c, seconds);
  const fn = c.asyncFn;
  const bench = new Benchmark(`${c.group} ${c.name}`, {
    defer: true,
    maxTime: seconds,
    minSamples: QUICK ? 2 : 5,
    fn: (deferred: { resolve(): void }) => {
      fn().then(
        () => deferred.resolve(),
        (err) => {
          bench.error = err;
          deferred.resolve();
        },
      );
    },
  });
  await new Promise<void>((resolve) => {
    bench.on('complete', () => resolve());
    bench.run({ async: true });
  });
  if (bench.error) throw bench.error;
  return bench.hz;
}

/** The median (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function toResult(c: BenchCase, rounds: number[]): BenchResult {
  const hz = median(rounds);
  // Spread of the rounds around their median, in percent (what a reader should treat as noise).
  const spread = rounds.length > 1 ? (100 * (Math.max(...rounds) - Math.min(...rounds))) / 2 / hz : 0;
  return {
    group: c.group,
    name: c.name,
    opsPerSec: hz,
    spreadPercent: spread,
    rounds: rounds.length,
    mbPerSec: c.bytes !== undefined ? (hz * c.bytes) / 1e6 : undefined,
    recordsPerSec: c.records !== undefined ? hz * c.records : undefined,
  };
}

/** Printed above every quick-mode table: its figures only prove the benchmark runs. */
export const QUICK_NOTE = '> **Quick mode (--quick): one short round per case. These figures are noise, not results; run without --quick to measure.**';

/** `markdown` with the quick-mode note above it when this is a quick run. */
export function noted(markdown: string): string {
  return QUICK ? `${QUICK_NOTE}\n\n${markdown}` : markdown;
}

/** For a benchmark file run directly (`node build/bench/x.js`): prints its table, or the error with exit code 1. */
export function printRun(run: () => Promise<string>): void {
  run().then(
    (md) => console.log(noted(md)),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

/** Machine facts printed with every result. */
export function machine(): Record<string, string | number> {
  const cpu = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    date: new Date().toISOString(),
    quick: QUICK ? 1 : 0,
  };
}

/** Formats a metric for a table cell. */
export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A Markdown table: rows are groups, columns are names, cells from `cell`. */
export function pivotTable(results: BenchResult[], cell: (r: BenchResult) => string, corner = ''): string {
  const groups = [...new Set(results.map((r) => r.group))];
  const names = [...new Set(results.map((r) => r.name))];
  const lines = [`| ${corner} | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`];
  for (const g of groups) {
    const cells = names.map((n) => {
      const r = results.find((x) => x.group === g && x.name === n);
      return r ? cell(r) : '—';
    });
    lines.push(`| ${g} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Writes `bench/results/<name>.json` (and `.md` when a table is given). */
export function writeResults(name: string, data: unknown, markdown?: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), JSON.stringify({ machine: machine(), data }, null, 2) + '\n');
  if (markdown !== undefined) writeFileSync(join(RESULTS_DIR, `${name}.md`), noted(markdown) + '\n');
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04', '#db2777'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A grouped horizontal-free bar chart as standalone SVG: one cluster per group, one bar per
 * series, value labels on the bars. No dependencies, readable on GitHub.
 */
export function barChartSvg(title: string, unit: string, results: BenchResult[], value: (r: BenchResult) => number | undefined): string {
  const groups = [...new Set(results.map((r) => r.group))];
  const names = [...new Set(results.map((r) => r.name))];
  const width = 900;
  const left = 60;
  const top = 50;
  const plotH = 300;
  const legendH = 22 * Math.ceil(names.length / 4);
  const height = top + plotH + 40 + legendH + 10;
  const vals = results.map(value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(1, ...vals) * 1.12;
  const clusterW = (width - left - 20) / groups.length;
  const barW = Math.max(4, (clusterW - 20) / names.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`);
  out.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${left - 4}" y="${y + 4}" text-anchor="end" fill="#6b7280">${fmt((max * i) / 4)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * clusterW + 10;
    names.forEach((n, ni) => {
      const r = results.find((x) => x.group === g && x.name === n);
      const v = r ? value(r) : undefined;
      if (v === undefined || !Number.isFinite(v)) return;
      const h = (plotH * v) / max;
      const x = x0 + ni * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[ni % PALETTE.length]}"><title>${esc(`${g} · ${n}: ${fmt(v)} ${unit}`)}</title></rect>`);
      if (barW >= 14) {
        out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(top + plotH - h - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#374151">${fmt(v)}</text>`);
      }
    });
    out.push(`<text x="${(x0 + (names.length * barW) / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" font-weight="600">${esc(g)}</text>`);
  });
  names.forEach((n, ni) => {
    const col = ni % 4;
    const row = Math.floor(ni / 4);
    const x = left + col * 210;
    const y = top + plotH + 36 + row * 22;
    out.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${PALETTE[ni % PALETTE.length]}"/>`);
    out.push(`<text x="${x + 16}" y="${y + 10}">${esc(n)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes `bench/results/<name>.svg`. */
export function writeSvg(name: string, svg: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.svg`), svg);
}

const EVENTS = ['click', 'view', 'purchase', 'add_to_cart', 'search', 'login', 'logout', 'scroll'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];

/** One realistic JSON event, as producers send to Kafka. */
export function jsonEvent(rand: () => number, i: number): string {
  return JSON.stringify({
    ts: 1763700000000 + i * 37 + Math.floor(rand() * 30),
    id: `${Math.floor(rand() * 1e9).toString(16)}-${i}`,
    user: `u${Math.floor(rand() * 50000)}`,
    session: Math.floor(rand() * 1e12).toString(36),
    event: EVENTS[Math.floor(rand() * EVENTS.length)],
    page: `/products/${Math.floor(rand() * 5000)}`,
    ref: rand() < 0.3 ? 'https://www.example.com/search?q=' + Math.floor(rand() * 1e6).toString(36) : null,
    ua: AGENTS[Math.floor(rand() * AGENTS.length)],
    amount: Math.round(rand() * 100000) / 100,
    country: ['DE', 'US', 'FR', 'JP', 'BR', 'IN'][Math.floor(rand() * 6)],
  });
}

/** `count` record batches of ~`batchBytes` (1 MiB) of JSON events each (distinct records), compressed with `codec`. */
export function jsonBatches(codec: CodecName | 'none', count: number, batchBytes = 1024 * 1024, seed = 9): { bytes: Buffer; records: number } {
  const rand = prng(seed);
  const parts: Buffer[] = [];
  let offset = 0;
  for (let b = 0; b < count; b++) {
    const recs = [];
    for (let size = 0; size < batchBytes; offset++) {
      const key = `user-${Math.floor(rand() * 1e6)}`;
      const value = jsonEvent(rand, offset);
      recs.push({ key, value, timestamp: 1763700000000 + offset });
      size += key.length + value.length + 12;
    }
    parts.push(encodeRecordBatch(recs, { compression: codec, baseOffset: BigInt(offset - recs.length) }));
  }
  return { bytes: Buffer.concat(parts), records: offset };
}

/** `size` bytes of newline-separated JSON events (deterministic). */
export function jsonEvents(size: number, seed = 42): Buffer {
  const rand = prng(seed);
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < size; i++) {
    const line = jsonEvent(rand, i) + '\n';
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

export const SIZES: Array<[string, number]> = [
  ['4 KiB', 4 * 1024],
  ['16 KiB', 16 * 1024],
  ['256 KiB', 256 * 1024],
  ['1 MiB', 1024 * 1024],
];

/** One line of {@link lineChartSvg}. */
export interface LineSeries {
  name: string;
  points: Array<[number, number]>;
  /** Colour index into the shared palette (so related lines can share a colour). */
  color?: number;
  /** Draw dashed (e.g. a second metric of the same set-up). */
  dashed?: boolean;
  /** Marks the last point with this text (e.g. why the line stops early). */
  endLabel?: string;
}

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * A line chart as standalone SVG (no dependencies): x and y axes with round ticks, one polyline
 * per series, a legend below. Optional horizontal reference lines (e.g. a memory target).
 */
export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: LineSeries[],
  references: Array<{ label: string; y: number }> = [],
): string {
  const width = 900;
  const left = 70;
  const right = 20;
  const top = 50;
  const plotH = 320;
  const plotW = width - left - right;
  const legendRows = Math.ceil(series.length / 2);
  const height = top + plotH + 46 + legendRows * 20 + 10;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...series.flatMap((s) => s.points.map((p) => p[1])), ...references.map((r) => r.y)];
  const xMax = Math.max(1, ...xs);
  const yStep = niceStep(Math.max(1, ...ys) * 1.05, 5);
  const yMax = yStep * Math.ceil((Math.max(1, ...ys) * 1.05) / yStep);
  const xStep = niceStep(xMax, 8);
  const px = (x: number) => left + (plotW * x) / xMax;
  const py = (y: number) => top + plotH - (plotH * y) / yMax;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`);
  out.push(`<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    out.push(`<line x1="${left}" x2="${width - right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${left - 4}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end" fill="#6b7280">${fmt(y, yStep < 1 ? 1 : 0)}</text>`);
  }
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(`<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#f3f4f6"/>`);
    out.push(`<text x="${px(x).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle" fill="#6b7280">${fmt(x, xStep < 1 ? 1 : 0)}</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 30}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>`);
  for (const r of references) {
    out.push(`<line x1="${left}" x2="${width - right}" y1="${py(r.y).toFixed(1)}" y2="${py(r.y).toFixed(1)}" stroke="#111827" stroke-dasharray="2 4"/>`);
    out.push(`<text x="${width - right - 4}" y="${(py(r.y) - 4).toFixed(1)}" text-anchor="end" fill="#111827">${esc(r.label)}</text>`);
  }
  series.forEach((s, i) => {
    const color = PALETTE[(s.color ?? i) % PALETTE.length];
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${esc(s.name)}</title></polyline>`);
    const last = s.points[s.points.length - 1];
    if (s.endLabel && last) {
      const [x, y] = [px(last[0]), py(last[1])];
      out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${color}"/>`);
      out.push(`<text x="${(x + 7).toFixed(1)}" y="${(y + 4).toFixed(1)}" fill="${color}" font-weight="600">${esc(s.endLabel)}</text>`);
    }
    const lx = left + (i % 2) * 420;
    const ly = top + plotH + 44 + Math.floor(i / 2) * 20;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Least-squares slope of y over x (0 with fewer than two points). */
export function linearSlope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den === 0 ? 0 : num / den;
}
