import Foundation
import KinerjaSamples
import LedgerStore
import Testing
import TransparencyLog

@Suite("The upper Merkle nodes kept in memory across read transactions")
struct TreeNodeCacheTests {
    /// A dossier's proofs (read through the cache) for a spread of leaves of the tree of `size` records.
    func batched(_ store: Store, size: UInt64) throws -> (root: TreeHash, proofs: [[TreeHash]], seqs: [UInt64]) {
        let seqs = Array(stride(from: UInt64(1), through: size, by: 41)) + [size, 1, (size + 1) / 2]
        var root: TreeHash?
        var proofs: [[TreeHash]] = []
        try store.read { txn in
            try txn.forEachProvenRecord(seqs: seqs, size: size, root: { root = $0 }) { _, _, proof in proofs.append(proof) }
        }
        return (try #require(root), proofs, seqs)
    }

    @Test("proofs with a warm cache equal the stored tree's read node by node, and a fresh store's, across appends that complete new subtrees")
    func warmEqualsCold() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        var n = 0
        var warm: [UInt64: (root: TreeHash, proofs: [[TreeHash]])] = [:]
        do {
            let store = try Store.create(at: path, options: StoreOptions(syncsEachCommit: false))
            // Sizes on both sides of 1024, 2048, 3072 and 4096. Below 262 144 records the cache
            // holds every stored level (2 and up): the batches complete subtrees it keeps from
            // then on, and each power of two crossed adds a level above the old root.
            for batch in [1000, 23, 1, 1, 500, 523, 1, 1024, 1, 1023, 7] {
                try store.append { txn in
                    for _ in 0..<batch {
                        n += 1
                        try txn.append(stream: "s:\(n % 5)", id: id(n), payload: bytes("record \(n)"))
                    }
                }
                let head = try store.read { $0.head.seq }
                // The head's tree, and smaller ones the warm cache also serves.
                for size in Set([head, head - 1, 1, 1023, 1024, 1025, 2048, 3071, 3072].filter { $0 >= 1 && $0 <= head }).sorted() {
                    let (root, proofs, seqs) = try batched(store, size: size)
                    let (storedRoot, stored) = try store.read { txn in
                        (try txn.treeRoot(size: size), try seqs.map { try txn.inclusionProof(seq: $0, size: size) })
                    }
                    #expect(root == storedRoot, "size \(size)")
                    #expect(proofs == stored, "size \(size)")
                    for (seq, proof) in zip(seqs, proofs) {
                        let leaf = try store.read { try $0.leafHash(seq: seq) }
                        #expect(Merkle.verifyInclusion(leaf: leaf, index: seq - 1, size: size, proof: proof, root: root))
                    }
                    warm[size] = (root, proofs)
                }
            }
            #expect(n == 4104)
            #expect(try store.verifyTree() == nil)
        }
        // A fresh store (the environment closed with the last store, so nothing is kept) gives the same proofs.
        let fresh = try Store.open(at: path)
        for (size, expected) in warm {
            let (root, proofs, _) = try batched(fresh, size: size)
            #expect(root == expected.root, "size \(size)")
            #expect(proofs == expected.proofs, "size \(size)")
        }
    }

    @Test("the cache keeps levels as deep as its budget allows for the head's size, and drops the rows below when the ledger outgrows them")
    func budget() {
        // (size >> level) · 2 ≤ 1 048 576 slots.
        #expect(TreeNodeCache().minLevel(size: 0) == 2)
        #expect(TreeNodeCache().minLevel(size: 2_097_152) == 2)
        #expect(TreeNodeCache().minLevel(size: 2_097_156) == 3)
        #expect(TreeNodeCache().minLevel(size: 1_000_000) == 2)
        #expect(TreeNodeCache().minLevel(size: 9_987_612) == 5)
        #expect(TreeNodeCache().minLevel(size: 1_000_000_000) == 11)
        let hash = Merkle.leafHash([1, 2, 3])
        let cache = TreeNodeCache()
        #expect(cache.chunkSlots == 512)
        cache.keep(level: 2, index: 99, hash, lowest: 2)
        cache.keep(level: 5, index: 9, hash, lowest: 2)
        #expect(cache.node(level: 2, index: 99) == hash)
        #expect(cache.node(level: 2, index: 98) == nil)
        #expect(cache.node(level: 2, index: 600) == nil)
        // A row's slots are allocated a chunk at a time, as nodes in the chunk are kept.
        #expect(cache.usage == (1024, 2))
        // A larger head: level 2 no longer fits, its row is dropped; level 5 stays.
        cache.keep(level: 2, index: 7, hash, lowest: 3)
        #expect(cache.node(level: 2, index: 99) == nil)
        #expect(cache.node(level: 5, index: 9) == hash)
        #expect(cache.usage == (512, 3))
        // Past the budget's indexes, nothing is kept; a far index of a row costs only its chunk.
        cache.keep(level: 6, index: UInt64(TreeNodeCache.defaultCapacity), hash, lowest: 3)
        #expect(cache.node(level: 6, index: UInt64(TreeNodeCache.defaultCapacity)) == nil)
        cache.keep(level: 7, index: UInt64(TreeNodeCache.defaultCapacity - 1), hash, lowest: 3)
        #expect(cache.node(level: 7, index: UInt64(TreeNodeCache.defaultCapacity - 1)) == hash)
        #expect(cache.usage == (1024, 3))
        // Past the budget's slots, nothing more is kept: a cache of 8 192 slots holds 16 chunks.
        let small = TreeNodeCache(capacity: 8192)
        for chunk in 0..<17 { small.keep(level: 3, index: UInt64(chunk * 512), hash, lowest: 3) }
        #expect(small.node(level: 3, index: 15 * 512) == hash)
        #expect(small.node(level: 3, index: 16 * 512) == nil)
        #expect(small.usage == (8192, 3))
        // A cache that kept nothing yet (an index past the budget) rises twice without harm.
        let empty = TreeNodeCache()
        empty.keep(level: 9, index: UInt64(TreeNodeCache.defaultCapacity), hash, lowest: 9)
        empty.keep(level: 12, index: 1, hash, lowest: 12)
        #expect(empty.node(level: 12, index: 1) == hash)
        #expect(empty.usage == (512, 12))
    }
}
