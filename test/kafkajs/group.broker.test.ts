/**
 * The recycling consumer (arenaConsumer) under real kafkajs group dynamics against the mock
 * broker: two members with rebalances mid-stream, and faults (a broker going down, injected
 * Fetch errors). Each test checks that nothing is lost or duplicated (count and sha256 per
 * partition, in offset order, against what was produced) and that every arena lease comes back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, Kafka, logLevel, type Consumer } from 'kafkajs';
import { Arena } from '../../src';
import { arenaConsumer, registerCodecs, type ArenaConsumer } from '../../src/kafkajs';
import { brokerSkipReason, kafkajsClientConfig, kafkajsConsumerConfig, startBroker, uniqueName, waitUntil, type Broker } from '../broker/harness';
import { kcatProduce, type KcatCodec } from '../broker/kcat';
import { checksum, errorLog, jsonEvent, Ledger, prng, sleep } from './broker-support';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const skip = brokerSkipReason();

registerCodecs(CompressionCodecs);

/** Produces `perPartition` JSON events to every partition with kcat; appends them to `produced`. */
async function produce(
  broker: Broker,
  topic: string,
  partitions: number,
  perPartition: number,
  codec: KcatCodec,
  produced: Map<number, string[]>,
  rand: () => number,
  batch = 20,
): Promise<void> {
  const values = Array.from({ length: partitions }, (_, p) => {
    const start = produced.get(p)?.length ?? 0;
    return Array.from({ length: perPartition }, (_, i) => jsonEvent(rand, start + i, `p${p}`, 150 + Math.floor(rand() * 300)));
  });
  await Promise.all(
    values.map((v, p) =>
      kcatProduce({
        bootstrap: broker.bootstrap,
        topic,
        partition: p,
        codec,
        messages: v,
        properties: { 'batch.num.messages': batch, 'linger.ms': 5 },
      }),
    ),
  );
  values.forEach((v, p) => produced.set(p, [...(produced.get(p) ?? []), ...v]));
}

/**
 * Nothing lost: every produced offset was delivered, and the sha256 of the values in offset order
 * equals the produced one. Nothing duplicated: the only repeated deliveries are kafkajs's
 * at-least-once redeliveries of offsets not yet committed, with the same bytes.
 */
function assertExactlyOnce(ledger: Ledger, produced: Map<number, string[]>): void {
  assert.deepEqual(ledger.duplicates, [], 'records delivered again after their offset was committed, or with other bytes');
  for (const [p, want] of produced) {
    assert.deepEqual(ledger.offsets(p), want.map((_, i) => i), `partition ${p}: offsets`);
    assert.equal(checksum(ledger.values(p)), checksum(want), `partition ${p}: sha256 in offset order`);
  }
}

/** The arena is empty and the helper released every lease it adopted, exactly once. */
function assertLeasesReturned(arena: Arena, helper: ArenaConsumer, label: string): void {
  const s = arena.stats();
  assert.equal(s.leasedBytes, 0, `${label}: leasedBytes`);
  assert.equal(s.leasedCount, 0, `${label}: leasedCount`);
  const h = helper.stats();
  assert.equal(h.held, 0, `${label}: held`);
  const r = h.released;
  assert.equal(r.handler + r.messages + r.undelivered + r.shutdown, h.leasesCreated, `${label}: released by path ${JSON.stringify(h)}`);
  assert.equal(s.releases, h.leasesCreated, `${label}: arena releases`);
  assert.ok(h.leasesCreated > 0, `${label}: recycling mode was used`);
}

interface Member {
  consumer: Consumer;
  helper: ArenaConsumer;
  arena: Arena;
  /** The group's ledger, shared by the members. */
  ledger: Ledger;
  /** Records this member received. */
  received: number;
  joins: Array<Record<string, number[]>>;
  log: ReturnType<typeof errorLog>;
  /** Restarts after the mock broker's SyncGroup quirk (see `member`). */
  restarts: number;
  /** Set by runMember: runs the member again after such a crash. */
  rerun?: () => Promise<void>;
  /** Set when the member was stopped on purpose (no restart then). */
  stopped?: boolean;
  /** Why a run after such a crash failed, if it did. */
  rerunErrors: string[];
}

