/**
 * A real Kafka-protocol broker for tests: librdkafka's mock cluster wrapped in a
 * tiny C program (test/broker/mock-broker.c) that this module compiles on first
 * use and drives over a line protocol on stdin/stdout.
 *
 * Tests that need it:
 *
 *   const skip = brokerSkipReason();            // false in CI: tests must fail there
 *   test('x', { skip }, async () => {
 *     const broker = await startBroker({ brokers: 3, topics: [{ name: 't', partitions: 3 }] });
 *     try { ... } finally { await broker.stop(); }
 *   });
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logLevel, type ConsumerConfig, type KafkaConfig } from 'kafkajs';

/** Topic to create when the broker starts. */
export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface StartBrokerOptions {
  /** Number of brokers in the cluster (ids 1..n). Default 1. */
  brokers?: number;
  /** Topics created before the bootstrap line is printed. */
  topics?: TopicSpec[];
  /** How long to wait for the process to come up. Default 15000 ms (includes compiling). */
  startTimeoutMs?: number;
}

/** Result of {@link brokerAvailable}. */
export interface Availability {
  ok: boolean;
  reason?: string;
}

/** Thrown when the broker process answers `ERR`, dies, or times out. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
}

const MAX_STDERR_TAIL = 8192;

/** Directory holding package.json, found by walking up from this file (works from test/ and build-x/test/). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
}

let availability: Availability | undefined;

/**
 * Whether gcc, the librdkafka mock headers and kcat are usable. Cached for the process.
 * The header check runs the preprocessor, so it honours the compiler's own include path.
 */
export function brokerAvailable(): Availability {
  if (availability) return availability;
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (gcc.error || gcc.status !== 0) {
    return (availability = { ok: false, reason: `gcc not runnable: ${gcc.error?.message ?? gcc.stderr}` });
  }
  const hdr = spawnSync('gcc', ['-E', '-x', 'c', '-o', '/dev/null', '-'], {
    input: '#include <librdkafka/rdkafka.h>\n#include <librdkafka/rdkafka_mock.h>\n',
    encoding: 'utf8',
  });
  if (hdr.status !== 0) {
    return (availability = {
      ok: false,
      reason: `librdkafka mock headers not found (install librdkafka-dev >= 2.0): ${hdr.stderr.trim()}`,
    });
  }
  const kcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (kcat.error || kcat.status !== 0) {
    return (availability = { ok: false, reason: `kcat not runnable: ${kcat.error?.message ?? kcat.stderr}` });
  }
  return (availability = { ok: true });
}

/**
 * Value for node:test's `skip` option. Outside CI it is the reason the broker is unavailable
 * (or false); when `CI` is set it is always false, so broker tests fail loudly instead of
 * silently passing as skipped.
 */
export function brokerSkipReason(): string | false {
  if (isCI()) return false;
  const a = brokerAvailable();
  return a.ok ? false : `mock broker unavailable: ${a.reason}`;
}

function isCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Path of the compiled mock broker, compiling it when missing or older than the source.
 * Compiles to a temporary name and renames, so parallel test files never run a half-written binary.
 */
