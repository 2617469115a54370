import CLMDB
import Dispatch
import Synchronization
import TransparencyLog

/// The records' unique keys, as ``Store/verify(keysOf:)`` takes them.
typealias KeysOf = (borrowing RecordView) throws -> [[UInt8]]

/// One read of the records that checks, at once, what `verify` checks: the chain, each record's
/// header and payload (`keysOf`), the stream, id and unique-key indexes, the tag index and the
/// Merkle tree, on one or two threads.
///
/// Each check holds record by record, so the records are split into chunks of
/// ``chunkSize`` (a complete subtree of the Merkle tree each) that the threads take in turn:
/// record `n` is checked against the *stored* hash and `recorded_at` of record `n − 1`, which,
/// when every record passes, is the chain re-hashed from `hash(0)`. The index digests are sums,
/// added up in any order; the tree's nodes of a chunk are compared with its records' leaves, the
/// nodes above the chunks at the end. Each thread reads through its own read transaction of the
/// same snapshot (LMDB's `MDB_NOTLS` readers; the second thread helps only if its transaction
/// sees the same commit).
///
/// The pass says only *whether* each part holds. When one does not, the sequential checks
/// (``Store/verifySequentially(keysOf:)``, ``TagIndex/verify(_:_:)``, ``StoredTree/verify(_:)``)
/// name the first fault, as they always have: a damaged ledger is rare, its message exact.
final class VerifyPass: @unchecked Sendable {
    // @unchecked: what the threads share is the atomics and the mutex; the rest is read-only.
    static let chunkLevel = 12
    static let chunkSize = UInt64(1) << UInt64(chunkLevel)
    /// How far apart, in bytes, the lines below a record that the pass prefetches lie: every
    /// fourth 64-byte line, about one a record, tuned to records of ~250 bytes in their leaf.
    static let prefetchStride = 256

    /// What the pass found.
    struct Outcome {
        var head: Head
        /// The chain, the head, each record's header and payload, the stream, id and key indexes.
        var records: Bool
        /// The tag index (true when there is none by the rule to check).
        var tags: Bool
        /// The Merkle tree (true when not asked).
        var tree: Bool
    }

    /// What each thread adds up, merged at the end.
    struct Totals {
        var implied = IndexDigest()
        var stored = IndexDigest()
        var impliedTags = TagDigest()
        var storedTags = TagDigest()
        var recordsBroken = false
        var tagsBroken = false
        var treeBroken = false
        /// The hash of each complete chunk's subtree, for the nodes above the chunks.
        var roots: [(chunk: Int, root: TreeHash)] = []
        /// The last record: what the head must be.
        var last = Head.empty
        var tasksDone = 0
    }

    let head: Head
    let chunks: Int
    let keysOf: KeysOf
    /// The rule whose index is checked, and how many records its index covers.
    let tags: (rule: TagRule, covered: UInt64)?
    let tree: Bool
    /// The index scans (tasks `0..<scans`), then the chunks.
    let scans: Int
    let taskCount: Int
    private let nextTask = Atomic<Int>(0)
    /// Set on a fault of the records: nothing the pass could add would change the verdict.
    private let stopped = Atomic<Bool>(false)
    private let totals: Mutex<Totals>

    /// Reads what the pass needs from `access`; a part found broken already (the tag index
    /// covering more than the head, a tree of another size) is noted.
    init(access: TxnAccess, keysOf: @escaping KeysOf, tagRule: TagRule?, tree: Bool) throws {
        head = try access.head()
        chunks = Int((head.seq + Self.chunkSize - 1) / Self.chunkSize)
        self.keysOf = keysOf
        self.tree = tree
        var start = Totals()
        if let rule = tagRule, access.databases.tags != nil, let coverage = try TagIndex.coverage(access), coverage.rule == rule.name {
            tags = (rule, coverage.size)
            if coverage.size > head.seq { start.tagsBroken = true }
        } else {
            tags = nil
        }
        if tree {
            let size = try StoredTree.size(access)
            if access.databases.tree == nil || size != head.seq { start.treeBroken = true }
        }
        totals = Mutex(start)
        // The scans of the stream, id and key indexes and of the tag index, then the chunks: the
        // scans are the long tasks, taken first so that the short chunks even out the threads' ends.
        scans = 3 + (tags == nil ? 0 : 1)
        taskCount = scans + chunks
    }

