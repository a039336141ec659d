/* Snappy for kafka-arena: a bounds-checked decoder for raw Snappy blocks and the xerial framing
 * the Java client writes, and a greedy hash-table compressor that writes xerial framing.
 *
 * Memory contract with the JS side (src/codecs/snappy.ts): JS copies the input into this module's
 * memory above __heap_base and lays out the output after it. Every input and output region is
 * followed by at least SNAPPY_SLACK addressable bytes that belong to the caller's staging area.
 * The decoder's fast paths copy 16 bytes at a time and may read and write up to 15 bytes past the
 * logical end of a region, always inside that slack; every validity check is exact, so the slack
 * never changes what is accepted or what the first out_len bytes hold.
 *
 * Raw Snappy block (https://github.com/google/snappy/blob/main/format_description.txt):
 *   block    := varint32(uncompressed length) element*
 *   varint32 := 1..5 bytes, 7 bits each, little-endian groups, high bit = more
 *   element  := tag(low 2 bits = kind) ...
 *     kind 0 literal: (tag>>2) < 60: length-1 = tag>>2; else 1..4 little-endian bytes follow
 *                     holding length-1; then `length` literal bytes
 *     kind 1 copy1:   length = 4 + ((tag>>2)&7), offset = (tag>>5)<<8 | 1 byte   (11-bit offset)
 *     kind 2 copy2:   length = 1 + (tag>>2),     offset = 2 bytes little-endian
 *     kind 3 copy4:   length = 1 + (tag>>2),     offset = 4 bytes little-endian
 *   A copy repeats `length` bytes starting `offset` bytes back in the output (it may overlap the
 *   bytes it writes); offset 0 or reaching before the start of the block is invalid. The decoded
 *   length must equal the declared length exactly.
 *
 * xerial framing (org.xerial.snappy.SnappyOutputStream):
 *   stream := magic(82 53 4E 41 50 50 59 00) version(u32 BE) compat(u32 BE) chunk*
 *   chunk  := length(u32 BE) raw-block(length bytes)
 *           | 82 53 4E 41 50 50 59 00 version compat   (a concatenated stream's header, which
 *                                                       snappy-java skips; so do we)
 * Like snappy-java, version and compat are not checked. A zero-length chunk is invalid.
 */
#include "common.h"
#include "libc.h"
#include <wasm_simd128.h>
#include "overlap.h"

#define SNAPPY_SLACK 64

/* Error codes, mirrored in src/codecs/snappy.ts. */
#define E_CORRUPT (-1)
#define E_TRUNCATED (-2)
#define E_TRAILING (-3)

static const uint8_t XERIAL_MAGIC[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16
#define XERIAL_MAGIC_HEAD 0x82534E41u

static inline uint32_t load_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static inline int is_xerial(const uint8_t *in, uint32_t n) {
  return n >= 8 && load64(in) == load64(XERIAL_MAGIC);
}

/* Reads a varint32. Returns 0, E_TRUNCATED, or E_CORRUPT (more than 32 bits). */
static int read_varint32(const uint8_t **pp, const uint8_t *end, uint32_t *value) {
  const uint8_t *p = *pp;
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p >= end) return E_TRUNCATED;
    uint32_t b = *p++;
    if (shift == 28 && b > 0x0f) return E_CORRUPT;
    v |= (b & 0x7f) << shift;
    if (b < 0x80) {
      *pp = p;
      *value = v;
      return 0;
    }
  }
  return E_CORRUPT;
}

/* ---- decoder ---- */

/* An output overrun on an element that starts exactly at the declared end means the input goes on
 * after a complete block; anywhere else it means the elements are inconsistent with the length. */
#define OVERRUN() return op == op_end ? E_TRAILING : E_CORRUPT

/* Decodes the elements of one raw block (after its varint) into [op, op_end), which must be
 * filled exactly. A copy may reach back to the block's first output byte, never before it. */
