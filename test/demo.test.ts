/**
 * `npm run demo` (scripts/demo.js) finishes and reports both set-ups; without the toolchain it
 * says in one line which Debian packages to install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokerSkipReason } from './broker/harness';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const demo = join(root, 'scripts', 'demo.js');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { peerCodecsProblem } = require(demo) as { peerCodecsProblem(): string | undefined };

test('npm run demo: both consumers run side by side; a table and a chart come out', { skip: brokerSkipReason() || peerCodecsProblem() || false }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'kafka-arena-demo-'));
  try {
    const { stdout } = await run(process.execPath, [demo, '--seconds', '12', '--out', out], { cwd: root, timeout: 120_000 });
    assert.match(stdout, /^\[ *\d+ s\] produced \d+ MB \| plain kafkajs: .* \| kafkajs \+ kafka-arena: /m, 'a progress line');
    assert.match(stdout, /^produced [1-9]\d* MB of zstd JSON events/m);
    assert.match(stdout, /^\| plain kafkajs \| [\d,]+ \| [\d.]+ \| \d+ MiB \| \d+ MiB \| [+-]\d+ MB\/min \| (ok|out of memory) \|$/m);
    assert.match(stdout, /^\| kafkajs \+ kafka-arena \| [1-9][\d,]* \| [\d.]+ \| \d+ MiB \| \d+ MiB \| [+-]\d+ MB\/min \| ok \|$/m);
    const svg = readFileSync(join(out, 'demo.svg'), 'utf8');
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2, 'one RSS line per set-up');
    assert.match(readFileSync(join(out, 'demo.md'), 'utf8'), /\| kafkajs \+ kafka-arena \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('npm run demo without a C compiler names the Debian packages in one line', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'kafka-arena-nogcc-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    assert.ok(!existsSync(join(bin, 'gcc')));
    const r = await run(join(bin, 'node'), [demo], { cwd: root, env: { PATH: bin } }).then(
      () => assert.fail('the demo should fail without gcc'),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /apt-get install -y gcc libc6-dev librdkafka-dev kcat/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
