/**
 * The cost of the arena's release policy (src/arena/quarantine.ts): poisoning released bytes and
 * delaying reuse (quarantineMs), against the policy off, interleaved in one process.
 *   node build/bench/quarantine.js [--quick]
 *
 * The workload is a consumer's: leases of 192 KiB..1 MiB (a decompressed record batch), each
 * written in full (the decompressor's output), kept while a pipeline of 8 is in flight, then
 * released oldest first. Two measures:
 * - throughput, unpaced: decompressed MB/s of zstd batches of JSON events (256 KiB and 1 MiB)
 *   decompressed into leases, 8 in flight, released oldest first: the consumer's per-batch work
 *   without kafkajs's record decode;
 * - memory, paced at a kafkajs-like rate (80 MB/s decompressed): the arena's high water
 *   (leased + idle) and the pool's allocations and early reuses.
 */
import { Arena } from '../src';
import { zstd } from '../src/codecs/zstd';
import { fmt, jsonEvents, prng, QUICK, writeResults } from './lib';

const MiB = 1024 * 1024;
const BUDGET = 64 * MiB;
const DEPTH = 8;

interface Config {
  name: string;
  quarantineMs: number;
  poisonOnRelease: boolean;
}

const CONFIGS: Config[] = [
  { name: 'off (reuse at once, no poison)', quarantineMs: 0, poisonOnRelease: false },
  { name: 'poison only', quarantineMs: 0, poisonOnRelease: true },
  { name: 'default: quarantine 100 ms + poison', quarantineMs: 100, poisonOnRelease: true },
  { name: 'quarantine 1000 ms + poison', quarantineMs: 1000, poisonOnRelease: true },
];

function sizes(seed: number): () => number {
  const rand = prng(seed);
  return () => (192 * 1024 + Math.floor(rand() * 832 * 1024)) & ~7;
}

/** Unpaced: decompressed MB/s for `ms`, decompressing `frames` in turn into leases. */
function throughput(arena: Arena, ms: number, frames: Buffer[]): number {
  const held = [];
  let bytes = 0;
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 8; k++) {
      const lease = zstd.decompress(frames[i++ % frames.length], { arena });
      bytes += lease.length;
      held.push(lease);
      if (held.length > DEPTH) held.shift()!.release();
    }
  }
  for (const l of held) l.release();
  return bytes / MiB / (ms / 1000);
}

/** Paced at `mbPerSec` for `ms`: the arena's high water and pool counters. */
async function paced(arena: Arena, ms: number, mbPerSec: number, next: () => number) {
  const held = [];
  const start = performance.now();
  let bytes = 0;
  let i = 0;
  while (performance.now() - start < ms) {
    const due = ((performance.now() - start) / 1000) * mbPerSec * MiB;
    while (bytes < due) {
      const lease = arena.acquireSync(next());
      lease.bytes.fill(i++ & 255);
      bytes += lease.length;
      held.push(lease);
      if (held.length > DEPTH) held.shift()!.release();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const l of held) l.release();
  const s = arena.stats();
  return { highWaterMiB: s.highWaterBytes / MiB, allocations: s.allocations, poolHits: s.poolHits, earlyReuses: s.earlyReuses, acquires: s.acquires };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const rounds = QUICK ? 2 : 7;
  const sliceMs = QUICK ? 200 : 1000;
  const pacedMs = QUICK ? 1000 : 4000;
  const frames = [256 * 1024, 1024 * 1024, 512 * 1024, 768 * 1024].map((n, i) => zstd.compress(jsonEvents(n, 7 + i), { level: 3 }));
  const mbps = new Map<string, number[]>(CONFIGS.map((c) => [c.name, []]));
  // Interleaved: each round runs every configuration once, in a rotating order.
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < CONFIGS.length; k++) {
      const c = CONFIGS[(r + k) % CONFIGS.length];
      const arena = new Arena({ maxBytes: BUDGET, trimIntervalMs: 0, leakDetection: 'disabled', quarantineMs: c.quarantineMs, poisonOnRelease: c.poisonOnRelease });
      throughput(arena, sliceMs, frames); // warm the pool past the quarantine (steady state)
      mbps.get(c.name)!.push(throughput(arena, sliceMs, frames));
      arena.close();
    }
  }
  const memory = new Map<string, Awaited<ReturnType<typeof paced>>>();
  for (const c of CONFIGS) {
    const arena = new Arena({ maxBytes: BUDGET, trimIntervalMs: 0, leakDetection: 'disabled', quarantineMs: c.quarantineMs, poisonOnRelease: c.poisonOnRelease });
    memory.set(c.name, await paced(arena, pacedMs, 80, sizes(99)));
    arena.close();
  }
  const base = median(mbps.get(CONFIGS[0].name)!);
  const lines = [
    `Arena release policy, ${rounds} interleaved rounds of ${sliceMs} ms. Unpaced: zstd batches of JSON (256 KiB..1 MiB) decompressed into leases, 8 in flight. Paced: leases of 192 KiB..1 MiB written in full at 80 MB/s for ${pacedMs} ms. 64 MiB budget.`,
    '',
    '| policy | decompressed MB/s (median) | vs off | spread | high water at 80 MB/s | allocations | pool hits | early reuses |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of CONFIGS) {
    const xs = mbps.get(c.name)!;
    const m = median(xs);
    const spread = ((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100;
    const mem = memory.get(c.name)!;
    lines.push(`| ${c.name} | ${fmt(m)} | ${fmt(m / base, 2)} | ±${fmt(spread)} % | ${fmt(mem.highWaterMiB, 1)} MiB | ${mem.allocations} | ${mem.poolHits} | ${mem.earlyReuses} |`);
  }
  const md = lines.join('\n');
  console.log(md);
  writeResults('quarantine', { rounds, sliceMs, mbps: Object.fromEntries(mbps), memory: Object.fromEntries(memory) }, md);
}

void main();
