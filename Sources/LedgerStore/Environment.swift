import CLMDB
import Foundation
import Synchronization

/// The named databases of a ledger environment.
struct Databases: Sendable {
    /// `seq` (u64 BE) → chain hash ‖ canonical record bytes.
    var events: MDB_dbi
    /// The stream index's settled tier, `stream-settled`: stream ‖ 0x00 → the `seq` (u64 BE) of
    /// each of its records, as sorted duplicates of fixed width (`MDB_DUPSORT | MDB_DUPFIXED`).
    /// LMDB packs a stream's `seq`s together, 8 bytes each with no node header (``StreamIndex``).
    var streams: MDB_dbi
    /// The stream index's recent tier, `stream-recent`, of the same layout: each stream's `seq`s
    /// newer than its settled ones, where commits add theirs (``StreamIndex/fold(_:bound:)``).
    var recentStreams: MDB_dbi
    /// id (16 bytes) → `seq`.
    var ids: MDB_dbi
    /// a writer-defined unique key → `seq` of the record that claimed it.
    var keys: MDB_dbi
    /// `format`, `head`, `tree` (the number of records the Merkle tree covers).
    var meta: MDB_dbi
    /// The Merkle tree's stored nodes (``StoredTree``); nil in a ledger written before the tree
    /// existed and opened where it cannot be written.
    var tree: MDB_dbi?
    /// The writer's tag index (``TagIndex``); nil without a ``TagRule``.
    var tags: MDB_dbi?
}

enum MetaKey {
    static let format = Array("format".utf8)
    static let head = Array("head".utf8)
    /// In a staging area only: the unique keys a staged record claims, under `claims ‖ seq`.
    static func claims(_ seq: UInt64) -> [UInt8] { Array("claims".utf8) + seq.bigEndianBytes }
    /// In a staging area only: the last version staged of a stream, under `stream ‖ 0x00 ‖
    /// "version:"` (``Batch/streamVersion(_:)``): the stream first, so that the keys sort (and
    /// compare) by it. No other key: the names above have no zero byte, where these keys have
    /// one; `claims ‖ seq` has 14 bytes, as these keys of a 5-byte stream have, whose zero byte
    /// is at offset 5, where "claims" has its "s"; and two of these keys are the same only for
    /// the same stream (the suffix is fixed, so equal lengths mean equal streams). This holds
    /// for any stream, a zero byte in it or not. The longest stream (500 bytes)
    /// and the suffix (9) fit LMDB's keys (511).
    static let stagedVersionSuffix = Array("\u{0}version:".utf8)
    static let tree = Array("tree".utf8)
    static let origin = Array("origin".utf8)
    static let tags = Array("tags".utf8)
    /// The last stream key the stream index's last fold moved (``StreamIndex/fold(_:bound:)``).
    static let streamFold = Array("stream-fold".utf8)
}

