/**
 * The application's own pauses, recorded from its calls to `consumer.pause()` / `resume()` with
 * kafkajs's semantics (a topic without partitions pauses or resumes the whole topic, including
 * partitions assigned later). kafkajs keeps one pause flag per partition for both the
 * application and the helper; this record is what tells them apart, so the helper never resumes
 * what the application paused.
 */
import type { TopicPartitions } from './types';

interface TopicState {
  all: boolean;
  paused: Set<number>;
  /** Exceptions to `all`. */
  resumed: Set<number>;
}

export class AppPauses {
  readonly #topics = new Map<string, TopicState>();

  pause(topics: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of topics) {
      const s = this.#state(topic);
      if (partitions === undefined) {
        s.all = true;
        s.paused.clear();
        s.resumed.clear();
      } else {
        for (const p of partitions) {
          s.paused.add(p);
          s.resumed.delete(p);
        }
      }
    }
  }

  resume(topics: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of topics) {
      const s = this.#state(topic);
      if (partitions === undefined) {
        s.all = false;
        s.paused.clear();
        s.resumed.clear();
      } else {
        for (const p of partitions) {
          s.paused.delete(p);
          if (s.all) s.resumed.add(p);
        }
      }
    }
  }

  isPaused(topic: string, partition: number): boolean {
    const s = this.#topics.get(topic);
    if (s === undefined) return false;
    return (s.all && !s.resumed.has(partition)) || s.paused.has(partition);
  }

  /** kafkajs forgets every pause when the consumer stops (its next run has a new group). */
  clear(): void {
    this.#topics.clear();
  }

  #state(topic: string): TopicState {
    let s = this.#topics.get(topic);
    if (s === undefined) this.#topics.set(topic, (s = { all: false, paused: new Set(), resumed: new Set() }));
    return s;
  }
}
