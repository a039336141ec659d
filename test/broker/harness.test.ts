// Smoke tests for the mock Kafka broker harness: kcat (librdkafka) and kafkajs against
// librdkafka's mock cluster, with fault injection. Outside CI these skip when gcc, the
// librdkafka headers or kcat are missing; with CI set they fail instead.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompressionTypes, Kafka, logLevel, type Consumer, type KafkaMessage, type LogEntry } from 'kafkajs';
import {
  brokerSkipReason,
  kafkajsClientConfig,
  kafkajsConsumerConfig,
  startBroker,
  uniqueName,
  waitUntil,
  type Broker,
} from './harness';
import { kcatConsume, kcatProduce, type KcatCodec, type KcatRecord } from './kcat';
import { prng } from '../support/random';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const skip = brokerSkipReason();

/** Bytes that stress the framing: newlines, NULs, high bytes, long runs (compressible). */
function binaryValue(rand: () => number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    const r = rand();
    b[i] = r < 0.1 ? 0x0a : r < 0.2 ? 0x00 : r < 0.5 ? (i & 0x0f) + 0x61 : Math.floor(rand() * 256);
  }
  return b;
}

async function withBroker<T>(opts: Parameters<typeof startBroker>[0], fn: (b: Broker) => Promise<T>): Promise<T> {
  const broker = await startBroker(opts);
  try {
    return await fn(broker);
  } finally {
    await broker.stop();
  }
}

/** True when the process is gone or a zombie (dead, not yet reaped by a non-reaping init). */
function processDead(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Live (non-zombie) children of this process running `comm`. */
function liveChildren(comm: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (name === comm && Number(ppid) === process.pid && state !== 'Z') out.push(Number(entry));
  }
  return out;
}

interface Collected {
  byKey: Map<string, Buffer>;
  dups: number;
  partitions: Set<number>;
}

function collector(): Collected & { add(partition: number, m: KafkaMessage): void } {
  const c = {
    byKey: new Map<string, Buffer>(),
    dups: 0,
    partitions: new Set<number>(),
    add(partition: number, m: KafkaMessage) {
      const k = m.key!.toString();
      if (c.byKey.has(k)) c.dups++;
      c.byKey.set(k, m.value!);
      c.partitions.add(partition);
    },
  };
  return c;
}

/** kafkajs log sink keeping ERROR entries, to prove an injected fault was actually observed. */
function errorLog(): { entries: LogEntry[]; logCreator: () => (e: LogEntry) => void } {
  const entries: LogEntry[] = [];
  return { entries, logCreator: () => (e) => void (e.level === logLevel.ERROR && entries.push(e)) };
}

