/* LZ4 frame decoder and encoder, and xxHash32, for wasm32 (Kafka compression type 3).
 *
 * Exports (pointers are offsets into this module's memory; JS lays buffers out above __heap_base):
 *   double lz4_frames_size(src, len, scan)          bound/exact size of all frames, or a negative error
 *   int    lz4_size_flags(void)                     bit 0 exact, bit 1 content size inconsistent
 *   double lz4_frames_decode(src, len, dst, cap)    decoded length, or a negative error
 *   uint32 lz4_compress_bound(len)
 *   uint32 lz4_compress_frame(src, len, dst, level, checksum) frame length
 *   uint32 lz4_xxh32(src, len, seed)
 *
 * Memory contract: the decoder copies 16 bytes at a time ("wild copies") where that is faster than an
 * exact copy. Every LOGICAL read and write is bounds-checked against the block/output limits; the
 * wild copies may read up to SLACK bytes past the end of the input and write up to SLACK bytes past
 * `dst + cap`, so the caller leaves SLACK spare bytes after both buffers (the JS layout does). With
 * that, corrupt input can never touch memory outside the caller's buffers plus slack.
 */
#include "common.h"
#ifdef __wasm__
#include "libc.h"
#include <wasm_simd128.h>
#else
/* Native build, only for fuzzing this file under AddressSanitizer: portable stand-ins for the few
 * SIMD operations used. */
typedef struct { uint8_t b[16]; } v128_t;
static inline v128_t wasm_v128_load(const void *p) { v128_t v; __builtin_memcpy(&v, p, 16); return v; }
static inline void wasm_v128_store(void *p, v128_t v) { __builtin_memcpy(p, &v, 16); }
static inline v128_t wasm_i8x16_swizzle(v128_t a, v128_t idx) {
  v128_t r;
  for (int i = 0; i < 16; i++) r.b[i] = idx.b[i] < 16 ? a.b[idx.b[i]] : 0;
  return r;
}
#endif

#include "overlap.h"

#define SLACK 64

enum {
  E_TRUNCATED = -1,   /* input ends inside a frame */
  E_CORRUPT = -2,     /* malformed frame or block */
  E_CHECKSUM = -3,    /* header, block or content checksum mismatch */
  E_UNSUPPORTED = -4, /* dictionary id */
  E_TRAILING = -6,    /* bytes after the last frame that are not a frame */
  E_OVERFLOW = -7,    /* output would exceed `cap` */
};

#define MAGIC 0x184D2204u
#define SKIPPABLE_MASK 0xFFFFFFF0u
#define SKIPPABLE_MAGIC 0x184D2A50u

/* ------------------------------------------------------------------------------------------------
 * xxHash32 (seed, little-endian lanes). Scalar: the four lanes' multiply chains run in parallel on
 * the CPU's integer units, which beats i32x4.mul's latency on x86.
 */
#define P1 2654435761u
#define P2 2246822519u
#define P3 3266489917u
#define P4 668265263u
#define P5 374761393u

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t xround(uint32_t acc, uint32_t in) { return rotl32(acc + in * P2, 13) * P1; }

typedef struct { uint32_t v1, v2, v3, v4; } XxhLanes;

static inline void xxh_init(XxhLanes *s, uint32_t seed) {
  s->v1 = seed + P1 + P2; s->v2 = seed + P2; s->v3 = seed; s->v4 = seed - P1;
}

/* Consumes whole 16-byte stripes from p (n is a multiple of 16). */
static void xxh_stripes(XxhLanes *s, const uint8_t *p, uint32_t n) {
  uint32_t v1 = s->v1, v2 = s->v2, v3 = s->v3, v4 = s->v4;
  const uint8_t *end = p + n;
  while (p < end) {
    v1 = xround(v1, load32(p)); v2 = xround(v2, load32(p + 4));
    v3 = xround(v3, load32(p + 8)); v4 = xround(v4, load32(p + 12));
    p += 16;
  }
  s->v1 = v1; s->v2 = v2; s->v3 = v3; s->v4 = v4;
}

