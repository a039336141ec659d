/**
 * Runs every file in examples/ as a user would (`node examples/x.js`, the package imported by
 * name through its own exports) and checks what it prints. Broker examples run against the mock
 * broker, each on a topic of its own. TypeScript examples are type-checked with `tsc --strict`
 * (examples/tsconfig.json) and run where Node strips types (22.18+, 23.6+).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokerSkipReason, startBroker, uniqueName, type Broker } from '../broker/harness';
import { Kafka, CompressionCodecs, CompressionTypes, Partitioners, logLevel } from 'kafkajs';
import { decodeRecordBatches } from '../../src';
import { registerCodecs } from '../../src/kafkajs';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const stripsTypes = (process.features as { typescript?: string }).typescript !== undefined;

interface Example {
  file: string;
  broker?: true;
  /** JSON events `{ n, type: 'quick-start' }` to produce (zstd) into the topic first. */
  produce?: number;
  env?: Record<string, string>;
  /** Every pattern must match the example's stdout. */
  expect: RegExp[];
}

/** Every example and what it must print. A file in examples/ missing here fails the first test. */
const EXAMPLES: Example[] = [
  { file: 'kafkajs-codecs.js', broker: true, expect: [/^ZSTD: 100 messages$/m, /^LZ4: 100 messages$/m, /^Snappy: 100 messages$/m, /^GZIP: 100 messages$/m, /^consumed 400 messages$/m] },
  { file: 'quick-start.mjs', broker: true, produce: 3, env: { QUICK_START_SECONDS: '8' }, expect: [/^\{ n: 0, type: 'quick-start' \}$/m, /^\{ n: 1, type: 'quick-start' \}$/m, /^\{ n: 2, type: 'quick-start' \}$/m] },
  { file: 'recycling-consumer.js', broker: true, expect: [/^consumed 2000 messages, kept 250 purchases$/m, /^leases created [1-9]\d*, held now 0, arena leased bytes 0$/m, /^a kept purchase is still readable: purchase$/m] },
  { file: 'recycling-consumer.mjs', broker: true, expect: [/^consumed 1000 messages; leases held now: 0$/m] },
  { file: 'recycling-consumer.mts', broker: true, expect: [/^consumed 1000 messages with 1000 distinct keys$/m] },
  { file: 'pipeline.js', broker: true, expect: [/^processed 5000 messages, amount total 247500$/m, /^queue high water [1-9]\d* bytes, arena leased now 0 bytes$/m] },
  // Needs BoundedProducer.flush().
  { file: 'bounded-producer.js', broker: true, expect: [/^sent 200 records, 0 failed, 0 bytes in flight after flush\(\)$/m, /^broker received 20000 messages$/m, /^highest in flight: \d+ bytes \(bound 1048576\)$/m] },
  { file: 'metrics.js', broker: true, expect: [/^kafka_arena_leased_bytes 0$/m, /^kafka_arena_consumer_pauses 0$/m, /^kafka_arena_codec_bytes\{codec="zstd",direction="decompressed_out"\} [1-9]\d*$/m] },
  { file: 'codecs.js', expect: [/^zstd: .* round trip ok$/m, /^lz4: .* round trip ok$/m, /^snappy: .* round trip ok$/m, /^gzip: .* round trip ok$/m, /^over the cap: ERR_OUTPUT_LIMIT$/m] },
  { file: 'codecs.mjs', expect: [/^gzip \(Kafka type 1\): round trip ok$/m, /^zstd \(Kafka type 4\): round trip ok$/m, /^bad input: ERR_CORRUPT_INPUT$/m] },
  { file: 'codecs.ts', expect: [/^zstd: \d+ bytes -> 14000 \(exact size 14000\)$/m, /^lz4: round trip ok$/m, /^after release: ERR_LEASE_RELEASED$/m] },
  { file: 'record-batches.js', expect: [/^batch at offset 100: 20 records, zstd, transactional$/m, /^120 records, 30 purchases$/m, /^encoded \d+ bytes; decoded back: k=v trace=abc$/m] },
  { file: 'arena.js', expect: [/^after release the old view has length 0$/m, /^releasing again: ERR_DOUBLE_RELEASE$/m, /^tryAcquire\(8 MiB\) over the budget: undefined$/m, /^queue: 20 items, sum 190, highest \d+ bytes queued$/m, /bytes leased now$/m] },
  { file: 'worker-pool.js', expect: [/^one batch on a worker: 194557 bytes, same as the input: true$/m, /^100000 records in order, 33334 purchases; arena leased now 0 bytes$/m] },
  { file: 'data/make-sample-segment.js', expect: [] }, // checked below
];

