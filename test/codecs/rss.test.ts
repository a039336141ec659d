import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

/*
 * The grown-memory policy, per codec: after one 200 MiB batch (decompress, a decompress that fails once the
 * memory has grown, compress) the
 * process's resident set returns to where it was. WebAssembly memory never shrinks, so an engine
 * that kept a grown instance would hold the batch's size for the life of the process. Each case
 * runs in its own child process so one measurement cannot disturb another.
 */

const MiB = 1024 * 1024;
/** What may remain: allocator and V8 heap noise, far below the 200 MiB batch. */
const MARGIN = 48 * MiB;

for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
  for (const op of ['decompress', 'decompress-fails', 'compress']) {
    test(`${codec} ${op}: RSS returns to baseline after a 200 MiB batch`, () => {
      const out = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'rss-child.js'), codec, op], { encoding: 'utf8', maxBuffer: MiB });
      const { before, after } = JSON.parse(out) as { before: number; after: number };
      const grew = after - before;
      assert.ok(grew < MARGIN, `RSS ${Math.round(before / MiB)} MiB -> ${Math.round(after / MiB)} MiB after the batch (+${Math.round(grew / MiB)} MiB)`);
    });
  }
}
