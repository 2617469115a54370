import CLMDB
import TransparencyLog

/// The RFC 6962 Merkle tree over the records, kept in the `tree` database inside the same
/// transactions as the records it covers, so tree and log never disagree.
///
/// Leaf `seq − 1` is `SHA-256(0x00 ‖ canonical bytes of record seq)`. The store keeps the hash
/// of every complete subtree of at least `2^storedLevel` leaves (about N/2 hashes for N
/// records), keyed by its last leaf and its level — the order in which appends complete them, so
/// they are written with `MDB_APPEND` — and computes the smaller ones from the records (at most
/// `2^storedLevel − 1` record reads a proof). The root of any size and any proof cost O(log N)
/// reads.
struct StoredTree: TreeNodes {
    /// Subtrees of `2^storedLevel` leaves and more are stored; smaller ones are recomputed.
    static let storedLevel = 2

    let access: TxnAccess
    let tree: MDB_dbi
    /// Cursors on the node table and on the records, for many reads in about key order (a
    /// dossier's proofs): LMDB finds a key on the page its cursor is on without descending from
    /// the root, and each descent of a large ledger's B-trees is a string of cache misses.
    private let cursors: (tree: OpaquePointer, events: OpaquePointer)?
    /// The upper nodes kept across read transactions (``TreeNodeCache``); nil outside a
    /// read-only transaction and wherever the stored nodes must be read (verify, extend, roots).
    private let cache: TreeNodeCache?
    /// The lowest level read through `cache` (``TreeNodeCache/minLevel(size:)`` of the head).
    private let cachedLevel: Int

    init(access: TxnAccess) throws {
        guard let tree = access.databases.tree else {
            throw StoreError(.corrupt, "this ledger has no Merkle tree yet: open it once with write access (any kinerja command) to build it")
        }
        self.access = access
        self.tree = tree
        cursors = nil
        cache = nil
        cachedLevel = .max
    }

    private init(_ plain: StoredTree, cursors: (tree: OpaquePointer, events: OpaquePointer), cache: TreeNodeCache?, head: UInt64) {
        access = plain.access
        tree = plain.tree
        self.cursors = cursors
        self.cache = cache
        cachedLevel = cache?.minLevel(size: head) ?? .max
    }

    /// `body` with a tree that reads through cursors, valid only inside `body`, and keeps its
    /// upper nodes in `cache` (only from a read-only transaction: see ``TreeNodeCache``), as
    /// deep as the cache's budget allows for a ledger whose head is `head`.
    static func withCursors<R>(_ access: TxnAccess, cache: TreeNodeCache? = nil, head: UInt64, _ body: (StoredTree) throws -> R) throws -> R {
        let plain = try StoredTree(access: access)
        return try access.withCursor(plain.tree) { tree in
            try access.withCursor(access.databases.events) { events in try body(StoredTree(plain, cursors: (tree, events), cache: cache, head: head)) }
        }
    }

    /// The value of `key` read through `cursor`, nil when it has none.
    private static func get(_ cursor: OpaquePointer, _ key: UnsafeRawBufferPointer) throws -> MDB_val? {
        var value = MDB_val()
        let rc = withValue(key) { key in mdb_cursor_get(cursor, &key, &value, MDB_SET_KEY) }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        return value
    }

    /// The value of the record after the one `cursor` stands on when that is record `seq`; nil
    /// when the log ends there or skips it.
    private static func next(_ cursor: OpaquePointer, expecting seq: UInt64) throws -> MDB_val? {
        var key = MDB_val()
        var value = MDB_val()
        let rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        return key.mv_size == 8 && key.buffer.loadUnaligned(as: UInt64.self) == seq.bigEndian ? value : nil
    }

    /// last leaf index (u64 BE) ‖ level: the order in which appends complete nodes.
    static func key(level: Int, index: UInt64) -> [UInt8] {
        (((index + 1) << UInt64(level)) - 1).bigEndianBytes + [UInt8(level)]
    }

