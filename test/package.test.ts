import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The export names of `specifier` through require() and through import, checked to be one module instance. */
function exportsOf(specifier: string, probe: string): string[] {
  const cjs = execFileSync(process.execPath, ['-e', `const k = require('${specifier}'); console.log(Object.keys(k).sort().join(','))`], { cwd: root, encoding: 'utf8' }).trim();
  const esm = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import * as k from '${specifier}'; import ka from '${specifier}'; import { createRequire } from 'node:module'; const r = createRequire(import.meta.url)('${specifier}'); if (k.${probe} !== r.${probe} || ka.${probe} !== r.${probe}) throw new Error('two module instances'); console.log(Object.keys(k).filter((n) => n !== 'default').sort().join(','))`,
    ],
    { cwd: root, encoding: 'utf8' },
  ).trim();
  assert.equal(esm, cjs);
  return cjs.split(',');
}

test('kafka-arena: require() and import give the same module; no kafkajs adapter in it', () => {
  const names = exportsOf('kafka-arena', 'Arena');
  for (const name of ['Arena', 'Lease', 'ByteQueue', 'zstd', 'lz4', 'snappy', 'gzip', 'decodeRecordBatches', 'encodeRecordBatch', 'crc32c', 'KafkaArenaError']) {
    assert.ok(names.includes(name), `missing export ${name}`);
  }
  for (const name of ['registerCodecs', 'arenaConsumer', 'boundedProducer']) assert.ok(!names.includes(name), `${name} belongs to kafka-arena/kafkajs`);
  for (const file of ['build/src/index.d.ts', 'build/src/index.d.mts', 'build/src/index.mjs']) assert.ok(existsSync(join(root, file)), file);
});

test('kafka-arena/kafkajs: require() and import give the same module, with type declarations', () => {
  const names = exportsOf('kafka-arena/kafkajs', 'registerCodecs');
  for (const name of ['registerCodecs', 'codecStats', 'arenaConsumer', 'detachMessage', 'boundedProducer', 'recordBytes', 'messageObjectBytes', 'messageMemoryBytes', 'batchMemoryBytes']) {
    assert.ok(names.includes(name), `missing export ${name}`);
  }
  for (const file of ['build/src/kafkajs/index.d.ts', 'build/src/kafkajs/index.d.mts', 'build/src/kafkajs/index.mjs']) assert.ok(existsSync(join(root, file)), file);
});

test('types agree with the runtime: default and named imports of both entry points type-check from .mts and .cts (TS1192)', () => {
  // Inside the package directory, so the package name resolves to itself through "exports".
  const dir = join(root, 'build', 'typecheck-entry-points');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, include: ['*.mts', '*.cts'] }),
  );
  writeFileSync(
    join(dir, 'esm.mts'),
    [
      "import ka, { Arena } from 'kafka-arena';",
      "import kj, { registerCodecs } from 'kafka-arena/kafkajs';",
      'const a: Arena = new ka.Arena({ maxBytes: 1 << 20 });',
      'const r: typeof registerCodecs = kj.registerCodecs;',
      'void a; void r;',
      '// @ts-expect-error the core entry has no kafkajs adapter',
      'void ka.registerCodecs;',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'cjs.cts'),
    ["import ka = require('kafka-arena');", "import kj = require('kafka-arena/kafkajs');", 'const a: ka.Arena = new ka.Arena();', 'void a; void kj.arenaConsumer;', ''].join('\n'),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', dir], { cwd: root, encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc failed:\n${(err as { stdout?: string }).stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // And at run time the default import is the same namespace.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', "import ka from 'kafka-arena'; import { Arena } from 'kafka-arena'; console.log(ka.Arena === Arena)"], { cwd: root, encoding: 'utf8' });
  assert.equal(out.trim(), 'true');
});