/* Final hash of `total` bytes whose whole stripes went through `s`; `tail` holds the last total%16. */
static uint32_t xxh_finish(const XxhLanes *s, uint32_t seed, uint64_t total, const uint8_t *tail) {
  uint32_t h = total >= 16 ? rotl32(s->v1, 1) + rotl32(s->v2, 7) + rotl32(s->v3, 12) + rotl32(s->v4, 18)
                           : seed + P5;
  h += (uint32_t)total;
  uint32_t rem = (uint32_t)(total & 15);
  const uint8_t *p = tail, *end = tail + rem;
  while (end - p >= 4) { h = rotl32(h + load32(p) * P3, 17) * P4; p += 4; }
  while (p < end) { h = rotl32(h + (*p++) * P5, 11) * P1; }
  h ^= h >> 15; h *= P2; h ^= h >> 13; h *= P3; h ^= h >> 16;
  return h;
}

static uint32_t xxh32(const uint8_t *p, uint32_t len, uint32_t seed) {
  XxhLanes s;
  xxh_init(&s, seed);
  uint32_t whole = len & ~15u;
  xxh_stripes(&s, p, whole);
  return xxh_finish(&s, seed, len, p + whole);
}

EXPORT uint32_t lz4_xxh32(const uint8_t *p, uint32_t len, uint32_t seed) { return xxh32(p, len, seed); }

/* ------------------------------------------------------------------------------------------------
 * Frame header.
 *   magic   u32le 0x184D2204
 *   FLG     u8    version(7-6)=01 | B.Indep(5) | B.Checksum(4) | C.Size(3) | C.Checksum(2) | 0(1) | DictID(0)
 *   BD      u8    0(7) | B.MaxSize(6-4) in 4..7 => 64 KiB, 256 KiB, 1 MiB, 4 MiB | 0(3-0)
 *   [C.Size u64le] [DictID u32le]
 *   HC      u8    (xxh32(FLG .. last descriptor byte, 0) >> 8) & 0xFF
 * then blocks:
 *   size    u32le high bit = stored uncompressed, low 31 bits = data length (<= B.MaxSize); 0 = EndMark
 *   data    [size]
 *   [xxh32(data) u32le when B.Checksum]
 * then [xxh32(all decoded content) u32le when C.Checksum].
 * Skippable frame: magic 0x184D2A50..5F, u32le size, size bytes.
 */
typedef struct {
  uint32_t flg;
  uint32_t bmax;
  uint32_t hlen;      /* bytes from magic to first block header */
  uint64_t csize;
} FrameHeader;

#define FLG_INDEP 0x20u
#define FLG_BCHECK 0x10u
#define FLG_CSIZE 0x08u
#define FLG_CCHECK 0x04u
#define FLG_DICT 0x01u

/* p points at the magic; avail bytes from p. */
static int parse_header(const uint8_t *p, uint32_t avail, FrameHeader *h) {
  if (avail < 7) return E_TRUNCATED;
  uint32_t flg = p[4], bd = p[5];
  if ((flg >> 6) != 1 || (flg & 0x02) != 0) return E_CORRUPT;
  if ((bd & 0x8F) != 0) return E_CORRUPT;
  uint32_t id = (bd >> 4) & 7;
  if (id < 4) return E_CORRUPT;
  uint32_t n = 2 + ((flg & FLG_CSIZE) ? 8 : 0) + ((flg & FLG_DICT) ? 4 : 0);
  if (avail < 4 + n + 1) return E_TRUNCATED;
  if (((xxh32(p + 4, n, 0) >> 8) & 0xFF) != p[4 + n]) return E_CHECKSUM;
  if (flg & FLG_DICT) return E_UNSUPPORTED;
  h->flg = flg;
  h->bmax = 1u << (2 * id + 8);
  h->hlen = 4 + n + 1;
  h->csize = (flg & FLG_CSIZE) ? load64(p + 6) : 0;
  return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Block format: a sequence of
 *   token   u8    literal length (7-4) | match length - 4 (3-0); 15 means "add the next bytes":
 *   [lit ext bytes: each adds 0..255, a byte < 255 ends the run]
 *   literals [literal length]
 *   offset  u16le 1..65535, distance back into the output (absent in the last sequence)
 *   [match ext bytes, as for literals]
 * The block ends right after the literals of its last sequence.
 */

/*
 * The frame walk both passes share: at src[*pos] comes a skippable frame (skipped here, returns 0),
 * an LZ4 frame (its header parsed into h and *pos moved past it, returns 1), or an error.
 */
static int next_frame(const uint8_t *src, uint32_t len, uint32_t *pos, uint32_t *frames, FrameHeader *h) {
  uint32_t avail = len - *pos;
  if (avail < 4) return *frames ? E_TRAILING : E_TRUNCATED;
  uint32_t magic = load32(src + *pos);
  if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
    if (avail < 8) return E_TRUNCATED;
    uint32_t sz = load32(src + *pos + 4);
    if (sz > avail - 8) return E_TRUNCATED;
    *pos += 8 + sz;
    (*frames)++;
    return 0;
  }
  if (magic != MAGIC) return *frames ? E_TRAILING : E_CORRUPT;
  int r = parse_header(src + *pos, avail, h);
  if (r < 0) return r;
  *pos += h->hlen;
  return 1;
}