    /// `key(level:index:)` in a buffer on the stack, for a read that keeps nothing.
    private static func withKey<R>(level: Int, index: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var key: (UInt64, UInt8) = ((((index + 1) << UInt64(level)) - 1).bigEndian, UInt8(level))
        return try withUnsafeBytes(of: &key) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<9])) }
    }

    /// A stored node, or a smaller one recomputed from its records' leaf hashes.
    func node(level: Int, index: UInt64) throws -> TreeHash {
        if level >= cachedLevel, let cache {
            if let hash = cache.node(level: level, index: index) { return hash }
            let hash = try storedNode(level: level, index: index)
            cache.keep(level: level, index: index, hash, lowest: cachedLevel)
            return hash
        }
        if level >= Self.storedLevel { return try storedNode(level: level, index: index) }
        if level == 0 { return try leafHash(seq: index + 1) }
        if let cursors {
            // The subtree's records are adjacent: one search for the first, then the cursor's
            // next ones (on the same page or the next), not a search each.
            let first = (index << UInt64(level)) + 1
            var range = CompactRange()
            var value = try withUnsafeBytes(of: first.bigEndian) { try Self.get(cursors.events, $0) }
            for seq in first..<first + (1 << UInt64(level)) {
                if seq > first { value = try Self.next(cursors.events, expecting: seq) }
                guard let record = value else { throw StoreError(.corrupt, "the Merkle tree needs record \(seq), which is missing") }
                range.append(try CanonicalRecord.view(value: record.buffer) { Merkle.leafHash($0.canonical) })
            }
            return range.root
        }
        return Merkle.nodeHash(try node(level: level - 1, index: index << 1), try node(level: level - 1, index: index << 1 | 1))
    }

    /// A node of the node table (`level` ≥ `storedLevel`).
    private func storedNode(level: Int, index: UInt64) throws -> TreeHash {
        let value = try Self.withKey(level: level, index: index) { key -> MDB_val? in
            if let cursors { try Self.get(cursors.tree, key) } else { try access.get(tree, key) }
        }
        guard let value, value.mv_size == 32 else {
            throw StoreError(.corrupt, "the Merkle tree lacks the node of level \(level), index \(index)")
        }
        return TreeHash(uncheckedBytes: value.buffer)
    }

    /// The leaf hash of record `seq` (leaf index `seq − 1`).
    func leafHash(seq: UInt64) throws -> TreeHash {
        if let cursors {
            guard let value = try withUnsafeBytes(of: seq.bigEndian, { try Self.get(cursors.events, $0) }) else {
                throw StoreError(.corrupt, "the Merkle tree needs record \(seq), which is missing")
            }
            return try CanonicalRecord.view(value: value.buffer) { Merkle.leafHash($0.canonical) }
        }
        guard let hash = try access.withRecord(at: seq, { Merkle.leafHash($0.canonical) }) else {
            throw StoreError(.corrupt, "the Merkle tree needs record \(seq), which is missing")
        }
        return hash
    }

    /// The number of records the stored tree covers.
    static func size(_ access: TxnAccess) throws -> UInt64 {
        guard access.databases.tree != nil, let value = try access.get(access.databases.meta, MetaKey.tree) else { return 0 }
        guard let size = value.bigEndianUInt64() else { throw StoreError(.corrupt, "the Merkle tree's size is not a number") }
        return size
    }

    /// Extends the stored tree over every record past its size, inside the write transaction
    /// that stored them. A no-op when the tree already covers the head.
    static func extend(_ access: TxnAccess) throws {
        guard let tree = access.databases.tree else { return }
        let head = try access.head()
        let size = try Self.size(access)
        guard size < head.seq else { return }
        var edge = try CompactRange(size: size, nodes: StoredTree(access: access))
        try access.withCursor(tree) { cursor in
            try access.forEachRecord(from: size + 1, through: head.seq) { record in
                try edge.append(Merkle.leafHash(record.canonical)) { level, index, hash in
                    guard level >= storedLevel else { return }
                    var bytes = hash.bytes
                    try withValue(key(level: level, index: index)) { key in
                        try bytes.withUnsafeMutableBytes { raw in
                            var value = MDB_val(mv_size: 32, mv_data: raw.baseAddress)
                            try LMDBError.check(mdb_cursor_put(cursor, &key, &value, UInt32(MDB_APPEND)))
                        }
                    }
                }
            }
        }
        guard edge.size == head.seq else { throw StoreError(.corrupt, "the Merkle tree covers \(edge.size) records, the head is \(head.seq): records are missing") }
        try withValue(MetaKey.tree) { key in
            try withValue(head.seq.bigEndianBytes) { value in try LMDBError.check(mdb_put(access.txn, access.databases.meta, &key, &value, 0)) }
        }
    }

    /// Extends the stored tree with nodes computed ahead, off the writing thread (``PreparedTreeNodes``),
    /// when they continue it exactly to the head; otherwise as ``extend(_:)``, from the records.
    static func extend(_ access: TxnAccess, prepared: PreparedTreeNodes) throws {
        guard let tree = access.databases.tree, try size(access) == prepared.from, try access.head().seq == prepared.to else {
            return try extend(access)
        }
        try access.withCursor(tree) { cursor in
            for node in prepared.nodes {
                try withKey(level: Int(node.level), index: node.index) { key in
                    var hashWords = (node.hash.words.0.bigEndian, node.hash.words.1.bigEndian, node.hash.words.2.bigEndian, node.hash.words.3.bigEndian)
                    try withUnsafeMutableBytes(of: &hashWords) { raw in
                        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
                        var value = MDB_val(mv_size: 32, mv_data: raw.baseAddress)
                        try LMDBError.check(mdb_cursor_put(cursor, &keyValue, &value, UInt32(MDB_APPEND)))
                    }
                }
            }
        }
        try withValue(MetaKey.tree) { key in
            try withValue(prepared.to.bigEndianBytes) { value in try LMDBError.check(mdb_put(access.txn, access.databases.meta, &key, &value, 0)) }
        }
    }

    /// The edge of the stored tree of `size` leaves (`size` at most the tree's), or nil when the
    /// ledger keeps no tree.
    static func edge(_ access: TxnAccess, size: UInt64) throws -> CompactRange? {
        guard access.databases.tree != nil else { return nil }
        return try CompactRange(size: size, nodes: StoredTree(access: access))
    }

    /// Recomputes the tree from the records and compares every stored node and the stored
    /// size: nil when they agree, else the first disagreement.
    static func verify(_ access: TxnAccess) throws -> (seq: UInt64?, reason: String)? {
        guard let tree = access.databases.tree else { return (nil, "the ledger has no Merkle tree") }
        let head = try access.head()
        let size = try Self.size(access)
        guard size == head.seq else { return (nil, "the Merkle tree covers \(size) records, the head is seq \(head.seq)") }
        var edge = CompactRange()
        var failure: (UInt64?, String)?
        try access.withCursor(tree) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            try access.forEachRecord(from: 1, through: head.seq) { record in
                guard failure == nil else { return }
                edge.append(Merkle.leafHash(record.canonical)) { level, index, hash in
                    guard level >= storedLevel, failure == nil else { return }
                    let expected = Self.key(level: level, index: index)
                    guard rc == MDB_SUCCESS, key.buffer.elementsEqual(expected) else {
                        failure = (record.seq, "the Merkle tree lacks the node of level \(level) ending at seq \(record.seq)")
                        return
                    }
                    guard value.mv_size == 32, TreeHash(uncheckedBytes: value.buffer) == hash else {
                        failure = (record.seq, "the Merkle tree's node of level \(level) ending at seq \(record.seq) is not the hash of the records")
                        return
                    }
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                }
            }
            if failure == nil && rc == MDB_SUCCESS { failure = (nil, "the Merkle tree holds nodes past the head") }
        }
        return failure
    }
}

