/**
 * Type test of the recycling consumer's public types, compiled by the project's strict tsc build
 * (never run): every `@ts-expect-error` line must be an error, everything else must compile.
 * kafkajs's own handler and payload types go through `helper.run` unchanged.
 */
import type { Consumer, ConsumerRunConfig, EachBatchPayload, EachMessagePayload } from 'kafkajs';
import { Arena } from '../../src';
import { arenaConsumer, detachMessage, type ArenaConsumer, type ArenaEachBatchPayload } from '../../src/kafkajs';

declare const consumer: Consumer;
const helper: ArenaConsumer = arenaConsumer(consumer, { arena: new Arena() });

// A handler typed with kafkajs's EachBatchPayload is accepted, and its payload has kafkajs's types.
const kafkajsBatchHandler = async (payload: EachBatchPayload): Promise<void> => {
  await payload.heartbeat();
  payload.resolveOffset(payload.batch.lastOffset());
  const resume: () => void = payload.pause();
  resume();
  const running: boolean = payload.isRunning();
  void running;
};
void helper.run({ eachBatch: kafkajsBatchHandler, eachBatchAutoResolve: false, autoCommit: true });

// kafkajs's eachMessage handler type and the rest of ConsumerRunConfig.
const kafkajsMessageHandler: NonNullable<ConsumerRunConfig['eachMessage']> = async ({ message, heartbeat, pause }: EachMessagePayload) => {
  await heartbeat();
  if (message.value === null) pause();
};
void helper.run({ eachMessage: kafkajsMessageHandler, partitionsConsumedConcurrently: 2, autoCommitInterval: 5000 });

// Inline handlers get kafkajs's payload types plus retainBatch.
void helper.run({
  eachBatch: async ({ batch, retainBatch, heartbeat, resolveOffset, isRunning, commitOffsetsIfNecessary }: ArenaEachBatchPayload) => {
    const release: () => void = retainBatch();
    const value: Buffer | null = batch.messages[0].value;
    const kept = detachMessage(batch.messages[0]);
    const keptValue: Buffer | null = kept.value;
    void [value, keptValue, isRunning(), commitOffsetsIfNecessary];
    resolveOffset(batch.messages[0].offset);
    await heartbeat();
    release();
  },
});

// @ts-expect-error a handler must return a promise, as kafkajs requires
void helper.run({ eachBatch: (_payload: EachBatchPayload) => 1 });

void helper.run({
  eachBatch: async (payload) => {
    // @ts-expect-error heartbeat is kafkajs's () => Promise<void>, not a number
    const n: number = payload.heartbeat;
    void n;
  },
});

// @ts-expect-error not a kafkajs run option
void helper.run({ eachBatch: kafkajsBatchHandler, notAnOption: true });

// @ts-expect-error the helper is created by arenaConsumer only: the class is exported as a type
void new ArenaConsumer(consumer, { arena: new Arena() });

// @ts-expect-error internals are not reachable
void helper._adopted;

// @ts-expect-error the arena is required
arenaConsumer(consumer, {});