/// One open LMDB environment. Opened once per process and shared (lmdb.h: "Do not have open
/// an LMDB database twice in the same process at the same time").
package final class Environment: @unchecked Sendable {
    // @unchecked: `env` is used only inside transactions, which LMDB serialises (one writer,
    // MDB_NOTLS readers); the map size changes only under `resizeLock.exclusive`.
    let env: OpaquePointer
    let databases: Databases
    let path: String
    let resizeLock = ResizeLock()
    /// Upper Merkle nodes for dossier proofs, kept across read transactions (``TreeNodeCache``).
    package let treeCache: TreeNodeCache
    let clock: @Sendable () -> Int64
    /// The writer's tag rule: each write transaction extends the tag index with it.
    let tagRule: TagRule?
    /// The stream index's recent tier's size past which a commit folds it (``StreamIndex/fold(_:bound:)``).
    let streamRecentBound: Int
    /// Whether the map's pages are pre-mapped at open and after each growth (``StoreOptions/premapsFile``).
    let premapsFile: Bool
    /// The dirty pages a write transaction keeps in memory (``StoreOptions/dirtyPageBound``);
    /// LMDB's own room for a staging area, whose pages are written in the map.
    let dirtyPageBound: UInt32
    /// The room for dirty pages LMDB 0.9 gives a write transaction (its dirty list's size,
    /// `MDB_IDL_UM_MAX`), which `kinerja_txn_bound_dirty_pages` checks and can lower.
    static let lmdbDirtyRoom = UInt32(KINERJA_LMDB_DIRTY_ROOM)
    /// Set when a write transaction's layout was not the one known (another LMDB's): it was not
    /// bounded, and no private field is read again.
    private let unboundedWrite = Atomic<Bool>(false)
    /// Write transactions that spilled pages (for tests).
    private let spills = Atomic<Int>(0)
    /// What the last pre-mapping did (nil when the store does not pre-map).
    private let lastPremap = Mutex<Premap?>(nil)

    /// 3: the stream index in two tiers, settled and recent (``StreamIndex``); 2 had the settled
    /// one only, as sorted duplicates; 1 had a key per record, stream ‖ 0x00 ‖ version → `seq`.
    /// Both are upgraded when opened (``upgradeStreamIndex(env:path:)``).
    static let formatVersion: UInt32 = 3

    private static let openEnvironments = Mutex<[String: WeakEnvironment]>([:])

    private struct WeakEnvironment {
        weak var environment: Environment?
    }

    private init(env: OpaquePointer, databases: Databases, path: String, options: StoreOptions) {
        self.env = env
        premapsFile = options.premapsFile
        treeCache = TreeNodeCache(capacity: options.treeCacheCapacity)
        self.databases = databases
        self.path = path
        self.clock = options.clock
        self.tagRule = options.tagRule
        streamRecentBound = options.streamRecentBound
        dirtyPageBound = options.writesInPlace ? Self.lmdbDirtyRoom : UInt32(clamping: options.dirtyPageBound)
    }

    deinit {
        mdb_env_close(env)
    }

    /// Opens (or, with `create`, creates) the environment at `path`, or returns the one this
    /// process already has open there.
    static func open(path: String, create: Bool, options: StoreOptions) throws -> Environment {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: path, isDirectory: &isDirectory)
        let dataFile = (path as NSString).appendingPathComponent("data.mdb")
        if create {
            if exists && !isDirectory.boolValue {
                throw StoreError(.notALedger, "\(path) exists and is not a directory")
            }
            if fileManager.fileExists(atPath: dataFile) {
                throw StoreError(.alreadyExists, "a ledger already exists at \(path)")
            }
            do {
                try fileManager.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw StoreError(.cannotOpen, "cannot create the ledger directory \(path): \(error.localizedDescription)")
            }
        } else {
            guard exists else { throw StoreError(.notALedger, "no ledger at \(path) (create one with `kinerja init`)") }
            guard isDirectory.boolValue, fileManager.fileExists(atPath: dataFile) else {
                throw StoreError(.notALedger, "\(path) is not a ledger: it has no data.mdb")
            }
        }
        if !create { try checkDataFile(dataFile) }
        let key = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return try openEnvironments.withLock { open in
            if let existing = open[key]?.environment { return existing }
            let environment = try makeEnvironment(path: path, create: create, options: options)
            open[key] = WeakEnvironment(environment: environment)
            return environment
        }
    }

    private static func makeEnvironment(path: String, create: Bool, options: StoreOptions) throws -> Environment {
        var envPointer: OpaquePointer?
        try check(mdb_env_create(&envPointer), "cannot create an LMDB environment")
        guard let env = envPointer else { throw StoreError(.cannotOpen, "mdb_env_create returned no environment") }
        do {
            try check(mdb_env_set_maxdbs(env, 10), "cannot set the number of databases")
            try check(mdb_env_set_mapsize(env, options.initialMapSize), "cannot set the map size")
            let flags = MDB_NOTLS | (options.syncsEachCommit ? 0 : MDB_NOSYNC | MDB_NOMETASYNC) | (options.writesInPlace ? MDB_WRITEMAP : 0)
            let rc = mdb_env_open(env, path, UInt32(flags), 0o644)
            if rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_VERSION_MISMATCH || rc == MDB_PAGE_NOTFOUND {
                throw StoreError.damaged("data.mdb does not open as an LMDB file", cause: LMDBError(code: rc))
            }
            if rc != MDB_SUCCESS {
                throw StoreError(.cannotOpen, "cannot open the ledger at \(path)", cause: LMDBError(code: rc))
            }
            // Clear reader slots left by processes that died inside a read transaction.
            var dead: Int32 = 0
            mdb_reader_check(env, &dead)
            if !create { try growingWhenFull(env) { try upgradeStreamIndex(env: env, path: path) } }
            var databases = try openDatabases(env: env, path: path, create: create, tree: options.keepsTree)
            if options.keepsTree && databases.tree == nil {
                databases.tree = try growingWhenFull(env) { try buildTree(env: env, databases: databases) }
            }
            if let rule = options.tagRule {
                let opened = databases
                databases.tags = try growingWhenFull(env) { try TagIndex.open(env: env, databases: opened, rule: rule) }
            }
            let environment = Environment(env: env, databases: databases, path: path, options: options)
            if options.premapsFile {
                environment.premap()
                environment.fillTreeCache()
            }
            return environment
        } catch {
            mdb_env_close(env)
            throw error
        }
    }

    private static func openDatabases(env: OpaquePointer, path: String, create: Bool, tree keepsTree: Bool) throws -> Databases {
        var txnPointer: OpaquePointer?
        try check(mdb_txn_begin(env, nil, create ? 0 : UInt32(MDB_RDONLY), &txnPointer), "cannot begin a transaction")
        guard let txn = txnPointer else { throw StoreError(.cannotOpen, "mdb_txn_begin returned no transaction") }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }

        func dbi(_ name: String) throws -> MDB_dbi {
            var handle: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &handle)
            if rc == MDB_NOTFOUND { throw StoreError(.notALedger, "\(path) is an LMDB environment but not a ledger (no '\(name)' database)") }
            try check(rc, "cannot open the '\(name)' database")
            return handle
        }
        var streams: MDB_dbi = 0
        let streamsRC = mdb_dbi_open(txn, StreamIndex.name, UInt32(create ? MDB_CREATE : 0) | StreamIndex.flags, &streams)
        var recentStreams: MDB_dbi = 0
        let recentRC = mdb_dbi_open(txn, StreamIndex.recentName, UInt32(create ? MDB_CREATE : 0) | StreamIndex.flags, &recentStreams)
        var databases = Databases(
            events: try dbi("events"), streams: streams, recentStreams: recentStreams, ids: try dbi("ids"), keys: try dbi("keys"), meta: try dbi("meta"))
        var tree: MDB_dbi = 0
        let treeRC = keepsTree ? mdb_dbi_open(txn, "tree", create ? UInt32(MDB_CREATE) : 0, &tree) : MDB_NOTFOUND
        if treeRC != MDB_NOTFOUND {
            try check(treeRC, "cannot open the 'tree' database")
            databases.tree = tree
        }

        if create {
            let formatBytes = withUnsafeBytes(of: Environment.formatVersion.bigEndian, Array.init)
            try withValue(MetaKey.format) { key in
                try withValue(formatBytes) { value in
                    try check(mdb_put(txn, databases.meta, &key, &value, 0), "cannot write the ledger format")
                }
            }
        } else {
            var value = MDB_val()
            let rc = withValue(MetaKey.format) { key in mdb_get(txn, databases.meta, &key, &value) }
            guard rc == MDB_SUCCESS, value.mv_size == 4 else { throw StoreError(.notALedger, "\(path) has no ledger format mark") }
            let format = UInt32(bigEndian: value.mv_data.loadUnaligned(as: UInt32.self))
            if format > Environment.formatVersion {
                throw StoreError(.newerFormat, "\(path) was written by a newer ledger format (\(format)); this build reads format \(Environment.formatVersion)")
            }
            if format < Environment.formatVersion {
                throw StoreError(.cannotOpen, "\(path) is a ledger of format \(format), which this build upgrades to format \(Environment.formatVersion) when it can write to it; it cannot")
            }
        }
        if streamsRC == MDB_NOTFOUND { throw StoreError(.notALedger, "\(path) is an LMDB environment but not a ledger (no '\(StreamIndex.name)' database)") }
        try check(streamsRC, "cannot open the '\(StreamIndex.name)' database")
        if recentRC == MDB_NOTFOUND { throw StoreError(.notALedger, "\(path) is an LMDB environment but not a ledger (no '\(StreamIndex.recentName)' database)") }
        try check(recentRC, "cannot open the '\(StreamIndex.recentName)' database")
        try check(mdb_txn_commit(txn), "cannot commit the ledger's databases")
        committed = true
        return databases
    }

    /// Checks what LMDB trusts without checking when it maps `data.mdb`: a meta page with LMDB's
    /// magic number, and a file long enough for every page that meta page says is in use (a
    /// truncated file would otherwise fault with SIGBUS when a page past its end is read).
    ///
    /// Another process may be committing meanwhile: its data pages reach the file before its meta
    /// page, and the file never shrinks, so the meta pages are read before the file's size; and a
    /// file found short is looked at once more before it is called truncated.
    static func checkDataFile(_ dataFile: String, lookAgain: Bool = true) throws {
        guard let handle = FileHandle(forReadingAtPath: dataFile) else { return }  // mdb_env_open says why
        defer { try? handle.close() }
        // Page header (16 bytes), then the meta: magic u32, version u32, address, map size, two
        // 48-byte database records (the first one's first u32 is the page size), last page, txnid.
        func meta(at offset: UInt64) -> (lastPage: UInt64, txnid: UInt64, pageSize: UInt64)? {
            guard (try? handle.seek(toOffset: offset)) != nil, let bytes = try? handle.read(upToCount: 16 + 136), bytes.count == 152 else { return nil }
            func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) } }
            guard word(16, UInt32.self) == 0xBEEF_C0DE else { return nil }
            return (word(16 + 120, UInt64.self), word(16 + 128, UInt64.self), UInt64(word(16 + 24, UInt32.self)))
        }
        guard let first = meta(at: 0), [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].contains(first.pageSize) else {
            throw StoreError.damaged("data.mdb (\((try? handle.seekToEnd()) ?? 0) bytes) has no valid LMDB meta page")
        }
        let second = meta(at: first.pageSize)
        let current = second.map { $0.txnid > first.txnid ? $0 : first } ?? first
        let needed = (current.lastPage + 1) * first.pageSize
        let size = (try? handle.seekToEnd()) ?? 0
        guard size >= needed else {
            if lookAgain {
                usleep(50_000)
                return try checkDataFile(dataFile, lookAgain: false)
            }
            throw StoreError.damaged("data.mdb is \(size) bytes, but its pages run to byte \(needed): the file was truncated")
        }
    }

    /// Runs an upgrade that opening does (the tree, the tag index) again after doubling the map,
    /// for as long as it reports `MDB_MAP_FULL`. A ledger larger than the initial map size opens
    /// with a map exactly its size (LMDB's rule), which leaves no page for an upgrade to write;
    /// the upgrade's transaction was aborted, so nothing of it is half-written.
    private static func growingWhenFull<R>(_ env: OpaquePointer, _ upgrade: () throws -> R) throws -> R {
        while true {
            do {
                return try upgrade()
            } catch let error as LMDBError where error == .mapFull {
                var info = MDB_envinfo()
                mdb_env_info(env, &info)
                try check(mdb_env_set_mapsize(env, info.me_mapsize * 2), "cannot grow the map to upgrade the ledger")
            }
        }
    }

    /// Upgrades a ledger written before the Merkle tree: creates its database and builds it over
    /// every record, in one transaction that changes no record. Where the ledger cannot be
    /// written (a read-only filesystem, another user's files), it stays without a tree and the
    /// commands that need one say so.
    private static func buildTree(env: OpaquePointer, databases: Databases) throws -> MDB_dbi? {
        var txnPointer: OpaquePointer?
        guard mdb_txn_begin(env, nil, 0, &txnPointer) == MDB_SUCCESS, let txn = txnPointer else { return nil }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        var tree: MDB_dbi = 0
        guard mdb_dbi_open(txn, "tree", UInt32(MDB_CREATE), &tree) == MDB_SUCCESS else { return nil }
        var upgraded = databases
        upgraded.tree = tree
        try StoredTree.extend(TxnAccess(txn: txn, databases: upgraded))
        // A commit frees the transaction, whether or not it succeeds.
        committed = true
        let rc = mdb_txn_commit(txn)
        if rc == MDB_MAP_FULL { throw LMDBError.mapFull }
        return rc == MDB_SUCCESS ? tree : nil
    }

    /// Upgrades a ledger of format 1 or 2 to format 3 (``StreamIndex``), in one write transaction
    /// that changes no record — a crash or a full map leaves the old format whole: builds the
    /// settled tier as sorted duplicates from the records, drops the old index (format 1's
    /// `streams`, format 2's `stream-index`: a process of an older build that still has the
    /// ledger open then fails instead of writing to an index this build no longer reads), creates
    /// the recent tier, empty, and marks the format. A no-op
    /// for a ledger of format 3, or one another process upgraded meanwhile (the format is read
    /// again under the writer lock). Throws `MDB_MAP_FULL` with nothing written, for
    /// ``growingWhenFull(_:_:)``.
    private static func upgradeStreamIndex(env: OpaquePointer, path: String) throws {
        func format(_ txn: OpaquePointer) -> UInt32? {
            var meta: MDB_dbi = 0
            guard mdb_dbi_open(txn, "meta", 0, &meta) == MDB_SUCCESS else { return nil }
            var value = MDB_val()
            let rc = withValue(MetaKey.format) { key in mdb_get(txn, meta, &key, &value) }
            guard rc == MDB_SUCCESS, value.mv_size == 4 else { return nil }
            return UInt32(bigEndian: value.mv_data.loadUnaligned(as: UInt32.self))
        }
        var txnPointer: OpaquePointer?
        // A look first, without the writer lock: nearly every open finds the current format.
        guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txnPointer) == MDB_SUCCESS, let reader = txnPointer else { return }
        let found = format(reader)
        mdb_txn_abort(reader)
        guard let found, found < formatVersion else { return }  // not a ledger, or newer: opening says so

        let rc = mdb_txn_begin(env, nil, 0, &txnPointer)
        guard rc == MDB_SUCCESS, let txn = txnPointer else {
            throw StoreError(.cannotOpen, "\(path) is a ledger of format \(found); this build upgrades it to format \(formatVersion) when it opens it, which needs write access", cause: LMDBError(code: rc))
        }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        guard let format = format(txn), format < formatVersion else { return }
        func dbi(_ name: String, _ flags: Int32 = 0) throws -> MDB_dbi {
            var handle: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, name, UInt32(flags), &handle)
            if rc == MDB_NOTFOUND { throw StoreError(.notALedger, "\(path) is an LMDB environment but not a ledger (no '\(name)' database)") }
            try check(rc, "cannot open the '\(name)' database to upgrade the ledger")
            return handle
        }
        let databases = Databases(
            events: try dbi("events"), streams: try dbi(StreamIndex.name, MDB_CREATE | Int32(StreamIndex.flags)),
            recentStreams: try dbi(StreamIndex.recentName, MDB_CREATE | Int32(StreamIndex.flags)),
            ids: try dbi("ids"), keys: try dbi("keys"), meta: try dbi("meta"))
        let old = try dbi(format < 2 ? "streams" : StreamIndex.formatTwoName)
        try LMDBError.check(mdb_drop(txn, databases.recentStreams, 0))
        try LMDBError.check(mdb_drop(txn, databases.streams, 0))
        try StreamIndex.rebuild(TxnAccess(txn: txn, databases: databases))
        try LMDBError.check(mdb_drop(txn, old, 1))
        try Batch.put(txn, databases.meta, MetaKey.format, withUnsafeBytes(of: formatVersion.bigEndian, Array.init), flags: 0)
        // A commit frees the transaction, whether or not it succeeds.
        committed = true
        let commitRC = mdb_txn_commit(txn)
        if commitRC == MDB_MAP_FULL { throw LMDBError.mapFull }
        try check(commitRC, "cannot commit the upgrade of the ledger to format \(formatVersion)")
    }

    static func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND { throw StoreError.damaged(what(), cause: LMDBError(code: rc)) }
        if rc != MDB_SUCCESS { throw StoreError(.cannotOpen, what(), cause: LMDBError(code: rc)) }
    }

    var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return info.me_mapsize
    }

    /// The bytes free for this user on the ledger's filesystem.
    func freeBytes() -> Int {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return Int.max }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// Doubles the map after `MDB_MAP_FULL`. Takes the resize lock exclusively.
    func grow() throws {
        try resizeLock.exclusive {
            let rc = mdb_env_set_mapsize(env, mapSize * 2)
            if rc != MDB_SUCCESS { throw StoreError(.storage, "cannot grow the map", cause: LMDBError(code: rc)) }
        }
        if premapsFile { resizeLock.shared { premap() } }
    }

    /// Adopts the size another process grew the map to (`MDB_MAP_RESIZED`).
    func adoptMapSize() throws {
        try resizeLock.exclusive {
            let rc = mdb_env_set_mapsize(env, 0)
            if rc != MDB_SUCCESS { throw StoreError(.storage, "cannot adopt the grown map", cause: LMDBError(code: rc)) }
        }
        if premapsFile { resizeLock.shared { premap() } }
    }

    /// Populates the page tables of the map's used pages (``StoreOptions/premapsFile``):
    /// Linux's `madvise(MADV_POPULATE_READ)` over the pages the last commit says are in use.
    /// Called with no transaction of this process resizing the map (at open, or holding the
    /// resize lock shared); a new mapping (a grown map) starts without page tables, so growth
    /// calls it again. Never fails: where it cannot, the reads fault pages in as they go.
    private func premap() {
        let start = DispatchTime.now().uptimeNanoseconds
        let outcome: Premap
        switch mappedFile() {
        case .unknown(let reason):
            outcome = Premap(bytes: 0, seconds: 0, failure: reason)
        case .mapped(let address, let bytes):
            let rc = kinerja_populate_read(address, bytes)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            outcome = Premap(bytes: rc == 0 ? bytes : 0, seconds: seconds,
                failure: rc == 0 ? nil : "madvise(MADV_POPULATE_READ) failed: \(String(cString: strerror(rc)))")
        }
        lastPremap.withLock { $0 = outcome }
    }

    /// Where the map is and how many of its bytes the last commit uses. LMDB does not say where
    /// it mapped the file (`me_mapaddr` is only set for `MDB_FIXEDMAP`), so the mapping is the
    /// one of /proc/self/maps that holds a value read from it (the format mark, in the map).
    private enum Mapping {
        case mapped(UnsafeMutableRawPointer, bytes: Int)
        case unknown(String)
    }

    private func mappedFile() -> Mapping {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        guard mdb_env_info(env, &info) == MDB_SUCCESS, mdb_env_stat(env, &stat) == MDB_SUCCESS else { return .unknown("LMDB did not say how large the file is") }
        let used = (info.me_last_pgno + 1) * Int(stat.ms_psize)
        guard let txn = try? begin(readOnly: true) else { return .unknown("no read transaction") }
        defer { mdb_txn_abort(txn) }
        var value = MDB_val()
        let rc = withValue(MetaKey.format) { key in mdb_get(txn, databases.meta, &key, &value) }
        guard rc == MDB_SUCCESS, let inMap = value.mv_data.map({ UInt(bitPattern: $0) }) else { return .unknown("the format mark is not readable") }
        // Read to its end: Foundation's `String(contentsOfFile:)` stops at a proc file's first page.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/maps") else { return .unknown("no /proc/self/maps to find the map in") }
        defer { try? file.close() }
        let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        for line in maps.split(separator: "\n") {
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let low = UInt(bounds[0], radix: 16), let high = UInt(bounds[1], radix: 16), low <= inMap, inMap < high else { continue }
            guard let address = UnsafeMutableRawPointer(bitPattern: low) else { break }
            return .mapped(address, bytes: min(used, Int(high - low)))
        }
        return .unknown("the map is not in /proc/self/maps")
    }

    /// Fills the tree node cache from the node table (``StoredTree/fill(_:from:)``), recording
    /// how many nodes and how long in the pre-mapping's outcome. A failure leaves the cache to
    /// fill as proofs read it.
    private func fillTreeCache() {
        let start = DispatchTime.now().uptimeNanoseconds
        guard let txn = try? begin(readOnly: true) else { return }
        defer { mdb_txn_abort(txn) }
        guard let kept = try? StoredTree.fill(treeCache, from: TxnAccess(txn: txn, databases: databases)) else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lastPremap.withLock { $0?.treeNodes = kept; $0?.treeNodeSeconds = seconds }
    }

    /// What the last pre-mapping did; nil when the store does not pre-map.
    var premapOutcome: Premap? { lastPremap.withLock { $0 } }

    /// Begins a transaction, retrying once after clearing stale reader slots. A write
    /// transaction of a ledger keeps about ``dirtyPageBound`` dirty pages in memory, unless
    /// `bounded` is false; it ends with ``end(_:commit:)``.
    func begin(readOnly: Bool, bounded: Bool = true) throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        if rc == MDB_READERS_FULL {
            var dead: Int32 = 0
            mdb_reader_check(env, &dead)
            rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn)
        }
        try LMDBError.check(rc)
        if !readOnly, !LinkedLMDB.knowsTransactionLayout || kinerja_txn_bound_dirty_pages(txn, bounded ? dirtyPageBound : Self.lmdbDirtyRoom) == 0 {
            unboundedWrite.store(true, ordering: .relaxed)
        }
        return txn!
    }

    /// Ends a read transaction (aborted), or commits or aborts a write transaction, from
    /// ``begin(readOnly:bounded:)``. After a write transaction that spilled (a staging area's
    /// too, past LMDB's own room), LMDB before 0.9.25 does not free its list of spilled pages:
    /// this does.
    func end(_ txn: OpaquePointer, readOnly: Bool = false, commit: Bool) throws(LMDBError) {
        if readOnly {
            mdb_txn_abort(txn)
            return
        }
        // The private fields are read only where `begin` found the layout it knows.
        let trusted = !unboundedWrite.load(ordering: .relaxed)
        // The commit's own puts must not spill: the list is read before it.
        if trusted && commit { kinerja_txn_unbound_dirty_pages(txn) }
        let leaked = trusted && LinkedLMDB.leaksSpillList ? kinerja_txn_leaked_spill_list(txn) : nil
        defer { kinerja_free_spill_list(leaked) }
        if trusted, kinerja_txn_spilled(txn) != 0 { spills.add(1, ordering: .relaxed) }
        if commit {
            try LMDBError.check(mdb_txn_commit(txn))
        } else {
            mdb_txn_abort(txn)
        }
    }

    /// Write transactions that spilled pages to keep to ``dirtyPageBound``, so far.
    package var spilledTransactions: Int { spills.load(ordering: .relaxed) }

    package var boundsDirtyPages: Bool { !unboundedWrite.load(ordering: .relaxed) }
}

