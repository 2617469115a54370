import CLMDB
import Foundation
import Glibc
import Synchronization
import TransparencyLog

/// An append-only, hash-chained log of records in one LMDB environment.
///
/// Records belong to streams, carry a writer-chosen 16-byte id, and are numbered by `seq`
/// (1, 2, 3... with no gap). The store indexes them by stream and by id, keeps unique keys
/// that writers claim, and chains them: `hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of n)`.
/// It knows nothing of what the payloads mean.
///
/// ```swift
/// let store = try Store.create(at: "demo.ledger")
/// try store.append { batch in
///     try batch.append(stream: "unit:DINKES", id: id, payload: bytes)
/// }
/// try store.read { txn in
///     try txn.forEachRecord { record in print(record.seq) }
/// }
/// ```
///
/// Appends from several threads and processes are serialised by LMDB's writer lock; each
/// batch is one transaction, durable when ``append(_:)`` returns.
public final class Store: Sendable {
    package let environment: Environment

    /// The ledger directory.
    public var path: String { environment.path }

    private init(environment: Environment) {
        self.environment = environment
    }

    /// Creates a new, empty ledger at `path` (a directory, created if missing).
    /// Fails with ``StoreError/Code/alreadyExists`` if there is one already.
    public static func create(at path: String, options: StoreOptions = StoreOptions()) throws -> Store {
        Store(environment: try Environment.open(path: path, create: true, options: options))
    }

    /// Opens the ledger at `path`. Fails with ``StoreError/Code/notALedger`` if there is none.
    public static func open(at path: String, options: StoreOptions = StoreOptions()) throws -> Store {
        Store(environment: try Environment.open(path: path, create: false, options: options))
    }

    /// The current map size in bytes; it doubles whenever an append fills it.
    public var mapSize: Int { environment.mapSize }

    /// What the last pre-mapping of the file did (``StoreOptions/premapsFile``); nil when the
    /// store was not opened to pre-map it.
    public var premap: Premap? { environment.premapOutcome }