export function mockBrokerBinary(): string {
  const root = repoRoot();
  const src = path.join(root, 'test', 'broker', 'mock-broker.c');
  const binDir = path.join(root, 'test', 'broker', '.bin');
  const bin = path.join(binDir, 'mock-broker');
  const srcStat = fs.statSync(src);
  const binStat = fs.statSync(bin, { throwIfNoEntry: false });
  if (binStat && binStat.mtimeMs >= srcStat.mtimeMs) return bin;
  const a = brokerAvailable();
  if (!a.ok) throw new BrokerError(`cannot build mock broker: ${a.reason}`);
  fs.mkdirSync(binDir, { recursive: true });
  const tmp = `${bin}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-pthread', '-o', tmp, src, '-lrdkafka'], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new BrokerError(`gcc failed to build ${src}:\n${r.stderr}${r.error ? String(r.error) : ''}`);
  }
  fs.renameSync(tmp, bin);
  return bin;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a test that forgot stop(); the C side also dies with us (PR_SET_PDEATHSIG).
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A running mock cluster. Commands are serialised: each waits for its own `OK`/`ERR`. */
export class Broker {
  /** `host:port` of every broker, in id order (index 0 is broker id 1). */
  readonly bootstrap: string[];
  readonly brokerCount: number;
  readonly pid: number;

  private readonly child: ChildProcess;
  private readonly pending: Pending[] = [];
  private stderrTail = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  /** @internal use {@link startBroker}. */
  constructor(child: ChildProcess, bootstrap: string[], brokerCount: number, stderrTail: string, lines: AsyncLineSource) {
    this.child = child;
    this.bootstrap = bootstrap;
    this.brokerCount = brokerCount;
    this.pid = child.pid ?? -1;
    this.stderrTail = stderrTail;
    child.stderr?.on('data', (d: Buffer) => this.appendStderr(d));
    // A failed kill() is reported as 'error'; the exit handler below covers real deaths.
    child.on('error', (e) => this.appendStderr(Buffer.from(`child process error: ${e.message}\n`)));
    lines.onLine = (line) => this.onReply(line);
    this.exited = new Promise((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.exitInfo = { code, signal };
        live.delete(child);
        const err = new BrokerError(`mock broker exited (code ${code}, signal ${signal})${this.stderrSuffix()}`);
        for (const p of this.pending.splice(0)) p.reject(err);
        resolve();
      };
      // It may already have died between printing its bootstrap line and now.
      if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
      else child.once('exit', onExit);
    });
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends one command line (see mock-broker.c); resolves on `OK`, rejects with the `ERR` text. */
  command(line: string): Promise<void> {
    if (/[\r\n]/.test(line)) return Promise.reject(new BrokerError('command must be a single line'));
    if (!this.running || !this.child.stdin || this.child.stdin.destroyed) {
      return Promise.reject(new BrokerError(`mock broker is not running${this.stderrSuffix()}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  /** Creates a topic; partition p is led by broker (p % brokers) + 1. */
  createTopic(name: string, partitions: number): Promise<void> {
    return this.command(`topic ${name} ${partitions}`);
  }

  /** Moves the leader of one partition (-1 = leaderless). */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    return this.command(`leader ${topic} ${partition} ${brokerId}`);
  }

  /** Closes the broker's connections and refuses new ones (-1 = all). Leadership does not move. */
  setDown(brokerId: number): Promise<void> {
    return this.command(`down ${brokerId}`);
  }

  /** Accepts connections again (-1 = all). */
  setUp(brokerId: number): Promise<void> {
    return this.command(`up ${brokerId}`);
  }

  /** Delays every response of a broker by `ms` (-1 = all brokers). */
  setRtt(brokerId: number, ms: number): Promise<void> {
    return this.command(`rtt ${brokerId} ${ms}`);
  }

  /**
   * The next `count` requests with `apiKey`, on any broker from any client, fail with
   * `code` (a Kafka error code, or -195 to make the broker drop the connection).
   */
  pushErrors(apiKey: number, count: number, code: number | string): Promise<void> {
    return this.command(`errors ${apiKey} ${count} ${code}`);
  }

  /** Like {@link pushErrors} but for one broker, each error delayed by `rttMs`. */
  pushBrokerErrors(brokerId: number, apiKey: number, count: number, code: number | string, rttMs = 0): Promise<void> {
    return this.command(`brokererrors ${brokerId} ${apiKey} ${count} ${code} ${rttMs}`);
  }

  /** Drops pending cluster-level errors for `apiKey`. */
  clearErrors(apiKey: number): Promise<void> {
    return this.command(`clear ${apiKey}`);
  }

  /** Pins the coordinator of a group (or transactional id) to a broker. */
  setCoordinator(keyType: 'group' | 'transaction', key: string, brokerId: number): Promise<void> {
    return this.command(`coordinator ${keyType} ${key} ${brokerId}`);
  }

  /** Restricts the advertised version range of an API (-1, -1 disables it). */
  setApiVersion(apiKey: number, min: number, max: number): Promise<void> {
    return this.command(`apiversion ${apiKey} ${min} ${max}`);
  }

  /** Asks the process to quit and waits for it; SIGKILLs it after `timeoutMs`. Idempotent. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.running) {
      this.command('quit').catch(() => undefined);
      this.child.stdin?.end();
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.exited, killed]);
      clearTimeout(timer);
    }
    await this.exited;
  }

  private onReply(line: string): void {
    const p = this.pending.shift();
    if (!p) {
      this.appendStderr(Buffer.from(`unexpected stdout line: ${line}\n`));
      return;
    }
    if (line === 'OK') p.resolve();
    else if (line.startsWith('ERR ')) p.reject(new BrokerError(`${p.line}: ${line.slice(4)}`));
    else p.reject(new BrokerError(`${p.line}: malformed reply ${JSON.stringify(line)}`));
  }

  private appendStderr(d: Buffer): void {
    this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-MAX_STDERR_TAIL);
  }

  private stderrSuffix(): string {
    return this.stderrTail ? `\nstderr:\n${this.stderrTail}` : '';
  }
}

/** Splits a stream into lines and hands each to `onLine` (which may be replaced later). */
class AsyncLineSource {
  onLine: (line: string) => void = () => undefined;
  private buf = '';
  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.onLine(line);
      }
    });
  }
}

