import Crypto

/// The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1): leaves `SHA-256(0x00 ‖ entry)`, nodes
/// `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256("")`; roots, inclusion and
/// consistency proofs and their verification.
///
/// Proofs are built from the hashes of complete, aligned subtrees (`node(level:index:)`: the
/// subtree of `2^level` leaves starting at leaf `index << level`), which is what a store keeps,
/// so the root of any size and any proof costs O(log N) node reads.
public enum Merkle {
    public static let emptyRoot = TreeHash(SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 ‖ entry)`.
    public static func leafHash(_ entry: UnsafeRawBufferPointer) -> TreeHash {
        withUnsafeBytes(of: UInt8(0)) { TreeHash.sha256($0, entry) }
    }

    public static func leafHash(_ entry: some Collection<UInt8>) -> TreeHash {
        Array(entry).withUnsafeBytes { leafHash($0) }
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var children = (
            left.words.0.bigEndian, left.words.1.bigEndian, left.words.2.bigEndian, left.words.3.bigEndian,
            right.words.0.bigEndian, right.words.1.bigEndian, right.words.2.bigEndian, right.words.3.bigEndian
        )
        return withUnsafeBytes(of: UInt8(1)) { prefix in
            withUnsafeBytes(of: &children) { TreeHash.sha256(prefix, $0) }
        }
    }

    /// The largest power of two smaller than `n` (`n` > 1): where RFC 6962 splits a tree.
    static func split(_ n: UInt64) -> UInt64 {
        precondition(n > 1)
        return 1 << (63 - UInt64((n - 1).leadingZeroBitCount))
    }

    /// The leaf ranges whose hashes make `PATH(index, D[0:size])` of RFC 6962 §2.1.1, from the
    /// leaf's sibling up, into `steps` (emptied first): proof hash `i` is `MTH` of `steps[i]`.
    /// Arithmetic only, no hash: a store reads each range's node in the order that suits it. A
    /// range is a complete aligned subtree (a power of two of leaves) or, on the tree's right
    /// edge only, a suffix `start..<size`.
    public static func inclusionPath(index: UInt64, size: UInt64, into steps: inout [Range<UInt64>]) {
        precondition(index < size, "leaf \(index) is not in a tree of \(size)")
        steps.removeAll(keepingCapacity: true)
        var start: UInt64 = 0
        var end = size
        while end - start > 1 {
            let k = split(end - start)
            if index - start < k {
                steps.append(start + k..<end)
                end = start + k
            } else {
                steps.append(start..<start + k)
                start += k
            }
        }
        steps.reverse()
    }

    // MARK: Verifying (RFC 9162 §2.1.3.2 and §2.1.4.2)

    /// RFC 9162's "right-shift both fn and sn equally until either LSB(fn) is set or fn is 0".
    private static func shiftWhileEven(_ fn: inout UInt64, _ sn: inout UInt64) {
        while fn & 1 == 0 && fn != 0 {
            fn >>= 1
            sn >>= 1
        }
    }

    /// Whether `proof` shows the leaf `leaf` at `index` included in the tree of `size` with `root`.
    public static func verifyInclusion(leaf: TreeHash, index: UInt64, size: UInt64, proof: [TreeHash], root: TreeHash) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var hash = leaf
        for sibling in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                shiftWhileEven(&fn, &sn)
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }

    /// Whether `proof` shows the tree of `oldSize` with `oldRoot` to be a prefix of the tree of
    /// `newSize` with `newRoot`. The empty tree is a prefix of every tree (with an empty proof),
    /// and a tree is consistent with itself only with an empty proof and the same root.
    public static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: TreeHash, newRoot: TreeHash, proof: [TreeHash]) -> Bool {
        guard oldSize <= newSize else { return false }
        if oldSize == 0 { return proof.isEmpty && (oldRoot == emptyRoot) }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard !proof.isEmpty else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for hash in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(hash, fr)
                sr = nodeHash(hash, sr)
                shiftWhileEven(&fn, &sn)
            } else {
                sr = nodeHash(sr, hash)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}

/// Where the hashes of complete, aligned subtrees come from: a store's node table, an array of
/// leaves in a test.
public protocol TreeNodes {
    /// The hash of the complete subtree of `2^level` leaves starting at leaf `index << level`.
    func node(level: Int, index: UInt64) throws -> TreeHash
}

extension TreeNodes {
    /// The root of the tree of the first `size` leaves.
    public func root(size: UInt64) throws -> TreeHash {
        size == 0 ? Merkle.emptyRoot : try subtree(0, size)
    }

    /// `PATH(index, D[0:size])` of RFC 6962 §2.1.1: from the leaf's sibling up to the root's
    /// child, the hashes of ``Merkle/inclusionPath(index:size:into:)``'s ranges.
    public func inclusionProof(index: UInt64, size: UInt64) throws -> [TreeHash] {
        precondition(index < size, "leaf \(index) is not in a tree of \(size)")
        var steps: [Range<UInt64>] = []
        Merkle.inclusionPath(index: index, size: size, into: &steps)
        return try steps.map { try subtree($0.lowerBound, $0.upperBound) }
    }

    /// `PROOF(oldSize, D[0:newSize])` of RFC 6962 §2.1.2 (empty when `oldSize` is 0 or `newSize`).
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) throws -> [TreeHash] {
        precondition(oldSize <= newSize, "a tree of \(oldSize) is not a prefix of one of \(newSize)")
        guard oldSize > 0 && oldSize < newSize else { return [] }
        var proof: [TreeHash] = []
        try subproof(oldSize, 0, newSize, complete: true, into: &proof)
        return proof
    }

    /// `MTH(D[start:end])` where `start` is aligned to the split of the range, as every range the
    /// RFC's recursion visits is (``Merkle/inclusionPath(index:size:into:)``'s ranges are).
    public func subtree(_ start: UInt64, _ end: UInt64) throws -> TreeHash {
        let count = end - start
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try node(level: level, index: start >> UInt64(level))
        }
        let k = Merkle.split(count)
        return Merkle.nodeHash(try subtree(start, start + k), try subtree(start + k, end))
    }

    private func subproof(_ m: UInt64, _ start: UInt64, _ end: UInt64, complete: Bool, into proof: inout [TreeHash]) throws {
        let count = end - start
        if m == count {
            if !complete { proof.append(try subtree(start, end)) }
            return
        }
        let k = Merkle.split(count)
        if m <= k {
            try subproof(m, start, start + k, complete: complete, into: &proof)
            proof.append(try subtree(start + k, end))
        } else {
            try subproof(m - k, start + k, end, complete: false, into: &proof)
            proof.append(try subtree(start, start + k))
        }
    }
}

/// The right edge of a tree: the roots of its complete subtrees, one per set bit of its size,
/// largest first. Appending a leaf merges equal subtrees and reports each completed node, so a
/// store can keep them; the root of the whole tree folds the edge from the right.
public struct CompactRange: Sendable {
    public private(set) var size: UInt64
    private var edge: [TreeHash]

    public init() {
        size = 0
        edge = []
    }

    /// The edge of the tree of `size` leaves, read from `nodes`.
    public init(size: UInt64, nodes: some TreeNodes) throws {
        self.size = size
        edge = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size >> UInt64(level) & 1 == 1 {
            edge.append(try nodes.node(level: level, index: start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
    }

    /// Appends the leaf hash `leaf` (leaf index `size`).
    public mutating func append(_ leaf: TreeHash) {
        append(leaf) { _, _, _ in }
    }

    /// Appends the leaf hash `leaf` (leaf index `size`), calling `completed` with the level,
    /// index and hash of each node it completes (the leaf itself is level 0).
    public mutating func append(_ leaf: TreeHash, completed: (_ level: Int, _ index: UInt64, _ hash: TreeHash) throws -> Void) rethrows {
        var hash = leaf
        var level = 0
        try completed(0, size, hash)
        while size >> UInt64(level) & 1 == 1 {
            hash = Merkle.nodeHash(edge.removeLast(), hash)
            level += 1
            try completed(level, size >> UInt64(level), hash)
        }
        edge.append(hash)
        size += 1
    }

    /// The root of the tree.
    public var root: TreeHash {
        guard var hash = edge.last else { return Merkle.emptyRoot }
        for left in edge.dropLast().reversed() { hash = Merkle.nodeHash(left, hash) }
        return hash
    }
}

/// A whole tree held in memory as its leaf hashes: for tests, for small trees, and as the
/// reference the stored tree is checked against.
public struct MemoryTree: TreeNodes, Sendable {
    public private(set) var leaves: [TreeHash]

    public init(leaves: [TreeHash] = []) { self.leaves = leaves }

    public mutating func append(_ leaf: TreeHash) { leaves.append(leaf) }

    public func node(level: Int, index: UInt64) throws -> TreeHash {
        let start = Int(index << UInt64(level))
        return Self.hash(leaves[start..<start + (1 << level)])
    }

    private static func hash(_ leaves: ArraySlice<TreeHash>) -> TreeHash {
        if leaves.count == 1 { return leaves.first! }
        let middle = leaves.startIndex + leaves.count / 2
        return Merkle.nodeHash(hash(leaves[..<middle]), hash(leaves[middle...]))
    }
}
