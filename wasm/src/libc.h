/* Definitions of memcpy/memset/memmove for kernels that need them as symbols (include in exactly
 * one translation unit per module). They compile to memory.copy / memory.fill. */
#ifndef KAFKA_ARENA_LIBC_H
#define KAFKA_ARENA_LIBC_H
#include "common.h"
void *memcpy(void *dst, const void *src, size_t n) { __builtin_memmove(dst, src, n); return dst; }
void *memmove(void *dst, const void *src, size_t n) { __builtin_memmove(dst, src, n); return dst; }
void *memset(void *dst, int c, size_t n) { __builtin_memset(dst, c, n); return dst; }
#endif
