/* Shared by the freestanding wasm32 kernels: fixed-width types and the few libc pieces clang may
 * call (it lowers memcpy/memset to bulk-memory instructions with -mbulk-memory). */
#ifndef KAFKA_ARENA_COMMON_H
#define KAFKA_ARENA_COMMON_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef signed int int32_t;
typedef signed long long int64_t;
typedef unsigned long size_t;

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline uint32_t load32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t load64(const uint8_t *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline uint16_t load16(const uint8_t *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static inline void store32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void store64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);

#endif