extension ReadTransaction {
    /// The number of records the Merkle tree covers: the head's `seq`, in a consistent ledger.
    public func treeSize() throws -> UInt64 { try StoredTree.size(access) }

    /// The RFC 6962 root of the tree of the first `size` records.
    public func treeRoot(size: UInt64) throws -> TreeHash {
        try checkTree(covers: size)
        return try StoredTree(access: access).root(size: size)
    }

    /// The RFC 6962 leaf hash of record `seq`.
    public func leafHash(seq: UInt64) throws -> TreeHash {
        try StoredTree(access: access).leafHash(seq: seq)
    }

    /// The inclusion proof of record `seq` (leaf `seq − 1`) in the tree of `size` records.
    public func inclusionProof(seq: UInt64, size: UInt64) throws -> [TreeHash] {
        try checkTree(covers: size)
        guard seq >= 1 && seq <= size else { throw StoreError(.corrupt, "record \(seq) is not in a tree of \(size) records") }
        return try StoredTree(access: access).inclusionProof(index: seq - 1, size: size)
    }

    /// Each record of `seqs`, in that order, with the chain hash of the record before it (zero
    /// before the first) and its inclusion proof in the tree of `size` records — once `root` has
    /// accepted that tree's root. What a dossier proof reads, in about the fewest B-tree descents:
    /// see ``StoredTree/forEachProvenRecord(seqs:size:_:)``. `body`'s buffers and proof are valid
    /// only during the call.
    public func forEachProvenRecord(
        seqs: [UInt64], size: UInt64, root: (TreeHash) throws -> Void,
        _ body: (borrowing RecordView, _ previous: ChainHash, _ proof: [TreeHash]) throws -> Void
    ) throws {
        try checkTree(covers: size)
        for seq in seqs where seq < 1 || seq > size { throw StoreError(.corrupt, "record \(seq) is not in a tree of \(size) records") }
        try StoredTree.withCursors(access, cache: treeCache, head: head.seq) { nodes in
            try root(try nodes.root(size: size))
            try nodes.forEachProvenRecord(seqs: seqs, size: size, body)
        }
    }

