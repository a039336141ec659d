/**
 * Arena benchmark: acquire + release of pooled leases against Buffer.allocUnsafe left to the GC,
 * the cost of revocation (detaching an ArrayBuffer), and the internal waste of the size classes.
 *   node build/bench/arena.js [--quick]
 */
import { Arena, classSize, detachArrayBuffer, detachMethod } from '../src';
import { BenchCase, BenchResult, barChartSvg, fmt, machine, pivotTable, printRun, prng, runCases, writeResults, writeSvg } from './lib';

const KiB = 1024;
const SIZES: Array<[string, number]> = [
  ['16 KiB', 16 * KiB],
  ['256 KiB', 256 * KiB],
  ['1 MiB', 1024 * KiB],
];

export async function run(): Promise<string> {
  const cases: BenchCase[] = [];
  const allocated = new Map<string, () => number>();
  for (const [label, n] of SIZES) {
    const arena = new Arena({ maxBytes: 64 * 1024 * KiB, trimIntervalMs: 0, leakDetection: 'simple' });
    let arenaOps = 0;
    cases.push({
      group: label,
      name: 'arena acquireSync + release',
      fn: () => {
        const l = arena.acquireSync(n);
        l.bytes[0] = 1;
        l.release();
        arenaOps++;
      },
    });
    allocated.set(`${label}|arena acquireSync + release`, () => (arena.stats().allocations * classSize(n)) / arenaOps);
    const arenaAsync = new Arena({ maxBytes: 64 * 1024 * KiB, trimIntervalMs: 0, leakDetection: 'disabled' });
    let tryOps = 0;
    cases.push({
      group: label,
      name: 'arena tryAcquire + release (leak detection off)',
      fn: () => {
        const l = arenaAsync.tryAcquire(n)!;
        l.bytes[0] = 1;
        l.release();
        tryOps++;
      },
    });
    allocated.set(`${label}|arena tryAcquire + release (leak detection off)`, () => (arenaAsync.stats().allocations * classSize(n)) / tryOps);
    cases.push({
      group: label,
      name: 'Buffer.allocUnsafe + GC',
      fn: () => {
        const b = Buffer.allocUnsafe(n);
        b[0] = 1;
      },
    });
    allocated.set(`${label}|Buffer.allocUnsafe + GC`, () => n);
    cases.push({
      group: label,
      name: 'new ArrayBuffer + GC',
      fn: () => {
        const b = new Uint8Array(new ArrayBuffer(n));
        b[0] = 1;
      },
    });
    allocated.set(`${label}|new ArrayBuffer + GC`, () => n);
  }
  const results = await runCases(cases);

  // Revocation: detaching an ArrayBuffer of each size, zero-copy.
  const revoke: BenchResult[] = await runCases(
    SIZES.map(([label, n]) => {
      let ab = new ArrayBuffer(n);
      return {
        group: label,
        name: `detach (${detachMethod})`,
        fn: () => {
          ab = detachArrayBuffer(ab);
        },
      };
    }),
  );

  // Internal waste of the size classes over request sizes spread log-uniformly 1 KiB .. 8 MiB.
  const rand = prng(1);
  let requested = 0;
  let held = 0;
  let worst = 0;
  for (let i = 0; i < 200_000; i++) {
    const n = Math.floor(1024 * 2 ** (rand() * 13));
    const c = classSize(n);
    requested += n;
    held += c;
    worst = Math.max(worst, (c - n) / c);
  }
  const waste = { averagePercent: (100 * (held - requested)) / held, worstPercent: 100 * worst };

  const table = pivotTable(results, (r) => `${fmt(r.opsPerSec)} ops/s · ${fmt(allocated.get(`${r.group}|${r.name}`)!() / KiB, 2)} KiB new/op`, 'lease size');
  const revTable = pivotTable(revoke, (r) => `${fmt(1e9 / r.opsPerSec, 0)} ns`, 'size');
  const md = [
    `Node ${machine().node}, ${machine().cpu}, ${machine().cores} cores`,
    '',
    table,
    '',
    'Revocation cost per release (detaching the ArrayBuffer, zero-copy):',
    '',
    revTable,
    '',
    `Size-class waste over 200 000 requests log-uniform in 1 KiB–8 MiB: average ${waste.averagePercent.toFixed(1)} % of held bytes, worst ${waste.worstPercent.toFixed(1)} %.`,
  ].join('\n');
  writeResults('arena', { results, revoke, waste, allocatedPerOp: Object.fromEntries([...allocated].map(([k, f]) => [k, f()])) }, md);
  writeSvg('arena', barChartSvg('Lease acquire + release vs allocate-and-GC (ops/s, higher is better)', 'ops/s', results, (r) => r.opsPerSec));
  return md;
}

if (require.main === module) printRun(run);