static int decode_elements(const uint8_t *ip, const uint8_t *const ip_end, uint8_t *op, uint8_t *const op_end) {
  uint8_t *const op_start = op;
  while (ip < ip_end) {
    const uint32_t tag = *ip++;
    if ((tag & 3) == 0) {
      uint32_t len = (tag >> 2) + 1;
      if (LIKELY(len <= 16)) {
        /* Short literal: one 16-byte wild copy. */
        if (UNLIKELY(len > (size_t)(op_end - op))) OVERRUN();
        if (UNLIKELY(len > (size_t)(ip_end - ip))) return E_TRUNCATED;
        copy16(op, ip);
        op += len;
        ip += len;
        continue;
      }
      if (UNLIKELY(len > 60)) {
        const uint32_t nb = len - 60;
        if (UNLIKELY(nb > (size_t)(ip_end - ip))) return E_TRUNCATED;
        /* load32 may read past ip_end into slack; the mask keeps only the nb length bytes. */
        const uint32_t lm1 = load32(ip) & (0xffffffffu >> (32 - 8 * nb));
        ip += nb;
        if (UNLIKELY(lm1 >= (size_t)(op_end - op))) OVERRUN();
        len = lm1 + 1;
      } else if (UNLIKELY(len > (size_t)(op_end - op))) {
        OVERRUN();
      }
      if (UNLIKELY(len > (size_t)(ip_end - ip))) return E_TRUNCATED;
      if (len <= 64) {
        for (uint32_t i = 0; i < len; i += 16) copy16(op + i, ip + i);
      } else {
        __builtin_memcpy(op, ip, len);
      }
      op += len;
      ip += len;
      continue;
    }

    uint32_t len, off;
    const uint32_t kind = tag & 3;
    if (kind == 1) {
      if (UNLIKELY(ip >= ip_end)) return E_TRUNCATED;
      len = ((tag >> 2) & 7) + 4;
      off = ((tag >> 5) << 8) | *ip++;
    } else if (kind == 2) {
      if (UNLIKELY((size_t)(ip_end - ip) < 2)) return E_TRUNCATED;
      len = (tag >> 2) + 1;
      off = load16(ip);
      ip += 2;
    } else {
      if (UNLIKELY((size_t)(ip_end - ip) < 4)) return E_TRUNCATED;
      len = (tag >> 2) + 1;
      off = load32(ip);
      ip += 4;
    }
    if (UNLIKELY(off - 1 >= (size_t)(op - op_start))) return E_CORRUPT; /* off == 0 wraps */
    if (UNLIKELY(len > (size_t)(op_end - op))) OVERRUN();
    const uint8_t *src = op - off;
    if (LIKELY(off >= 16)) {
      /* The source is at least 16 bytes behind, so each 16-byte step reads finished bytes. */
      for (uint32_t i = 0; i < len; i += 16) copy16(op + i, src + i);
    } else {
      copy_short_offset(op, off, len);
    }
    op += len;
  }
  /* The input ended cleanly; anything short of the declared length is missing data. */
  return op == op_end ? 0 : E_TRUNCATED;
}

/* Decodes one raw block [ip, ip_end) into op, at most out_left bytes. Returns the decoded length
 * or an error. */
static int64_t decode_block(const uint8_t *ip, const uint8_t *ip_end, uint8_t *op, size_t out_left) {
  uint32_t declared;
  int r = read_varint32(&ip, ip_end, &declared);
  if (r < 0) return r;
  if (declared > out_left) return E_CORRUPT;
  r = decode_elements(ip, ip_end, op, op + declared);
  return r < 0 ? r : (int64_t)declared;
}

/* Walks the xerial chunks of [in, end), calling back per raw block. Shared by the size query and
 * the decoder so both read the same grammar. */
typedef int64_t (*chunk_fn)(const uint8_t *block, const uint8_t *block_end, void *ctx);

static int64_t walk_xerial(const uint8_t *in, const uint8_t *end, chunk_fn fn, void *ctx) {
  if ((size_t)(end - in) < XERIAL_HEADER) return E_TRUNCATED;
  const uint8_t *p = in + XERIAL_HEADER;
  while (p < end) {
    if ((size_t)(end - p) < 4) return E_TRUNCATED;
    const uint32_t clen = load_be32(p);
    p += 4;
    if (clen == XERIAL_MAGIC_HEAD) {
      /* Another stream's header: the rest of the magic, then version and compat. */
      if ((size_t)(end - p) < XERIAL_HEADER - 4) return E_TRUNCATED;
      if (load32(p) != load32(XERIAL_MAGIC + 4)) return E_CORRUPT;
      p += XERIAL_HEADER - 4;
      continue;
    }
    if (clen == 0 || clen > 0x7fffffffu) return E_CORRUPT; /* snappy-java rejects these too */
    if (clen > (size_t)(end - p)) return E_TRUNCATED;
    const int64_t r = fn(p, p + clen, ctx);
    if (r < 0) return r;
    p += clen;
  }
  return 0;
}