    /// The consistency proof from the tree of `oldSize` records to the tree of `newSize`.
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) throws -> [TreeHash] {
        try checkTree(covers: newSize)
        guard oldSize <= newSize else { throw StoreError(.corrupt, "a tree of \(oldSize) records is not a prefix of one of \(newSize)") }
        return try StoredTree(access: access).consistencyProof(oldSize: oldSize, newSize: newSize)
    }

    private func checkTree(covers size: UInt64) throws {
        let covered = try StoredTree.size(access)
        guard size <= covered else { throw StoreError(.corrupt, "the Merkle tree covers \(covered) records, not \(size)") }
    }
}

extension StoredTree {
    /// The records of `seqs` with their predecessors' hashes and their inclusion proofs, read
    /// with few B-tree descents (a large ledger's descents are strings of cache misses, and
    /// were most of a dossier proof's time):
    /// - one cursor walk a record over the aligned block of 4 leaves that holds it, from the
    ///   record before it: the record, its `prev_hash`, and the leaves of its level-0 and
    ///   level-1 siblings (recomputed, not stored) — one descent, not three;
    /// - its stored siblings below the cached levels (2…7 at 10 M records: distinct for each of
    ///   an employee's records, which lie thousands of records apart) read in key order through
    ///   one cursor, so those on one page of the node table cost one descent;
    /// - the siblings it shares with the record before it in `seqs` (the upper levels) taken
    ///   from that record's proof, and the right edge's incomplete ranges computed once.
    /// The proofs are ``TreeNodes/inclusionProof(index:size:)``'s, hash for hash.
    func forEachProvenRecord(seqs: [UInt64], size: UInt64, _ body: (borrowing RecordView, _ previous: ChainHash, _ proof: [TreeHash]) throws -> Void) throws {
        guard let cursors else { preconditionFailure("forEachProvenRecord reads through cursors: use withCursors") }
        var steps: [Range<UInt64>] = []
        var previousSteps: [Range<UInt64>] = []
        var proof: [TreeHash] = []
        var previousProof: [TreeHash] = []
        // The right edge's incomplete ranges (suffixes of the tree) already computed.
        var suffixes: [(range: Range<UInt64>, hash: TreeHash)] = []
        // Stored siblings below the cache's levels: (key order, position in the proof).
        var pending: [(lastLeaf: UInt64, level: Int, index: UInt64, position: Int)] = []
        // Siblings at the cache's levels: looked up together (``TreeNodeCache/nodes(count:_:found:)``).
        var cached: [(level: Int, index: UInt64, position: Int)] = []
        for seq in seqs {
            let index = seq - 1
            Merkle.inclusionPath(index: index, size: size, into: &steps)
            proof.removeAll(keepingCapacity: true)
            proof.append(contentsOf: repeatElement(ChainHash.zero, count: steps.count))
            // The top of the path the record shares with the one before: the RFC's recursion
            // is the same down to where the two leaves part.
            var own = steps.count
            var other = previousSteps.count
            while own > 0, other > 0, steps[own - 1] == previousSteps[other - 1] {
                own -= 1
                other -= 1
                proof[own] = previousProof[other]
            }

            // The record before, and the block of 4 leaves (seqs block + 1 … block + 4) that
            // holds this one, in one walk; their LMDB values stay valid for the transaction.
            let block = index & ~3
            let first = index == block && index >= 1 ? index : block + 1
            let last = min(block + 4, size)
            var previousValue: UnsafeRawBufferPointer?
            var leaves: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer?, UnsafeRawBufferPointer?, UnsafeRawBufferPointer?) = (nil, nil, nil, nil)
            var value = try withUnsafeBytes(of: first.bigEndian) { try Self.get(cursors.events, $0) }
            for walked in first...last {
                if walked > first { value = try Self.next(cursors.events, expecting: walked) }
                guard let found = value, found.mv_size > CanonicalRecord.hashSize else {
                    throw StoreError(.corrupt, "record \(walked) is missing")
                }
                if walked == index { previousValue = found.buffer }
                switch walked &- block {
                case 1: leaves.0 = found.buffer
                case 2: leaves.1 = found.buffer
                case 3: leaves.2 = found.buffer
                case 4: leaves.3 = found.buffer
                default: break
                }
            }
            func leaf(_ leafIndex: UInt64) throws -> TreeHash {
                let walked: UnsafeRawBufferPointer? =
                    switch leafIndex &- block {
                    case 0: leaves.0
                    case 1: leaves.1
                    case 2: leaves.2
                    case 3: leaves.3
                    default: nil
                    }
                guard let walked else { return try node(level: 0, index: leafIndex) }
                return Merkle.leafHash(UnsafeRawBufferPointer(rebasing: walked[CanonicalRecord.hashSize...]))
            }

            // The path's own part, from the bottom.
            pending.removeAll(keepingCapacity: true)
            cached.removeAll(keepingCapacity: true)
            for position in 0..<own {
                let range = steps[position]
                let count = range.count
                guard count & (count - 1) == 0 else {
                    if let known = suffixes.first(where: { $0.range == range }) {
                        proof[position] = known.hash
                    } else {
                        let hash = try subtree(range.lowerBound, range.upperBound)
                        suffixes.append((range, hash))
                        proof[position] = hash
                    }
                    continue
                }
                let level = count.trailingZeroBitCount
                let nodeIndex = range.lowerBound >> UInt64(level)
                switch level {
                case 0: proof[position] = try leaf(range.lowerBound)
                case 1 where range.lowerBound & ~3 == block: proof[position] = Merkle.nodeHash(try leaf(range.lowerBound), try leaf(range.lowerBound + 1))
                case Self.storedLevel..<cachedLevel: pending.append((range.upperBound - 1, level, nodeIndex, position))
                case cachedLevel... where cache != nil: cached.append((level, nodeIndex, position))
                default: proof[position] = try node(level: level, index: nodeIndex)
                }
            }
            if let cache, !cached.isEmpty {
                // At most one a level: a 64-bit mask of those the cache held.
                var held: UInt64 = 0
                cache.nodes(count: cached.count, { (cached[$0].level, cached[$0].index) }) { i, hash in
                    proof[cached[i].position] = hash
                    held |= 1 << UInt64(i)
                }
                for (i, entry) in cached.enumerated() where held & (1 << UInt64(i)) == 0 {
                    proof[entry.position] = try node(level: entry.level, index: entry.index)
                }
            }
            // Stored nodes in key order (last leaf, then level): those on one page, one descent.
            if pending.count > 1 {
                pending.sort { ($0.lastLeaf, $0.level) < ($1.lastLeaf, $1.level) }
            }
            for entry in pending {
                proof[entry.position] = try node(level: entry.level, index: entry.index)
            }

            let previous = previousValue.map { ChainHash(uncheckedBytes: $0) } ?? ChainHash.zero
            let recordValue: UnsafeRawBufferPointer? =
                switch index - block {
                case 0: leaves.0
                case 1: leaves.1
                case 2: leaves.2
                default: leaves.3
                }
            try CanonicalRecord.view(value: recordValue!, checkingStream: false) { record in
                guard record.seq == seq else { throw StoreError(.corrupt, "the record under seq \(seq) says it is \(record.seq)") }
                try body(record, previous, proof)
            }
            swap(&steps, &previousSteps)
            swap(&proof, &previousProof)
        }
    }
}

