export { Arena, Lease } from './arena';
export type { ArenaOptions, ArenaStats, AcquireOptions } from './arena';
export { ByteQueue } from './byte-queue';
export type { ByteQueueOptions } from './byte-queue';
export { classSize, MIN_CLASS_BYTES } from './size-classes';
export { detachArrayBuffer, detachMethod } from './detach';
export type { LeakDetectionLevel, LeakReport } from './leak';