static int64_t add_declared(const uint8_t *block, const uint8_t *block_end, void *ctx) {
  uint32_t declared;
  int r = read_varint32(&block, block_end, &declared);
  if (r < 0) return r;
  *(double *)ctx += declared;
  return 0;
}

/* The decompressed size of an input (raw block or xerial stream) from its length headers alone,
 * or a negative error code. A double because a xerial sum can pass 2^32. */
EXPORT double snappy_decoded_size(const uint8_t *in, uint32_t n) {
  const uint8_t *end = in + n;
  if (is_xerial(in, n)) {
    double total = 0;
    const int64_t r = walk_xerial(in, end, add_declared, &total);
    return r < 0 ? (double)r : total;
  }
  uint32_t declared;
  const int r = read_varint32(&in, end, &declared);
  return r < 0 ? (double)r : (double)declared;
}

struct decode_ctx {
  uint8_t *op;
  uint8_t *op_end;
};

static int64_t decode_chunk(const uint8_t *block, const uint8_t *block_end, void *ctx) {
  struct decode_ctx *c = ctx;
  const int64_t r = decode_block(block, block_end, c->op, (size_t)(c->op_end - c->op));
  if (r < 0) return r;
  c->op += r;
  return 0;
}

/* Decodes a raw block or a whole xerial stream into out, which must receive exactly out_len bytes
 * (the value snappy_decoded_size reported). Returns 0 or a negative error code. */
EXPORT int32_t snappy_decompress(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t out_len) {
  const uint8_t *end = in + n;
  if (is_xerial(in, n)) {
    struct decode_ctx c = {out, out + out_len};
    const int64_t r = walk_xerial(in, end, decode_chunk, &c);
    if (r < 0) return (int32_t)r;
    return c.op == c.op_end ? 0 : E_CORRUPT;
  }
  const int64_t r = decode_block(in, end, out, out_len);
  if (r < 0) return (int32_t)r;
  return r == out_len ? 0 : E_CORRUPT;
}

/* ---- compressor ---- */

#define MAX_HASH_BITS 14
#define FRAGMENT 65536u
/* Inputs shorter than this are emitted as one literal: a match needs 4 bytes and the scanner keeps
 * a margin for its 8-byte loads. */
#define MIN_MATCH_INPUT 16

static uint16_t hash_table[1 << MAX_HASH_BITS];

static inline uint32_t hash4(uint32_t x, uint32_t shift) { return (x * 0x1e35a7bdu) >> shift; }

static uint8_t *emit_literal(uint8_t *op, const uint8_t *src, uint32_t len) {
  const uint32_t n = len - 1;
  if (n < 60) {
    *op++ = (uint8_t)(n << 2);
  } else {
    uint32_t nb = n < (1u << 8) ? 1 : n < (1u << 16) ? 2 : n < (1u << 24) ? 3 : 4;
    *op++ = (uint8_t)((59 + nb) << 2);
    for (uint32_t i = 0; i < nb; i++) *op++ = (uint8_t)(n >> (8 * i));
  }
  if (len <= 64) {
    /* Short literals: 16-byte wild copies into the output slack beat a memory.copy call. */
    for (uint32_t i = 0; i < len; i += 16) copy16(op + i, src + i);
  } else {
    __builtin_memcpy(op, src, len);
  }
  return op + len;
}

/* offset < 65536 (one fragment), len >= 4. */
static uint8_t *emit_copy(uint8_t *op, uint32_t offset, uint32_t len) {
  while (len >= 68) {
    *op++ = (63 << 2) | 2;
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
    len -= 64;
  }
  if (len > 64) { /* leave at least 4 for the last copy */
    *op++ = (59 << 2) | 2;
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    *op++ = (uint8_t)(1 | ((len - 4) << 2) | ((offset >> 8) << 5));
    *op++ = (uint8_t)offset;
  } else {
    *op++ = (uint8_t)(2 | ((len - 1) << 2));
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
  }
  return op;
}

/* Bytes equal at a and b, up to limit - b (a < b). */
static inline uint32_t match_length(const uint8_t *a, const uint8_t *b, const uint8_t *limit) {
  const uint8_t *start = b;
  while ((size_t)(limit - b) >= 8) {
    const uint64_t x = load64(a) ^ load64(b);
    if (x) return (uint32_t)(b - start) + (uint32_t)(__builtin_ctzll(x) >> 3);
    a += 8;
    b += 8;
  }
  while (b < limit && *a == *b) {
    a++;
    b++;
  }
  return (uint32_t)(b - start);
}

