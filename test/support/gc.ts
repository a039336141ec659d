import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The garbage collector, for tests. `npm test` passes --expose-gc, but Node 24's test runner does
 * not hand that flag to the per-file processes, so fall back to enabling it at run time.
 */
export const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

/** Collects and lets FinalizationRegistry callbacks run (they are queued as tasks afterwards). */
export async function collect(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
  }
}
