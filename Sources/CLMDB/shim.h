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

/// Allocates `size` bytes (a multiple of 2 MiB, at least 2 MiB) aligned to 2 MiB and, on Linux,
/// advised to be backed by huge pages (where `transparent_hugepage` is `madvise` or `always`): a
/// block read in no particular order then takes one TLB entry and one page fault per 2 MiB
/// instead of 512. NULL if it cannot be had; free it with `free`.
static inline void *kinerja_allocate_huge(size_t size) {
    void *block = NULL;
    if (posix_memalign(&block, (size_t)2 << 20, size) != 0) return NULL;
#ifdef __linux__
    (void)madvise(block, size, MADV_HUGEPAGE);
#endif
    return block;
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
