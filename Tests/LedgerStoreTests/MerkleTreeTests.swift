import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import Testing
import TransparencyLog

@Suite("The Merkle tree kept in the store")
struct MerkleTreeTests {
    /// The leaf hashes of every record, straight from the records.
    func leaves(_ store: Store) throws -> [TreeHash] {
        try store.read { txn throws in
            var leaves: [TreeHash] = []
            try txn.forEachRecord { leaves.append(Merkle.leafHash($0.canonical)) }
            return leaves
        }
    }

    /// The records with their proofs (a dossier's reads) in `txn`: each record, its
    /// predecessor's hash and its proof as the in-memory tree of the snapshot's records gives
    /// them, and a proof that leads to the root, for every seq at every size of `sizes`, in
    /// ascending, descending and repeated orders.
    func checkProvenRecords(_ txn: borrowing ReadTransaction, sizes: ClosedRange<UInt64>) throws {
        var leaves: [TreeHash] = []
        try txn.forEachRecord { leaves.append(Merkle.leafHash($0.canonical)) }
        let reference = MemoryTree(leaves: leaves)
        for size in sizes {
            let ascending = Array(UInt64(1)...size)
            let orders: [[UInt64]] = [ascending, ascending.reversed(), [size, 1, size, (size + 1) / 2, 1]]
            let root = try reference.root(size: size)
            for seqs in orders {
                var visited: [UInt64] = []
                var rootSeen: TreeHash?
                try txn.forEachProvenRecord(seqs: seqs, size: size, root: { rootSeen = $0 }) { record, previous, proof in
                    visited.append(record.seq)
                    let before = record.seq == 1 ? ChainHash.zero : try txn.record(at: record.seq - 1)!.hash
                    let stored = try txn.record(at: record.seq)!.hash
                    let expected = try reference.inclusionProof(index: record.seq - 1, size: size)
                    #expect(previous == before, "seq \(record.seq)")
                    #expect(record.hash == stored)
                    #expect(proof == expected, "seq \(record.seq) of \(size)")
                    #expect(Merkle.verifyInclusion(leaf: leaves[Int(record.seq - 1)], index: record.seq - 1, size: size, proof: proof, root: root), "seq \(record.seq) of \(size)")
                }
                #expect(visited == seqs)
                #expect(rootSeen == root)
            }
        }
    }

    /// Appends `count` records to `store`, numbered on from `n`.
    func append(_ store: Store, _ count: Int, _ n: inout Int) throws {
        try store.append { txn in
            for _ in 0..<count {
                n += 1
                try txn.append(stream: "s:\(n % 3)", id: id(n), payload: bytes("record \(n)"))
            }
        }
    }

    @Test("with a cache of a few slots, a dossier's stored siblings below the cached levels (read in key order) give every proof of every size and order")
    func provenRecordsBelowTheCachedLevels() throws {
        // The path a ledger of millions of records takes: a ledger's cache starts at level 2
        // below 262 144 records, so here only a tiny cache leaves stored levels below it.
        for (capacity, lowest) in [(8, 4), (4, 5)] {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            var options = StoreOptions(syncsEachCommit: false)
            options.treeCacheCapacity = capacity
            let store = try Store.create(at: dir.child("l"), options: options)
            var n = 0
            for batch in [1, 2, 3, 1, 7, 16, 1, 9, 33] { try append(store, batch, &n) }
            #expect(store.environment.treeCache.minLevel(size: 73) == lowest)
            try store.read { txn in try checkProvenRecords(txn, sizes: 1...73) }
            #expect(store.environment.treeCache.usage.lowest == lowest)
            // Again, with the cache warm.
            try store.read { txn in try checkProvenRecords(txn, sizes: 1...73) }
        }
    }