/**
 * Starts a mock cluster. Rejects with the reason when the toolchain is missing, the binary
 * cannot be built, or the process does not print its bootstrap line in time.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  const brokers = options.brokers ?? 1;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 64) throw new RangeError('brokers must be 1..64');
  const topics = options.topics ?? [];
  for (const t of topics) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(t.name)) throw new RangeError(`invalid topic name ${t.name}`);
    if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new RangeError(`invalid partitions for ${t.name}`);
  }
  const a = brokerAvailable();
  if (!a.ok) throw new BrokerError(`mock broker unavailable: ${a.reason}`);
  const bin = mockBrokerBinary();

  installExitHook();
  const child = spawn(bin, [String(brokers), ...topics.map((t) => `${t.name}:${t.partitions}`)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  // Writes after an unexpected exit must not crash the test process with EPIPE.
  child.stdin!.on('error', () => undefined);
  const lines = new AsyncLineSource(child.stdout!);
  let stderr = '';
  const onStderr = (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-MAX_STDERR_TAIL);
  };
  child.stderr!.on('data', onStderr);

  const timeoutMs = options.startTimeoutMs ?? 15000;
  try {
    const bootstrap = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BrokerError(`mock broker did not start within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(e);
      };
      child.once('error', fail);
      child.once('exit', (code, signal) =>
        fail(new BrokerError(`mock broker exited during start (code ${code}, signal ${signal})\n${stderr}`)),
      );
      lines.onLine = (line) => {
        clearTimeout(timer);
        const m = /^BOOTSTRAP (\S+)$/.exec(line);
        if (!m) reject(new BrokerError(`unexpected first line ${JSON.stringify(line)}`));
        else resolve(m[1]!.split(','));
      };
    });
    if (bootstrap.length !== brokers) throw new BrokerError(`expected ${brokers} brokers, got ${bootstrap.join(',')}`);
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    child.stderr!.off('data', onStderr);
    return new Broker(child, bootstrap, brokers, stderr, lines);
  } catch (e) {
    child.kill('SIGKILL');
    live.delete(child);
    throw e;
  }
}

/** A topic or group name that no other test (or earlier run against the same broker) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * kafkajs client settings that suit the mock: quiet logs and quick retries, so a broker that is
 * down for a second costs about a second. `requestTimeout` stays at kafkajs' 30 s default on
 * purpose: the mock answers JoinGroup only after a delay and processes one request at a time per
 * connection, so anything queued behind a JoinGroup on the coordinator connection waits too.
 */
export function kafkajsClientConfig(broker: Broker, overrides: Partial<KafkaConfig> = {}): KafkaConfig {
  return {
    clientId: 'kafka-arena-test',
    brokers: [...broker.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { initialRetryTime: 50, maxRetryTime: 500, retries: 20 },
    ...overrides,
  };
}

/**
 * Consumer timing for the mock. librdkafka 2.0's mock group coordinator delays the first JoinGroup
 * of an empty group by 3 s and every later (re)join by sessionTimeout - 1 s, never completing
 * early; a member whose session lapses while its JoinGroup is parked is dropped without an answer.
 * So sessionTimeout must stay comfortably above 3 s (5 s here: each rebalance costs 4 s).
 * maxWaitTimeInMs is short because the mock holds an empty Fetch for the full wait even when data
 * arrives meanwhile.
 */
export function kafkajsConsumerConfig(groupId: string, overrides: Partial<ConsumerConfig> = {}): ConsumerConfig {
  return {
    groupId,
    sessionTimeout: 5000,
    rebalanceTimeout: 5000,
    heartbeatInterval: 250,
    maxWaitTimeInMs: 100,
    retry: { initialRetryTime: 50, maxRetryTime: 500, retries: 30 },
    ...overrides,
  };
}

/** Polls `predicate` every `intervalMs` until it is true; rejects with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