    /// Runs `body` on a consistent snapshot.
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try withTransaction(readOnly: true) { access in
            let transaction = try ReadTransaction(access: access, treeCache: environment.treeCache)
            return (try body(transaction), commit: false)
        }
    }

    /// The log's origin (its name in checkpoints), if one was set.
    public func origin() throws -> String? {
        try withTransaction(readOnly: true) { access in
            (try access.get(access.databases.meta, MetaKey.origin).map { String(decoding: $0.buffer, as: UTF8.self) }, commit: false)
        }
    }

    /// Names the log, once: setting the same origin again is a no-op; another one is refused,
    /// since every checkpoint and proof already issued names the first.
    public func setOrigin(_ origin: String) throws {
        try withTransaction(readOnly: false) { access in
            if let existing = try access.get(access.databases.meta, MetaKey.origin).map({ String(decoding: $0.buffer, as: UTF8.self) }) {
                guard existing == origin else { throw StoreError(.alreadyExists, "the ledger's origin is already \(existing); it cannot change") }
                return ((), commit: false)
            }
            try withValue(MetaKey.origin) { key in
                try withValue(Array(origin.utf8)) { value in try LMDBError.check(mdb_put(access.txn, access.databases.meta, &key, &value, 0)) }
            }
            return ((), commit: true)
        }
    }

    /// Recomputes the Merkle tree from the records: nil when every stored node and the tree's
    /// size agree with them, else the first disagreement (the `seq` where it shows, if any).
    public func verifyTree() throws -> (seq: UInt64?, reason: String)? {
        try withTransaction(readOnly: true) { access in (try StoredTree.verify(access), commit: false) }
    }

    /// The head: the last `seq`, its hash and its `recorded_at`.
    public func head() throws -> Head {
        try read { $0.head }
    }

    /// Stages records with `body` and commits them as one durable transaction: all of them or,
    /// if `body` throws, none.
    ///
    /// When the map is full the transaction is rolled back, the map grown, and `body` run
    /// again from the start, so `body` must have no effects outside the batch.
    @discardableResult
    public func append<R>(_ body: (inout Batch) throws -> R) throws -> R {
        try append(body, commitIf: { _ in true })
    }

    /// Stages records with `body` and commits them as one durable transaction if `shouldCommit`
    /// approves of what `body` returned; otherwise stores nothing. Retried as ``append(_:)`` is.
    @discardableResult
    public func append<R>(_ body: (inout Batch) throws -> R, commitIf shouldCommit: (R) -> Bool) throws -> R {
        let now = environment.clock()
        return try withTransaction(readOnly: false) { access in
            var batch = try Batch(access: access, now: now)
            // Its cursors closed inside the transaction, whichever way the closure leaves.
            defer { batch.end() }
            let result = try body(&batch)
            guard shouldCommit(result), batch.count > 0 else { return (result, commit: false) }
            try batch.flush()
            return (result, commit: true)
        }
    }

    /// Opens a staging pass over a snapshot of the ledger: `body` stages records batch by batch
    /// (``StagingPass/stage(_:)``) into `staging`, each batch seeing the snapshot and what the
    /// earlier batches staged. Nothing is written to the ledger, and the writer lock is not held.
    ///
    /// The whole pass is one write transaction of the staging area, committed at the end: each
    /// of its B-tree pages is written once, in place (the staging area maps its file writable),
    /// where a transaction per batch would copy every page a batch touches. If the staging area's
    /// map fills up, it is grown and `body` runs again from the start.
    public func stage<R>(into staging: Staging, _ body: (StagingPass) throws -> R) throws -> R {
        precondition(staging.count == 0 && staging.committed == 0, "a staging area is staged once")
        return try withTransaction(readOnly: true) { access in
            let base = try access.head()
            let result = try staging.store.withTransaction(readOnly: false) { transaction in
                staging.reset(base: base)
                // Every write of the pass spends its worst case in pages first (``PageBudget``).
                try staging.budget.begin(transaction.txn)
                var scratch = transaction
                scratch.budget = staging.budget
                let pass = StagingPass(ledger: access, ledgerSeq: base.seq, staging: staging, scratch: scratch, clock: environment.clock)
                let result = try body(pass)
                try staging.budget.spendCommit()
                return (result, commit: true)
            }
            // A pass decodes its input on other threads (glibc gives each its own arena) and
            // frees it: those arenas would keep their pages, 15-20 MiB, through the commits, which
            // allocate LMDB's dirty pages in the committing thread's arena. Give them back.
            kinerja_release_free_memory()
            return (result, commit: false)
        }
    }

    /// Writes the staged records after the ones already committed, through the `count`th, in one
    /// durable transaction, provided the ledger's head is still the one they continue (no other
    /// writer got in since they were staged). Returns the new head, or nil, having written
    /// nothing, when the head has moved: the records must then be staged again.
    ///
    /// With `prepared` (``CommitPreparer/prepare(from:through:continuing:)``, made on another thread
    /// while the commit before this one was written) for exactly these records — from this
    /// staging area, for this ledger, the same `seq`s — its sorted index entries and tree nodes are
    /// written instead of being gathered, sorted and hashed here; any other is ignored.
    public func commit(_ staging: Staging, through count: Int, prepared: PreparedCommit? = nil) throws -> Head? {
        precondition(count >= staging.committed && count <= staging.count)
        let first = staging.base.seq + UInt64(staging.committed) + 1
        let last = staging.base.seq + UInt64(count)
        let expected = staging.committedHead
        let head = try withTransaction(readOnly: false) { access -> (Head?, commit: Bool) in
            guard try access.head() == expected else { return (nil, commit: false) }
            guard first <= last else { return (expected, commit: false) }
            // Read the staging area directly (nothing writes it any more, so it is never resized):
            // the ledger's own errors, such as a full map, must reach this transaction's retry.
            let scratchEnvironment = staging.store.environment
            let scratch = try scratchEnvironment.begin(readOnly: true)
            defer { mdb_txn_abort(scratch) }
            let staged = TxnAccess(txn: scratch, databases: scratchEnvironment.databases)
            if let prepared, prepared.seqs == first...last, prepared.ledger === self, prepared.staged === staging.store, prepared.base == staging.base.seq {
                return (try Self.copy(from: staged, prepared: prepared, into: access), commit: true)
            }
            return (try Self.copy(from: staged, seqs: first...last, into: access), commit: true)
        }
        if let head { staging.committed(count, head: head) }
        return head
    }

    /// Copies staged records, their index entries and their claims, then the head, into `access`:
    /// the records appended in `seq` order, straight from the staging area's pages, and each
    /// index's entries in key order through one cursor (``IndexEntries``).
    private static func copy(from scratch: TxnAccess, seqs: ClosedRange<UInt64>, into access: TxnAccess) throws -> Head {
        var head = Head.empty
        let databases = access.databases
        let count = Int(seqs.upperBound - seqs.lowerBound + 1)
        var streams = IndexEntries()
        var ids = IndexEntries()
        var keys = IndexEntries()
        streams.reserve(count, keyBytes: count * 48)
        ids.reserve(count, keyBytes: count * 16)
        try access.withCursor(databases.events) { events in
            try scratch.forEachValue(from: seqs.lowerBound, through: seqs.upperBound) { seqBytes, value in
                try CanonicalRecord.view(value: value) { record in
                    var key = MDB_val(mv_size: seqBytes.count, mv_data: UnsafeMutableRawPointer(mutating: seqBytes.baseAddress))
                    var data = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                    try LMDBError.check(mdb_cursor_put(events, &key, &data, UInt32(MDB_APPEND)))
                    streams.appendStreamKey(record.streamBytes, seq: record.seq)
                    ids.append(record.id, seq: record.seq)
                    head = Head(seq: record.seq, hash: record.hash, recordedAt: record.recordedAt)
                }
            }
        }
        guard head.seq == seqs.upperBound else { throw StoreError(.corrupt, "the staging area ends at seq \(head.seq), not \(seqs.upperBound)") }
        try scratch.forEachClaim(from: seqs.lowerBound, through: seqs.upperBound) { seq, claims in
            for key in Claims.decode(claims) { keys.append(key, seq: seq) }
        }
        try streams.write(access.txn, databases.recentStreams, flags: MDB_APPENDDUP)
        try ids.write(access.txn, databases.ids, flags: MDB_NOOVERWRITE)
        try keys.write(access.txn, databases.keys, flags: MDB_NOOVERWRITE)
        try Batch.put(access.txn, access.databases.meta, MetaKey.head, TxnAccess.encodeHead(head), flags: 0)
        return head
    }

    /// ``copy(from:seqs:into:)`` with the index entries and tree nodes of `prepared`: the records
    /// are appended from the staging area's pages as they are, and nothing is sorted or hashed.
    private static func copy(from scratch: TxnAccess, prepared: PreparedCommit, into access: TxnAccess) throws -> Head {
        let databases = access.databases
        let seqs = prepared.seqs
        var copied: UInt64 = 0
        var lastValue: UnsafeRawBufferPointer?
        try access.withCursor(databases.events) { events in
            try scratch.forEachValue(from: seqs.lowerBound, through: seqs.upperBound) { seqBytes, value in
                var key = MDB_val(mv_size: seqBytes.count, mv_data: UnsafeMutableRawPointer(mutating: seqBytes.baseAddress))
                var data = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                try LMDBError.check(mdb_cursor_put(events, &key, &data, UInt32(MDB_APPEND)))
                copied += 1
                lastValue = value
            }
        }
        guard copied == UInt64(seqs.count), let lastValue else { throw StoreError(.corrupt, "the staging area holds \(copied) of records \(seqs.lowerBound) to \(seqs.upperBound)") }
        // The records copied are those the entries were prepared from: the chain's hash at the last
        // one says so (it covers every record before it).
        let lastHash = try CanonicalRecord.view(value: lastValue) { $0.hash }
        guard lastHash == prepared.head.hash else { throw StoreError(.corrupt, "the staging area's record \(seqs.upperBound) is not the one its commit was prepared from") }
        try prepared.streams.write(access.txn, databases.recentStreams, flags: MDB_APPENDDUP)
        try prepared.ids.write(access.txn, databases.ids, flags: MDB_NOOVERWRITE)
        try prepared.keys.write(access.txn, databases.keys, flags: MDB_NOOVERWRITE)
        try Batch.put(access.txn, access.databases.meta, MetaKey.head, TxnAccess.encodeHead(prepared.head), flags: 0)
        if let tree = prepared.tree { try StoredTree.extend(access, prepared: tree) }
        return prepared.head
    }

    /// Flushes every commit to the disk (for a store opened without `syncsEachCommit`).
    public func sync() throws {
        do { try LMDBError.check(mdb_env_sync(environment.env, 1)) } catch { throw StoreError(.storage, "cannot flush the ledger to the disk", cause: error) }
    }

    func withTransaction<R>(readOnly: Bool, _ body: (TxnAccess) throws -> (R, commit: Bool)) throws -> R {
        var bounded = true
        while true {
            do {
                return try environment.resizeLock.shared {
                    let txn = try environment.begin(readOnly: readOnly, bounded: bounded)
                    var open = true
                    defer { if open { try? environment.end(txn, readOnly: readOnly, commit: false) } }
                    let access = TxnAccess(txn: txn, databases: environment.databases)
                    let (result, commit) = try body(access)
                    // The Merkle tree grows in the transaction that stores the records it covers.
                    if commit {
                        try StreamIndex.fold(access, bound: environment.streamRecentBound)
                        try StoredTree.extend(access)
                        try TagIndex.extend(access, environment.tagRule)
                    }
                    open = false
                    try environment.end(txn, readOnly: readOnly, commit: commit)
                    return result
                }
            } catch let error as LMDBError where error == .mapFull && !readOnly {
                try environment.grow()
            } catch let error as LMDBError where error.code == MDB_TXN_FULL && !readOnly && bounded {
                // One put dirtied more pages than LMDB's estimate left room for (a sorted
                // duplicate's sub-database is not counted): again, without the bound.
                bounded = false
            } catch let error as LMDBError where error == .mapResized {
                try environment.adoptMapSize()
            } catch let error as LMDBError where !readOnly && (error.code == EIO || error.code == ENOSPC) && environment.freeBytes() < 16 << 20 {
                // LMDB reports a short write as EIO: say what it means.
                throw StoreError(.storage, "cannot write to the ledger: no space left on the device (\(environment.freeBytes() >> 10) KiB free); nothing of this batch was stored")
            } catch let error as LMDBError where error.code == MDB_CORRUPTED || error.code == MDB_PAGE_NOTFOUND || error.code == MDB_INVALID {
                throw StoreError.damaged("LMDB found a page it cannot use", cause: error)
            } catch let error as LMDBError {
                throw StoreError(.storage, readOnly ? "cannot read the ledger" : "cannot write to the ledger", cause: error)
            }
        }
    }
}