/* Adds a length's extension bytes (255, 255, ..., last < 255) to *len; 0 when input runs out. */
static inline int add_length_bytes(const uint8_t **ip, const uint8_t *iend, uint64_t *len) {
  uint32_t b;
  do {
    if (*ip >= iend) return 0;
    b = *(*ip)++;
    *len += b;
  } while (b == 255);
  return 1;
}

/* Exact decoded length of one block by walking its tokens without copying (cheap: reads the
 * compressed bytes once). Used to size outputs whose block headers give only a loose bound. */
static int64_t scan_block(const uint8_t *ip, const uint8_t *iend, uint32_t bmax) {
  uint64_t out = 0;
  for (;;) {
    if (ip >= iend) return E_CORRUPT;
    uint32_t token = *ip++;
    uint64_t lit = token >> 4;
    if (lit == 15 && !add_length_bytes(&ip, iend, &lit)) return E_CORRUPT;
    if (lit > (uint64_t)(iend - ip)) return E_CORRUPT;
    ip += lit;
    out += lit;
    if (ip == iend) break;
    if (iend - ip < 2) return E_CORRUPT;
    ip += 2;
    uint64_t ml = token & 15;
    if (ml == 15 && !add_length_bytes(&ip, iend, &ml)) return E_CORRUPT;
    out += ml + 4;
    if (out > bmax) return E_CORRUPT;
  }
  if (out > bmax) return E_CORRUPT;
  return (int64_t)out;
}

static int g_exact;

/*
 * Walks every frame in src[0..len) reading only headers (and, with `scan`, the tokens of blocks in
 * frames without a content size). Returns the total decoded size: exact for frames with a content
 * size or when scanning, else the sum of B.MaxSize per compressed block plus the stored block
 * sizes. Negative = error. Validates structure: magic, descriptor, header checksum, block sizes,
 * truncation and trailing bytes.
 */
EXPORT double lz4_frames_size(const uint8_t *src, uint32_t len, int scan) {
  uint32_t pos = 0, frames = 0;
  uint64_t total = 0;
  int exact = 1, inconsistent = 0;
  while (pos < len) {
    FrameHeader h;
    int r = next_frame(src, len, &pos, &frames, &h);
    if (r < 0) return r;
    if (r == 0) continue;
    uint32_t bcheck = (h.flg & FLG_BCHECK) ? 4 : 0;
    int sized = (h.flg & FLG_CSIZE) != 0;
    uint64_t fbound = 0;
    for (;;) {
      if (len - pos < 4) return E_TRUNCATED;
      uint32_t bs = load32(src + pos);
      pos += 4;
      if (bs == 0) break;
      uint32_t sz = bs & 0x7FFFFFFFu;
      if (sz > h.bmax) return E_CORRUPT;
      if ((uint64_t)sz + bcheck > len - pos) return E_TRUNCATED;
      if (bs & 0x80000000u) {
        fbound += sz;
      } else if (scan && !sized) {
        int64_t n = scan_block(src + pos, src + pos + sz, h.bmax);
        if (n < 0) return (double)n;
        fbound += (uint64_t)n;
      } else {
        fbound += h.bmax;
      }
      pos += sz + bcheck;
    }
    if (h.flg & FLG_CCHECK) {
      if (len - pos < 4) return E_TRUNCATED;
      pos += 4;
    }
    if (sized) {
      /* A content size the blocks cannot reach is a lie; reported after the limit check in JS. */
      if (h.csize > fbound) inconsistent = 1;
      total += h.csize;
    } else {
      total += fbound;
      if (!scan) exact = 0;
    }
    frames++;
  }
  if (frames == 0) return E_TRUNCATED;
  g_exact = exact | (inconsistent << 1);
  return (double)total;
}

