/**
 * Where records are indexed (src/pool/index-policy.ts): pure functions, property-tested.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { indexOnWorkers, nextIndexScore, SCORE_LIMIT, SLACK_SHARE, workerHadSlack } from '../../src/pool/index-policy';

describe('index policy', () => {
  test('more threads than cores: always index, whatever the score', () => {
    fc.assert(
      fc.property(fc.integer({ min: -SCORE_LIMIT, max: SCORE_LIMIT }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (score, workers, cores) => {
        if (workers + 1 > cores) assert.equal(indexOnWorkers(score, workers, cores), true);
        else assert.equal(indexOnWorkers(score, workers, cores), score > 0);
      }),
    );
  });

  test('the score stays within +-SCORE_LIMIT, moves one step per job, toward the side seen', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (slacks) => {
        let score = 0;
        for (const slack of slacks) {
          const next = nextIndexScore(score, slack);
          assert.ok(Math.abs(next) <= SCORE_LIMIT);
          assert.ok(Math.abs(next - score) <= 1);
          if (slack) assert.ok(next >= score);
          else assert.ok(next <= score);
          score = next;
        }
      }),
    );
  });

  test('hysteresis: from either extreme, the choice flips only after SCORE_LIMIT + 1 jobs of the other kind, and stays flipped', () => {
    for (const [start, slack] of [
      [-SCORE_LIMIT, true],
      [SCORE_LIMIT, false],
    ] as const) {
      let score = start;
      const before = indexOnWorkers(score, 1, 4);
      for (let i = 1; i <= 2 * SCORE_LIMIT + 2; i++) {
        score = nextIndexScore(score, slack);
        const flipped = indexOnWorkers(score, 1, 4) !== before;
        const needed = slack ? SCORE_LIMIT + 1 : SCORE_LIMIT;
        assert.equal(flipped, i >= needed, `from ${start}, after ${i} jobs`);
      }
    }
  });

  test('slack: idle longer than SLACK_SHARE of the run time; more idle never removes it, a longer run never adds it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1e3, noNaN: true }), (idle, busy, more) => {
        if (workerHadSlack(idle, busy)) assert.ok(workerHadSlack(idle + more, busy));
        if (!workerHadSlack(idle, busy)) assert.ok(!workerHadSlack(idle, busy + more));
      }),
    );
    assert.equal(workerHadSlack(0, 0), false, "a worker's first job (idle 0) is no slack");
    assert.equal(workerHadSlack(0, 1), false);
    assert.equal(workerHadSlack(1 * SLACK_SHARE, 1), false);
    assert.equal(workerHadSlack(1 * SLACK_SHARE + 0.01, 1), true);
  });
});