@available(*, unavailable, message: "a transaction lives only inside Store.read")
extension ReadTransaction: Sendable {}

@available(*, unavailable, message: "a batch lives only inside Store.append or StagingPass.stage")
extension Batch: Sendable {}

@available(*, unavailable, message: "a staging pass lives only inside Store.stage(into:_:)")
extension StagingPass: Sendable {}

/// Records checked and staged on disk, beside the ledger, before any is written to it: what
/// lets a long append check every line first and then commit in batches, holding no more in
/// memory than one batch, whatever the input's size.
///
/// A temporary LMDB environment (no fsync: it is thrown away after a crash), removed by
/// ``discard()`` or when the staging is released. Stage it with ``Store/stage(into:_:)``, then
/// write it with ``Store/commit(_:through:)``.
public final class Staging {
    let store: Store
    private let directory: String
    /// The ledger head the staged records continue.
    public private(set) var base: Head = .empty
    /// The head after every staged record.
    public private(set) var head: Head = .empty
    /// Staged records written to the ledger so far, and the head they reached.
    public private(set) var committed = 0
    private(set) var committedHead: Head = .empty

    /// The number of records staged.
    public var count: Int { Int(head.seq - base.seq) }

    /// The disk blocks reserved ahead of the pages the staging pass may write (its map is written
    /// in place): see ``PageBudget``.
    package let budget: PageBudget