    /// Takes tasks until there are none left, reading through `access`.
    func work(_ access: TxnAccess) {
        var local = Totals()
        while !stopped.load(ordering: .relaxed) {
            let task = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            guard task < taskCount else { break }
            do {
                if task < scans {
                    try scan(task, access, &local)
                } else {
                    try checkChunk(task - scans, access, &local)
                }
            } catch {
                // LMDB could not read something: the sequential checks will say what.
                local.recordsBroken = true
            }
            local.tasksDone += 1
            if local.recordsBroken { stopped.store(true, ordering: .relaxed) }
        }
        totals.withLock { totals in
            totals.implied.merge(local.implied)
            totals.stored.merge(local.stored)
            totals.impliedTags.merge(local.impliedTags)
            totals.storedTags.merge(local.storedTags)
            totals.recordsBroken = totals.recordsBroken || local.recordsBroken
            totals.tagsBroken = totals.tagsBroken || local.tagsBroken
            totals.treeBroken = totals.treeBroken || local.treeBroken
            totals.tasksDone += local.tasksDone
            if local.last.seq > totals.last.seq { totals.last = local.last }
            totals.roots.append(contentsOf: local.roots)
        }
    }

    /// Runs the pass on `threads` threads (the second with its own transaction, opened by
    /// `beginSecond`) and judges what they found.
    func run(_ access: TxnAccess, threads: Int, second: @Sendable (_ work: (TxnAccess) -> Void) -> Void) throws -> Outcome {
        if threads > 1 && taskCount > 1 {
            let first = UncheckedAccess(access: access)
            let txnID = mdb_txn_id(access.txn)
            DispatchQueue.concurrentPerform(iterations: 2) { thread in
                if thread == 0 {
                    work(first.access)
                } else {
                    second { other in
                        // Another commit between the two transactions: the first thread does it all.
                        if mdb_txn_id(other.txn) == txnID { work(other) }
                    }
                }
            }
        } else {
            work(access)
        }
        return try judge(access)
    }

    // MARK: The records

    /// Checks the records of chunk `index`: keys, headers, the chain, payloads, their index
    /// entries and tags, and the tree's nodes over them.
    private func checkChunk(_ index: Int, _ access: TxnAccess, _ local: inout Totals) throws {
        let first = UInt64(index) * Self.chunkSize + 1
        let last = min(first + Self.chunkSize - 1, head.seq)
        var previous = (hash: ChainHash.zero, recordedAt: Int64.min)
        if first > 1 {
            guard let before = try access.withRecord(at: first - 1, checkingStream: false, { ($0.hash, $0.recordedAt) }) else {
                local.recordsBroken = true
                return
            }
            previous = before
        }
        var treeCursor: OpaquePointer?
        var node = (key: MDB_val(), value: MDB_val(), rc: MDB_NOTFOUND)
        if tree, let treeDB = access.databases.tree {
            try LMDBError.check(mdb_cursor_open(access.txn, treeDB, &treeCursor))
            // The first stored node of the chunk is the first key at or after (first leaf ‖ level 0).
            node.rc = withUnsafeBytes(of: (first - 1).bigEndian) { leaf in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 9) { probe in
                    probe.initialize(repeating: 0)
                    UnsafeMutableRawBufferPointer(probe).copyMemory(from: leaf)
                    node.key = MDB_val(mv_size: 9, mv_data: probe.baseAddress)
                    return mdb_cursor_get(treeCursor, &node.key, &node.value, MDB_SET_RANGE)
                }
            }
        }
        defer { if let treeCursor { mdb_cursor_close(treeCursor) } }
        var chain = ChunkChain(
            previous: previous, keysOf: keysOf, tagRule: tags.flatMap { $0.covered >= first ? $0.rule : nil },
            tagsCovered: tags?.covered ?? 0, tree: tree, treeBroken: local.treeBroken, treeCursor: treeCursor, node: node,
            leafOffset: first - 1, headSeq: head.seq)
        var recordTags = RecordTags()
        var recordsBroken = false