/**
 * librdkafka's mock coordinator answers a follower's SyncGroup with INVALID_REQUEST ("malformed
 * request") when it arrives after the leader's: the leader's request carries every member's
 * assignment, so the mock's group is already UP, a state in which it refuses SyncGroup. kafkajs
 * treats that as fatal: the member crashes and does not restart (seen about once in 30 runs
 * under load, on every Node; the CI failure of stop 15). A real broker does not do this,
 * and the test is about the recycling consumer, so the member is run again, as an application's
 * supervisor would; every such restart is counted and reported. Other crashes stay fatal.
 */
const SYNC_GROUP = 14;
const INVALID_REQUEST = 42;

function isMockSyncQuirk(error: { name?: string; type?: string } | undefined): boolean {
  return error?.name === 'KafkaJSProtocolError' && error.type === 'INVALID_REQUEST';
}

function member(broker: Broker, groupId: string, topic: string, ledger: Ledger): Member {
  const log = errorLog();
  const kafka = new Kafka(kafkajsClientConfig(broker, { logLevel: logLevel.ERROR, logCreator: log.logCreator }));
  const consumer = kafka.consumer(kafkajsConsumerConfig(groupId));
  const arena = new Arena({ maxBytes: 32 << 20 });
  const helper = arenaConsumer(consumer, { arena });
  const m: Member = { consumer, helper, arena, ledger: ledger.track(consumer, topic), received: 0, joins: [], log, restarts: 0, rerunErrors: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => m.joins.push(e.payload.memberAssignment));
  consumer.on(consumer.events.CRASH, (e) => {
    const { error, restart } = e.payload as { error: { name?: string; type?: string }; restart: boolean };
    if (restart || m.stopped || !m.rerun || !isMockSyncQuirk(error)) return;
    m.restarts++;
    // After kafkajs's own crash handling (it disconnects first), as a supervisor would, with a
    // few tries: the first connect can still meet the old socket ("write after end").
    const attempt = (left: number): void => {
      if (m.stopped) return;
      m.rerun?.().catch((err: Error) => {
        m.rerunErrors.push(String(err?.message ?? err));
        if (left > 0) setTimeout(() => attempt(left - 1), 500);
      });
    };
    setTimeout(() => attempt(5), 200);
  });
  return m;
}

/**
 * `gate`: awaited before every batch but the first. kafkajs hands eachBatch all of a partition's
 * records from one fetch, so without it a member can read a whole phase in a few calls, before
 * the test gets to change the group.
 */
async function runMember(m: Member, topic: string, handlerDelayMs: number, gate?: Promise<void>): Promise<void> {
  m.rerun = () => runMember(m, topic, handlerDelayMs, gate);
  await m.consumer.connect();
  await m.consumer.subscribe({ topic, fromBeginning: true });
  let batches = 0;
  await m.helper.run({
    eachBatch: async ({ batch }) => {
      if (batches++ > 0 && gate) await gate;
      // Slow enough that the stream is still flowing when the group changes.
      await sleep(handlerDelayMs);
      for (const msg of batch.messages) m.ledger.add(batch.partition, msg.offset, msg.value);
      m.received += batch.messages.length;
    },
  });
}

