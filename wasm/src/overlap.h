/* 16-byte copies for the LZ77 decoders (lz4.c, snappy.c). Include after the v128 operations are
 * available (wasm_simd128.h, or lz4.c's portable stand-ins for its native fuzz build). */
#ifndef KAFKA_ARENA_OVERLAP_H
#define KAFKA_ARENA_OVERLAP_H

#include "common.h"

/* One unaligned 16-byte load and store. */
static inline void copy16(uint8_t *dst, const uint8_t *src) { wasm_v128_store(dst, wasm_v128_load(src)); }

/* For an overlapping copy with offset d < 16: swizzle lane i reads byte i % d of the source, giving
 * 16 bytes of the period-d pattern; PATTERN_STEP[d] is the largest multiple of d <= 16, so storing
 * the same vector again that far ahead continues the pattern. */
static const uint8_t PATTERN_MASK[16][16] = {
  {0}, /* offset 0 is rejected before use */
  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
  {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
  {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
  {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
  {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0},
  {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3},
  {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1},
  {0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 1},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0},
};
/* Entry 0 is never used (offset 0 is rejected); it is 16, not 0, so no bug can turn it into a hang. */
static const uint8_t PATTERN_STEP[16] = {16, 16, 16, 15, 16, 15, 12, 14, 16, 9, 10, 11, 12, 13, 14, 15};

/* Writes `len` (>= 1) bytes at dst repeating the `off` (1..15) bytes before it, as an LZ77 copy
 * with offset off < 16. May write up to 15 bytes past dst + len, and reads up to 16 bytes from
 * dst - off (bytes at and after dst are never selected): the caller leaves that slack. */
static inline void copy_short_offset(uint8_t *dst, uint32_t off, uint32_t len) {
  const v128_t pattern = wasm_i8x16_swizzle(wasm_v128_load(dst - off), wasm_v128_load(PATTERN_MASK[off]));
  const uint32_t step = PATTERN_STEP[off];
  for (uint32_t i = 0; i < len; i += step) wasm_v128_store(dst + i, pattern);
}

#endif