    /// Creates an empty staging area for `ledger`, in a directory of its own inside the ledger's
    /// (removing any that a killed process left there), sized for an input of about
    /// `inputBytes` (the map grows if that was too little).
    public init(for ledger: Store, inputBytes: Int = 0) throws {
        let fileManager = FileManager.default
        let prefix = "staging-"
        for name in (try? fileManager.contentsOfDirectory(atPath: ledger.path)) ?? [] where name.hasPrefix(prefix) {
            let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) ?? 0
            if pid > 0 && kill(pid, 0) != 0 && errno == ESRCH {
                try? fileManager.removeItem(atPath: (ledger.path as NSString).appendingPathComponent(name))
            }
        }
        directory = (ledger.path as NSString).appendingPathComponent("\(prefix)\(getpid())-\(Staging.counter.add(1, ordering: .relaxed).oldValue)")
        // The staged records and their indexes take about half the JSON Lines they came from
        // (296 bytes an event at 30 M, lines of ~565); the map is address space, sized with a
        // wide margin, and the file's blocks are reserved only as they are needed (``PageBudget``).
        var options = StoreOptions(initialMapSize: max(64 << 20, (4 * inputBytes + (64 << 20)) & ~0xFFFFF))
        options.syncsEachCommit = false
        options.keepsTree = false
        options.writesInPlace = true
        // One transaction for the whole pass: nothing to gain from folding.
        options.streamRecentBound = .max
        store = try Store.create(at: directory, options: options)
        budget = PageBudget(store: store)
    }

    private static let counter = Atomic<Int>(0)

    deinit { discard() }

    /// Removes the staging area's files.
    public func discard() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func reset(base: Head) {
        self.base = base
        head = base
        committedHead = base
    }

    func staged(head: Head) { self.head = head }

    func committed(_ count: Int, head: Head) {
        committed = count
        committedHead = head
    }
}

