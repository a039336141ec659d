/**
 * scripts/run-tests.js ends with the skipped tests and why, then the closing count line; with CI
 * set, a test skipped for a missing broker, kcat or reference CLI fails the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function runFixture(ci: string | undefined): { status: number | null; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-arena-runner-'));
  try {
    writeFileSync(
      join(dir, 'fixture.test.js'),
      [
        "const { test } = require('node:test');",
        "test('passes', () => {});",
        "test('needs the lz4 CLI', { skip: 'the lz4 CLI is not on PATH (CI installs it)' }, () => {});",
        "test('needs type stripping', { skip: 'Node v20 does not strip types' }, () => {});",
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.CI;
    delete env.NODE_TEST_CONTEXT; // set by the runner around us; the child must run its own
    if (ci !== undefined) env.CI = ci;
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.js'), '--node', 'current', '--only', dir], { encoding: 'utf8', env });
    return { status: r.status, lines: r.stdout.trimEnd().split('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the last lines list the skipped tests by reason; the count line is the very last', () => {
  const { status, lines } = runFixture(undefined);
  assert.equal(status, 0);
  assert.equal(lines[lines.length - 1], '1 passed, 0 failed, 2 skipped');
  const tail = lines.join('\n');
  assert.match(tail, /skipped tests, by reason:\n {2}1 × the lz4 CLI is not on PATH \(CI installs it\) \(node v[\d.]+\)\n {2}1 × Node v20 does not strip types/);
});

test('with CI=true a test skipped for a missing tool is a failure; other skips are not', () => {
  const { status, lines } = runFixture('true');
  assert.equal(status, 1);
  assert.equal(lines[lines.length - 1], '1 passed, 1 failed, 2 skipped');
  assert.match(lines.join('\n'), /CI is set: 1 test\(s\) skipped for a missing broker, kcat or reference CLI count as failures/);
  assert.equal(runFixture('false').status, 0);
});