/* Compresses one fragment (n <= 64 KiB) to Snappy elements, greedily: hash 4-byte sequences,
 * skip faster through input that does not match (one step more every 32 misses), and extend
 * each match as far as it goes. */
static uint8_t *compress_fragment(const uint8_t *const in, const uint32_t n, uint8_t *op) {
  const uint8_t *ip = in;
  const uint8_t *const ip_end = in + n;
  const uint8_t *next_emit = in;
  if (n >= MIN_MATCH_INPUT) {
    uint32_t bits = 8;
    while (bits < MAX_HASH_BITS && (1u << bits) < n) bits++;
    const uint32_t shift = 32 - bits;
    __builtin_memset(hash_table, 0, sizeof(uint16_t) << bits);
    const uint8_t *const ip_limit = ip_end - 15;
    uint32_t next_hash = hash4(load32(++ip), shift);
    for (;;) {
      uint32_t skip = 32;
      const uint8_t *next_ip = ip;
      const uint8_t *candidate;
      do {
        ip = next_ip;
        const uint32_t h = next_hash;
        next_ip = ip + (skip++ >> 5);
        if (UNLIKELY(next_ip > ip_limit)) goto remainder;
        next_hash = hash4(load32(next_ip), shift);
        candidate = in + hash_table[h];
        hash_table[h] = (uint16_t)(ip - in);
      } while (load32(ip) != load32(candidate));

      op = emit_literal(op, next_emit, (uint32_t)(ip - next_emit));
      for (;;) {
        const uint8_t *base = ip;
        const uint32_t matched = 4 + match_length(candidate + 4, ip + 4, ip_end);
        ip += matched;
        op = emit_copy(op, (uint32_t)(base - candidate), matched);
        next_emit = ip;
        if (UNLIKELY(ip >= ip_limit)) goto remainder;
        /* Index the position before ip, and try ip itself as the start of the next match. */
        const uint64_t x = load64(ip - 1);
        hash_table[hash4((uint32_t)x, shift)] = (uint16_t)(ip - 1 - in);
        const uint32_t h = hash4((uint32_t)(x >> 8), shift);
        candidate = in + hash_table[h];
        hash_table[h] = (uint16_t)(ip - in);
        if ((uint32_t)(x >> 8) != load32(candidate)) {
          next_hash = hash4((uint32_t)(x >> 16), shift);
          ip++;
          break;
        }
      }
    }
  }
remainder:
  if (next_emit < ip_end) op = emit_literal(op, next_emit, (uint32_t)(ip_end - next_emit));
  return op;
}

static uint8_t *write_varint32(uint8_t *op, uint32_t v) {
  while (v >= 0x80) {
    *op++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *op++ = (uint8_t)v;
  return op;
}

/* Worst-case size of one raw block of n bytes: varint + n literal bytes + a literal tag of at most
 * 5 bytes per 64 KiB fragment, rounded up generously (Snappy's own bound is 32 + n + n/6). */
EXPORT uint32_t snappy_max_block(uint32_t n) { return 32 + n + n / 6; }

static uint8_t *compress_block(const uint8_t *in, uint32_t n, uint8_t *op) {
  op = write_varint32(op, n);
  for (uint32_t pos = 0; pos < n; pos += FRAGMENT) {
    const uint32_t len = n - pos < FRAGMENT ? n - pos : FRAGMENT;
    op = compress_fragment(in + pos, len, op);
  }
  return op;
}

/* Compresses [in, in+n) to a xerial stream with chunks of block_size input bytes (the Java
 * client's SnappyOutputStream default is 32 KiB). out needs
 * 16 + ceil(n / block_size) * (4 + snappy_max_block(block_size)) bytes plus SNAPPY_SLACK (literals
 * are copied 16 bytes at a time). Returns the bytes written. */
EXPORT uint32_t snappy_compress_xerial(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t block_size) {
  uint8_t *op = out;
  __builtin_memcpy(op, XERIAL_MAGIC, 8);
  store_be32(op + 8, 1);  /* version */
  store_be32(op + 12, 1); /* minimum compatible version */
  op += XERIAL_HEADER;
  for (uint32_t pos = 0; pos < n; pos += block_size) {
    const uint32_t len = n - pos < block_size ? n - pos : block_size;
    uint8_t *end = compress_block(in + pos, len, op + 4);
    store_be32(op, (uint32_t)(end - (op + 4)));
    op = end;
  }
  return (uint32_t)(op - out);
}
