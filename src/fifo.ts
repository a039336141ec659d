/**
 * @internal A first-in, first-out list whose `shift()` takes constant time.
 *
 * `Array.prototype.shift` moves every remaining element once an array is large (V8 trims the
 * front in place only for small arrays), so draining a queue of tens of thousands of items that
 * way is quadratic: minutes for 100k jobs. Here the front is an index; the array is cut down
 * when the consumed front is most of it, which keeps each operation O(1) amortized.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest item, or undefined when empty. */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** The item `i` places after the oldest (0 is the oldest), or undefined. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.length ? this.#items[this.#head + i] : undefined;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // no reference kept to what left
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
