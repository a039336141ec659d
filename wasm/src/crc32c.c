/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka RecordBatch v2.
 *
 * Table-driven slicing-by-16: 16 tables of 256 entries (16 KiB), built by crc32c_init() so the
 * module ships no data segment. WebAssembly has no carry-less multiply or CRC instruction, so a
 * table method is the fastest portable choice. Slicing-by-16 measured ~2.1 GB/s against ~1.6 GB/s
 * for slicing-by-8 (V8, Node 20): the loop is instruction-bound, and 16 lookups per iteration
 * amortize the loop and crc-dependency overhead better.
 *
 * JS copies the input above __heap_base and calls crc32c_update(crc, ptr, len) with the running
 * (non-inverted) CRC state; pre/post inversion happens here, so update(0, ...) of the whole
 * message gives the standard CRC-32C and chunked calls chain: update(update(0, a), b). */
#include "common.h"

static uint32_t T[16][256];

EXPORT void crc32c_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    T[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = T[0][n];
    for (int t = 1; t < 16; t++) {
      c = T[0][c & 0xff] ^ (c >> 8);
      T[t][n] = c;
    }
  }
}

/* Address of the tables, so JS can check crc32c_init ran (T[0][1] is non-zero once built). */
EXPORT uint32_t crc32c_tables(void) { return (uint32_t)(size_t)&T[0][0]; }

EXPORT uint32_t crc32c_update(uint32_t crc, const uint8_t *p, uint32_t len) {
  crc = ~crc;
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
