/**
 * The message-memory estimate against what kafkajs's own decoder really allocates: records are
 * decoded and kept, and the heap is read after a full GC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeRecordBatch } from '../../src';
import { batchMemoryBytes, messageMemoryBytes, messageObjectBytes } from '../../src/kafkajs';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const Decoder = require('kafkajs/src/protocol/decoder');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');

setFlagsFromString('--expose-gc');
const gc: () => void = runInNewContext('gc');

interface Shape {
  name: string;
  valueBytes: number;
  key: boolean;
  headers: number;
}

/** Heap per decoded message, and the estimate for one of them. */
async function measure(shape: Shape): Promise<{ measured: number; estimated: number }> {
  const n = 4000;
  const copies = 10;
  const records = Array.from({ length: n }, (_, i) => ({
    key: shape.key ? `key-${i}` : null,
    value: `${i}-`.padEnd(shape.valueBytes, 'x'),
    headers: Object.fromEntries(Array.from({ length: shape.headers }, (_, h) => [`h${h}`, `v${h}-${i}`])),
  }));
  const wire = encodeRecordBatch(records, { baseOffset: 1_000_000 });
  const kept: Array<{ records: unknown[] }> = [];
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let c = 0; c < copies; c++) kept.push(await decodeRecordBatch(new Decoder(Buffer.from(wire))));
  gc();
  gc();
  const measured = (process.memoryUsage().heapUsed - before) / (n * copies);
  // Read what was kept (also keeps V8 from dropping it as unused).
  const sample = kept[copies - 1].records[n - 1] as { key: Buffer | null; value: Buffer; headers: Record<string, Buffer> };
  assert.equal(kept.reduce((a, b) => a + b.records.length, 0), n * copies);
  return { measured, estimated: messageObjectBytes(sample) };
}

test('messageObjectBytes is within 30 % of the heap kafkajs really spends per message', async (t) => {
  const shapes: Shape[] = [
    { name: 'value 20 B', valueBytes: 20, key: false, headers: 0 },
    { name: 'value 300 B', valueBytes: 300, key: false, headers: 0 },
    { name: 'key + value 300 B', valueBytes: 300, key: true, headers: 0 },
    { name: 'key + value + 1 header', valueBytes: 300, key: true, headers: 1 },
    { name: 'key + value + 2 headers', valueBytes: 300, key: true, headers: 2 },
    { name: 'key + value + 3 headers', valueBytes: 300, key: true, headers: 3 },
    { name: 'key + value + 8 headers', valueBytes: 300, key: true, headers: 8 },
  ];
  for (const shape of shapes) {
    const { measured, estimated } = await measure(shape);
    t.diagnostic(`${shape.name}: measured ${measured.toFixed(0)} B/message, estimated ${estimated} B`);
    assert.ok(estimated >= measured * 0.7 && estimated <= measured * 1.3, `${shape.name}: estimated ${estimated} B, measured ${measured.toFixed(0)} B`);
  }
});

test('messageMemoryBytes adds the key, value and header bytes; batchMemoryBytes sums', () => {
  const bare = { key: null, value: Buffer.alloc(100) };
  assert.equal(messageMemoryBytes(bare), messageObjectBytes(bare) + 100);
  const full = { key: Buffer.alloc(8), value: Buffer.alloc(100), headers: { a: Buffer.alloc(5), b: 'héllo', c: [Buffer.alloc(2), 'xy'], d: undefined } };
  assert.equal(messageMemoryBytes(full), messageObjectBytes(full) + 8 + 100 + 5 + 6 + 2 + 2);
  assert.ok(messageObjectBytes(full) > messageObjectBytes({ key: Buffer.alloc(8), value: Buffer.alloc(100) }));
  assert.equal(batchMemoryBytes([bare, full]), messageMemoryBytes(bare) + messageMemoryBytes(full));
  assert.equal(batchMemoryBytes([]), 0);
  // A tombstone (null value) still costs its object.
  assert.equal(messageMemoryBytes({ key: Buffer.alloc(3), value: null }), messageObjectBytes({ key: Buffer.alloc(3) }) + 3);
});
