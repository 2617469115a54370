import CLMDB
import Glibc

/// Keeps the disk blocks of a staging area's file reserved (`posix_fallocate`) ahead of every
/// page its one write transaction may write. The staging area's map is written in place
/// (`MDB_WRITEMAP`) and its file is sparse: a page written where the file has no block yet, on a
/// full disk, is a SIGBUS instead of an error.
///
/// **What is used is measured, not estimated.** LMDB allocates a write transaction's pages
/// either from pages it freed, all below the transaction's first unallocated page
/// (`mt_next_pgno`), or at that page, which it then advances (mdb.c, `mdb_page_alloc`); so every
/// page the transaction has written is below it, and `next × page size` bytes of the file are
/// what the staging area has used (mdb.c's own audit: the free pages, every tree's pages and the
/// two meta pages add up to it). `mdb_stat` would not do: it counts no free pages (nor a DUPSORT
/// database's sub-databases' pages). LMDB has no call for `next`: `kinerja_txn_next_page` reads it
/// from LMDB 0.9's `struct MDB_txn`, trusted only when it reads the value LMDB gives it when the
/// transaction begins (the last committed page + 1, from `mdb_env_info`); otherwise (another
/// LMDB's layout) the whole map is reserved, which LMDB cannot write past (`MDB_MAP_FULL`).
///
/// **Every page LMDB may write before `next` is read again has its block.** Each write into the
/// transaction first ``spend(_:)``s its worst case in pages: one put splits at most every level
/// of its tree and adds a root (LMDB's cursors hold ``maxDepth`` levels), in a DUPSORT database
/// as much again in the value's sub-database and a page to start it, and a value too large for a
/// page takes its overflow pages (``pages(forValue:)``). What was reserved beyond `next` at its
/// last reading, less what was spent since, covers all of it; when it would not, `next` is read
/// again and the reservation extended past it by the pending put's worst case and a margin
/// (an eighth of what is used, 64 KiB to 64 MiB). The commit spends its own worst case first
/// (``spendCommit()``): the free list's record, at most 8 bytes a page, and the named databases'
/// records. Nothing else writes the staging area's transaction (it keeps no Merkle tree and no
/// tag index, and never folds its stream index). So the file's footprint is what LMDB used,
/// plus at most the margin and one put's worst case.
package final class PageBudget {
    /// The deepest tree LMDB's cursors can descend (mdb.c's `CURSOR_STACK`).
    static let maxDepth = 32
    /// The most pages one put of a value that fits in a page may allocate (see the type's note).
    static let pagesPerPut = 2 * (maxDepth + 1) + 1

    private let store: Store
    private var txn: OpaquePointer?
    private var exact = false
    private var pageSize = 4096
    /// Pages of the file whose blocks are reserved.
    private var reservedPages = 0
    /// Pages that may still be written before `next` must be read again.
    private var remaining = 0
    /// `next` when last read.
    private var usedPages = 0
    /// Why the last reservation failed; the put that needed it returned `ENOSPC`.
    private(set) var failure: StoreError?

    init(store: Store) { self.store = store }

    /// Bytes of the staging area's file reserved on the disk.
    package var reservedBytes: Int { reservedPages * pageSize }
    /// Bytes of the staging area's file LMDB had used when last measured (the last measure is
    /// taken just before the commit writes its own pages).
    package var usedBytes: Int { usedPages * pageSize }
    /// Whether the pages used are measured (false: the whole map is reserved instead).
    package var measures: Bool { exact }

    /// Starts the budget of the write transaction `txn`, which has written nothing yet.
    func begin(_ txn: OpaquePointer) throws {
        self.txn = txn
        failure = nil
        let env = store.environment.env
        var stat = MDB_stat()
        var info = MDB_envinfo()
        guard mdb_env_stat(env, &stat) == MDB_SUCCESS, mdb_env_info(env, &info) == MDB_SUCCESS else {
            throw StoreError(.storage, "cannot read the staging area's size")
        }
        pageSize = Int(stat.ms_psize)
        let next = Int(kinerja_txn_next_page(txn))
        exact = LinkedLMDB.isVersion09 && next == info.me_last_pgno + 1
        usedPages = exact ? next : mapPages
        remaining = 0
        if !exact { try reserve(through: mapPages) }
    }

    private var mapPages: Int { store.mapSize / pageSize }

    /// The pages a put of a value of `bytes` may allocate: ``pagesPerPut``, and the value's
    /// overflow pages (mdb.c's `OVPAGES`, counted for any value, whether or not it overflows).
    @inline(__always)
    func pages(forValue bytes: Int) -> Int { Self.pagesPerPut + (bytes + 16) / pageSize + 1 }

    /// Accounts for a write of at most `pages` pages about to be made; returns `MDB_SUCCESS`, or
    /// `ENOSPC` (or another errno) when their blocks cannot be reserved (``failure`` says why).
    @inline(__always)
    func spend(_ pages: Int) -> Int32 {
        remaining -= pages
        return remaining >= 0 ? MDB_SUCCESS : refill(pages)
    }

    /// Accounts for what the commit writes: the free list (at most every page, 8 bytes each, in
    /// overflow pages, and its tree) and the records of the named databases in the main one.
    func spendCommit() throws {
        guard let txn else { return }
        if exact { usedPages = Int(kinerja_txn_next_page(txn)) }
        let databases = 16
        let rc = spend(pages(forValue: 8 * (usedPages + 2)) + databases * Self.pagesPerPut)
        if rc != MDB_SUCCESS { throw failure ?? StoreError(.storage, "cannot reserve the staging area's commit") }
    }

    private func refill(_ pages: Int) -> Int32 {
        guard let txn else { return EINVAL }
        guard exact else {
            // The whole map is reserved: LMDB writes nothing past it.
            remaining = .max / 2
            return MDB_SUCCESS
        }
        let next = Int(kinerja_txn_next_page(txn))
        usedPages = next
        if reservedPages - next >= pages {
            remaining = reservedPages - next - pages
            return MDB_SUCCESS
        }
        let margin = min(64 << 20, max(64 << 10, next * pageSize / 8)) / pageSize
        do {
            try reserve(through: next + pages + margin)
        } catch {
            failure = error
            return ENOSPC
        }
        remaining = reservedPages >= mapPages ? .max / 2 : reservedPages - next - pages
        return MDB_SUCCESS
    }

    /// Reserves the file's blocks through page `last` (no further than the map's end).
    private func reserve(through last: Int) throws(StoreError) {
        let target = min(last, mapPages)
        guard target > reservedPages else { return }
        var fd: Int32 = -1
        let environment = store.environment
        guard mdb_env_get_fd(environment.env, &fd) == MDB_SUCCESS else { throw StoreError(.storage, "the staging area has no file") }
        // Only the pages past those reserved already (their blocks stay reserved across a retry):
        // where the file system has no `fallocate`, glibc writes each block, and doing so from
        // the start at every extension would make a long import quadratic.
        var rc: Int32
        repeat {
            rc = posix_fallocate(fd, off_t(reservedPages * pageSize), off_t((target - reservedPages) * pageSize))
        } while rc == EINTR
        guard rc == 0 else {
            if !exact {
                throw StoreError(.storage, "cannot reserve the staging area's whole map (\((target * pageSize) >> 20) MiB): this build cannot measure the pages LMDB \(LinkedLMDB.description) has used, and the disk has \(environment.freeBytes() >> 20) MiB free (\(String(cString: strerror(rc)))); nothing of this input was stored")
            }
            if rc == ENOSPC {
                throw StoreError(.storage, "cannot write to the ledger: no space left on the device (\(environment.freeBytes() >> 10) KiB free); nothing of this batch was stored")
            }
            throw StoreError(.storage, "cannot reserve \((target * pageSize) >> 20) MiB for the staging area: \(String(cString: strerror(rc)))")
        }
        reservedPages = target
    }
}

@available(*, unavailable, message: "a page budget belongs to one staging area")
extension PageBudget: Sendable {}