describe('recycling consumer in a kafkajs consumer group on the mock broker', { skip, concurrency: false }, () => {
  let broker: Broker;
  before(async () => {
    broker = await startBroker({ brokers: 2 });
  });
  after(async () => {
    await broker?.stop();
  });

  test('two members, one joins mid-stream and leaves mid-stream: nothing lost or duplicated, leases back to zero', async (t) => {
    const topic = uniqueName('group');
    const groupId = uniqueName('g');
    const PARTITIONS = 4;
    await broker.createTopic(topic, PARTITIONS);
    await broker.setCoordinator('group', groupId, 1);
    const rand = prng(21);
    const produced = new Map<number, string[]>();
    await produce(broker, topic, PARTITIONS, 400, 'zstd', produced, rand);

    const ledger = new Ledger();
    const a = member(broker, groupId, topic, ledger);
    const b = member(broker, groupId, topic, ledger);
    const total = () => [...produced.values()].reduce((n, v) => n + v.length, 0);
    const consumed = () => ledger.size;
    let bStopped = false;
    let bStarted!: () => void;
    const bRunning = new Promise<void>((r) => (bStarted = r));
    try {
      // A reads one batch of phase 1, then waits for B to be running: B joins while A still has
      // records to read, however fast A would otherwise drain the topic.
      await runMember(a, topic, 15, bRunning);
      await waitUntil(() => a.received > 0, 20000, 'A to start consuming');
      assert.ok(a.received < total(), 'B must join while A still has records to read');
      // The next SyncGroup fails as the mock's quirk does (see isMockSyncQuirk): whichever member
      // sends it crashes and is run again, so that path is exercised on every run.
      await broker.pushErrors(SYNC_GROUP, 1, INVALID_REQUEST);
      await runMember(b, topic, 15);
      bStarted();
      // More data while the group rebalances.
      await produce(broker, topic, PARTITIONS, 200, 'lz4', produced, rand);
      await waitUntil(() => b.joins.some((j) => (j[topic]?.length ?? 0) > 0), 30000, 'B to get partitions');
      // A may have read all of B's new partitions before the rebalance ended (their committed
      // offsets are then at the end): give B something to read there.
      if (b.received === 0) {
        t.diagnostic(`B joined with ${JSON.stringify(b.joins.at(-1))} and nothing to read yet: producing 50 more per partition`);
        await produce(broker, topic, PARTITIONS, 50, 'gzip', produced, rand);
      }
      await waitUntil(() => b.received > 0, 30000, 'B to consume');
      const aJoinsBefore = a.joins.length;
      // Phase 3, and B leaves while it is still reading it.
      await produce(broker, topic, PARTITIONS, 400, 'snappy', produced, rand);
      const bBefore = b.received;
      await waitUntil(() => b.received > bBefore, 20000, 'B to read some of phase 3');
      b.stopped = true;
      await b.consumer.disconnect();
      bStopped = true;
      await waitUntil(() => consumed() >= total(), 40000, `all ${total()} records (have ${consumed()})`);
      // A went through the rebalance B's departure caused.
      await waitUntil(() => a.joins.length > aJoinsBefore, 20000, 'A to rejoin after B left');
      // A fetch more after the last record, so a late duplicate would show up.
      await sleep(300);
    } catch (err) {
      // What the group looked like when a wait timed out (a rare stall seen once on Node 24).
      const state = (m: Member) => ({ received: m.received, joins: m.joins, restarts: m.restarts, rerunErrors: m.rerunErrors, errors: m.log.entries.map((e) => `${e.log.message} ${e.log.error ?? ''}`) });
      t.diagnostic(`A: ${JSON.stringify(state(a))}; B: ${JSON.stringify(state(b))}`);
      throw err;
    } finally {
      bStarted();
      a.stopped = true;
      b.stopped = true;
      if (!bStopped) await b.consumer.disconnect();
      await a.consumer.disconnect();
    }
    a.helper.close();
    b.helper.close();

    assert.ok(a.joins.length >= 3, `A joined ${a.joins.length} times: alone, with B, after B left`);
    assert.ok(b.joins.length >= 1);
    const assigned = (j: Record<string, number[]>) => (j[topic] ?? []).length;
    assert.equal(assigned(a.joins[0]!), PARTITIONS, 'A alone had every partition');
    assert.ok(a.joins.some((j) => assigned(j) > 0 && assigned(j) < PARTITIONS), 'A shared the partitions with B');
    assert.equal(assigned(a.joins[a.joins.length - 1]!), PARTITIONS, 'A has every partition after B left');
    assert.ok(b.received > 0 && a.received > 0);
    assert.ok(a.restarts + b.restarts >= 1, 'the injected SyncGroup INVALID_REQUEST crashed a member, which was run again');
    assertExactlyOnce(ledger, produced);
    t.diagnostic(`at-least-once redeliveries after rejected commits: ${ledger.redeliveries.length}`);
    if (a.restarts + b.restarts > 0) {
      t.diagnostic(`members run again after the mock's SyncGroup INVALID_REQUEST: A ${a.restarts}, B ${b.restarts}; failed tries: ${JSON.stringify([...a.rerunErrors, ...b.rerunErrors])}`);
    }
    t.diagnostic(`A: ${JSON.stringify(a.helper.stats())}`);
    t.diagnostic(`B: ${JSON.stringify(b.helper.stats())}`);
    assertLeasesReturned(a.arena, a.helper, 'A');
    assertLeasesReturned(b.arena, b.helper, 'B');
    // The rebalances ended fetches whose leases reached no handler, or happened between fetches.
    const ra = a.helper.stats().released;
    assert.ok(ra.handler > 0);
  });

  test('faults: a partition leader goes down and comes back, Fetch errors and dropped connections; recycling consumer recovers', async (t) => {
    const topic = uniqueName('faults');
    const groupId = uniqueName('g');
    const PARTITIONS = 4;
    await broker.createTopic(topic, PARTITIONS);
    // The coordinator stays up on broker 1; broker 2 leads partitions 1 and 3.
    await broker.setCoordinator('group', groupId, 1);
    const rand = prng(22);
    const produced = new Map<number, string[]>();
    await produce(broker, topic, PARTITIONS, 300, 'zstd', produced, rand);

    const log = errorLog();
    const kafka = new Kafka(kafkajsClientConfig(broker, { logLevel: logLevel.ERROR, logCreator: log.logCreator }));
    const consumer = kafka.consumer(kafkajsConsumerConfig(groupId));
    const arena = new Arena({ maxBytes: 32 << 20 });
    const helper = arenaConsumer(consumer, { arena });
    const ledger = new Ledger().track(consumer, topic);
    // Under load kafkajs may crash on the outage (KafkaJSNoBrokerAvailableError from its fetch
    // manager) and restart itself: allowed, as long as it restarts (the CRASH and DISCONNECT
    // paths release leases too).
    const crashes: Array<{ error: Error; restart: boolean }> = [];
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      // eachMessage: the per-record-batch release path.
      await helper.run({
        eachMessage: async ({ partition, message }) => {
          // Partitions 1 and 3 (led by broker 2) are slow, so the outage hits them mid-stream.
          if (partition % 2 === 1) await sleep(2);
          ledger.add(partition, message.offset, message.value);
        },
      });
      await waitUntil(() => ledger.size > 100, 20000, 'first records');

      // Broker 2 goes down mid-stream, with records of its partitions not yet read.
      assert.ok(ledger.size < 1200, 'broker 2 must go down with records still unread');
      await broker.setDown(2);
      await sleep(1500);
      await broker.setUp(2);
      await waitUntil(() => ledger.size >= 1200, 30000, 'phase 1 after the outage');

      // Fetch errors: dropped connections, then an error code kafkajs retries in place.
      await produce(broker, topic, PARTITIONS, 200, 'gzip', produced, rand);
      await broker.pushErrors(1, 2, -195);
      await broker.pushErrors(1, 2, 'REQUEST_TIMED_OUT');
      await produce(broker, topic, PARTITIONS, 200, 'lz4', produced, rand);
      const total = [...produced.values()].reduce((n, v) => n + v.length, 0);
      await waitUntil(() => ledger.size >= total, 40000, `all ${total} records (have ${ledger.size})`);
      await sleep(300);
    } finally {
      await consumer.disconnect();
    }
    helper.close();
    assert.deepEqual(crashes.filter((c) => !c.restart), [], 'the consumer crashed for good');
    const down = broker.bootstrap[1]!;
    assert.ok(log.entries.some((e) => JSON.stringify(e.log).includes(down)), 'the consumer never noticed broker 2 going down');
    // The injected error codes each hit one Fetch (the dropped connections are not logged as errors).
    assert.equal(log.entries.filter((e) => String(e.log.error).includes('timed out')).length, 2, 'REQUEST_TIMED_OUT seen twice');
    assertExactlyOnce(ledger, produced);
    t.diagnostic(`at-least-once redeliveries: ${ledger.redeliveries.length}`);
    t.diagnostic(`helper: ${JSON.stringify(helper.stats())}; crashes: ${crashes.map((c) => c.error.message).join(', ') || 'none'}`);
    t.diagnostic(`errors: ${JSON.stringify(log.entries.map((e) => `${e.log.message} ${e.log.error ?? ''}`))}`);
    assertLeasesReturned(arena, helper, 'consumer');
    assert.ok(helper.stats().released.messages > 0, 'eachMessage released per record batch');
  });
});
