/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka RecordBatch v2.
 *
 * WebAssembly has no carry-less multiply or CRC instruction, so two table methods are used:
 *
 * - Inputs of 512 bytes and more: 16 independent streams in SIMD128. A block of 16*L bytes is cut
 *   into 16 contiguous streams of L bytes; lane i of the state vectors carries the CRC register
 *   of stream i (one v128 per register byte, s0 = low byte). Each iteration loads 16 bytes of
 *   every stream and transposes the 16x16 byte matrix so vector j holds byte j of each stream;
 *   then one byte-at-a-time CRC step runs on all 16 lanes at once. The 256-entry byte table is
 *   linear in its index, T[x] = T[x & 15] ^ T[x & 0xf0], so the lookup is 8 i8x16.swizzle of
 *   16-byte tables (4 result bytes x low/high nibble). The 16 lane CRCs are then chained with
 *   crc(A || B) = shift_L(crc(A)) ^ crc(B) (B started from a zero register), where shift_L,
 *   multiplication by x^(8L) mod P, is linear and so is 4 lookups in tables built at init.
 *   Blocks are 4 KiB (L = 256), then 1 KiB and 512 B for the tail: smaller blocks pay the
 *   16-way combine too often, and 256 B blocks measured slower than the scalar loop.
 *   It beat slicing-by-16 and 3-4 interleaved scalar streams (figures: docs/benchmarks.md); two
 *   16-stream groups interleaved were slower (V8 spills the 32 state/table vectors).
 * - The remainder (< 512 bytes): scalar slicing-by-16 (16 tables of 256 entries).
 *
 * All tables are built by crc32c_init() so the module ships no data segment.
 *
 * JS copies the input above __heap_base and calls crc32c_update(crc, ptr, len) with the running
 * (non-inverted) CRC state; pre/post inversion happens here, so update(0, ...) of the whole
 * message gives the standard CRC-32C and chunked calls chain: update(update(0, a), b). */
#include "common.h"
#include <wasm_simd128.h>

#define POLY 0x82F63B78u
/* Stream lengths of the 4 KiB, 1 KiB and 512 B blocks (multiples of 16). */
#define L_4K 256
#define L_1K 64
#define L_512 32

static uint32_t T[16][256];
/* SHIFT_4K[k][b] = (b << 8k) * x^(8 * L_4K) mod P; likewise for the other stream lengths. */
static uint32_t SHIFT_4K[4][256];
static uint32_t SHIFT_1K[4][256];
static uint32_t SHIFT_512[4][256];
/* Nibble tables for i8x16.swizzle: NIB[k][n] = byte k of T[0][n], NIB[4 + k][n] = of T[0][n << 4]. */
static uint8_t NIB[8][16] __attribute__((aligned(16)));

/* a * b mod P, bit-reflected (x^0 is the top bit). Only used at init. */
static uint32_t multmodp(uint32_t a, uint32_t b) {
  uint32_t p = 0;
  for (int i = 0; i < 32; i++) {
    if (a & (0x80000000u >> i)) p ^= b;
    b = (b >> 1) ^ (POLY & (0u - (b & 1u)));
  }
  return p;
}

static void build_shift(uint32_t s[4][256], uint32_t bytes) {
  uint32_t xn = 0x80000000u; /* x^0 */
  for (uint32_t i = 0; i < 8u * bytes; i++) xn = (xn >> 1) ^ (POLY & (0u - (xn & 1u)));
  for (uint32_t k = 0; k < 4; k++)
    for (uint32_t n = 0; n < 256; n++) s[k][n] = multmodp(n << (8 * k), xn);
}

EXPORT void crc32c_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
    T[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = T[0][n];
    for (int t = 1; t < 16; t++) {
      c = T[0][c & 0xff] ^ (c >> 8);
      T[t][n] = c;
    }
  }
  build_shift(SHIFT_4K, L_4K);
  build_shift(SHIFT_1K, L_1K);
  build_shift(SHIFT_512, L_512);
  for (uint32_t n = 0; n < 16; n++)
    for (uint32_t k = 0; k < 4; k++) {
      NIB[k][n] = (uint8_t)(T[0][n] >> (8 * k));
      NIB[4 + k][n] = (uint8_t)(T[0][n << 4] >> (8 * k));
    }
}

#define LO8(a, b) wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define HI8(a, b) wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

/* One perfect-shuffle round: row i of `out` interleaves rows i/2 and i/2 + 8 of `in`. Viewing an
 * element's (row, lane) as 8 bits, a round rotates them left by one, so 4 rounds transpose. */
static inline __attribute__((always_inline)) void shuffle_round(v128_t out[16], const v128_t in[16]) {
  for (int i = 0; i < 8; i++) {
    out[2 * i] = LO8(in[i], in[i + 8]);
    out[2 * i + 1] = HI8(in[i], in[i + 8]);
  }
}