        try access.withCursor(access.databases.events) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            // The first chunk starts at the table's first key, so that a stray key sorting before
            // seq 1 is seen; the others where the chunk before them stopped looking.
            var rc = first == 1
                ? mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                : withSeqKey(first) { firstKey in
                    key = firstKey
                    return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                }
            var expected = first
            var page: UInt = 0
            while expected <= last {
                guard rc == MDB_SUCCESS, key.bigEndianUInt64() == expected else {
                    recordsBroken = true
                    return
                }
                // On reaching a new leaf page, prefetch all of it: its records are read next
                // (each record's first read waited on memory, a third of this loop's own time).
                // And on each record, three lines below it, `prefetchStride` bytes apart (about
                // the next three records' first lines): an appended leaf holds its records from
                // the top of the page down, so the next ones start there (with the page's
                // prefetch alone the first reads of a record, in LMDB's `MDB_NEXT` and the
                // record's header, still waited; both together took 6 % off verify's CPU).
                if let data = value.mv_data {
                    if UInt(bitPattern: data) >> 12 != page {
                        page = UInt(bitPattern: data) >> 12
                        kinerja_prefetch_page(data)
                    }
                    kinerja_prefetch(data - Self.prefetchStride)
                    kinerja_prefetch(data - 2 * Self.prefetchStride)
                    kinerja_prefetch(data - 3 * Self.prefetchStride)
                }
                let ok = (try? CanonicalRecord.view(value: value.buffer) { record in chain.check(record, expected: expected, &local, &recordTags) }) ?? false
                guard ok else {
                    recordsBroken = true
                    return
                }
                expected += 1
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            // Nothing may follow the head's record; the next chunk's first record must follow
            // this chunk's last (a stray key between two chunks is read by neither otherwise).
            if last == head.seq {
                if rc != MDB_NOTFOUND { recordsBroken = true }
            } else if rc != MDB_SUCCESS || key.bigEndianUInt64() != last + 1 {
                recordsBroken = true
            }
        }
        local.recordsBroken = local.recordsBroken || recordsBroken
        local.treeBroken = chain.treeBroken
        if tree && !chain.treeBroken && chain.range.size == Self.chunkSize { local.roots.append((index, chain.range.root)) }
    }

    // MARK: The indexes

    /// Scans index `which` (0 streams, 1 ids, 2 unique keys, 3 tags) into its digest.
    private func scan(_ which: Int, _ access: TxnAccess, _ local: inout Totals) throws {
        switch which {
        case 0:
            let streams = try IndexDigest.scanStreams(access)
            local.stored.streams = streams.entry
            local.stored.versionsContinue = streams.versionsContinue
        case 1: local.stored.ids = try IndexDigest.scan(access, access.databases.ids)
        case 2: local.stored.keys = try IndexDigest.scan(access, access.databases.keys)
        default:
            guard let tagsDB = access.databases.tags else { return }
            try access.withCursor(tagsDB) { cursor in
                var key = MDB_val()
                var value = MDB_val()
                var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                while rc == MDB_SUCCESS {
                    local.storedTags.add(key: key.buffer)
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                }
                if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
            }
        }
    }

    // MARK: The verdict

    private func judge(_ access: TxnAccess) throws -> Outcome {
        var totals = totals.withLock { $0 }
        if totals.tasksDone != taskCount { totals.recordsBroken = true }
        // The head is the last record; with no record, no record at all.
        if head.seq == 0 {
            let empty = try access.withCursor(access.databases.events) { cursor in
                var key = MDB_val()
                var value = MDB_val()
                return mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == MDB_NOTFOUND
            }
            if !empty || head != .empty { totals.recordsBroken = true }
        } else if totals.last != head {
            totals.recordsBroken = true
        }
        if totals.stored != totals.implied || !totals.stored.versionsContinue { totals.recordsBroken = true }
        if tags != nil && totals.impliedTags != totals.storedTags { totals.tagsBroken = true }
        if tree && !totals.treeBroken && !totals.recordsBroken {
            var roots = [TreeHash?](repeating: nil, count: chunks)
            for (chunk, root) in totals.roots { roots[chunk] = root }
            totals.treeBroken = !(try treeAboveChunksHolds(access, roots: roots))
        }
        return Outcome(head: head, records: !totals.recordsBroken, tags: !totals.tagsBroken, tree: !totals.treeBroken)
    }

    /// The stored nodes above the chunks, folded from the chunks' roots, and no node more than
    /// the records imply (each chunk found its own nodes, in key order).
    private func treeAboveChunksHolds(_ access: TxnAccess, roots: [TreeHash?]) throws -> Bool {
        guard let treeDB = access.databases.tree else { return false }
        let complete = Int(head.seq / Self.chunkSize)
        var upper = CompactRange()
        var holds = true
        for chunk in 0..<complete {
            guard let root = roots[chunk] else { return false }
            try upper.append(root) { level, index, hash in
                guard level > 0, holds else { return }
                let stored = try access.get(treeDB, StoredTree.key(level: level + Self.chunkLevel, index: index))
                if stored?.mv_size != 32 || TreeHash(uncheckedBytes: stored!.buffer) != hash { holds = false }
            }
        }
        guard holds else { return false }
        var expected = 0
        for level in StoredTree.storedLevel..<64 { expected += Int(head.seq >> UInt64(level)) }
        return try access.entryCount(treeDB) == expected
    }
}

