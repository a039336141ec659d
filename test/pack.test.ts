/**
 * The package as users get it: `npm pack`, then an install of the tarball into an empty project
 * with kafkajs (offline: kafkajs and the runtime dependency are copied from this repository's
 * node_modules), and examples run from the installed package, CommonJS and ES module.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokerSkipReason, startBroker, uniqueName } from './broker/harness';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

let dir = '';
let files: string[] = [];
const installed = () => join(dir, 'node_modules', 'kafka-arena');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-arena-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  files = info!.files.map((f) => f.path);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
  const local = (name: string) => join(root, 'node_modules', name);
  // --install-links copies the local folders, as a registry install would; nothing is fetched.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--install-links', join(dir, info!.filename), local('kafkajs'), ...Object.keys(pkg.dependencies).map(local)], { cwd: dir, timeout: 120_000 });
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball has a LICENSE, README, examples and docs; source maps carry their sources; no src/ or test/', () => {
  for (const f of ['LICENSE', 'README.md', 'package.json', 'build/src/index.js', 'build/src/index.mjs', 'build/src/kafkajs/index.d.mts', 'examples/codecs.js', 'examples/data/sample.log', 'docs/demo.svg']) {
    assert.ok(files.includes(f), `${f} is not in the package`);
  }
  // Every shipped .js names its map, and every map carries the TypeScript it points at, so a stack
  // trace or a debugger resolves to real source lines without src/ in the package.
  const maps = files.filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 0, 'no source maps in the package');
  for (const f of files.filter((f) => f.endsWith('.js') && f.startsWith('build/src/'))) assert.ok(files.includes(`${f}.map`), `${f} has no map`);
  for (const f of maps) {
    const map = JSON.parse(readFileSync(join(installed(), f), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
    assert.ok(map.sourcesContent?.length === map.sources.length && map.sourcesContent.every((c) => typeof c === 'string' && c.length > 0), `${f} ships without its sources`);
  }
  assert.deepEqual(files.filter((f) => f.startsWith('src/') || f.startsWith('test/')), []);
  const meta = JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8')) as Record<string, unknown>;
  for (const field of ['repository', 'homepage', 'bugs', 'license']) assert.ok(meta[field], `package.json has no ${field}`);
  assert.ok(existsSync(join(installed(), 'LICENSE')));
});

test('a CommonJS example runs from the installed package', async () => {
  const { stdout } = await run(process.execPath, [join(installed(), 'examples', 'codecs.js')], { cwd: dir });
  assert.match(stdout, /^zstd: .* round trip ok$/m);
  assert.match(stdout, /^over the cap: ERR_OUTPUT_LIMIT$/m);
});

test('an ES module example runs from the installed package', async () => {
  const { stdout } = await run(process.execPath, [join(installed(), 'examples', 'codecs.mjs')], { cwd: dir });
  assert.match(stdout, /^zstd \(Kafka type 4\): round trip ok$/m);
});

test('the ES module quick start consumes through kafkajs from the installed package', { skip: brokerSkipReason() }, async () => {
  const topic = uniqueName('pack');
  const broker = await startBroker({ topics: [{ name: topic, partitions: 2 }] });
  try {
    const { stdout } = await run(process.execPath, [join(installed(), 'examples', 'recycling-consumer.mjs')], {
      cwd: dir,
      env: { ...process.env, KAFKA_BROKERS: broker.bootstrap.join(','), KAFKA_TOPIC: topic },
      timeout: 90_000,
    });
    assert.match(stdout, /^consumed 1000 messages; leases held now: 0$/m);
  } finally {
    await broker.stop();
  }
});

test('npx kafka-arena dump reads the shipped sample segment', async () => {
  const { stdout } = await run('npx', ['--offline', 'kafka-arena', 'dump', 'node_modules/kafka-arena/examples/data/sample.log'], { cwd: dir });
  assert.match(stdout, /^# 6 batches, 120 records, \d+ bytes$/m);
});
