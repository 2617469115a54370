import CLMDB
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
/// Bounded: at most `capacity` slots (``defaultCapacity``: 40 bytes each, 40 MB), and only from
/// the lowest level whose nodes, with all the nodes above them, fit in them
/// (``minLevel(size:)``: level 5 at 10 M records, 11 at a billion) — the upper part of the tree
/// a proof reads most, as deep as the budget allows. As the ledger grows the lowest level rises,
/// and the rows below it are dropped; past the budget, nodes are read from the table as before.
/// A row is kept in chunks of ``chunkSlots`` slots, allocated as nodes in them are first kept:
/// a process that reads one dossier (a one-off command) fills a few hundred kilobytes, not the
/// budget.
package final class TreeNodeCache: Sendable {
    /// The most slots a ledger's cache keeps, over all levels (40 bytes each: 40 MB, which at
    /// 10 M records holds levels 5 and up; a dossier's siblings at levels 2–4 then lie on about
    /// one page of the node table a record).
    package static let defaultCapacity = 1 << 20

    /// The slots of a row allocated at once: 512, or 1 in a cache of fewer than 4 096 slots
    /// (the tests' tiny ones, which must still keep some).
    package let chunkSlots: Int

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

    /// Per level, the nodes by index in chunks of ``chunkSlots``: a lookup is two array
    /// indexes, not a hash table's search (a dossier looks up a thousand nodes or so).
    private struct Levels {
        var levels: [[[TreeHash?]]] = []
        /// log2 of ``chunkSlots``.
        let shift: UInt64
        var slots = 0
        /// The lowest level kept now; rows below it were dropped.
        var lowest = 0

        func node(level: Int, index: UInt64) -> TreeHash? {
            guard level < levels.count else { return nil }
            let chunk = Int(index >> shift)
            guard chunk < levels[level].count else { return nil }
            let slots = levels[level][chunk]
            return slots.isEmpty ? nil : slots[Int(index & ((1 << shift) - 1))]
        }

        /// Asks the CPU for the slot's cache line now, if the slot exists.
        func prefetch(level: Int, index: UInt64) {
            guard level < levels.count else { return }
            let chunk = Int(index >> shift)
            guard chunk < levels[level].count else { return }
            levels[level][chunk].withUnsafeBufferPointer { slots in
                if let base = slots.baseAddress { kinerja_prefetch(base + Int(index & ((1 << shift) - 1))) }
            }
        }
    }

    private let state: Mutex<Levels>

    package init(capacity: Int = TreeNodeCache.defaultCapacity) {
        precondition(capacity > 0)
        self.capacity = capacity
        let shift: UInt64 = capacity >= 4096 ? 9 : 0
        chunkSlots = 1 << shift
        state = Mutex(Levels(shift: shift))
    }

    package func node(level: Int, index: UInt64) -> TreeHash? {
        state.withLock { $0.node(level: level, index: index) }
    }

    /// Looks up `count` nodes at once, under one lock: each of them is asked of the CPU's
    /// caches before any is read, so that their misses (a dossier's record has a dozen cached
    /// siblings, distinct from every other record's below the top levels) overlap, not queue.
    /// `node(i)` names the ith; `found(i, hash)` is called for each one kept.
    func nodes(count: Int, _ node: (Int) -> (level: Int, index: UInt64), found: (Int, TreeHash) -> Void) {
        state.withLock { state in
            for i in 0..<count {
                let (level, index) = node(i)
                state.prefetch(level: level, index: index)
            }
            for i in 0..<count {
                let (level, index) = node(i)
                if let hash = state.node(level: level, index: index) { found(i, hash) }
            }
        }
    }

    /// Keeps the hash of the complete subtree (`level`, `index`), read from a committed
    /// snapshot, if `level` is at least `lowest` (``minLevel(size:)`` of the ledger's head).
    package func keep(level: Int, index: UInt64, _ hash: TreeHash, lowest: Int) {
        state.withLock { state in
            if lowest > state.lowest {
                // The ledger grew past what the lower rows' budget allows: drop them.
                for row in state.levels.indices where row >= state.lowest && row < lowest {
                    state.slots -= state.levels[row].reduce(0) { $0 + $1.count }
                    state.levels[row] = []
                }
                state.lowest = lowest
            }
            guard level >= state.lowest, index < UInt64(capacity) else { return }
            while state.levels.count <= level { state.levels.append([]) }
            let chunk = Int(index >> state.shift)
            if state.levels[level].count <= chunk {
                state.levels[level].append(contentsOf: repeatElement([], count: chunk + 1 - state.levels[level].count))
            }
            if state.levels[level][chunk].isEmpty {
                guard state.slots + chunkSlots <= capacity else { return }
                state.levels[level][chunk] = Array(repeating: nil, count: chunkSlots)
                state.slots += chunkSlots
            }
            state.levels[level][chunk][Int(index & (UInt64(chunkSlots) - 1))] = hash
        }
    }

    /// The slots in use (whole chunks) and the lowest level kept (for tests).
    package var usage: (slots: Int, lowest: Int) { state.withLock { ($0.slots, $0.lowest) } }
}
