#ifndef KINERJA_CLMDB_SHIM_H
#define KINERJA_CLMDB_SHIM_H
#include <lmdb.h>
#include <stdint.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/// Asks the CPU to bring the 4 KiB page holding `address` into its caches (a scan of the
/// records reads every byte of each leaf page; fetched a line at a time, each record's first
/// read waited on memory).
static inline void kinerja_prefetch_page(const void *address) {
    const char *page = (const char *)((uintptr_t)address & ~(uintptr_t)4095);
    for (int offset = 0; offset < 4096; offset += 64) __builtin_prefetch(page + offset, 0, 3);
}

/// Returns the free pages of every malloc arena to the system (glibc's `malloc_trim`); a no-op
/// elsewhere.
static inline void kinerja_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
#endif
