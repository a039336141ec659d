import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Arena, Lease } from '../arena';
import { leaseMemory } from '../arena/internal';
import { bufferView } from '../buffer-view';
import { codecs } from '../codecs';
import type { Codec, CodecName } from '../codecs/types';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../codecs/types';
import { ArgumentError, CodecError, KafkaArenaError, LeaseError, PoolError } from '../errors';
import { bytesArg, integerArg, invalid, optionsArg } from '../validate';
import { indexRoom, type IndexedBatchHeader, type RecordIndex } from '../protocol/record-index';
import type { JobMessage, ResultMessage, SerializedError, ToWorker } from './protocol';
import { BatchSource, PoolDecodeOptions, PooledRecordBatches } from './batches';
import { outputGuess } from './sizing';
import { indexOnWorkers, nextIndexScore, workerHadSlack } from './index-policy';
import { nextAverage } from './help-policy';
import { POOL_MIN_BYTES } from './small-batches';
import { Fifo } from '../fifo';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Worker threads. Default `os.availableParallelism() - 1`, at least 1. */
  workers?: number;
}

/** Options of {@link WorkerPool.decompress}: those of the synchronous `codec.decompress`, less `out`. */
export interface PoolDecompressOptions {
  /** Decompress into a lease of this arena (taken with `acquireSync` before the job is sent). */
  arena?: Arena;
  /** Fail with `ERR_OUTPUT_LIMIT` past this. Default 256 MiB. */
  maxOutputBytes?: number;
}

/** Counters of a {@link WorkerPool}. */
export interface WorkerPoolStats {
  workers: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs sent to a worker and not answered yet. */
  inFlight: number;
  completed: number;
  /** Jobs that ended with an error (bad input, a crashed worker, close()). */
  failed: number;
  /** Workers that exited unexpectedly (and were replaced). */
  workerExits: number;
}

/** What a job produced: the bytes (and a batch's record index), or a batch whose CRC did not match (nothing decompressed). */
export type JobOutcome = { value: Lease | Buffer; index?: RecordIndex; crcMismatch?: undefined } | { value?: undefined; crcMismatch: true };

interface Job {
  msg: JobMessage;
  /** Sent by a read-ahead whose caller helps: it may go PER_WORKER_HELPED deep. */
  helped: boolean;
  transfer: ArrayBuffer[];
  lease: Lease | undefined;
  arena: Arena | undefined;
  resolve(outcome: JobOutcome): void;
  reject(err: Error): void;
  /** 'withdrawn': taken back before a worker had it (withdraw()), skipped when its turn comes. */
  state: 'queued' | 'sent' | 'withdrawn' | 'failed';
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  online: boolean;
  /** The uncaught error that ended the worker, if one did. */
  error?: Error;
}

/**
 * Jobs sent ahead to one worker, so it never waits for the main thread between two; one more
 * for a read-ahead whose caller decodes batches itself (read-ahead.ts), which keeps it from the
 * event loop (where the answers arrive) for a whole batch at a time.
 */
const PER_WORKER = 2;
const PER_WORKER_HELPED = 3;
/**
 * Input staging buffers come back from the workers and are reused: a fresh ArrayBuffer for each
 * copy costs its page faults, several times the copy itself at batch sizes (docs/pool.md). Their
 * sizes are powers of two from MIN_STAGING_BYTES, so an idle one is found without a search and a
 * queued job's copy holds at most twice its input: coarser than the arena's size classes
 * (arena/size-classes.ts), because a copy lives only until its job starts, so one buffer serving
 * inputs of varied sizes matters more than the bytes it wastes. Buffers above MAX_STAGING_BYTES are not kept,
 * nor more than MAX_IDLE_STAGING_BYTES in all (compressed inputs of a read-ahead's worth of batches).
 */
