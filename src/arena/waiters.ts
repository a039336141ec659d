/**
 * The one FIFO of waiters behind every wait in kafka-arena: `Arena.acquire`, `ByteQueue.push` and
 * `shift`, and the kafkajs bounded producer. Every operation is O(1): waiters are a doubly linked
 * list, and an abort signal gets ONE listener per queue however many waiters it guards, because
 * Node's `addEventListener` and `removeEventListener` walk the signal's listener list (one listener
 * per waiter makes 100k waiters on one signal quadratic).
 */

interface Node<T> {
  value: T;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
  /** The signal group this waiter belongs to, and its links inside that group. */
  group: SignalGroup<T> | undefined;
  gprev: Node<T> | undefined;
  gnext: Node<T> | undefined;
}

/** The waiters of one queue that share one abort signal, in FIFO order, and its one listener. */
interface SignalGroup<T> {
  signal: AbortSignal;
  head: Node<T> | undefined;
  tail: Node<T> | undefined;
  listener: () => void;
}

/** Called with the waiters one abort signal removed, in FIFO order. */
export type AbortHandler<T> = (aborted: T[], signal: AbortSignal) => void;

export class WaiterQueue<T> {
  #head: Node<T> | undefined;
  #tail: Node<T> | undefined;
  #size = 0;
  readonly #groups = new Map<AbortSignal, SignalGroup<T>>();
  readonly #onAbort: AbortHandler<T> | undefined;

  /** `onAbort` receives the waiters removed by an aborted signal (after they left the queue). */
  constructor(onAbort?: AbortHandler<T>) {
    this.#onAbort = onAbort;
  }

  /** Waiters queued. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends a waiter. With `signal` (not yet aborted: the caller checks), aborting it removes the
   * waiter and hands it to the queue's abort handler.
   */
  push(value: T, signal?: AbortSignal): void {
    const node: Node<T> = { value, prev: this.#tail, next: undefined, group: undefined, gprev: undefined, gnext: undefined };
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#size++;
    if (signal !== undefined) this.#join(node, signal);
  }

  /** The oldest waiter, left in place. */
  peek(): T | undefined {
    return this.#head?.value;
  }

  /** Removes and returns the oldest waiter. */
  shift(): T | undefined {
    const node = this.#head;
    if (node === undefined) return undefined;
    this.#unlink(node);
    return node.value;
  }

  /** Removes every waiter; returns them oldest first. */
  clear(): T[] {
    const out: T[] = [];
    for (let n = this.#head; n !== undefined; n = n.next) out.push(n.value);
    for (const group of this.#groups.values()) group.signal.removeEventListener('abort', group.listener);
    this.#groups.clear();
    this.#head = this.#tail = undefined;
    this.#size = 0;
    return out;
  }

  #join(node: Node<T>, signal: AbortSignal): void {
    let group = this.#groups.get(signal);
    if (group === undefined) {
      const g: SignalGroup<T> = { signal, head: undefined, tail: undefined, listener: () => this.#aborted(g) };
      group = g;
      this.#groups.set(signal, g);
      signal.addEventListener('abort', g.listener, { once: true });
    }
    node.group = group;
    node.gprev = group.tail;
    if (group.tail === undefined) group.head = node;
    else group.tail.gnext = node;
    group.tail = node;
  }

  #unlink(node: Node<T>): void {
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = undefined;
    this.#size--;
    const group = node.group;
    if (group === undefined) return;
    node.group = undefined;
    if (node.gprev === undefined) group.head = node.gnext;
    else node.gprev.gnext = node.gnext;
    if (node.gnext === undefined) group.tail = node.gprev;
    else node.gnext.gprev = node.gprev;
    node.gprev = node.gnext = undefined;
    if (group.head === undefined) {
      this.#groups.delete(group.signal);
      group.signal.removeEventListener('abort', group.listener);
    }
  }

  #aborted(group: SignalGroup<T>): void {
    if (this.#groups.get(group.signal) !== group) return;
    const out: T[] = [];
    // Unlinking the last member deletes the group and its listener.
    for (let n = group.head; n !== undefined; ) {
      const next = n.gnext;
      out.push(n.value);
      this.#unlink(n);
      n = next;
    }
    this.#onAbort?.(out, group.signal);
  }
}