/// What pre-mapping a ledger's file did (``StoreOptions/premapsFile``).
public struct Premap: Sendable, Equatable {
    /// The bytes of the file whose pages were mapped (0 when it failed).
    public var bytes: Int
    /// How long it took.
    public var seconds: Double
    /// Why nothing was pre-mapped, if so (the reads then fault their pages in as they go).
    public var failure: String?
    /// The Merkle tree's upper nodes read into the tree node cache at open, and how long it took
    /// (the levels dossier proofs read from memory: 5 and up at 10 M records, ~625 000 nodes).
    public var treeNodes = 0
    public var treeNodeSeconds = 0.0
}

/// How a store is opened.
public struct StoreOptions: Sendable {
    /// The map size to start with; the map doubles whenever it fills up.
    public var initialMapSize: Int
    /// The ledger clock, microseconds since the Unix epoch. `recorded_at` is never less than the head's.
    public var clock: @Sendable () -> Int64
    /// Whether each commit reaches the disk before it returns (the default). Without, commits
    /// are flushed by ``Store/sync()`` or by the system later (LMDB's `MDB_NOSYNC` and
    /// `MDB_NOMETASYNC`): a crash may lose the latest ones, but never break the ledger. Only for
    /// a ledger that can be rebuilt, such as the demo's, or thrown away, such as a staging area.
    public var syncsEachCommit: Bool