const MIN_STAGING_BYTES = 256;
const MAX_STAGING_BYTES = 8 * 1024 * 1024;
const MAX_IDLE_STAGING_BYTES = 32 * 1024 * 1024;
const WORKER_FILE = join(__dirname, 'worker.js');

/** The staging class of an input of `n` bytes: the power of two that holds it, at least MIN_STAGING_BYTES. */
function stagingSize(n: number): number {
  return n <= MIN_STAGING_BYTES ? MIN_STAGING_BYTES : 2 ** (32 - Math.clz32(n - 1));
}

/**
 * Worker threads that decompress off the main thread, into arena leases.
 *
 * `await pool.decompress(codec, input, { arena, maxOutputBytes })` gives what
 * `codec.decompress(input, { arena, maxOutputBytes })` gives (a Lease of exactly the output, or a
 * Buffer without `arena`), with the same typed errors and output limit. The lease is taken
 * before the job is sent (so the budget counts it while the worker writes), its ArrayBuffer
 * travels to the worker and back by transfer, and the output is written straight into it. The
 * compressed input is copied (it is usually a view of a larger response that must stay usable).
 *
 * A worker that dies (a crash, `process.exit`) fails its jobs with `ERR_WORKER_EXITED` and is
 * replaced; `close()` fails queued and running jobs with `ERR_POOL_CLOSED`. Either way the
 * jobs' leases are released, so their budget comes back. Idle workers do not keep the process
 * alive; call `close()` when done.
 */
export class WorkerPool {
  readonly workers: number;
  readonly #slots: Slot[] = [];
  /** Jobs no worker has yet, in order; withdrawn ones stay until their turn (see #withdrawn). */
  readonly #queue = new Fifo<Job>();
  /** Withdrawn jobs still in `#queue`. */
  #withdrawn = 0;
  /** Idle input staging buffers, returned by the workers, by size; the last returned goes first. */
  readonly #staging = new Map<number, ArrayBuffer[]>();
  #stagingBytes = 0;
  #nextId = 1;
  #closed = false;
  /** The first close()'s promise, which later calls return. */
  #closing: Promise<void> | undefined;
  #completed = 0;
  #failed = 0;
  #workerExits = 0;
  readonly #cores: number;
  /** Shared with the workers: set by close(), checked by each worker before each job (worker.ts). */
  readonly #stopping = new Int32Array(new SharedArrayBuffer(4));
  /** See index-policy.ts; `#indexing` is a test's override. */
  #indexScore = 0;
  #indexing: 'auto' | 'always' | 'never' = 'auto';
  #helping: 'auto' | 'never' | 'greedy' = 'auto';
  #smallOnMain = true;
  /** @internal Moving averages for help-policy.ts, ms: a worker's job, the caller's time per batch, a batch the caller decoded. */
  readonly _times: { jobMs?: number; consumeMs?: number; helpMs?: number } = {};
  /** @internal For tests: input staging buffers allocated (not reused) so far. */
  _stagingAllocations = 0;

