/**
 * When the caller decodes a queued batch itself (src/pool/help-policy.ts): pure functions,
 * property-tested.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AVERAGE_WEIGHT, HelpState, nextAverage, shouldHelp } from '../../src/pool/help-policy';

const ms = fc.double({ min: 0.001, max: 1e3, noNaN: true });
const state = fc.record({
  jobsLeft: fc.integer({ min: 1, max: 256 }),
  batchesLeft: fc.integer({ min: 1, max: 256 }),
  workers: fc.integer({ min: 1, max: 64 }),
  jobMs: ms,
  consumeMs: ms,
  helpMs: ms,
});

describe('help policy', () => {
  test('more work left to the workers never turns help off; more left to the caller never turns it on', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 1, max: 64 }), fc.double({ min: 0, max: 1e3, noNaN: true }), (s: HelpState, more, extra) => {
        if (shouldHelp(s)) {
          assert.ok(shouldHelp({ ...s, jobsLeft: s.jobsLeft + more }), 'more jobs left');
          assert.ok(shouldHelp({ ...s, jobMs: s.jobMs + extra }), 'slower jobs');
          if (s.workers > 1) assert.ok(shouldHelp({ ...s, workers: s.workers - 1 }), 'fewer workers');
        } else {
          assert.ok(!shouldHelp({ ...s, batchesLeft: s.batchesLeft + more }), 'more batches for the caller');
          assert.ok(!shouldHelp({ ...s, consumeMs: s.consumeMs + extra }), 'a slower caller');
          assert.ok(!shouldHelp({ ...s, helpMs: s.helpMs + extra }), 'dearer help');
        }
      }),
    );
  });

  test('no help when the caller is the slower side: its own work alone outlasts the workers\'', () => {
    fc.assert(
      fc.property(state, (s) => {
        // Every batch left is also a job left at most: the caller's share is its time per batch.
        const jobsLeft = Math.min(s.jobsLeft, s.batchesLeft);
        if (s.batchesLeft * s.consumeMs >= (jobsLeft * s.jobMs) / s.workers) assert.equal(shouldHelp({ ...s, jobsLeft }), false);
      }),
    );
  });

  test('the edges: one slow worker, 16 batches, a fast caller helps; a caller as slow as the worker does not', () => {
    const base = { jobsLeft: 16, batchesLeft: 16, workers: 1, jobMs: 1, helpMs: 1.1 };
    assert.equal(shouldHelp({ ...base, consumeMs: 0.5 }), true);
    assert.equal(shouldHelp({ ...base, consumeMs: 1 }), false);
    // The last job, the caller waiting for it: nothing to gain.
    assert.equal(shouldHelp({ ...base, jobsLeft: 1, batchesLeft: 1, consumeMs: 0 }), false);
  });

  test('the moving average: the first sample sets it, later ones move it AVERAGE_WEIGHT of the way, within the range seen', () => {
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 100 }), (samples) => {
        let avg: number | undefined;
        for (const x of samples) {
          const next = nextAverage(avg, x);
          if (avg === undefined) assert.equal(next, x);
          else assert.ok(Math.abs(next - (avg + AVERAGE_WEIGHT * (x - avg))) < 1e-9 * Math.max(1, Math.abs(next)));
          avg = next;
        }
        assert.ok(avg! >= Math.min(...samples) - 1e-9 && avg! <= Math.max(...samples) + 1e-9);
      }),
    );
  });
});
