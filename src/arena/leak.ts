import { oneOfArg } from '../validate';

/** Leak-detection levels, as in Netty's ResourceLeakDetector. */
export type LeakDetectionLevel = 'disabled' | 'simple' | 'advanced' | 'paranoid';

/** What the arena reports for a lease that was garbage-collected without `release()`. */
export interface LeakReport {
  /** Size class of the leaked memory. */
  capacity: number;
  /** Bytes the lease exposed. */
  length: number;
  /** Allocation stack, when the level records one for this lease. */
  stack?: string;
}

const LEVELS: readonly LeakDetectionLevel[] = ['disabled', 'simple', 'advanced', 'paranoid'];

/** The option if given, else `KAFKA_ARENA_LEAK_DETECTION`, else `'simple'`. */
export function resolveLeakLevel(option: LeakDetectionLevel | undefined): LeakDetectionLevel {
  if (option !== undefined) return oneOfArg('leakDetection', option, LEVELS);
  return oneOfArg('KAFKA_ARENA_LEAK_DETECTION', process.env.KAFKA_ARENA_LEAK_DETECTION?.toLowerCase(), LEVELS, 'simple');
}
