/**
 * Property test of the pause planner (src/kafkajs/consumer/pause-plan.ts) against a model of
 * kafkajs's fetch loop: one fetch in flight per broker, the partitions requested being those not
 * paused when it starts, and the decoded data of a partition paused meanwhile dropped. Random
 * sequences of fetch starts and completions with random sizes, releases, the application's
 * pauses and resumes, and rebalances.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planPauses, type PartitionView, type PauseReason } from '../../src/kafkajs/consumer/pause-plan';

const BROKERS = [1, 2, 3];
const PARTITIONS = [0, 1, 2, 3, 4, 5, 6, 7];
const leader = (p: number) => BROKERS[p % BROKERS.length];
const key = (p: number) => `t|${p}`;
const HIGH = 1000;
const LOW = 400;
const MAX_SIZE = 600;

type Cmd =
  | { op: 'start'; broker: number }
  | { op: 'complete'; broker: number; sizes: number[] }
  | { op: 'release'; n: number }
  | { op: 'appPause'; p: number }
  | { op: 'appResume'; p: number }
  | { op: 'rebalance'; assigned: number[] };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('start' as const), broker: fc.constantFrom(...BROKERS) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('complete' as const), broker: fc.constantFrom(...BROKERS), sizes: fc.array(fc.integer({ min: 1, max: MAX_SIZE }), { minLength: 8, maxLength: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('appPause' as const), p: fc.constantFrom(...PARTITIONS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('appResume' as const), p: fc.constantFrom(...PARTITIONS) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rebalance' as const), assigned: fc.subarray(PARTITIONS, { minLength: 1 }) }) },
);

/** The helper's state and kafkajs's, as the model keeps them. */
class Model {
  assigned = new Set(PARTITIONS);
  app = new Set<number>();
  ours = new Map<string, PauseReason>();
  memoryPaused = false;
  rotation = new Map<number, number>();
  known = new Map<number, number>();
  notLeader = new Map<number, Set<number>>();
  unknownRequested = new Map<number, number[]>();
  recent = new Map<number, number>();
  inFlight = new Map<number, number[]>();
  /** What each broker's last completed fetch delivered (learned at its next start). */
  lastDelivered = new Map<number, Array<[number, number]>>();
  outstanding: number[] = [];
  held = 0;
  delivered = new Map<number, number>();
  constructor(readonly maxFetchBytes: number | undefined) {}

  kafkajsPaused(p: number): boolean {
    return this.app.has(p) || this.ours.has(key(p));
  }

  plan(fetchOf: number | undefined): void {
    const othersInFlight = [...this.inFlight.keys()].some((b) => b !== fetchOf);
    const partitions: PartitionView[] = PARTITIONS.filter((p) => this.assigned.has(p) || this.ours.has(key(p))).map((p) => ({
      key: key(p),
      broker: this.known.get(p),
      mayLead: fetchOf !== undefined && !othersInFlight && !this.notLeader.get(p)?.has(fetchOf),
      assigned: this.assigned.has(p),
      appPaused: this.app.has(p),
      ours: this.ours.get(key(p)),
      recentBytes: this.recent.get(p),
    }));
    const plan = planPauses({
      fetchOf,
      held: this.held,
      highWaterBytes: HIGH,
      lowWaterBytes: LOW,
      memoryPaused: this.memoryPaused,
      maxFetchBytes: this.maxFetchBytes,
      rotation: fetchOf === undefined ? 0 : (this.rotation.get(fetchOf) ?? 0),
      partitions,
    });
    for (const k of plan.pause) {
      const p = Number(k.slice(2));
      // Only at a fetch start: the starting broker's partitions, or any when no other fetch is in flight.
      assert.ok(fetchOf !== undefined && (leader(p) === fetchOf || !othersInFlight), `paused ${k} at the fetch start of broker ${fetchOf}`);
      assert.ok(!this.app.has(p), `paused the application's ${k}`);
    }
    for (const k of plan.resume) assert.ok(!this.app.has(Number(k.slice(2))), `resumed the application's ${k}`);
    this.ours = plan.ours;
    this.memoryPaused = plan.memoryPaused;
    if (fetchOf !== undefined) this.rotation.set(fetchOf, plan.rotation);
  }

