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
/// Bounded: at most `capacity` slots (``defaultCapacity``: 40 bytes each, 5 MB), and only from the lowest level
/// whose nodes, with all the nodes above them, fit in them (``minLevel(size:)``: level 8 at
/// 10 M records, 14 at a billion) — the upper part of the tree a proof reads most, as deep as
/// the budget allows. As the ledger grows the lowest level rises, and the rows below it are
/// dropped; past the budget, nodes are read from the table as before.
package final class TreeNodeCache: Sendable {
    /// The most slots a ledger's cache keeps, over all levels (40 bytes each: 5 MB).
    package static let defaultCapacity = 1 << 17

    /// The most slots this cache keeps, over all levels: ``defaultCapacity`` but in tests,
    /// where a tiny one puts the cached levels above stored ones in a ledger of a few records.
    package let capacity: Int

    /// The lowest level kept for a ledger of `size` records: the lowest stored level from which
    /// every node up to the root fits in ``capacity`` slots (about `2 · size / 2^level` nodes).
    package func minLevel(size: UInt64) -> Int {
        var level = StoredTree.storedLevel
        while (size >> UInt64(level)) * 2 > UInt64(capacity) { level += 1 }
        return level
    }

    /// Per level, the nodes by index: a lookup is an array index, not a hash table's search
    /// (a dossier looks up a thousand nodes or so).
    private struct Levels {
        var levels: [[TreeHash?]] = []
        var slots = 0
        /// The lowest level kept now; rows below it were dropped.
        var lowest = 0
    }

    private let state = Mutex(Levels())

    package init(capacity: Int = TreeNodeCache.defaultCapacity) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    package func node(level: Int, index: UInt64) -> TreeHash? {
        state.withLock { state in
            guard level < state.levels.count, index < UInt64(state.levels[level].count) else { return nil }
            return state.levels[level][Int(index)]
        }
    }

    /// Keeps the hash of the complete subtree (`level`, `index`), read from a committed
    /// snapshot, if `level` is at least `lowest` (``minLevel(size:)`` of the ledger's head).
    package func keep(level: Int, index: UInt64, _ hash: TreeHash, lowest: Int) {
        state.withLock { state in
            if lowest > state.lowest {
                // The ledger grew past what the lower rows' budget allows: drop them.
                for row in state.levels.indices where row >= state.lowest && row < lowest {
                    state.slots -= state.levels[row].count
                    state.levels[row] = []
                }
                state.lowest = lowest
            }
            guard level >= state.lowest, index < UInt64(capacity) else { return }
            while state.levels.count <= level { state.levels.append([]) }
            let missing = Int(index) + 1 - state.levels[level].count
            if missing > 0 {
                guard state.slots + missing <= capacity else { return }
                state.levels[level].append(contentsOf: repeatElement(nil, count: missing))
                state.slots += missing
            }
            state.levels[level][Int(index)] = hash
        }
    }

    /// The slots in use and the lowest level kept (for tests).
    package var usage: (slots: Int, lowest: Int) { state.withLock { ($0.slots, $0.lowest) } }
}