describe('mock broker + kcat + kafkajs', { concurrency: true }, () => {
  test('kcat produces 1000 binary zstd messages to 3 partitions and reads them back identical', { skip }, async () => {
    const topic = uniqueName('zstd');
    await withBroker({ brokers: 3, topics: [{ name: topic, partitions: 3 }] }, async (broker) => {
      const rand = prng(1);
      const sent: KcatRecord[] = [];
      for (let i = 0; i < 1000; i++) {
        sent.push({ key: `key-${i}`, value: binaryValue(rand, Math.floor(rand() * 2000)) });
      }
      // Small batches so each partition holds many record batches.
      await kcatProduce({
        bootstrap: broker.bootstrap,
        topic,
        codec: 'zstd',
        messages: sent,
        properties: { 'batch.num.messages': 50, 'linger.ms': 20 },
      });
      const got = await kcatConsume({ bootstrap: broker.bootstrap, topic });
      assert.equal(got.length, 1000);
      const byKey = new Map(got.map((m) => [m.key!.toString(), m]));
      assert.equal(byKey.size, 1000);
      for (const s of sent) {
        const m = byKey.get(s.key as string);
        assert.ok(m, `missing ${s.key}`);
        assert.deepEqual(m.value, s.value, `value of ${s.key}`);
      }
      for (const p of [0, 1, 2]) {
        const inP = got.filter((m) => m.partition === p);
        assert.ok(inP.length > 0, `partition ${p} empty`);
        // Offsets are dense and production order is kept within a partition.
        assert.deepEqual(inP.map((m) => m.offset), inP.map((_, i) => i));
        const idx = inP.map((m) => Number(m.key!.toString().slice(4)));
        assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
      }
    });
  });

  test('kcat: every codec, null/empty keys and values, and a 3 MiB zstd record', { skip }, async () => {
    const topic = uniqueName('codecs');
    await withBroker({ brokers: 1 }, async (broker) => {
      const rand = prng(2);
      const codecs: KcatCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
      for (const codec of codecs) {
        const t = `${topic}-${codec}`;
        await broker.createTopic(t, 1);
        const values = Array.from({ length: 20 }, (_, i) => binaryValue(rand, 1 + i * 37));
        await kcatProduce({ bootstrap: broker.bootstrap, topic: t, partition: 0, codec, messages: values });
        const got = await kcatConsume({ bootstrap: broker.bootstrap, topic: t, partitions: 0 });
        assert.deepEqual(got.map((m) => m.value), values, codec);
        assert.ok(got.every((m) => m.key === null), `${codec}: keys must be null`);
      }

      const nulls = `${topic}-nulls`;
      await broker.createTopic(nulls, 1);
      // kcat's -Z applies to a whole run, so nulls and empties go in separate calls.
      await kcatProduce({
        bootstrap: broker.bootstrap,
        topic: nulls,
        partition: 0,
        messages: [{ key: null, value: null }, { key: 'k', value: null }, { value: 'v' }],
      });
      await kcatProduce({
        bootstrap: broker.bootstrap,
        topic: nulls,
        partition: 0,
        messages: [{ key: '', value: '' }, { key: 'k', value: '' }, { key: '', value: 'v' }],
      });
      const got = await kcatConsume({ bootstrap: broker.bootstrap, topic: nulls, partitions: [0] });
      const str = (b: Buffer | null) => (b === null ? null : b.toString());
      assert.deepEqual(
        got.map((m) => [str(m.key), str(m.value)]),
        [[null, null], ['k', null], [null, 'v'], ['', ''], ['k', ''], ['', 'v']],
      );
      await assert.rejects(kcatProduce({ bootstrap: broker.bootstrap, topic: nulls, messages: [{ key: null, value: '' }] }), TypeError);

      // librdkafka refuses records above message.max.bytes (1 MB); kcatProduce raises it.
      const big = `${topic}-big`;
      await broker.createTopic(big, 1);
      const large = binaryValue(rand, 3 * 1024 * 1024);
      await kcatProduce({ bootstrap: broker.bootstrap, topic: big, partition: 0, codec: 'zstd', messages: [large, 'small'] });
      const bigGot = await kcatConsume({ bootstrap: broker.bootstrap, topic: big, partitions: 0 });
      assert.equal(bigGot.length, 2);
      assert.ok(bigGot[0]!.value!.equals(large), '3 MiB record differs');
      assert.equal(bigGot[1]!.value!.toString(), 'small');
    });
  });

  test('kcat batches really are compressed: kafkajs without codecs refuses zstd, lz4, snappy', { skip }, async () => {
    // librdkafka silently sends a batch uncompressed when compression does not shrink it, so a
    // codec test fed by kcat must use compressible data; this checks that ours is.
    await withBroker({ brokers: 1 }, async (broker) => {
      const codecs = [
        ['zstd', 'ZSTD'],
        ['lz4', 'LZ4'],
        ['snappy', 'Snappy'],
      ] as const;
      await Promise.all(
        codecs.map(async ([codec, kafkajsName]) => {
          const topic = uniqueName(`plain-${codec}`);
          await broker.createTopic(topic, 1);
          const messages = Array.from({ length: 100 }, (_, i) => `${'compressible '.repeat(20)}${i}`);
          await kcatProduce({ bootstrap: broker.bootstrap, topic, partition: 0, codec, messages });
          const consumer = new Kafka(kafkajsClientConfig(broker)).consumer(
            kafkajsConsumerConfig(uniqueName('group'), { retry: { retries: 0, restartOnFailure: async () => false } }),
          );
          let crash: Error | undefined;
          let delivered = 0;
          consumer.on(consumer.events.CRASH, (e) => (crash = e.payload.error));
          try {
            await consumer.connect();
            await consumer.subscribe({ topic, fromBeginning: true });
            await consumer.run({ eachMessage: async () => void delivered++ });
            await waitUntil(() => crash !== undefined, 15000, `kafkajs to reject the ${codec} batch`);
          } finally {
            await consumer.disconnect();
          }
          assert.equal(delivered, 0);
          assert.equal(crash!.name, 'KafkaJSNotImplemented');
          assert.equal(crash!.message, `${kafkajsName} compression not implemented`);
        }),
      );
    });
  });

  test('kafkajs producer (none + gzip) -> kafkajs consumer group gets everything once', { skip }, async () => {
    const topic = uniqueName('kjs');
    await withBroker({ brokers: 3, topics: [{ name: topic, partitions: 3 }] }, async (broker) => {
      const kafka = new Kafka(kafkajsClientConfig(broker));
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      const consumer = kafka.consumer(kafkajsConsumerConfig(uniqueName('group')));
      const got = collector();
      try {
        await producer.connect();
        for (let i = 0; i < 1000; i += 100) {
          await producer.send({
            topic,
            compression: i < 500 ? CompressionTypes.None : CompressionTypes.GZIP,
            messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${i + j}`, value: `value-${i + j}` })),
          });
        }
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, message }) => got.add(partition, message) });
        await waitUntil(() => got.byKey.size === 1000, 20000, 'kafkajs to consume 1000 messages');
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
      assert.equal(got.dups, 0);
      assert.deepEqual([...got.partitions].sort(), [0, 1, 2]);
      for (let i = 0; i < 1000; i++) assert.equal(got.byKey.get(`k${i}`)?.toString(), `value-${i}`);
    });
  });

  test('kafkajs consumer recovers when a partition leader goes down and comes back', { skip }, async () => {
    const topic = uniqueName('down');
    await withBroker({ brokers: 3, topics: [{ name: topic, partitions: 3 }] }, async (broker) => {
      const groupId = uniqueName('group');
      // Keep the coordinator on broker 1 so the outage hits only fetching (broker 2 leads partition 1).
      await broker.setCoordinator('group', groupId, 1);
      const consumerLog = errorLog();
      const producer = new Kafka(kafkajsClientConfig(broker)).producer({ allowAutoTopicCreation: false });
      const consumerKafka = new Kafka(kafkajsClientConfig(broker, { logLevel: logLevel.ERROR, logCreator: consumerLog.logCreator }));
      const consumer: Consumer = consumerKafka.consumer(kafkajsConsumerConfig(groupId));
      const got = collector();
      const batch = (from: number) => Array.from({ length: 300 }, (_, j) => ({ key: `k${from + j}`, value: `v${from + j}` }));
      try {
        await producer.connect();
        await producer.send({ topic, messages: batch(0) });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, message }) => got.add(partition, message) });
        await waitUntil(() => got.byKey.size === 300, 15000, 'first 300 messages');

        await broker.setDown(2);
        // Produced while partition 1's leader is down: kafkajs retries until it is back.
        const sending = producer.send({ topic, messages: batch(300) });
        await new Promise((r) => setTimeout(r, 1000));
        await broker.setUp(2);
        await sending;
        await waitUntil(() => got.byKey.size === 600, 15000, 'all 600 messages after the outage');
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
      const down = broker.bootstrap[1]!;
      assert.ok(
        consumerLog.entries.some((e) => JSON.stringify(e.log).includes(down)),
        'the consumer never noticed broker 2 going down',
      );
      assert.equal(got.dups, 0);
      for (let i = 0; i < 600; i++) assert.equal(got.byKey.get(`k${i}`)?.toString(), `v${i}`);
    });
  });

  test('kafkajs consumer recovers from injected Fetch errors (errors 1 3 6)', { skip }, async () => {
    const topic = uniqueName('fetcherr');
    // One broker: kafkajs rejoins the group on every NOT_LEADER fetch error; with several brokers
    // the concurrent rejoins race each other on the mock and can take > 20 s to settle.
    await withBroker({ brokers: 1, topics: [{ name: topic, partitions: 3 }] }, async (broker) => {
      const consumerLog = errorLog();
      const producer = new Kafka(kafkajsClientConfig(broker)).producer({ allowAutoTopicCreation: false });
      const consumer = new Kafka(
        kafkajsClientConfig(broker, { logLevel: logLevel.ERROR, logCreator: consumerLog.logCreator }),
      ).consumer(kafkajsConsumerConfig(uniqueName('group')));
      const got = collector();
      let joins = 0;
      consumer.on(consumer.events.GROUP_JOIN, () => joins++);
      const batch = (from: number) => Array.from({ length: 200 }, (_, j) => ({ key: `k${from + j}`, value: `v${from + j}` }));
      try {
        await producer.connect();
        await producer.send({ topic, messages: batch(0) });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, message }) => got.add(partition, message) });
        await waitUntil(() => got.byKey.size === 200, 15000, 'first 200 messages');
        await broker.pushErrors(1, 3, 6); // Fetch, 3 times NOT_LEADER_OR_FOLLOWER
        await producer.send({ topic, messages: batch(200) });
        await waitUntil(() => got.byKey.size === 400, 25000, 'all 400 messages after the errors');
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
      const notLeader = consumerLog.entries.filter((e) => String(e.log.error).includes('not the leader'));
      assert.equal(notLeader.length, 3, 'each injected error hits one Fetch');
      assert.ok(joins >= 2, `expected a rejoin after the errors, saw ${joins} join(s)`);
      assert.equal(got.dups, 0);
      for (let i = 0; i < 400; i++) assert.equal(got.byKey.get(`k${i}`)?.toString(), `v${i}`);
    });
  });

  test('command protocol: ERR replies, runtime topics, rtt, stop is idempotent and final', { skip }, async () => {
    const broker = await startBroker({ brokers: 2, topics: [{ name: 'pre', partitions: 2 }] });
    try {
      assert.equal(broker.bootstrap.length, 2);
      for (const hp of broker.bootstrap) assert.match(hp, /^127\.0\.0\.1:\d+$/);
      await broker.createTopic('rt', 4);
      await assert.rejects(broker.createTopic('rt', 4), /TOPIC_ALREADY_EXISTS/);
      await assert.rejects(broker.createTopic('pre', 1), /TOPIC_ALREADY_EXISTS/);
      await assert.rejects(broker.command('topic bad/name 1'), /invalid topic name/);
      await assert.rejects(broker.command('topic x 0'), /partitions must be/);
      await assert.rejects(broker.setDown(3), /unknown broker id/);
      await assert.rejects(broker.command('frobnicate'), /unknown command/);
      await assert.rejects(broker.pushErrors(1, 1, 'NO_SUCH_ERROR'), /unknown error code/);
      await assert.rejects(broker.command('ping\nquit'), /single line/);
      await broker.pushErrors(1, 2, 'NOT_LEADER_OR_FOLLOWER');
      await broker.clearErrors(1);
      await broker.pushBrokerErrors(2, 0, 1, -195, 10);
      await broker.setRtt(-1, 0);
      await broker.setLeader('rt', 3, 1);
      await broker.setApiVersion(1, 0, 11);
      await broker.setDown(-1);
      await broker.setUp(-1);
      // The topic created at runtime is visible to a real client, with the leaders we assigned.
      await kcatProduce({ bootstrap: broker.bootstrap, topic: 'rt', partition: 3, messages: ['x'] });
      const got = await kcatConsume({ bootstrap: broker.bootstrap, topic: 'rt', partitions: 3 });
      assert.deepEqual(got.map((m) => m.value!.toString()), ['x']);
    } finally {
      await broker.stop();
    }
    await broker.stop();
    assert.equal(broker.running, false);
    assert.ok(processDead(broker.pid), 'mock broker still alive after stop()');
    await assert.rejects(broker.command('ping'), /not running/);
  });

  test('the mock broker exits when the process that started it is killed', { skip }, async () => {
    const harness = path.join(__dirname, 'harness.js');
    const script = `require(${JSON.stringify(harness)}).startBroker().then((b) => console.log(b.pid)); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitUntil(() => /\d+\n/.test(out), 15000, 'the child to report the broker pid');
    } finally {
      child.kill('SIGKILL');
    }
    const pid = Number(out.trim());
    assert.ok(pid > 0);
    await waitUntil(() => processDead(pid), 5000, `mock broker ${pid} to die with its parent`);
  });
});

test('no mock-broker or kcat process is left behind', { skip }, () => {
  assert.deepEqual(liveChildren('mock-broker'), []);
  assert.deepEqual(liveChildren('kcat'), []);
});
