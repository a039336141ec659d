/** boundedProducer without a broker: a fake kafkajs producer whose sends settle on demand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedProducer, recordBytes, type KafkajsProducer, type ProducerRecordLike } from '../../src/kafkajs';

/** A producer whose sends stay pending until the test settles them, in any order. */
function fakeProducer() {
  const pending: Array<{ record: ProducerRecordLike; resolve: () => void; reject: (e: Error) => void }> = [];
  const producer: KafkajsProducer = {
    send: (record) => new Promise<void>((resolve, reject) => pending.push({ record, resolve, reject })),
    sendBatch: () => Promise.reject(new Error('unused')),
  };
  return { producer, pending };
}

const record = (bytes: number, tag: string): ProducerRecordLike => ({ topic: 't', messages: [{ key: tag, value: Buffer.alloc(bytes - tag.length) }] });
const tick = () => new Promise((r) => setImmediate(r));

test('recordBytes counts keys, values (UTF-8 for strings), header names and header values, arrays included', () => {
  const messages = [
    { key: 'héllo', value: Buffer.alloc(10), headers: { a: 'x', bb: [Buffer.alloc(2), 'yz'], c: undefined } },
    { key: null, value: null },
  ];
  // 6 + 10, then a: 1 + 1, bb: 2 + 2 + 2, c: 1 + 0; the tombstone counts nothing.
  assert.equal(recordBytes([{ topic: 't', messages }]), 6 + 10 + 2 + 6 + 1);
});

test('sends wait in FIFO order while in-flight bytes would pass the bound; failures free their bytes', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 1000 });
  assert.equal(recordBytes([record(400, 'a')]), 400);
  const order: string[] = [];
  const sends = ['a', 'b', 'c', 'd'].map((tag) => bp.send(record(400, tag)).then(() => order.push(tag), () => order.push(`${tag}!`)));
  await tick();
  assert.deepEqual(pending.map((p) => p.record.messages[0].key), ['a', 'b']);
  assert.equal(bp.stats().inFlightBytes, 800);
  pending[1].reject(new Error('broker said no'));
  await tick();
  assert.deepEqual(pending.map((p) => p.record.messages[0].key), ['a', 'b', 'c']);
  pending[0].resolve();
  pending[2].resolve();
  await tick();
  pending[3].resolve();
  await Promise.all(sends);
  assert.deepEqual(order, ['b!', 'a', 'c', 'd']);
  assert.deepEqual({ ...bp.stats(), highWaterBytes: 0 }, { inFlightBytes: 0, inFlightRequests: 0, waits: 2, highWaterBytes: 0, sent: 3, failed: 1 });
  assert.equal(bp.stats().highWaterBytes, 800);
});

test('a record set larger than the bound goes alone', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 100 });
  const big = bp.send(record(500, 'big'));
  const small = bp.send(record(50, 's'));
  await tick();
  assert.equal(pending.length, 1);
  pending[0].resolve();
  await big;
  await tick();
  assert.equal(pending.length, 2);
  pending[1].resolve();
  await small;
});

test('ready() waits for room without sending, behind sends already waiting', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 1000 });
  await bp.ready(); // empty: resolves at once
  void bp.send(record(600, 'a'));
  await bp.ready(); // 600 < 1000: room left
  void bp.send(record(600, 'b')); // waits: 1200 > 1000
  let ready = false;
  const r = bp.ready().then(() => (ready = true));
  await tick();
  assert.equal(ready, false, 'behind a waiting send');
  pending[0].resolve(); // a done: b goes (600 in flight)
  await tick();
  assert.equal(pending.length, 2);
  assert.equal(ready, true, 'room after b started');
  await r;
  // A send that starts and fills the bound again keeps ready() waiting.
  const f = fakeProducer();
  const full = boundedProducer(f.producer, { maxInFlightBytes: 1000 });
  void full.send(record(500, 'x'));
  void full.send(record(500, 'y'));
  void full.send(record(500, 'z')); // waits
  let ready2 = false;
  const r2 = full.ready().then(() => (ready2 = true));
  await tick();
  f.pending[0].resolve(); // x done: z starts, the bound is full again
  await tick();
  assert.equal(f.pending.length, 3);
  assert.equal(full.stats().inFlightBytes, 1000);
  assert.equal(ready2, false, 'still no room');
  f.pending[1].resolve();
  await r2;
  assert.equal(full.stats().inFlightBytes, 500);
  assert.equal(f.pending.length, 3, 'ready() sent nothing');
});

