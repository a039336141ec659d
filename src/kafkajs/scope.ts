/**
 * The fetch a decompression belongs to. The consumer helper enters one per fetch (on kafkajs's
 * FETCH_START event, emitted synchronously right before kafkajs calls `consumerGroup.fetch`), and
 * kafkajs decodes the fetch response inside that async context, so the codec knows which arena
 * to decompress into and which fetch the lease belongs to.
 *
 * A scope stays in the async context after its fetch (everything the fetch loop starts later
 * inherits it), so a scope says itself whether it still takes leases (`open`), and the helper
 * runs its handlers outside any scope ({@link outsideFetchScope}): a consumer or producer started
 * from a handler never decompresses into the helper's arena.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Arena, Lease } from '../arena';

/** One broker fetch of a recycling consumer, as the codecs see it. */
export interface FetchScope {
  readonly arena: Arena;
  /** False once the fetch is over (its broker's next fetch started, or the helper stopped). */
  readonly open: boolean;
  adopt(lease: Lease): void;
}

/** What a helper is told about decompressions outside every fetch scope. */
export interface ScopeWatcher {
  unscoped(): void;
}

const storage = new AsyncLocalStorage<FetchScope>();
const watchers = new Set<ScopeWatcher>();

/** Makes `scope` the current fetch scope for the rest of this synchronous turn and what it starts. */
export function enterFetchScope(scope: FetchScope): void {
  storage.enterWith(scope);
}

/** Runs `fn` (and everything it starts) outside any fetch scope. */
export function outsideFetchScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

/**
 * The open fetch scope a decompression runs in, or undefined. A decompression outside every
 * open scope while a helper is attached is reported to the helpers (`unscopedDecompressions`):
 * if a kafkajs version stops decoding inside the FETCH_START context, it shows up as a number.
 */
export function activeFetchScope(): FetchScope | undefined {
  const scope = storage.getStore();
  if (scope?.open) return scope;
  for (const w of watchers) w.unscoped();
  return undefined;
}

/** Registers a helper for {@link activeFetchScope}'s reports; returns the function that removes it. */
export function watchScopes(watcher: ScopeWatcher): () => void {
  watchers.add(watcher);
  return () => void watchers.delete(watcher);
}