extension TxnAccess {
    /// Calls `body` with the key and value of each record from `first` through `last`, in place.
    func forEachValue(from first: UInt64, through last: UInt64, _ body: (_ seqBytes: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) throws {
        try withCursor(databases.events) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = withValue(first.bigEndianBytes) { firstKey in
                key = firstKey
                return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
            }
            while rc == MDB_SUCCESS {
                guard let seq = key.bigEndianUInt64() else { throw StoreError(.corrupt, "an event key is not a seq") }
                if seq > last { break }
                try body(key.buffer, value.buffer)
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND && rc != MDB_SUCCESS { try LMDBError.check(rc) }
        }
    }
}

extension TxnAccess {
    /// Calls `body` with the `seq` and the claims (``Claims``) of each staged record from `first`
    /// through `last` that claims keys, in `seq` order: one cursor over the staging area's
    /// `claims ‖ seq` entries, instead of a lookup per record.
    func forEachClaim(from first: UInt64, through last: UInt64, _ body: (_ seq: UInt64, _ claims: UnsafeRawBufferPointer) throws -> Void) throws {
        try forEachEntry(in: databases.meta, prefix: Array("claims".utf8), from: first, through: last, body)
    }

    /// Calls `body` with the `seq` and the value of each entry of `database` keyed `prefix ‖ seq`
    /// (`seq` big-endian) with `seq` in `first...last`, in `seq` order, through one cursor.
    func forEachEntry(
        in database: MDB_dbi, prefix: [UInt8], from first: UInt64, through last: UInt64,
        _ body: (_ seq: UInt64, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try withCursor(database) { cursor in try forEachEntry(cursor, prefix: prefix, from: first, through: last, body) }
    }

    /// ``forEachEntry(in:prefix:from:through:_:)`` through an open cursor of the database (one
    /// on the leaf page that holds `prefix`'s first entry finds it without a descent).
    func forEachEntry(
        _ cursor: OpaquePointer, prefix: [UInt8], from first: UInt64, through last: UInt64,
        _ body: (_ seq: UInt64, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var key = MDB_val()
        var value = MDB_val()
        var rc = withValue(prefix + first.bigEndianBytes) { firstKey in
            key = firstKey
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
        while rc == MDB_SUCCESS {
            let found = key.buffer
            guard found.count == prefix.count + 8, found.starts(with: prefix) else { break }
            let seq = UInt64(bigEndian: found.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self))
            if seq > last { break }
            try body(seq, value.buffer)
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND && rc != MDB_SUCCESS { try LMDBError.check(rc) }
    }
}

@available(*, unavailable, message: "a staging area belongs to one append")
extension Staging: Sendable {}

extension Staging {
    /// What prepares this staging area's commits to `ledger` on another thread.
    public func preparer(for ledger: Store) -> CommitPreparer {
        CommitPreparer(ledger: ledger, staged: store, base: base.seq)
    }
}

/// What one commit of a staging area writes besides its records, made ready on another thread
/// while the committing thread writes the commit before it: the stream, id and key index entries
/// sorted in key order, the Merkle tree's nodes over the records, and the head they reach.
public struct PreparedCommit: Sendable {
    /// The ledger, the staging area and the `seq` it continues that this commit was made for.
    let ledger: Store
    let staged: Store
    let base: UInt64
    let seqs: ClosedRange<UInt64>
    let head: Head
    var streams = IndexEntries()
    var ids = IndexEntries()
    var keys = IndexEntries()
    var tree: PreparedTreeNodes?
    /// The tree's edge after these records, where the next commit's nodes continue (nil when the
    /// ledger keeps no tree).
    let treeEdge: CompactRange?

    /// The tree's edge after these records: all the next commit's preparation needs of this one
    /// (kept instead of the whole commit, whose entries are a few MiB).
    public var edge: TreeEdge? { treeEdge.map(TreeEdge.init) }
}

/// The right edge of the ledger's Merkle tree after a prepared commit (``PreparedCommit/edge``).
public struct TreeEdge: Sendable {
    let range: CompactRange
}

/// Prepares a staging area's commits (``PreparedCommit``) from any thread: it reads the staging
/// area (which nothing writes once staged) and, for the first commit, the ledger's tree.
public struct CommitPreparer: Sendable {
    let ledger: Store
    let staged: Store
    /// The ledger's `seq` the staged records continue.
    let base: UInt64

    /// The commit of the staged records after the `committed`th through the `count`th; `edge` is
    /// the tree's edge after the commit before it, if prepared (``PreparedCommit/edge``; else
    /// it is read from the ledger, which must then hold that commit).
    public func prepare(from committed: Int, through count: Int, continuing edge: TreeEdge?) throws -> PreparedCommit {
        let first = base + UInt64(committed) + 1
        let last = base + UInt64(count)
        guard first <= last else { throw StoreError(.corrupt, "no staged records after the \(committed)th through the \(count)th to prepare") }
        var edge = edge?.range
        if edge?.size != first - 1 {
            edge = try ledger.withTransaction(readOnly: true) { access in (try StoredTree.edge(access, size: first - 1), commit: false) }
        }
        var tree = edge.map { PreparedTreeNodes(from: $0.size, to: $0.size) }
        var streams = IndexEntries()
        var ids = IndexEntries()
        var keys = IndexEntries()
        let records = Int(last - first + 1)
        streams.reserve(records, keyBytes: records * 48)
        ids.reserve(records, keyBytes: records * 16)
        var head = Head.empty
        try staged.withTransaction(readOnly: true) { scratch -> (Void, commit: Bool) in
            try scratch.forEachValue(from: first, through: last) { _, value in
                try CanonicalRecord.view(value: value) { record in
                    streams.appendStreamKey(record.streamBytes, seq: record.seq)
                    ids.append(record.id, seq: record.seq)
                    if edge != nil { tree?.append(canonical: record.canonical, to: &edge!) }
                    head = Head(seq: record.seq, hash: record.hash, recordedAt: record.recordedAt)
                }
            }
            try scratch.forEachClaim(from: first, through: last) { seq, claims in
                for key in Claims.decode(claims) { keys.append(key, seq: seq) }
            }
            return ((), commit: false)
        }
        guard head.seq == last else { throw StoreError(.corrupt, "the staging area ends at seq \(head.seq), not \(last)") }
        streams.sort()
        ids.sort()
        keys.sort()
        return PreparedCommit(ledger: ledger, staged: staged, base: base, seqs: first...last, head: head, streams: streams, ids: ids, keys: keys, tree: tree, treeEdge: edge)
    }
}

/// One pass of staging over a snapshot of the ledger; valid only inside ``Store/stage(into:_:)``.
public struct StagingPass {
    let ledger: TxnAccess
    let ledgerSeq: UInt64
    let staging: Staging
    /// The staging area's write transaction, open for the whole pass.
    let scratch: TxnAccess
    let clock: @Sendable () -> Int64

    /// Stages records with `body` after everything staged so far, as ``Store/append(_:commitIf:)``
    /// does, but into the staging area; `shouldCommit` decides whether they are kept there.
    @discardableResult
    public func stage<R>(_ body: (inout Batch) throws -> R, commitIf shouldCommit: (R) -> Bool = { _ in true }) throws -> R {
        var batch = Batch(ledger: ledger, ledgerSeq: ledgerSeq, staged: scratch, base: staging.head, now: clock())
        // Its cursors (on the ledger's snapshot) closed inside the pass, whichever way this leaves.
        defer { batch.end() }
        let result = try body(&batch)
        guard shouldCommit(result), batch.count > 0 else { return result }
        do {
            try batch.flush()
        } catch {
            // A reservation of the staging area's disk blocks failed (``PageBudget``): say why.
            if let failure = staging.budget.failure { throw failure }
            throw error
        }
        staging.staged(head: batch.head)
        return result
    }
}
