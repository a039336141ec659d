/**
 * Fifo (src/fifo.ts): the same answers as an array used as a queue, across the front cut-downs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Fifo } from '../src/fifo';

type Op = { push: number } | 'shift' | 'drain' | { pushMany: number } | { shiftMany: number };

test('property: push, shift, peek, at and drain agree with an array model, across cut-downs of the front', () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.integer().map((push) => ({ push })),
    fc.constant('shift' as const),
    fc.constant('drain' as const),
    fc.integer({ min: 1, max: 5000 }).map((pushMany) => ({ pushMany })),
    fc.integer({ min: 1, max: 5000 }).map((shiftMany) => ({ shiftMany })),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const q = new Fifo<number>();
      let model: number[] = [];
      let next = 0;
      for (const o of ops) {
        if (o === 'shift') assert.equal(q.shift(), model.shift());
        else if (o === 'drain') {
          assert.deepEqual(q.drain(), model);
          model = [];
        } else if ('push' in o) {
          q.push(o.push);
          model.push(o.push);
        } else if ('pushMany' in o) {
          for (let i = 0; i < o.pushMany; i++) {
            q.push(next);
            model.push(next++);
          }
        } else {
          const got = Array.from({ length: o.shiftMany }, () => q.shift());
          assert.deepEqual(got, Array.from({ length: o.shiftMany }, () => model.shift()));
        }
        assert.equal(q.length, model.length);
        assert.equal(q.peek(), model[0]);
        for (const i of [-1, 0, 1, model.length >> 1, model.length - 1, model.length]) assert.equal(q.at(i), model[i]);
      }
      assert.deepEqual(Array.from({ length: q.length }, (_, i) => q.at(i)), model);
    }),
    { numRuns: 200 },
  );
});

test('an empty Fifo: shift, peek and at give undefined; drain gives []', () => {
  const q = new Fifo<string>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  assert.equal(q.at(0), undefined);
  assert.deepEqual(q.drain(), []);
  q.push('a');
  assert.equal(q.shift(), 'a');
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
});
