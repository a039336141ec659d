/**
 * The recycling consumer's public surface: one way to create it, no internals in the published
 * declarations, and a typed ArgumentError (ERR_INVALID_ARGUMENT, naming the argument) for every
 * bad argument.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Arena, ArgumentError } from '../../src';
import * as adapter from '../../src/kafkajs';
import { arenaConsumer, detachMessage } from '../../src/kafkajs';
import { FakeConsumer } from './fake-consumer';

function throwsArgument(fn: () => unknown, argument: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ArgumentError && e.code === 'ERR_INVALID_ARGUMENT' && e.argument === argument, `expected ERR_INVALID_ARGUMENT for ${argument}`);
}

test('the helper is created by arenaConsumer only: no ArenaConsumer value is exported', () => {
  assert.equal((adapter as Record<string, unknown>).ArenaConsumer, undefined);
  assert.equal(typeof adapter.arenaConsumer, 'function');
});

test('no _-prefixed member in the published declarations of the consumer', () => {
  const dir = path.join(__dirname, '..', '..', 'src', 'kafkajs');
  const files = [path.join(dir, 'scope.d.ts'), ...fs.readdirSync(path.join(dir, 'consumer')).filter((f) => f.endsWith('.d.ts')).map((f) => path.join(dir, 'consumer', f))];
  assert.ok(files.length >= 6, files.join());
  for (const f of files) {
    const members = fs.readFileSync(f, 'utf8').match(/^\s+(?:readonly\s+|static\s+)?_\w+/gm);
    assert.equal(members, null, `${path.basename(f)}: ${members}`);
  }
});

test('bad arguments to arenaConsumer, run and detachMessage throw ArgumentError naming the argument', async () => {
  const arena = new Arena({ maxBytes: 1 << 20 });
  throwsArgument(() => arenaConsumer(null as never, { arena }), 'consumer');
  throwsArgument(() => arenaConsumer({ run: 1 } as never, { arena }), 'consumer');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), null as never), 'options');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), {} as never), 'arena');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena: {} as never }), 'arena');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena, highWaterBytes: -1 }), 'highWaterBytes');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena, highWaterBytes: 100, lowWaterBytes: 200 }), 'lowWaterBytes');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena, resumeCheckMs: 0 }), 'resumeCheckMs');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena, maxFetchBytes: 1.5 }), 'maxFetchBytes');
  throwsArgument(() => arenaConsumer(new FakeConsumer(), { arena, untestedKafkajs: 'maybe' as never }), 'untestedKafkajs');
  const helper = arenaConsumer(new FakeConsumer(), { arena });
  throwsArgument(() => helper.run(null as never), 'config');
  throwsArgument(() => helper.run({}), 'config');
  throwsArgument(() => helper.run({ eachBatch: 'no' as never }), 'config.eachBatch');
  throwsArgument(() => helper.run({ eachMessage: 1 as never }), 'config.eachMessage');
  throwsArgument(() => detachMessage(null as never), 'message');
  throwsArgument(() => detachMessage('x' as never), 'message');
  helper.close();
});

test('an untested kafkajs version warns by default and throws ERR_UNSUPPORTED on request', async () => {
  const { checkKafkajsVersion, isTestedKafkajs, installedKafkajsVersion } = await import('../../src/kafkajs/consumer/version');
  assert.equal(installedKafkajsVersion(), require('kafkajs/package.json').version);
  assert.equal(isTestedKafkajs('2.2.4'), true);
  assert.equal(isTestedKafkajs('2.2.5'), true);
  assert.equal(isTestedKafkajs('2.3.0'), false);
  assert.equal(isTestedKafkajs('3.0.0'), false);
  assert.throws(() => checkKafkajsVersion('throw', '2.3.0'), (e: unknown) => (e as { code?: string }).code === 'ERR_UNSUPPORTED');
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  process.on('warning', onWarning);
  checkKafkajsVersion('warn', '2.3.1');
  checkKafkajsVersion('warn', '2.3.1'); // once per version
  checkKafkajsVersion('ignore', '9.0.0');
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.equal(warnings.filter((w) => (w as { code?: string }).code === 'KAFKA_ARENA_UNTESTED_KAFKAJS').length, 1);
});