    /// False only for a staging area, whose records are not the ledger's (yet): no Merkle tree.
    var keepsTree = true
    /// True only for a staging area: LMDB writes its pages in the map (`MDB_WRITEMAP`), so that
    /// one write transaction can span a whole staging pass without holding its dirty pages in
    /// the process's memory. Never for a ledger: a write to a page the disk cannot hold would
    /// be a SIGBUS, where the staging area reserves its blocks first (``PageBudget``).
    var writesInPlace = false
    /// The slots of the environment's ``TreeNodeCache``: its default but in tests, where a tiny
    /// one makes a ledger of a few records take the path a large one's dossier proofs take.
    /// Read when the environment opens (a store opened again while another holds it shares it).
    package var treeCacheCapacity = TreeNodeCache.defaultCapacity
    /// The entries the stream index's recent tier holds before each commit folds its excess into
    /// the settled tier (``StreamIndex/fold(_:bound:)``): its default but in tests, where a small
    /// one folds a ledger of a few records, and in a staging area, which never folds (`.max`).
    package var streamRecentBound = StreamIndex.defaultRecentBound

    /// About the most dirty pages (LMDB's pages, 4 KiB here; at least 64) a write transaction of
    /// the ledger keeps in memory: one that dirties more has LMDB write the ones no cursor stands
    /// on to their place in the file before the commit, and read them back from the map if it
    /// touches them again (``Environment/begin(readOnly:bounded:)``). The transactions that
    /// build or upgrade an index when a ledger opens are not bounded. LMDB keeps the pages a
    /// transaction dirtied for the next ones, so without a bound an import's memory would be the
    /// dirty pages of its largest commit, which grows with the ledger (a commit of 10 000 records dirties a leaf of each
    /// index for nearly every record once the indexes have more leaves than that: ~9 700 pages
    /// at 10 M records, ~29 000 at 30 M). 16 MiB by default; tests set a tiny one, so that every
    /// commit writes through LMDB's spill path.
    package var dirtyPageBound = 4096

