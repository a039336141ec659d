/**
 * `npm run bench [-- --quick]`: every microbenchmark in one go. Each writes its table (.md),
 * figures (.json) and chart (.svg) under bench/results/.
 */
import { machine, noted } from './lib';

const BENCHES: Array<[string, () => Promise<{ run(): string | Promise<string> }>]> = [
  ['arena', () => import('./arena')],
  ['codecs', () => import('./codecs')],
  ['crc32c', () => import('./crc32c')],
  ['record-batch', () => import('./record-batch')],
  ['e2e', () => import('./e2e')],
  ['pool', () => import('./pool')],
  ['dump', () => import('./dump')],
];

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  console.log(`kafka-arena benchmarks — ${JSON.stringify(machine())}`);
  for (const [name, load] of BENCHES) {
    if (only.length > 0 && !only.includes(name)) continue;
    const t0 = Date.now();
    console.log(`\n## ${name}\n`);
    const mod = await load();
    console.log(noted(await mod.run()));
    console.log(`\n(${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