  start(b: number): void {
    if (this.inFlight.has(b)) return;
    const last = this.lastDelivered.get(b) ?? [];
    for (const [p, size] of last) {
      this.known.set(p, b);
      this.recent.set(p, size);
    }
    for (const p of this.unknownRequested.get(b) ?? []) {
      if (this.known.has(p) || last.some(([q]) => q === p)) continue;
      this.notLeader.set(p, (this.notLeader.get(p) ?? new Set()).add(b));
    }
    this.lastDelivered.delete(b);
    this.plan(b);
    this.unknownRequested.set(b, PARTITIONS.filter((p) => this.assigned.has(p) && !this.known.has(p) && !this.kafkajsPaused(p)));
    this.inFlight.set(b, PARTITIONS.filter((p) => leader(p) === b && this.assigned.has(p) && !this.kafkajsPaused(p)));
  }

  complete(b: number, sizes: number[]): void {
    const request = this.inFlight.get(b);
    if (request === undefined) return;
    this.inFlight.delete(b);
    const got: Array<[number, number]> = [];
    for (const p of request) {
      if (this.kafkajsPaused(p)) {
        // kafkajs drops it; only the application's own pause may cause that.
        assert.ok(this.app.has(p), `partition ${p}'s fetch was dropped by a pause of the helper`);
        continue;
      }
      if (!this.assigned.has(p)) continue; // revoked meanwhile
      this.held += sizes[p];
      this.outstanding.push(sizes[p]);
      this.delivered.set(p, (this.delivered.get(p) ?? 0) + 1);
      got.push([p, sizes[p]]);
    }
    this.lastDelivered.set(b, got);
  }

  release(n: number): void {
    for (let i = 0; i < n && this.outstanding.length > 0; i++) this.held -= this.outstanding.shift()!;
    if (this.memoryPaused && this.held <= LOW) this.plan(undefined);
  }

  appPause(p: number): void {
    this.app.add(p);
  }

  appResume(p: number): void {
    this.app.delete(p);
  }

  rebalance(assigned: number[]): void {
    // kafkajs stops its fetchers before a rebalance and waits for their batches.
    this.inFlight.clear();
    this.assigned = new Set(assigned);
    this.plan(undefined);
  }
}

for (const maxFetchBytes of [undefined, 700]) {
  test(`pause planner (maxFetchBytes ${maxFetchBytes}): pauses only at the leader's fetch start, never the application's, bounded memory, no livelock`, () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 120 }), (cmds) => {
        const m = new Model(maxFetchBytes);
        // The bound: the high-water mark plus, per broker, the fetch in flight when it was crossed
        // and one fetch of partitions whose leader was not known yet.
        const perBroker = (b: number) => PARTITIONS.filter((p) => leader(p) === b).length * MAX_SIZE;
        const bound = HIGH + BROKERS.reduce((n, b) => n + 2 * perBroker(b), 0);
        for (const c of cmds) {
          if (c.op === 'start') m.start(c.broker);
          else if (c.op === 'complete') m.complete(c.broker, c.sizes);
          else if (c.op === 'release') m.release(c.n);
          else if (c.op === 'appPause') m.appPause(c.p);
          else if (c.op === 'appResume') m.appResume(c.p);
          else m.rebalance(c.assigned);
          assert.ok(m.held <= bound, `held ${m.held} > bound ${bound}`);
        }
        // Liveness: the application resumes everything and processes promptly; within a bounded
        // number of fetches per broker every assigned partition is delivered.
        for (const p of [...m.app]) m.appResume(p);
        const before = new Map(m.delivered);
        // Brokers' fetches overlap, as kafkajs's fetchers do: every start after the first finds
        // another broker's fetch in flight.
        for (const b of BROKERS) m.start(b);
        for (let round = 0; round < PARTITIONS.length + 2; round++) {
          for (const b of BROKERS) {
            m.complete(b, PARTITIONS.map(() => MAX_SIZE));
            m.release(m.outstanding.length);
            m.start(b);
          }
        }
        for (const p of m.assigned) assert.ok((m.delivered.get(p) ?? 0) > (before.get(p) ?? 0), `partition ${p} starved`);
        for (const [k, why] of m.ours) assert.ok(why === 'fetch' && maxFetchBytes !== undefined, `${k} still paused for ${why}`);
      }),
      { numRuns: 300 },
    );
  });
}