/// What the check of a chunk carries from one record to the next, and the closures it calls.
/// Held in one variable that the record's closure reaches through its address: the closure
/// captures nothing that must be retained and released per record (capturing the pass, the
/// rule's closure and the keys' closure cost four retains and five releases a record, 3 % of
/// `verify`).
private struct ChunkChain {
    /// The hash and `recorded_at` of the record before.
    var previous: (hash: ChainHash, recordedAt: Int64)
    let keysOf: KeysOf
    /// The tag rule's, called for the records through `tagsCovered` (none without a rule).
    /// Not optional: a call through an optional closure retained and released it.
    let forEachTag: (borrowing RecordView, _ tag: (UnsafeRawBufferPointer) -> Void) -> Void
    let tagsCovered: UInt64
    let tree: Bool
    var treeBroken: Bool
    let treeCursor: OpaquePointer?
    /// The next stored node of the tree.
    var node: (key: MDB_val, value: MDB_val, rc: Int32)
    var range = CompactRange()
    /// The chunk's first `seq` − 1: its first leaf's index.
    let leafOffset: UInt64
    let headSeq: UInt64

    init(
        previous: (hash: ChainHash, recordedAt: Int64), keysOf: @escaping KeysOf,
        tagRule: TagRule?, tagsCovered: UInt64,
        tree: Bool, treeBroken: Bool, treeCursor: OpaquePointer?, node: (key: MDB_val, value: MDB_val, rc: Int32), leafOffset: UInt64, headSeq: UInt64
    ) {
        self.previous = previous
        self.keysOf = keysOf
        self.forEachTag = tagRule?.forEachTag ?? { _, _ in }
        // With no rule `tagsCovered` is 0, so no record's tags are counted (its `seq` is never ≤ 0).
        self.tagsCovered = tagRule == nil ? 0 : tagsCovered
        self.tree = tree
        self.treeBroken = treeBroken
        self.treeCursor = treeCursor
        self.node = node
        self.leafOffset = leafOffset
        self.headSeq = headSeq
    }

    /// Checks record `expected` against the one before (its `seq`, `recorded_at` and chain
    /// hash) and its payload, and adds its index entries, tags and leaf: false if it is broken.
    /// `recordTags` is a buffer kept from record to record (not a field: a closure that changed
    /// `self` while `self.forEachTag` ran had that closure retained and released around the call).
    mutating func check(_ record: borrowing RecordView, expected: UInt64, _ local: inout VerifyPass.Totals, _ recordTags: inout RecordTags) -> Bool {
        guard record.seq == expected, record.recordedAt >= previous.recordedAt,
            ChainHash.chain(previous.hash, record.canonical) == record.hash,
            let keys = try? keysOf(record)
        else { return false }
        local.implied.add(record: record, keys: keys)
        if record.seq <= tagsCovered {
            let seq = record.seq
            recordTags.clear()
            forEachTag(record) { tag in
                if recordTags.insert(tag) { local.impliedTags.add(tag: tag, seq: seq) }
            }
        }
        if tree && !treeBroken { addLeaf(Merkle.leafHash(record.canonical)) }
        previous = (record.hash, record.recordedAt)
        if record.seq == headSeq { local.last = Head(seq: record.seq, hash: record.hash, recordedAt: record.recordedAt) }
        return true
    }

