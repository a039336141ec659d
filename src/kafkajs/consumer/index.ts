/** The recycling consumer: types, lease ownership, the pause planner and the helper. */
export { arenaConsumer, detachMessage } from './helper';
export type { ArenaConsumer } from './helper';
export type {
  ArenaConsumerOptions,
  ArenaConsumerStats,
  ArenaEachBatchPayload,
  ArenaRunConfig,
  KafkajsConsumer,
  KafkajsMessage,
  KafkajsBatch,
} from './types';