extension StoredTree {
    /// Keeps in `cache` every stored node at the levels it holds for the tree of the head (all of
    /// them complete subtrees, read from this committed snapshot): one cursor scan of the node
    /// table, in key order, for a long-running reader's start (``StoreOptions/premapsFile``), so
    /// that its first proofs find their upper siblings in memory as later ones do. Returns the
    /// nodes kept (none past the cache's budget).
    static func fill(_ cache: TreeNodeCache, from access: TxnAccess) throws -> Int {
        guard let tree = access.databases.tree else { return 0 }
        let size = try Self.size(access)
        let lowest = cache.minLevel(size: size)
        var kept = 0
        try access.withCursor(tree) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while rc == MDB_SUCCESS {
                guard key.mv_size == 9, value.mv_size == 32 else { throw StoreError(.corrupt, "the Merkle tree holds a node of the wrong shape") }
                let lastLeaf = UInt64(bigEndian: key.mv_data.loadUnaligned(as: UInt64.self))
                let level = Int(key.mv_data.load(fromByteOffset: 8, as: UInt8.self))
                // A node of level l covers 2^l leaves ending at `lastLeaf`: a key that cannot be
                // one (damage `verify` names) is left out of the cache, not trapped on.
                let covered = level < 63 ? UInt64(1) << UInt64(level) : 0
                if level >= lowest && covered != 0 && lastLeaf < size && (lastLeaf + 1) % covered == 0 {
                    cache.keep(level: level, index: ((lastLeaf + 1) >> UInt64(level)) - 1, TreeHash(uncheckedBytes: value.buffer), lowest: lowest)
                    kept += 1
                }
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        }
        return kept
    }
}

/// The nodes of the stored tree that records `from + 1 ... to` complete (level ≥
/// ``StoredTree/storedLevel``), in the order they complete (the node table's key order), computed
/// from the records' leaf hashes on another thread than the writer's
/// (``CommitPreparer/prepare(from:through:continuing:)``).
struct PreparedTreeNodes: Sendable {
    struct Node: Sendable {
        var level: UInt8
        var index: UInt64
        var hash: TreeHash
    }

    let from: UInt64
    var to: UInt64
    var nodes: [Node] = []

    /// Appends record `to + 1`'s leaf to `edge`, keeping the stored nodes it completes.
    mutating func append(canonical: UnsafeRawBufferPointer, to edge: inout CompactRange) {
        edge.append(Merkle.leafHash(canonical)) { level, index, hash in
            if level >= StoredTree.storedLevel { nodes.append(Node(level: UInt8(level), index: index, hash: hash)) }
        }
        to += 1
    }
}
