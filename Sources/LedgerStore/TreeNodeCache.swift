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
/// Bounded: only levels from `minLevel` up (about `2N / 2^minLevel` slots, 20 k for 10 M
/// records), and at most `capacity` slots; past it, nodes are read from the table as before.
final class TreeNodeCache: Sendable {
    static let minLevel = 10
    /// The most slots kept, over all levels (40 bytes each: 5 MB).
    static let capacity = 1 << 17

    /// Per level from `minLevel`, the nodes by index: a lookup is an array index, not a hash
    /// table's search (a dossier looks up a thousand nodes or so).
    private struct Levels {
        var levels: [[TreeHash?]] = []
        var slots = 0
    }

    private let state = Mutex(Levels())

    init() {}

    func node(level: Int, index: UInt64) -> TreeHash? {
        state.withLock { state in
            let row = level - Self.minLevel
            guard row >= 0, row < state.levels.count, index < UInt64(state.levels[row].count) else { return nil }
            return state.levels[row][Int(index)]
        }
    }

    /// Keeps the hash of the complete subtree (`level`, `index`), read from a committed snapshot.
    func keep(level: Int, index: UInt64, _ hash: TreeHash) {
        state.withLock { state in
            let row = level - Self.minLevel
            guard row >= 0, index < UInt64(Self.capacity) else { return }
            while state.levels.count <= row { state.levels.append([]) }
            let missing = Int(index) + 1 - state.levels[row].count
            if missing > 0 {
                guard state.slots + missing <= Self.capacity else { return }
                state.levels[row].append(contentsOf: repeatElement(nil, count: missing))
                state.slots += missing
            }
            state.levels[row][Int(index)] = hash
        }
    }
}
