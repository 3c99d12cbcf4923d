/*
 * libc.h — the four C library functions the platform provides (the ones a
 * freestanding C environment must have; the freestanding modules use them).
 */
#ifndef VFS_BM_LIBC_H
#define VFS_BM_LIBC_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
