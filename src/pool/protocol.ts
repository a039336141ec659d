/**
 * The messages between the pool (main thread) and its workers. Internal: both ends are this
 * package, built together.
 */
import type { CodecName } from '../codecs/types';
import type { ErrorCode } from '../errors';
import type { IndexedBatchHeader, RecordIndex } from '../protocol/record-index';

/** Main -> worker: decompress `input` (its own ArrayBuffer, transferred). */
export interface JobMessage {
  kind: 'job';
  id: number;
  codec: CodecName;
  input: Uint8Array;
  /** Where the records section starts in `input` (0 unless `crc` is set). */
  recordsAt: number;
  /** When set, `input` is a batch from its attributes field on: check its CRC-32C first. */
  crc?: number;
  maxOutputBytes: number;
  /** The lease's ArrayBuffer (transferred), or absent: then the output comes back in a new one. */
  out?: ArrayBuffer;
  /** Bytes of `out` the output may use (the size guessed from the headers). */
  outLength: number;
  /**
   * Bytes of `out` the lease holds (from its start): the output and, when the pool took room for
   * it, the record index after it. The rest of the ArrayBuffer is size-class slack that no one
   * leased, which the lease's release does not poison: nothing is written there.
   */
  outLimit: number;
  /** When set, the output is this batch's records section: build its record index too. */
  records?: IndexedBatchHeader;
}

/**
 * @internal Main -> worker, for tests: `process.exit(code)` in the worker, so a test can crash
 * a worker with jobs in flight.
 */
export interface ExitMessage {
  kind: 'exit';
  code: number;
}

export type ToWorker = JobMessage | ExitMessage;

/** A kafka-arena error as it crosses the thread boundary, rebuilt as the same class on the main thread. */
export interface SerializedError {
  name: string;
  code?: ErrorCode;
  message: string;
  /** CodecError. */
  codec?: string;
  /** ArgumentError. */
  argument?: string;
}

/** Worker -> main. `out` always comes back when it was sent (transferred), whatever the outcome. */
export interface ResultMessage {
  id: number;
  /** The job's input buffer, sent back (transferred) for the pool to reuse as staging. */
  input: Uint8Array;
  out?: ArrayBuffer;
  /** Decompressed bytes: in `out` when `spill` is absent. */
  n: number;
  /** The output, when it did not fit `out` (or no `out` was sent): its own ArrayBuffer, transferred. */
  spill?: Uint8Array;
  /** The batch's stored CRC did not match: nothing was decompressed. */
  crcMismatch?: boolean;
  /** The record index of the output, when asked for and worth it: in `out` after the output when it had room, else in an ArrayBuffer of its own (transferred). */
  index?: RecordIndex;
  /** How long the worker waited for this job after finishing its previous one (0 for its first). */
  idleMs: number;
  /** How long the job took on the worker. */
  busyMs: number;
  error?: SerializedError;
}