test('every file in examples/ has a test here', () => {
  const files = (dir: string, prefix = ''): string[] =>
    readdirSync(join(root, 'examples', dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}/`) : /\.(c?js|mjs|m?ts)$/.test(e.name) ? [`${prefix}${e.name}`] : [],
    );
  assert.deepEqual(files('').sort(), EXAMPLES.map((e) => e.file).sort());
});

async function runExample(file: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [join('examples', file)], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 90_000,
      encoding: 'utf8',
    });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; signal?: string; stdout?: string; stderr?: string };
    assert.fail(`examples/${file} failed (exit ${e.code}, signal ${e.signal})\nstdout:\n${e.stdout}\nstderr:\n${e.stderr}`);
  }
}

const skip = brokerSkipReason();
let broker: Broker | undefined;
before(async () => {
  if (!skip) broker = await startBroker({ brokers: 1 });
});
after(async () => {
  await broker?.stop();
});

for (const example of EXAMPLES.filter((e) => e.expect.length > 0)) {
  const isTs = /\.m?ts$/.test(example.file);
  const why = isTs && !stripsTypes ? `Node ${process.version} does not strip types (tsc checks it below)` : example.broker ? skip : false;
  test(`examples/${example.file} runs and prints what it should`, { skip: why }, async () => {
    const env: Record<string, string> = { ...example.env };
    if (example.broker) {
      const topic = uniqueName('example');
      await broker!.createTopic(topic, 3);
      env.KAFKA_BROKERS = broker!.bootstrap.join(',');
      env.KAFKA_TOPIC = topic;
      if (example.produce) await produce(topic, example.produce);
    }
    const out = await runExample(example.file, env);
    for (const re of example.expect) assert.match(out, re, `examples/${example.file}`);
  });
}

async function produce(topic: string, count: number): Promise<void> {
  registerCodecs(CompressionCodecs);
  const kafka = new Kafka({ brokers: [...broker!.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, n) => ({ value: JSON.stringify({ n, type: 'quick-start' }) }));
    await producer.send({ topic, compression: CompressionTypes.ZSTD, messages });
  } finally {
    await producer.disconnect();
  }
}

test('tsc --strict type-checks the TypeScript examples (.ts and .mts)', async () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', join(root, 'examples', 'tsconfig.json')], { cwd: root, timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    assert.fail(`tsc -p examples failed:\n${e.stdout}${e.stderr}`);
  }
  const config = JSON.parse(readFileSync(join(root, 'examples', 'tsconfig.json'), 'utf8'));
  assert.equal(config.compilerOptions.strict, true);
});

test('examples/data/sample.log is what make-sample-segment.js writes, and kafka-arena dump reads it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-arena-sample-'));
  try {
    const fresh = join(dir, 'sample.log');
    await run(process.execPath, [join('examples', 'data', 'make-sample-segment.js'), fresh], { cwd: root });
    // Compare records, not bytes: gzip output may differ between zlib versions.
    const records = (file: string) => {
      const result = decodeRecordBatches(readFileSync(file));
      const out = [...result].map((b) => ({ compression: b.compression, baseOffset: b.baseOffset, transactional: b.isTransactional, records: b.records().map((r) => [r.offset, r.timestamp, String(r.key), String(r.value)]) }));
      result.release();
      return out;
    };
    const committed = records(join(root, 'examples', 'data', 'sample.log'));
    assert.deepEqual(committed, records(fresh));
    assert.deepEqual(committed.map((b) => b.compression), ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'zstd']);
    const { stdout } = await run(process.execPath, [join(root, 'build', 'src', 'cli', 'main.js'), 'dump', join('examples', 'data', 'sample.log')], { cwd: root });
    assert.match(stdout, /^# 6 batches, 120 records, \d+ bytes$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