    @Test("a reader holding an older head while appends raise the cache's lowest level (its rows dropped) still gets proofs that verify")
    func olderReaderWhileRowsDrop() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var options = StoreOptions(syncsEachCommit: false)
        options.treeCacheCapacity = 4
        let store = try Store.create(at: dir.child("l"), options: options)
        let cache = store.environment.treeCache
        var n = 0
        try append(store, 20, &n)
        try store.read { old in
            #expect(old.head.seq == 20)
            try checkProvenRecords(old, sizes: 1...20)
            #expect(cache.usage.lowest == 3)
            // Each batch raises the lowest cached level (32 records: 4; 73: 5), dropping the
            // rows the older reader reads through the cache.
            for (batch, lowest) in [(12, 4), (41, 5)] {
                try append(store, batch, &n)
                try store.read { new in try checkProvenRecords(new, sizes: new.head.seq...new.head.seq) }
                #expect(cache.usage.lowest == lowest)
                try checkProvenRecords(old, sizes: 1...20)
                #expect(cache.usage.lowest == lowest)
            }
        }
        try store.read { txn in try checkProvenRecords(txn, sizes: 1...73) }
    }

    @Test("every root, inclusion and consistency proof of the stored tree equals the in-memory tree's, batch after batch")
    func matchesMemoryTree() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"))
        var n = 0
        for batch in [1, 2, 3, 1, 7, 16, 1, 9, 33] {
            try store.append { txn in
                for _ in 0..<batch {
                    n += 1
                    try txn.append(stream: "s:\(n % 3)", id: id(n), payload: bytes("record \(n)"))
                }
            }
        }
        let reference = MemoryTree(leaves: try leaves(store))
        #expect(reference.leaves.count == 73)
        try store.read { txn throws in
            #expect(try txn.treeSize() == 73)
            for size in UInt64(0)...73 {
                #expect(try txn.treeRoot(size: size) == reference.root(size: size))
                for old in stride(from: UInt64(0), through: size, by: 5) {
                    #expect(try txn.consistencyProof(from: old, to: size) == reference.consistencyProof(oldSize: old, newSize: size))
                }
            }
            for seq in UInt64(1)...73 {
                #expect(try txn.inclusionProof(seq: seq, size: 73) == reference.inclusionProof(index: seq - 1, size: 73))
                #expect(try txn.leafHash(seq: seq) == reference.leaves[Int(seq - 1)])
            }
            // The records with their proofs (a dossier's reads).
            try checkProvenRecords(txn, sizes: 1...73)
            #expect(throws: StoreError.self) { try txn.forEachProvenRecord(seqs: [74], size: 73, root: { _ in }) { _, _, _ in } }
            #expect(throws: StoreError.self) { try txn.forEachProvenRecord(seqs: [0], size: 73, root: { _ in }) { _, _, _ in } }
            #expect(throws: StoreError.self) { try txn.forEachProvenRecord(seqs: [3, 0], size: 73, root: { _ in }) { _, _, _ in } }
            #expect(throws: StoreError.self) { try txn.forEachProvenRecord(seqs: [1], size: 74, root: { _ in }) { _, _, _ in } }
        }
        #expect(try store.verifyTree() == nil)
    }

    @Test("a ledger larger than the map it is opened with still gets its tree and tag index at open: the map grows")
    func upgradeGrowsTheMap() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        var small = StoreOptions(initialMapSize: 1 << 20, syncsEachCommit: false)
        do {
            let store = try Store.create(at: path, options: small)
            for start in stride(from: 1, through: 4_000, by: 500) {
                try store.append { batch in
                    for n in start..<start + 500 { try batch.append(stream: "s:\(n % 7)", id: id(n), payload: bytes(String(repeating: "r\(n)", count: 40))) }
                }
            }
        }
        // Remove the tree as a ledger written before it would be, and use up the pages it freed,
        // so that opening has no page to spare: LMDB opens a file larger than the map asked for
        // with a map exactly the file's size.
        rawWrite(path) { txn, dbi in
            #expect(mdb_drop(txn, dbi("tree"), 1) == 0)
            var key = MDB_val(mv_size: 4, mv_data: UnsafeMutableRawPointer(mutating: ("tree" as StaticString).utf8Start))
            #expect(mdb_del(txn, dbi("meta"), &key, nil) == 0)
        }
        rawWrite(path) { txn, dbi in
            var filler: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, "filler", UInt32(MDB_CREATE), &filler) == 0)
            var blob = [UInt8](repeating: 1, count: 4 << 20)
            blob.withUnsafeMutableBytes { raw in
                var key = MDB_val(mv_size: 1, mv_data: raw.baseAddress)
                var value = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
                #expect(mdb_put(txn, filler, &key, &value, 0) == 0)
            }
        }
        small.tagRule = TagRule(name: "streams") { [Array($0.streamBytes)] }
        let store = try Store.open(at: path, options: small)
        #expect(try store.read { try $0.treeSize() } == 4_000)
        #expect(try store.verifyTree() == nil)
        #expect(try store.read { try $0.treeRoot(size: 4_000) } == MemoryTree(leaves: try leaves(store)).root(size: 4_000))
        let tagged = try store.read { try $0.seqs(taggedWith: Array("s:3".utf8), through: .max, rule: "streams") }
        #expect(tagged == (1...4_000).filter { $0 % 7 == 3 }.map(UInt64.init))
    }

    @Test("a ledger written before the tree gets it when opened, no record changed; a changed node is caught")
    func upgradeAndTamper() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        var headBefore: Head?
        do {
            let store = try Store.create(at: path)
            for n in 1...50 { try store.append { try $0.append(stream: "s:a", id: id(n), payload: bytes("r\(n)")) } }
            headBefore = try store.head()
        }
        // Remove the tree as a ledger written before it would be.
        rawWrite(path) { txn, dbi in
            #expect(mdb_drop(txn, dbi("tree"), 1) == 0)
            var key = MDB_val(mv_size: 4, mv_data: UnsafeMutableRawPointer(mutating: ("tree" as StaticString).utf8Start))
            #expect(mdb_del(txn, dbi("meta"), &key, nil) == 0)
        }
        do {
            let store = try Store.open(at: path)
            #expect(try store.head() == headBefore)
            #expect(try store.read { try $0.treeSize() } == 50)
            #expect(try store.verifyTree() == nil)
            #expect(try store.read { try $0.treeRoot(size: 50) } == MemoryTree(leaves: try leaves(store)).root(size: 50))
        }
        // Change one stored node.
        rawWrite(path) { txn, dbi in
            var cursor: OpaquePointer?
            mdb_cursor_open(txn, dbi("tree"), &cursor)
            var key = MDB_val()
            var value = MDB_val()
            #expect(mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0)
            var forged = [UInt8](repeating: 7, count: 32)
            forged.withUnsafeMutableBytes { raw in
                var replacement = MDB_val(mv_size: 32, mv_data: raw.baseAddress)
                #expect(mdb_cursor_put(cursor, &key, &replacement, UInt32(MDB_CURRENT)) == 0)
            }
            mdb_cursor_close(cursor)
        }
        let store = try Store.open(at: path)
        let failure = try store.verifyTree()
        #expect(failure?.seq == 4)
        #expect(failure?.reason.contains("is not the hash of the records") == true)
    }
}