/* CRC register after 16*len bytes at p, from register `crc`: 16 streams of len bytes. */
static inline __attribute__((always_inline)) uint32_t crc_block16(uint32_t crc, const uint8_t *p, uint32_t len,
                                                                  const uint32_t shift[4][256]) {
  const v128_t tl0 = wasm_v128_load(NIB[0]), tl1 = wasm_v128_load(NIB[1]);
  const v128_t tl2 = wasm_v128_load(NIB[2]), tl3 = wasm_v128_load(NIB[3]);
  const v128_t th0 = wasm_v128_load(NIB[4]), th1 = wasm_v128_load(NIB[5]);
  const v128_t th2 = wasm_v128_load(NIB[6]), th3 = wasm_v128_load(NIB[7]);
  const v128_t mask = wasm_i8x16_splat(0x0f);
  const v128_t zero = wasm_i8x16_splat(0);
  /* Stream 0 continues from `crc`; the others start from a zero register. */
  v128_t s0 = wasm_u8x16_replace_lane(zero, 0, (uint8_t)crc);
  v128_t s1 = wasm_u8x16_replace_lane(zero, 0, (uint8_t)(crc >> 8));
  v128_t s2 = wasm_u8x16_replace_lane(zero, 0, (uint8_t)(crc >> 16));
  v128_t s3 = wasm_u8x16_replace_lane(zero, 0, (uint8_t)(crc >> 24));
  for (uint32_t off = 0; off < len; off += 16) {
    v128_t a[16], b[16];
    for (uint32_t i = 0; i < 16; i++) a[i] = wasm_v128_load(p + i * len + off);
    shuffle_round(b, a);
    shuffle_round(a, b);
    shuffle_round(b, a);
    shuffle_round(a, b);
    for (int j = 0; j < 16; j++) {
      v128_t x = wasm_v128_xor(s0, a[j]);
      v128_t lo = wasm_v128_and(x, mask), hi = wasm_u8x16_shr(x, 4);
      s0 = wasm_v128_xor(s1, wasm_v128_xor(wasm_i8x16_swizzle(tl0, lo), wasm_i8x16_swizzle(th0, hi)));
      s1 = wasm_v128_xor(s2, wasm_v128_xor(wasm_i8x16_swizzle(tl1, lo), wasm_i8x16_swizzle(th1, hi)));
      s2 = wasm_v128_xor(s3, wasm_v128_xor(wasm_i8x16_swizzle(tl2, lo), wasm_i8x16_swizzle(th2, hi)));
      s3 = wasm_v128_xor(wasm_i8x16_swizzle(tl3, lo), wasm_i8x16_swizzle(th3, hi));
    }
  }
  uint8_t b0[16], b1[16], b2[16], b3[16];
  wasm_v128_store(b0, s0);
  wasm_v128_store(b1, s1);
  wasm_v128_store(b2, s2);
  wasm_v128_store(b3, s3);
  uint32_t c = 0;
  for (int i = 0; i < 16; i++) {
    c = shift[0][c & 0xff] ^ shift[1][(c >> 8) & 0xff] ^ shift[2][(c >> 16) & 0xff] ^ shift[3][c >> 24];
    c ^= b0[i] | (uint32_t)b1[i] << 8 | (uint32_t)b2[i] << 16 | (uint32_t)b3[i] << 24;
  }
  return c;
}

EXPORT uint32_t crc32c_update(uint32_t crc, const uint8_t *p, uint32_t len) {
  crc = ~crc;
  while (len >= 16 * L_4K) {
    crc = crc_block16(crc, p, L_4K, SHIFT_4K);
    p += 16 * L_4K;
    len -= 16 * L_4K;
  }
  while (len >= 16 * L_1K) {
    crc = crc_block16(crc, p, L_1K, SHIFT_1K);
    p += 16 * L_1K;
    len -= 16 * L_1K;
  }
  if (len >= 16 * L_512) {
    crc = crc_block16(crc, p, L_512, SHIFT_512);
    p += 16 * L_512;
    len -= 16 * L_512;
  }
  while (len >= 16) {
    uint32_t a = load32(p) ^ crc;
    uint32_t b = load32(p + 4);
    uint32_t c = load32(p + 8);
    uint32_t d = load32(p + 12);
    crc = T[15][a & 0xff] ^ T[14][(a >> 8) & 0xff] ^ T[13][(a >> 16) & 0xff] ^ T[12][a >> 24] ^
          T[11][b & 0xff] ^ T[10][(b >> 8) & 0xff] ^ T[9][(b >> 16) & 0xff] ^ T[8][b >> 24] ^
          T[7][c & 0xff] ^ T[6][(c >> 8) & 0xff] ^ T[5][(c >> 16) & 0xff] ^ T[4][c >> 24] ^
          T[3][d & 0xff] ^ T[2][(d >> 8) & 0xff] ^ T[1][(d >> 16) & 0xff] ^ T[0][d >> 24];
    p += 16;
    len -= 16;
  }
  while (len--) crc = T[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}