/** Settles `p` into 'resolved', 'rejected: <message>' or 'pending' after a tick. */
async function stateOf(p: Promise<unknown>): Promise<string> {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    (e: Error) => (state = `rejected: ${e.message}`),
  );
  await tick();
  return state;
}

test('flush() with nothing sent, or everything acknowledged, resolves at once', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 1000 });
  assert.equal(await stateOf(bp.flush()), 'resolved');
  const s = bp.send(record(100, 'a'));
  await tick();
  pending[0].resolve();
  await s;
  assert.equal(await stateOf(bp.flush()), 'resolved');
});

test('flush() waits for sends in flight and sends still queued for room, not for later sends', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 1000 });
  const sends = ['a', 'b', 'c'].map((tag) => bp.send(record(600, tag))); // a in flight, b and c wait
  await tick();
  assert.equal(pending.length, 1);
  const flushed = bp.flush();
  const later = bp.send(record(600, 'later')); // after the flush call: not waited for
  assert.equal(await stateOf(flushed), 'pending');
  pending[0].resolve(); // a done, b goes
  assert.equal(await stateOf(flushed), 'pending');
  pending[1].resolve(); // b done, c goes
  assert.equal(await stateOf(flushed), 'pending', 'c was queued for room when flush was called');
  assert.equal(pending.length, 3);
  pending[2].resolve(); // c done, later goes
  assert.equal(await stateOf(flushed), 'resolved');
  await Promise.all(sends);
  assert.equal(pending.length, 4);
  assert.equal(await stateOf(later), 'pending', 'flush resolved while a later send is in flight');
  assert.equal(await stateOf(bp.flush()), 'pending', 'a new flush waits for it');
  pending[3].resolve();
  await later;
});

test('flush() rejects with the first failure, once every earlier send has settled', async () => {
  const { producer, pending } = fakeProducer();
  const bp = boundedProducer(producer, { maxInFlightBytes: 1000 });
  const sends = ['a', 'b', 'c'].map((tag) => bp.send(record(300, tag)).catch((e: Error) => e.message));
  await tick();
  const flushed = bp.flush();
  pending[2].reject(new Error('c failed first'));
  pending[0].reject(new Error('a failed second'));
  assert.equal(await stateOf(flushed), 'pending', 'b is still in flight');
  pending[1].resolve();
  assert.equal(await stateOf(flushed), 'rejected: c failed first');
  assert.deepEqual(await Promise.all(sends), ['a failed second', undefined, 'c failed first']);
  // The failures are the sends' own to report; a flush after them has nothing left to wait for.
  assert.equal(await stateOf(bp.flush()), 'resolved');
});

test('boundedProducer checks its arguments', () => {
  const isArg = (name: string) => (e: unknown) => (e as { code?: string; argument?: string }).code === 'ERR_INVALID_ARGUMENT' && (e as { argument?: string }).argument === name;
  const { producer } = fakeProducer();
  assert.throws(() => boundedProducer(producer, { maxInFlightBytes: 0 }), isArg('maxInFlightBytes'));
  assert.throws(() => boundedProducer(producer, 'x' as unknown as object), isArg('options'));
  assert.throws(() => boundedProducer({} as KafkajsProducer), isArg('producer.send'));
  assert.throws(() => boundedProducer(null as unknown as KafkajsProducer), isArg('producer.send'));
});