    /// The writer's tag rule, if it keeps a tag index (``TagRule``).
    public var tagRule: TagRule?

    /// For a long-running reader (`kinerja serve`): when the ledger opens, and again after its
    /// map grows, the page tables of the whole used file are populated (Linux 5.14's
    /// `madvise(MADV_POPULATE_READ)`, ~0.5 s for a 4.3 GB ledger whose file is in the page
    /// cache), so that no read takes a page fault later. Without it a fresh process maps each
    /// page of the file on its first touch: the first few hundred reads of a 10 M-event ledger
    /// each take hundreds of faults (4–6 µs each, the kernel mapping 16 neighbours a time).
    /// Not for a one-off command, which would map gigabytes to read a few hundred pages. It
    /// costs no memory of the process's own (the pages are the page cache's, shared and
    /// reclaimable), but they count in its RSS; a file not in the page cache is read from the
    /// disk. Where the call fails (an older kernel, another system), nothing is pre-mapped and
    /// ``Store/premap`` says why. At open, the Merkle tree's upper nodes are also read into the
    /// tree node cache (one scan of the node table: ~0.3 s and 25 MB at 10 M records), which
    /// dossier proofs otherwise fill over their first thousand or so.
    public var premapsFile = false

    public init(initialMapSize: Int = 256 << 20, clock: @escaping @Sendable () -> Int64 = StoreOptions.systemClock, syncsEachCommit: Bool = true) {
        self.initialMapSize = initialMapSize
        self.clock = clock
        self.syncsEachCommit = syncsEachCommit
    }

    public static let systemClock: @Sendable () -> Int64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }
}
