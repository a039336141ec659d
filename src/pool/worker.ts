/**
 * A pool worker: loads the codecs once (their WASM instances live as long as the thread) and
 * decompresses jobs one at a time, in arrival order. The output goes straight into the lease's
 * ArrayBuffer, which came by transfer and goes back by transfer: no copy on the main thread.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { codecs } from '../codecs';
import { KafkaArenaError } from '../errors';
import { crc32c } from '../protocol/crc32c';
import { buildRecordIndex, indexPlace, RecordIndex, wantsIndex } from '../protocol/record-index';
import type { JobMessage, ResultMessage, SerializedError, ToWorker } from './protocol';

function serialize(err: unknown): SerializedError {
  const e = err as KafkaArenaError & { codec?: string; argument?: string };
  if (err instanceof KafkaArenaError) {
    return { name: e.name, code: e.code, message: e.message, codec: e.codec, argument: e.argument };
  }
  return { name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(err) };
}

/**
 * A Buffer on an ArrayBuffer of its own, which can be transferred. Small Buffers live in Node's
 * shared slab (untransferable from Node 22, and transferring it would detach every Buffer in it),
 * so they are copied; `Buffer#slice` would only make a view.
 */
function own(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf;
  const copy = new Uint8Array(buf.length);
  copy.set(buf);
  return copy;
}

/**
 * The record index of a batch's decompressed records, while they are in this core's cache. It
 * goes in the lease's memory after the output when there is room (the pool reserves it), and
 * so lives and travels with the lease; otherwise in an ArrayBuffer of its own, transferred.
 * (A new ArrayBuffer per batch arriving on the main thread is what set V8 marking its whole
 * heap again and again in a process with a larger heap: docs/pool.md.)
 */
function indexOf(job: JobMessage, output: Uint8Array, transfer: ArrayBuffer[]): RecordIndex | undefined {
  const header = job.records;
  if (header === undefined || !wantsIndex(header.recordCount, output.length)) return undefined;
  const place = output.buffer === job.out ? indexPlace(job.out, output.byteOffset + output.length, header.recordCount, job.outLimit) : undefined;
  const index = buildRecordIndex(output, 0, output.length, header, place);
  if (place === undefined) transfer.push(index.fields.buffer as ArrayBuffer);
  return index;
}

/** One job; the caller fills in `idleMs` and `busyMs`. */
function run(job: JobMessage): { result: ResultMessage; transfer: ArrayBuffer[] } {
  const { id, out, input } = job;
  const transfer: ArrayBuffer[] = [input.buffer as ArrayBuffer];
  if (out !== undefined) transfer.push(out);
  try {
    if (job.crc !== undefined && crc32c(input, 0, input.length) !== job.crc) {
      return { result: { id, input, out, n: 0, crcMismatch: true, idleMs: 0, busyMs: 0 }, transfer };
    }
    const codec = codecs[job.codec];
    const records = job.recordsAt === 0 ? input : input.subarray(job.recordsAt);
    const maxOutputBytes = job.maxOutputBytes;
    if (out !== undefined) {
      try {
        const decoded = codec.decompress(records, { out: new Uint8Array(out, 0, job.outLength), maxOutputBytes });
        return { result: { id, input, out, n: decoded.length, index: indexOf(job, decoded, transfer), idleMs: 0, busyMs: 0 }, transfer };
      } catch (err) {
        // The size guessed on the main thread was too small (gzip's ISIZE of a multi-member
        // input, a forged header): decode again without a target, below.
        if (!(err instanceof KafkaArenaError && err.code === 'ERR_OUTPUT_TOO_SMALL')) throw err;
      }
    }
    const spill = own(codec.decompress(records, { maxOutputBytes }));
    transfer.push(spill.buffer as ArrayBuffer);
    return { result: { id, input, out, n: spill.length, spill, index: indexOf(job, spill, transfer), idleMs: 0, busyMs: 0 }, transfer };
  } catch (err) {
    return { result: { id, input, out, n: 0, error: serialize(err), idleMs: 0, busyMs: 0 }, transfer };
  }
}

const port = parentPort;
if (port === null) throw new Error('kafka-arena pool worker: not started as a worker thread');
// When the previous job was answered: the gap to the next one tells the pool whether this worker has slack.
let lastDone = -1;
// Set by the pool's close() (pool.ts starts every worker with it).
const { stopping } = workerData as { stopping: Int32Array };
port.on('message', (msg: ToWorker) => {
  if (msg.kind === 'exit') process.exit(msg.code);
  if (Atomics.load(stopping, 0) !== 0) process.exit(0); // closing: skip the jobs already sent here
  const start = performance.now();
  const { result, transfer } = run(msg);
  result.idleMs = lastDone < 0 ? 0 : start - lastDone;
  result.busyMs = performance.now() - start;
  try {
    port.postMessage(result, transfer);
  } catch (err) {
    // Nothing was sent (serialization fails first): answer with the error, and the buffers that were the main thread's.
    const back = [result.input.buffer as ArrayBuffer, ...(result.out ? [result.out] : [])];
    const failed: ResultMessage = { id: result.id, input: result.input, out: result.out, n: 0, error: serialize(err), idleMs: result.idleMs, busyMs: result.busyMs };
    port.postMessage(failed, back);
  }
  lastDone = performance.now();
});
