import Synchronization
import TransparencyLog

/// The hashes of the Merkle tree's upper complete subtrees, kept in memory across read
/// transactions so a dossier proof's upper path costs no B-tree search of the node table (each
/// one a string of cache misses in a large ledger).
///
/// Why memory may stand in for the node table here: the tree is append-only, and the node table
/// holds a subtree's hash only once the subtree is complete — the hash of `2^level` records that
/// never change once written. Only nodes read in a read-only transaction (so committed) are
/// kept, never one computed from an incomplete range (those are folded from complete ones each
/// time, never stored), so a cached node is the one every later snapshot holds. A ledger
/// rewritten on disk behind a running process is for `verify` and the witnesses to catch:
/// `verify`, `treeRoot` (checkpoints, `check`) and the tree's extension never read this cache;
/// they read the stored nodes. A dossier proof from a rewritten ledger fails `check-proof` (its
/// events come from the records, its proofs would not lead to the checkpoint's root).
///
/// Bounded: only levels from `minLevel` up (about `N / 2^minLevel` nodes, 10 k for 10 M
/// records), and at most `capacity` of them; past it, nodes are read from the table as before.
final class TreeNodeCache: Sendable {
    static let minLevel = 10
    static let capacity = 1 << 17

    private struct Key: Hashable {
        let level: Int
        let index: UInt64
    }

    private let nodes = Mutex<[Key: TreeHash]>([:])

    init() {}

    func node(level: Int, index: UInt64) -> TreeHash? {
        nodes.withLock { $0[Key(level: level, index: index)] }
    }

    /// Keeps the hash of the complete subtree (`level`, `index`), read from a committed snapshot.
    func keep(level: Int, index: UInt64, _ hash: TreeHash) {
        nodes.withLock { nodes in
            guard nodes.count < Self.capacity else { return }
            nodes[Key(level: level, index: index)] = hash
        }
    }

    var count: Int { nodes.withLock { $0.count } }
}