/* Bit 0: the last lz4_frames_size was exact. Bit 1: a frame's content size exceeds what its
 * blocks can decode to (corrupt). */
EXPORT int lz4_size_flags(void) { return g_exact; }

/* ------------------------------------------------------------------------------------------------
 * Block decoder. Writes into [op, oend); matches may reach back to `low` (the block start for
 * independent blocks, the frame start for linked blocks). Returns the new op, or NULL with *err.
 */

static uint8_t *decode_block(const uint8_t *ip, const uint8_t *iend, uint8_t *op, uint8_t *oend,
                             const uint8_t *low, int *err) {
  for (;;) {
    if (UNLIKELY(ip >= iend)) goto corrupt;
    uint32_t token = *ip++;
    uint32_t lit = token >> 4;
    uint32_t off, ml;
    const uint8_t *m;
    if (LIKELY(lit < 15 && (uint32_t)(iend - ip) >= 18 && (uint32_t)(oend - op) >= 32)) {
      /* Shortcut, far from both ends: the literals (<= 14) and the offset are surely inside the
       * block, so this is not the last sequence, and a short match surely fits the output. */
      copy16(op, ip);
      op += lit;
      ip += lit;
      off = load16(ip);
      ip += 2;
      /* off == 0 wraps to 0xFFFFFFFF: one compare rejects it and offsets before `low`. */
      if (UNLIKELY(off - 1 >= (uint32_t)(op - low))) goto corrupt;
      ml = token & 15;
      m = op - off;
      if (LIKELY(ml < 15 && off >= 16)) {
        /* <= 18 bytes: two unconditional 16-byte copies, no loop to mispredict. When off < 32 the
         * second copy reads bytes the first just wrote, which is exactly the LZ77 semantics. */
        copy16(op, m);
        copy16(op + 16, m + 16);
        op += ml + 4;
        continue;
      }
    } else {
      if (LIKELY(lit < 15)) {
        if (UNLIKELY(lit > (uint32_t)(iend - ip))) goto corrupt;
        if (UNLIKELY(lit > (uint32_t)(oend - op))) goto overflow;
        copy16(op, ip);
      } else {
        uint32_t b;
        do {
          if (UNLIKELY(ip >= iend)) goto corrupt;
          b = *ip++;
          lit += b;
          /* The run must fit in the rest of the block: stop counting before u32 overflow. */
          if (UNLIKELY(lit > (uint32_t)(iend - ip))) goto corrupt;
        } while (b == 255);
        if (UNLIKELY(lit > (uint32_t)(oend - op))) goto overflow;
        if (lit <= 64) {
          uint8_t *d = op, *de = op + lit;
          const uint8_t *s = ip;
          do { copy16(d, s); d += 16; s += 16; } while (d < de);
        } else {
          memcpy(op, ip, lit);
        }
      }
      op += lit;
      ip += lit;
      if (UNLIKELY(ip == iend)) break; /* last sequence: literals only */
      if (UNLIKELY(iend - ip < 2)) goto corrupt;
      off = load16(ip);
      ip += 2;
      if (UNLIKELY(off - 1 >= (uint32_t)(op - low))) goto corrupt;
      ml = token & 15;
      m = op - off;
    }
    if (UNLIKELY(ml == 15)) {
      uint32_t b;
      uint32_t room = (uint32_t)(oend - op);
      do {
        if (UNLIKELY(ip >= iend)) goto corrupt;
        b = *ip++;
        ml += b;
        if (UNLIKELY(ml > room)) goto overflow;
      } while (b == 255);
    }
    ml += 4;
    if (UNLIKELY(ml > (uint32_t)(oend - op))) goto overflow;
    uint8_t *mend = op + ml;
    if (LIKELY(off >= 16)) {
      /* Each 16-byte chunk reads bytes at least 16 behind where it writes, all already written. */
      copy16(op, m);
      copy16(op + 16, m + 16);
      if (ml > 32) {
        if (ml > 256 && off >= ml) {
          memcpy(op, m, ml); /* no overlap: one memory.copy */
        } else {
          uint8_t *d = op + 32;
          const uint8_t *s = m + 32;
          do { copy16(d, s); d += 16; s += 16; } while (d < mend);
        }
      }
    } else if (off == 1 && ml > 64) {
      memset(op, *m, ml);
    } else {
      /* Overlapping short offset: replicate the `off` bytes before op with a byte shuffle. */
      copy_short_offset(op, off, ml);
    }
    op = mend;
  }
  return op;
corrupt:
  *err = E_CORRUPT;
  return 0;
overflow:
  *err = E_OVERFLOW;
  return 0;
}

