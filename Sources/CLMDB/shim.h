#ifndef KINERJA_CLMDB_SHIM_H
#define KINERJA_CLMDB_SHIM_H
#include <lmdb.h>
#include <stdint.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  /* Linux 5.14; older C libraries' headers lack it */
#endif
#endif
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

/// Asks the CPU to bring the cache line holding `address` into its caches.
static inline void kinerja_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Populates the page tables of `length` bytes of a read-only file mapping from `address` (a
/// multiple of the page size): each page is faulted in now, read from the disk if it is not in
/// the page cache, so that later reads of the mapping take no page fault. Returns 0, or the
/// errno of `madvise(MADV_POPULATE_READ)` (EINVAL before Linux 5.14; ENOSYS off Linux).
static inline int kinerja_populate_read(void *address, size_t length) {
#ifdef __linux__
    return madvise(address, length, MADV_POPULATE_READ) == 0 ? 0 : errno;
#else
    (void)address; (void)length;
    return ENOSYS;
#endif
}

/// Maps `size` bytes (a multiple of 2 MiB, at least 2 MiB) of fresh zeroed memory aligned to
/// 2 MiB and, on Linux, advised to be backed by huge pages (where `transparent_hugepage` is
/// `madvise` or `always`): a block read in no particular order then takes one TLB entry and one
/// page fault per 2 MiB instead of 512. Its own mapping, not malloc's: glibc's free of a large
/// block raises its mmap threshold, and later blocks came from the heap, advised for huge pages
/// that stayed advised after free. NULL if it cannot be had (and always off Linux); unmap it
/// with ``kinerja_free_huge``.
static inline void *kinerja_allocate_huge(size_t size) {
#ifdef __linux__
    const size_t huge = (size_t)2 << 20;
    if (size == 0 || size % huge != 0 || size > SIZE_MAX - huge) return NULL;
    // 2 MiB more than asked, the head before the first 2 MiB boundary and the tail after the
    // block unmapped (mmap's addresses are page-aligned: both are whole pages).
    char *mapped = mmap(NULL, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return NULL;
    char *block = (char *)(((uintptr_t)mapped + huge - 1) & ~(uintptr_t)(huge - 1));
    size_t head = (size_t)(block - mapped);
    if (head > 0) (void)munmap(mapped, head);
    (void)munmap(block + size, huge - head);
    (void)madvise(block, size, MADV_HUGEPAGE);
    return block;
#else
    (void)size;
    return NULL;
#endif
}

/// Unmaps `block`, of `size` bytes, from ``kinerja_allocate_huge``.
static inline void kinerja_free_huge(void *block, size_t size) {
#ifdef __linux__
    (void)munmap(block, size);
#else
    (void)block; (void)size;
#endif
}

/// Returns the free pages of every malloc arena to the system (glibc's `malloc_trim`); a no-op
/// elsewhere.
static inline void kinerja_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/// The first page LMDB 0.9's write transaction `txn` has not allocated (`mt_next_pgno`, the
/// third field of the private `struct MDB_txn` in mdb.c, after `mt_parent` and `mt_child`;
/// `pgno_t` is a `size_t`): LMDB allocates a transaction's pages from the pages it freed, all
/// below it, or at it, advancing it, so every page the transaction has written is below it.
/// LMDB has no call for it: callers check that it is `mdb_env_info`'s last page + 1 when the
/// transaction begins (the value LMDB sets it to) before they trust it.
static inline size_t kinerja_txn_next_page(MDB_txn *txn) {
    struct kinerja_txn_prefix { void *parent; void *child; size_t next_pgno; };
    return ((const struct kinerja_txn_prefix *)(const void *)txn)->next_pgno;
}
#endif