  constructor(options?: WorkerPoolOptions) {
    const o = optionsArg<WorkerPoolOptions>('options', options);
    this.#cores = availableParallelism();
    this.workers = integerArg('workers', o.workers, 1, 1024, Math.max(1, this.#cores - 1));
    for (let i = 0; i < this.workers; i++) this.#slots.push(this.#spawn());
  }

  /** Decompresses `input` on a worker; see the class docs. */
  decompress(codec: Codec | CodecName, input: Uint8Array, options: PoolDecompressOptions & { arena: Arena }): Promise<Lease>;
  decompress(codec: Codec | CodecName, input: Uint8Array, options?: PoolDecompressOptions): Promise<Buffer>;
  decompress(codec: Codec | CodecName, input: Uint8Array, options?: PoolDecompressOptions): Promise<Lease | Buffer>;
  async decompress(codec: Codec | CodecName, input: Uint8Array, options?: PoolDecompressOptions): Promise<Lease | Buffer> {
    const o = optionsArg<PoolDecompressOptions>('options', options);
    bytesArg('input', input);
    const outcome = await this._submit(codecArg(codec), input, 0, undefined, o.arena, o.maxOutputBytes).outcome;
    return outcome.value!;
  }

  /**
   * `decodeRecordBatches` with the decompression on the workers: an async iterable of the same
   * batch objects, in order, while the following batches decompress (read-ahead bounded by
   * `maxInFlightBytes`). `source`: concatenated batches, or an (async) iterable of chunks of
   * them cut anywhere (a fetch loop, a segment reader). See {@link PooledRecordBatches}.
   */
  decodeRecordBatches(source: BatchSource, options: PoolDecodeOptions & { views: 'uint8array' }): PooledRecordBatches<Uint8Array>;
  decodeRecordBatches(source: BatchSource, options?: PoolDecodeOptions): PooledRecordBatches<Buffer>;
  decodeRecordBatches(source: BatchSource, options?: PoolDecodeOptions): PooledRecordBatches<Uint8Array> {
    const o = optionsArg<PoolDecodeOptions>('options', options);
    return new PooledRecordBatches(this, source, o);
  }

  /**
   * @internal The one job path. `input` from `recordsAt` on is the compressed data; with `crc`
   * it is a record batch from its attributes field on, checked first. `input` is copied. With
   * `records`, the worker also builds the record index of the output (see record-index.ts).
   * `reservedBytes`: the arena memory taken for the job now; `indexRoom`: whether it includes
   * room for the record index after the output; `withdraw()` takes the job back if no worker has
   * it yet, giving back its memory (true), or does nothing (false). `helped`: see PER_WORKER_HELPED.
   */
  _submit(
    codec: Codec,
    input: Uint8Array,
    recordsAt: number,
    crc: number | undefined,
    arena: Arena | undefined,
    maxOutputBytes: number | undefined,
    records?: IndexedBatchHeader,
    helped = false,
  ): { outcome: Promise<JobOutcome>; reservedBytes: number; indexRoom: boolean; withdraw(): boolean } {
    if (this.#closed) return { outcome: Promise.reject(closedError()), reservedBytes: 0, indexRoom: false, withdraw: () => false };
    const limit = maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    let lease: Lease | undefined;
    let outLength = 0;
    let room = 0;
    if (arena !== undefined) {
      const guess = outputGuess(codec, recordsAt === 0 ? input : input.subarray(recordsAt), limit);
      if (guess !== undefined) {
        // Room for the record index after the output (worker.ts), when the budget has it: the
        // index then lives and travels in the lease's memory instead of an ArrayBuffer of its own.
        room = records === undefined ? 0 : indexRoom(records.recordCount, guess);
        if (room > 0) lease = arena.tryAcquire(guess + room);
        if (lease === undefined) {
          room = 0;
          lease = arena.acquireSync(guess); // the budget is taken before the job is sent
        }
        outLength = guess;
      }
    }
    const copy = this.#stage(input.length);
    copy.set(input);
    const out = lease === undefined ? undefined : (lease.bytes.buffer as ArrayBuffer);
    const msg: JobMessage = { kind: 'job', id: this.#nextId++, codec: codec.name, input: copy, recordsAt, crc, maxOutputBytes: maxOutputBytes as number, out, outLength, outLimit: lease?.length ?? 0, records };
    const transfer: ArrayBuffer[] = [copy.buffer as ArrayBuffer];
    if (out !== undefined) transfer.push(out);
    let job!: Job;
    const outcome = new Promise<JobOutcome>((resolve, reject) => {
      job = { msg, transfer, helped, lease, arena, resolve, reject, state: 'queued' };
    });
    this.#queue.push(job);
    this.#dispatch();
    const withdraw = (): boolean => {
      if (job.state !== 'queued') return false;
      job.state = 'withdrawn';
      this.#withdrawn++;
      this.#unstage(copy.buffer as ArrayBuffer);
      if (lease !== undefined) leaseMemory.discard(lease);
      return true;
    };
    return { outcome, reservedBytes: lease?.capacity ?? 0, indexRoom: room > 0, withdraw };
  }

  /** Counters; see {@link WorkerPoolStats}. */
  stats(): WorkerPoolStats {
    let inFlight = 0;
    for (const s of this.#slots) inFlight += s.jobs.size;
    return { workers: this.workers, queued: this.#queue.length - this.#withdrawn, inFlight, completed: this.#completed, failed: this.#failed, workerExits: this.#workerExits };
  }

  /**
   * Stops the workers. Queued and running jobs reject with `ERR_POOL_CLOSED` at once and their
   * leases are released. Resolves when every worker has exited: a worker running a job finishes
   * it first (its output is dropped), then exits. Idempotent: every call resolves with the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    Atomics.store(this.#stopping, 0, 1);
    for (const job of this.#drainQueue()) this.#abandon(job, closedError());
    const exits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      for (const job of slot.jobs.values()) this.#abandon(job, closedError());
      slot.jobs.clear();
      exits.push(stopWorker(slot.worker));
    }
    await Promise.all(exits);
  }

  /** @internal For the read-ahead: whether the next batch's worker should also build its record index. */
  _wantsIndex(): boolean {
    return this.#indexing === 'auto' ? indexOnWorkers(this.#indexScore, this.workers, this.#cores) : this.#indexing === 'always';
  }

  /**
   * @internal For the read-ahead: whether the caller's thread may decode queued batches itself:
   * 'policy', when the call asked for it (`callerHelps`) and help-policy.ts says so, only when a
   * core is left to it; 'greedy' (tests), whenever it waits, asked or not.
   */
  _helping(): 'never' | 'policy' | 'greedy' {
    if (this.#helping === 'auto') return this.workers < this.#cores ? 'policy' : 'never';
    return this.#helping;
  }

  /** @internal For tests and benchmarks: fixes whether the caller helps ('auto' is the default). */
  _setHelping(mode: 'auto' | 'never' | 'greedy'): void {
    this.#helping = mode;
  }

  /** @internal Whether a batch of `compressedBytes` is worth sending to the workers (small-batches.ts). */
  _sends(codec: CodecName, compressedBytes: number): boolean {
    return !this.#smallOnMain || compressedBytes >= POOL_MIN_BYTES[codec];
  }

  /** @internal For tests: `false` sends every compressed batch to the workers, small ones too. */
  _setSmallOnMain(onMain: boolean): void {
    this.#smallOnMain = onMain;
  }

  /** @internal For tests and benchmarks: fixes where records are indexed ('auto' is the default). */
  _setIndexing(mode: 'auto' | 'always' | 'never'): void {
    this.#indexing = mode;
  }

  /** @internal For tests: makes worker `index` call `process.exit(code)` before its next job. */
  _exitWorker(index: number, code = 1): void {
    const msg: ToWorker = { kind: 'exit', code };
    this.#slots[index].worker.postMessage(msg);
  }

  // ---- internals ----

  #spawn(): Slot {
    const worker = new Worker(WORKER_FILE, { workerData: { stopping: this.#stopping } });
    const slot: Slot = { worker, jobs: new Map(), online: false };
    worker.unref();
    worker.on('online', () => (slot.online = true));
    worker.on('message', (msg: ResultMessage) => this.#onResult(slot, msg));
    // An uncaught exception in the worker: 'exit' follows, which fails its jobs with it as cause.
    worker.on('error', (err) => (slot.error = err));
    worker.on('exit', (code) => this.#onExit(slot, code));
    return slot;
  }

  #dispatch(): void {
    for (let next = this.#queue.peek(); next !== undefined; next = this.#queue.peek()) {
      if (next.state === 'withdrawn') {
        this.#queue.shift();
        this.#withdrawn--;
        continue;
      }
      let best: Slot | undefined;
      const perWorker = next.helped ? PER_WORKER_HELPED : PER_WORKER;
      for (const s of this.#slots) if (s.jobs.size < perWorker && (best === undefined || s.jobs.size < best.jobs.size)) best = s;
      if (best === undefined) return;
      const job = this.#queue.shift()!;
      job.state = 'sent';
      if (best.jobs.size === 0) best.worker.ref(); // a job in flight keeps the process alive
      best.jobs.set(job.msg.id, job);
      best.worker.postMessage(job.msg, job.transfer);
    }
  }

  /** A staging view of `n` bytes: an idle buffer of its size class, or a new one. */
  #stage(n: number): Uint8Array {
    const size = n > MAX_STAGING_BYTES ? n : stagingSize(n);
    const idle = this.#staging.get(size)?.pop();
    if (idle === undefined) {
      this._stagingAllocations++;
      return new Uint8Array(new ArrayBuffer(size), 0, n);
    }
    this.#stagingBytes -= size;
    return new Uint8Array(idle, 0, n);
  }

  /**
   * Keeps an input staging buffer for reuse within MAX_IDLE_STAGING_BYTES. Past it, idle buffers
   * of the size class holding the most bytes make room, unless that is the returned one's own: a
   * burst of one size must not pin the idle memory and leave every other size allocating.
   */
  #unstage(buffer: ArrayBuffer | undefined): void {
    const size = buffer?.byteLength ?? 0;
    if (buffer === undefined || size > MAX_STAGING_BYTES || size !== stagingSize(size)) return;
    while (this.#stagingBytes + size > MAX_IDLE_STAGING_BYTES) {
      let fullest: ArrayBuffer[] | undefined;
      let most = 0;
      for (const [s, list] of this.#staging) {
        if (s * list.length > most) [fullest, most] = [list, s * list.length];
      }
      if (fullest === undefined || fullest === this.#staging.get(size)) return;
      const evicted = Math.min(fullest.length, Math.ceil((this.#stagingBytes + size - MAX_IDLE_STAGING_BYTES) / fullest[0].byteLength));
      for (const b of fullest.splice(0, evicted)) this.#stagingBytes -= b.byteLength;
    }
    let idle = this.#staging.get(size);
    if (idle === undefined) this.#staging.set(size, (idle = []));
    idle.push(buffer);
    this.#stagingBytes += size;
  }

  #onResult(slot: Slot, msg: ResultMessage): void {
    this.#unstage(msg.input?.buffer as ArrayBuffer | undefined);
    this.#indexScore = nextIndexScore(this.#indexScore, workerHadSlack(msg.idleMs, msg.busyMs));
    this._times.jobMs = nextAverage(this._times.jobMs, msg.busyMs);
    const job = slot.jobs.get(msg.id);
    if (job === undefined) return;
    slot.jobs.delete(msg.id);
    if (slot.jobs.size === 0) slot.worker.unref();
    this.#settle(job, msg);
    this.#dispatch();
  }

  #settle(job: Job, msg: ResultMessage): void {
    const lease = job.lease;
    try {
      if (lease !== undefined) leaseMemory.restore(lease, msg.out!);
      if (msg.error !== undefined) {
        lease?.release();
        this.#failed++;
        job.reject(rebuild(msg.error));
        return;
      }
      if (msg.crcMismatch) {
        if (lease !== undefined) leaseMemory.discard(lease); // the worker wrote nothing
        this.#completed++;
        job.resolve({ crcMismatch: true });
        return;
      }
      let value: Lease | Buffer;
      if (msg.spill === undefined) {
        lease!.truncate(msg.n);
        value = lease!;
      } else {
        // The output did not fit the lease sized from the headers (or none was taken).
        lease?.release();
        if (job.arena !== undefined) {
          value = job.arena.acquireSync(msg.n);
          value.bytes.set(msg.spill);
        } else {
          value = bufferView(msg.spill.buffer, msg.spill.byteOffset, msg.spill.length);
        }
      }
      this.#completed++;
      job.resolve({ value, index: msg.index });
    } catch (err) {
      this.#failed++;
      job.reject(err as Error);
    }
  }

  #onExit(slot: Slot, code: number): void {
    if (this.#closed) return;
    this.#workerExits++;
    const exited = () => new PoolError('ERR_WORKER_EXITED', `worker thread exited (code ${code}${slot.error ? `: ${slot.error.name}: ${slot.error.message}` : ''})`, { cause: slot.error });
    for (const job of slot.jobs.values()) this.#abandon(job, exited());
    slot.jobs.clear();
    const i = this.#slots.indexOf(slot);
    if (slot.online) {
      this.#slots[i] = this.#spawn();
    } else {
      // It died before starting: another would too. Run on the others, or fail what waits.
      this.#slots.splice(i, 1);
      if (this.#slots.length === 0) {
        this.#closed = true;
        for (const job of this.#drainQueue()) this.#abandon(job, exited());
      }
    }
    this.#dispatch();
  }

  /** Empties the queue: the jobs no worker has, withdrawn ones left out. */
  #drainQueue(): Job[] {
    this.#withdrawn = 0;
    return this.#queue.drain().filter((job) => job.state === 'queued');
  }

  /** Fails a job whose ArrayBuffer is lost or never sent: a fresh buffer goes in, and the release credits the budget. */
  #abandon(job: Job, err: Error): void {
    const lease = job.lease;
    if (lease !== undefined) {
      // Sent: its buffer is detached here and lost or still in the worker. Queued: still here.
      if (lease.bytes.buffer.byteLength !== lease.capacity) leaseMemory.restore(lease, new ArrayBuffer(lease.capacity));
      leaseMemory.discard(lease); // a fresh buffer, or one no worker had
    }
    job.state = 'failed';
    this.#failed++;
    job.reject(err);
  }
}

/**
 * Asks a worker to exit, and resolves when it has. Not `worker.terminate()`: that stops the
 * thread's JavaScript wherever it is, and inside node:zlib's constructor (gzip makes one per
 * member) the thread's teardown then aborts the whole process ("close before init", Node 20 and
 * 24; test/pool/pool.test.ts). The worker exits at its next message instead, between two jobs;
 * the stop flag makes it skip the jobs already sent to it. Kept referenced meanwhile, so the
 * process does not end (and tear the thread down) before it has.
 */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    worker.ref();
    const msg: ToWorker = { kind: 'exit', code: 0 };
    worker.postMessage(msg);
  });
}

function closedError(): PoolError {
  return new PoolError('ERR_POOL_CLOSED', 'worker pool closed');
}

function codecArg(codec: unknown): Codec {
  const byName = typeof codec === 'string' ? codecs[codec as CodecName] : typeof codec === 'object' && codec !== null ? codecs[(codec as Codec).name] : undefined;
  if (byName === undefined || (typeof codec === 'object' && byName !== codec)) invalid('codec', "a codec object or one of 'gzip', 'snappy', 'lz4', 'zstd'", codec);
  return byName;
}

/** The worker's error as the same class, code and message on this thread. */
function rebuild(e: SerializedError): Error {
  let err: Error;
  if (e.name === 'CodecError' && e.codec !== undefined && e.code !== undefined) {
    err = new CodecError(e.codec, e.code, '');
  } else if (e.name === 'ArgumentError') {
    err = new ArgumentError(e.message, e.argument);
  } else if (e.name === 'LeaseError' && e.code !== undefined) {
    err = new LeaseError(e.code, e.message);
  } else if (e.code !== undefined) {
    err = new KafkaArenaError(e.code, e.message);
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  err.message = e.message;
  return err;
}