/*
 * Decodes every frame in src[0..len) into dst[0..cap) (caller sized cap from lz4_frames_size and
 * leaves SLACK spare bytes after src + len and after dst + cap). Verifies header, block and
 * content checksums and the content size. Returns the decoded length or a negative error;
 * E_OVERFLOW when the content does not fit in cap.
 */
EXPORT double lz4_frames_decode(const uint8_t *src, uint32_t len, uint8_t *dst, uint32_t cap) {
  uint32_t pos = 0, frames = 0;
  uint8_t *op = dst, *oend = dst + cap;
  int err = 0;
  while (pos < len) {
    FrameHeader h;
    int r = next_frame(src, len, &pos, &frames, &h);
    if (r < 0) return r;
    if (r == 0) continue;
    int bcheck = (h.flg & FLG_BCHECK) != 0;
    int ccheck = (h.flg & FLG_CCHECK) != 0;
    int linked = (h.flg & FLG_INDEP) == 0;
    uint8_t *fstart = op;
    /* Content hash runs block by block, while the block's output is still in cache. */
    XxhLanes xs;
    xxh_init(&xs, 0);
    uint8_t *hashed = op;
    for (;;) {
      if (len - pos < 4) return E_TRUNCATED;
      uint32_t bs = load32(src + pos);
      pos += 4;
      if (bs == 0) break;
      uint32_t sz = bs & 0x7FFFFFFFu;
      if (sz > h.bmax) return E_CORRUPT;
      if ((uint64_t)sz + (bcheck ? 4 : 0) > len - pos) return E_TRUNCATED;
      const uint8_t *ip = src + pos;
      if (bcheck && xxh32(ip, sz, 0) != load32(ip + sz)) return E_CHECKSUM;
      if (bs & 0x80000000u) {
        if (sz > (uint32_t)(oend - op)) return E_OVERFLOW;
        memcpy(op, ip, sz);
        op += sz;
      } else {
        /* A block decodes to at most B.MaxSize: past that it is corrupt, not merely too big. */
        uint32_t room = (uint32_t)(oend - op);
        int capped = room < h.bmax;
        uint8_t *bend = capped ? oend : op + h.bmax;
        uint8_t *next = decode_block(ip, ip + sz, op, bend, linked ? fstart : op, &err);
        if (!next) return (err == E_OVERFLOW && !capped) ? E_CORRUPT : err;
        op = next;
      }
      pos += sz + (bcheck ? 4 : 0);
      if (ccheck) {
        uint32_t whole = (uint32_t)(op - hashed) & ~15u;
        xxh_stripes(&xs, hashed, whole);
        hashed += whole;
      }
    }
    uint64_t produced = (uint64_t)(op - fstart);
    if ((h.flg & FLG_CSIZE) && produced != h.csize) return E_CORRUPT;
    if (ccheck) {
      if (len - pos < 4) return E_TRUNCATED;
      if (xxh_finish(&xs, 0, produced, hashed) != load32(src + pos)) return E_CHECKSUM;
      pos += 4;
    }
    frames++;
  }
  if (frames == 0) return E_TRUNCATED;
  return (double)(uint32_t)(op - dst);
}

