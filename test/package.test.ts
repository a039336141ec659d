import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('require() and import of the package name give the same module, with type declarations', () => {
  const cjs = execFileSync(process.execPath, ['-e', "const k = require('kafka-arena'); console.log(Object.keys(k).sort().join(','))"], { cwd: root, encoding: 'utf8' }).trim();
  const esm = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "import * as k from 'kafka-arena'; import { createRequire } from 'node:module'; const r = createRequire(import.meta.url)('kafka-arena'); if (k.Arena !== r.Arena) throw new Error('two module instances'); console.log(Object.keys(k).filter((n) => n !== 'default').sort().join(','))"],
    { cwd: root, encoding: 'utf8' },
  ).trim();
  assert.equal(esm, cjs);
  for (const name of ['Arena', 'Lease', 'ByteQueue', 'zstd', 'lz4', 'snappy', 'gzip', 'decodeRecordBatches', 'encodeRecordBatch', 'crc32c', 'registerCodecs', 'arenaConsumer', 'boundedProducer', 'KafkaArenaError']) {
    assert.ok(cjs.split(',').includes(name), `missing export ${name}`);
  }
  for (const file of ['build/src/index.d.ts', 'build/src/index.d.mts', 'build/src/index.mjs']) assert.ok(existsSync(join(root, file)), file);
});
