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

/// LMDB 0.9's private `struct MDB_txn` (mdb.c, the same from 0.9.14 to 0.9.31) up to `mt_dirty_room`: LMDB has
/// no calls for the two fields read and written below. Each use checks fields it can compare
/// with LMDB's public calls or with the values `mdb_txn_begin` gives them before it trusts it.
/// The room for dirty pages LMDB 0.9 gives a write transaction: its dirty list's size,
/// `MDB_IDL_UM_MAX` (midl.h, with the default `MDB_IDL_LOGN` of 16).
#define KINERJA_LMDB_DIRTY_ROOM 131071

struct kinerja_txn_layout {
    void *parent; void *child; size_t next_pgno; size_t txnid; MDB_env *env;
    void *free_pgs; void *loose_pgs; int loose_count; void *spill_pgs;
    size_t *dirty_list; void *dbxs; void *dbs; unsigned int *dbiseqs; void **cursors; unsigned char *dbflags;
    unsigned int numdbs; unsigned int flags; unsigned int dirty_room;
};

/// The first page LMDB 0.9's write transaction `txn` has not allocated (`mt_next_pgno`): LMDB
/// allocates a transaction's pages from the pages it freed, all below it, or at it, advancing
/// it, so every page the transaction has written is below it. Callers check that it is
/// `mdb_env_info`'s last page + 1 when the transaction begins (the value LMDB sets it to)
/// before they trust it.
static inline size_t kinerja_txn_next_page(MDB_txn *txn) {
    return ((const struct kinerja_txn_layout *)(const void *)txn)->next_pgno;
}

/// Lets LMDB 0.9's write transaction `txn`, just begun, keep about `pages` dirty pages in
/// memory (`mt_dirty_room`, which `mdb_txn_begin` sets to the dirty list's size, 131 071; at
/// least 64): before a put that could dirty more, LMDB writes the dirty pages no cursor stands
/// on to their place in the file and frees them (mdb.c's `mdb_page_spill`, the path of every
/// transaction larger than its dirty list), and reads them back from the map if the
/// transaction touches them again. The pages written are free pages no reader and no committed
/// meta page refers to: a crash before the commit leaves the ledger as it was. A
/// non-`MDB_WRITEMAP`, top-level transaction only (a nested one's commit counts its parent's
/// room from the list's size). An `MDB_WRITEMAP` transaction's dirty pages are the map's: its
/// room is left as it is, and only its layout is checked. Returns 1 when the layout is the one
/// known (and the bound set); 0, changing nothing, when the transaction does not look like one
/// `mdb_txn_begin` just gave (another LMDB's layout, a nested transaction, one that has written).
/// Callers check first that the linked LMDB is one of 0.9.14 to 0.9.31 (`mdb_version`).
static inline int kinerja_txn_bound_dirty_pages(MDB_txn *txn, unsigned int pages) {
    struct kinerja_txn_layout *layout = (struct kinerja_txn_layout *)(void *)txn;
    if (layout->txnid != mdb_txn_id(txn) || layout->env != mdb_txn_env(txn)) return 0;
    if (layout->parent || layout->child || layout->loose_pgs || layout->loose_count || layout->spill_pgs) return 0;
    if ((layout->flags & ~(unsigned int)MDB_WRITEMAP) != 0 || layout->dirty_room != KINERJA_LMDB_DIRTY_ROOM || !layout->dirty_list || layout->dirty_list[0] != 0) return 0;
    if (pages < 64) pages = 64;
    if (pages < layout->dirty_room && !(layout->flags & MDB_WRITEMAP)) layout->dirty_room = pages;
    return 1;
}

/// Gives the write transaction `txn`, bounded by `kinerja_txn_bound_dirty_pages`, back the room
/// `mdb_txn_begin` gave it (the dirty list's size less its dirty pages), just before it commits:
/// the commit's own puts (the free list's record, the named databases' roots) then never
/// spill, so the list of spilled pages read before the commit is the one LMDB ends with.
static inline void kinerja_txn_unbound_dirty_pages(MDB_txn *txn) {
    struct kinerja_txn_layout *layout = (struct kinerja_txn_layout *)(void *)txn;
    layout->dirty_room = (unsigned int)(KINERJA_LMDB_DIRTY_ROOM - layout->dirty_list[0]);
}

/// Whether the write transaction `txn`, bounded by `kinerja_txn_bound_dirty_pages`, has spilled
/// pages (mdb.c's `MDB_TXN_SPILLS`, 0x08, in `mt_flags`). Read before it ends.
static inline int kinerja_txn_spilled(MDB_txn *txn) {
    return (((const struct kinerja_txn_layout *)(const void *)txn)->flags & 0x08) != 0;
}

/// The list of spilled pages of the write transaction `txn`, bounded by
/// `kinerja_txn_bound_dirty_pages`, that LMDB will not free: before 0.9.25 `mdb_txn_end` frees
/// only a nested transaction's (ITS#9155), and the next `mdb_txn_begin` forgets it, leaking
/// 1 MiB a transaction that spilled; NULL when there is none. Callers ask only where LMDB is
/// older than 0.9.25 (later ones free it themselves). Read before the transaction ends; free it
/// with `kinerja_free_spill_list` after.
static inline void *kinerja_txn_leaked_spill_list(MDB_txn *txn) {
    return ((const struct kinerja_txn_layout *)(const void *)txn)->spill_pgs;
}

/// Frees a list from `kinerja_txn_leaked_spill_list` as `mdb_midl_free` does (the count is
/// kept in the word before the list).
static inline void kinerja_free_spill_list(void *list) {
    if (list) free((size_t *)list - 1);
}
#endif