/* ------------------------------------------------------------------------------------------------
 * Compressor: greedy LZ4 with a hash table of 4-byte sequences (LZ4 "fast" style, with the
 * skip-ahead acceleration on incompressible data). Level 1: 2^12-entry table. Level >= 2: up to
 * 2^16 entries (sized to the input) and no skip-ahead: a few percent smaller, slower on small
 * inputs. Writes 64 KiB independent blocks. The table holds positions relative to the input start
 * and is cleared per call, so output depends only on the input and level.
 */
#define BLOCK_SIZE 65536u
#define MINMATCH 4
#define MFLIMIT 12      /* the last match must start at least 12 bytes before the block end */
#define LASTLITERALS 5  /* the last 5 bytes are always literals */

static uint32_t htab[1 << 16];

static inline uint32_t hash4(uint32_t v, uint32_t shift) { return (v * 2654435761u) >> shift; }

static inline uint32_t count_match(const uint8_t *a, const uint8_t *b, const uint8_t *bend) {
  const uint8_t *start = b;
  while (bend - b >= 8) {
    uint64_t x = load64(a) ^ load64(b);
    if (x) return (uint32_t)(b - start) + (uint32_t)(__builtin_ctzll(x) >> 3);
    a += 8; b += 8;
  }
  while (b < bend && *a == *b) { a++; b++; }
  return (uint32_t)(b - start);
}

static inline uint8_t *put_len(uint8_t *op, uint32_t n) {
  while (n >= 255) { *op++ = 255; n -= 255; }
  *op++ = (uint8_t)n;
  return op;
}

/* Compresses src[0..n) (one block; `base` is the start of the whole input, which the hash table's
 * positions are relative to) into dst, stopping if the output would reach `limit` bytes. Returns
 * the compressed length, or 0 when it would not be smaller than `limit`. Writes may go up to 16
 * bytes past dst + limit (wild literal copies). */
static uint32_t compress_block(const uint8_t *base, const uint8_t *src, uint32_t n, uint8_t *dst,
                               uint32_t limit, uint32_t hlog, int accel) {
  const uint8_t *ip = src, *anchor = src, *end = src + n;
  uint8_t *op = dst, *olimit = dst + limit;
  uint32_t shift = 32 - hlog;
  if (n >= MFLIMIT + 1) {
    const uint8_t *mflimit = end - MFLIMIT, *matchlimit = end - LASTLITERALS;
    htab[hash4(load32(ip), shift)] = (uint32_t)(ip - base);
    ip++;
    for (;;) {
      /* Find a match: probe, record, skip ahead faster the longer nothing matches. */
      const uint8_t *ref;
      uint32_t attempts = 1u << 6;
      for (;;) {
        if (ip > mflimit) goto last;
        uint32_t v = load32(ip);
        uint32_t hv = hash4(v, shift);
        ref = base + htab[hv];
        htab[hv] = (uint32_t)(ip - base);
        if (ref >= src && ref < ip && ip - ref <= 65535 && load32(ref) == v) break;
        ip += accel ? (attempts++ >> 6) : 1;
      }
      /* Extend backwards over equal bytes not yet emitted. */
      while (ip > anchor && ref > src && ip[-1] == ref[-1]) { ip--; ref--; }
      for (;;) {
        uint32_t lit = (uint32_t)(ip - anchor);
        uint32_t ml = count_match(ref + MINMATCH, ip + MINMATCH, matchlimit);
        /* token + literal length bytes + literals + offset + match length bytes */
        if ((uint64_t)(op - dst) + 1 + lit / 255 + 1 + lit + 2 + ml / 255 + 1 > limit) return 0;
        uint8_t *tok = op++;
        if (lit >= 15) { *tok = 15 << 4; op = put_len(op, lit - 15); } else { *tok = (uint8_t)(lit << 4); }
        if (lit <= 16) copy16(op, anchor); else memcpy(op, anchor, lit);
        op += lit;
        uint32_t off = (uint32_t)(ip - ref);
        *op++ = (uint8_t)off; *op++ = (uint8_t)(off >> 8);
        if (ml >= 15) { *tok |= 15; op = put_len(op, ml - 15); } else { *tok |= (uint8_t)ml; }
        ip += ml + MINMATCH;
        anchor = ip;
        if (ip > mflimit) goto last;
        /* Fill the table at ip-2 and try an immediate match at ip (0-literal sequence). */
        htab[hash4(load32(ip - 2), shift)] = (uint32_t)(ip - 2 - base);
        uint32_t v = load32(ip);
        uint32_t hv = hash4(v, shift);
        ref = base + htab[hv];
        htab[hv] = (uint32_t)(ip - base);
        if (ref >= src && ref < ip && ip - ref <= 65535 && load32(ref) == v) continue;
        ip++;
        break;
      }
    }
  }
last: {
    uint32_t lit = (uint32_t)(end - anchor);
    if ((uint64_t)(op - dst) + 1 + lit / 255 + 1 + lit >= limit) return 0;
    uint8_t *tok = op++;
    if (lit >= 15) { *tok = 15 << 4; op = put_len(op, lit - 15); } else { *tok = (uint8_t)(lit << 4); }
    memcpy(op, anchor, lit);
    op += lit;
  }
  (void)olimit;
  return (uint32_t)(op - dst);
}