    /// Adds a leaf to the chunk's subtree and compares each stored node it completes.
    private mutating func addLeaf(_ leaf: TreeHash) {
        // What the closure reads and writes, apart from `range` (which `append` holds).
        var (node, treeBroken) = (self.node, self.treeBroken)
        let (treeCursor, leafOffset) = (self.treeCursor, self.leafOffset)
        defer { (self.node, self.treeBroken) = (node, treeBroken) }
        range.append(leaf) { level, index, hash in
            guard level >= StoredTree.storedLevel, !treeBroken else { return }
            let lastLeaf = ((index + 1) << UInt64(level)) - 1 + leafOffset
            guard node.rc == MDB_SUCCESS, node.key.mv_size == 9,
                node.key.mv_data.loadUnaligned(as: UInt64.self) == lastLeaf.bigEndian,
                node.key.mv_data.load(fromByteOffset: 8, as: UInt8.self) == UInt8(level),
                node.value.mv_size == 32, TreeHash(uncheckedBytes: node.value.buffer) == hash
            else {
                treeBroken = true
                return
            }
            node.rc = mdb_cursor_get(treeCursor, &node.key, &node.value, MDB_NEXT)
        }
    }
}

/// A read transaction handed to the pass's other thread: LMDB's `MDB_NOTLS` read transactions
/// may be used from any thread, and the pass's threads only read through it.
private struct UncheckedAccess: @unchecked Sendable {
    let access: TxnAccess
}

/// A multiset digest of tag index entries (the index's keys), as ``IndexDigest`` is of the others.
struct TagDigest: Equatable {
    var count = 0
    var sum: UInt64 = 0

    mutating func add(key: UnsafeRawBufferPointer) {
        var hasher = IndexDigest.seeded
        hasher.combine(bytes: key)
        count += 1
        sum &+= UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// Adds the entry of `tag` on record `seq`: its key, the tag's length ‖ tag ‖ seq, fed to the
    /// hasher in three parts, which gives the hash of the key's bytes (``IndexDigest``).
    mutating func add(tag: UnsafeRawBufferPointer, seq: UInt64) {
        var hasher = IndexDigest.seeded
        withUnsafeBytes(of: UInt8(truncatingIfNeeded: tag.count)) { hasher.combine(bytes: $0) }
        hasher.combine(bytes: tag)
        withUnsafeBytes(of: seq.bigEndian) { hasher.combine(bytes: $0) }
        count += 1
        sum &+= UInt64(bitPattern: Int64(hasher.finalize()))
    }

    mutating func merge(_ other: TagDigest) {
        count += other.count
        sum &+= other.sum
    }
}

/// The tags of one record so far, each as its length (an `Int`, unaligned) ‖ bytes: a record's
/// tags count once each (the index holds a key once). Its buffer is kept from record to record.
/// The length is a whole `Int`, so that a tag longer than ``TagRule/maxTagLength`` is still told
/// apart from others whole (a byte held its length modulo 256, and only that many of its bytes).
fileprivate struct RecordTags {
    private var bytes: [UInt8] = []
    private var end = 0

    private static let lengthSize = MemoryLayout<Int>.size

    /// Forgets the tags (keeping the buffer).
    mutating func clear() { end = 0 }

    /// Adds `tag`: false if it is there already.
    mutating func insert(_ tag: UnsafeRawBufferPointer) -> Bool {
        let found = bytes.withUnsafeBytes { seen in
            var offset = 0
            while offset < end {
                let count = seen.loadUnaligned(fromByteOffset: offset, as: Int.self)
                let start = offset + Self.lengthSize
                if count == tag.count, UnsafeRawBufferPointer(rebasing: seen[start..<start + count]).elementsEqual(tag) { return true }
                offset = start + count
            }
            return false
        }
        guard !found else { return false }
        let needed = end + Self.lengthSize + tag.count
        if bytes.count < needed { bytes.append(contentsOf: repeatElement(0, count: max(needed - bytes.count, 256))) }
        bytes.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: tag.count, toByteOffset: end, as: Int.self)
            UnsafeMutableRawBufferPointer(rebasing: buffer[end + Self.lengthSize..<needed]).copyMemory(from: tag)
        }
        end = needed
        return true
    }
}
