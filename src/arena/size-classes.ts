/**
 * Size classes for pooled ArrayBuffers.
 *
 * Four classes per power of two (2^e × 1.25, 1.5, 1.75, 2), like jemalloc's spacing: a request
 * is rounded up by less than 25 % of itself, so internal waste stays under 20 % of the class
 * size (about 10 % on average for sizes spread over a range; `bench/arena-waste` measures it).
 * Plain power-of-two classes would waste up to 50 %.
 */

/** Smallest class. Smaller requests are rounded up to it. */
export const MIN_CLASS_BYTES = 1024;

/** Returns the class size that a request of `n` bytes is served from. */
export function classSize(n: number): number {
  if (n <= MIN_CLASS_BYTES) return MIN_CLASS_BYTES;
  // 2^e < n <= 2^(e+1); classes inside that range step by 2^(e-2).
  const e = 31 - Math.clz32(n - 1);
  if (e >= 31) {
    // Beyond 2 GiB: no classes, serve exactly (never pooled in practice).
    return n;
  }
  const base = 2 ** e;
  const step = base / 4;
  return base + Math.ceil((n - base) / step) * step;
}