/* Frame bytes at most for `len` input bytes: header 15, 4 per block, raw data, EndMark 4, content
 * checksum 4, plus SLACK for wild copies. */
EXPORT uint32_t lz4_compress_bound(uint32_t len) {
  uint32_t blocks = (len + BLOCK_SIZE - 1) / BLOCK_SIZE;
  return 15 + blocks * 4 + len + 8 + SLACK;
}

/* Writes one LZ4 frame: 64 KiB independent blocks and the content size, as the Java client frames
 * them (it leaves the content size out; its reader and librdkafka's skip it). The content checksum
 * (xxh32 of everything) only when `checksum` is non-zero: neither Kafka client writes one, since
 * the batch CRC-32C already covers the compressed bytes, and verifying it costs readers about a
 * quarter of their decode time. */
EXPORT uint32_t lz4_compress_frame(const uint8_t *src, uint32_t len, uint8_t *dst, int level, int checksum) {
  uint32_t hlog = 12;
  if (level >= 2) {
    /* Up to one slot per input position (of a 64 KiB block): a smaller table to clear for small
     * inputs, which is most of what clearing costs. */
    hlog = 10;
    while (hlog < 16 && (1u << hlog) < len) hlog++;
  }
  memset(htab, 0, sizeof(uint32_t) << hlog);
  uint8_t *op = dst;
  store32(op, MAGIC);
  op[4] = 0x40 | FLG_INDEP | FLG_CSIZE | (checksum ? FLG_CCHECK : 0);
  op[5] = 0x40; /* 64 KiB blocks */
  store64(op + 6, (uint64_t)len);
  op[14] = (uint8_t)(xxh32(op + 4, 10, 0) >> 8);
  op += 15;
  for (uint32_t pos = 0; pos < len; pos += BLOCK_SIZE) {
    uint32_t n = len - pos < BLOCK_SIZE ? len - pos : BLOCK_SIZE;
    uint32_t c = compress_block(src, src + pos, n, op + 4, n, hlog, level < 2);
    if (c) {
      store32(op, c);
      op += 4 + c;
    } else {
      store32(op, n | 0x80000000u);
      memcpy(op + 4, src + pos, n);
      op += 4 + n;
    }
  }
  store32(op, 0);
  op += 4;
  if (checksum) {
    store32(op, xxh32(src, len, 0));
    op += 4;
  }
  return (uint32_t)(op - dst);
}
