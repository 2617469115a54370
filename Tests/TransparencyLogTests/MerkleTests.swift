import Crypto
import Testing
import TransparencyLog

/// RFC 6962 written out the naive way, straight from §2.1: slices of leaf hashes, no stored
/// nodes, no bit tricks. The production tree is checked against it.
private enum Naive {
    static func hash(_ bytes: [UInt8]) -> TreeHash { TreeHash(bytes: Array(SHA256.hash(data: bytes)))! }

    static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    static func mth(_ leaves: ArraySlice<TreeHash>) -> TreeHash {
        switch leaves.count {
        case 0: return hash([])
        case 1: return leaves.first!
        default:
            let k = split(leaves.count)
            let start = leaves.startIndex
            return hash([1] + mth(leaves[start..<start + k]).bytes + mth(leaves[(start + k)...]).bytes)
        }
    }

    static func path(_ m: Int, _ leaves: ArraySlice<TreeHash>) -> [TreeHash] {
        guard leaves.count > 1 else { return [] }
        let k = split(leaves.count)
        let start = leaves.startIndex
        if m < k { return path(m, leaves[start..<start + k]) + [mth(leaves[(start + k)...])] }
        return path(m - k, leaves[(start + k)...]) + [mth(leaves[start..<start + k])]
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<TreeHash>, _ complete: Bool) -> [TreeHash] {
        let n = leaves.count
        if m == n { return complete ? [] : [mth(leaves)] }
        let k = split(n)
        let start = leaves.startIndex
        if m <= k { return subproof(m, leaves[start..<start + k], complete) + [mth(leaves[(start + k)...])] }
        return subproof(m - k, leaves[(start + k)...], false) + [mth(leaves[start..<start + k])]
    }
}

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var iterator = text.makeIterator()
    while let high = iterator.next(), let low = iterator.next() { bytes.append(UInt8(String([high, low]), radix: 16)!) }
    return bytes
}

@Suite("RFC 6962 Merkle tree")
struct MerkleTests {
    /// The test vectors of RFC 6962's reference implementation (certificate-transparency's
    /// `merkle_tree_test`), as C2SP and every CT library use them.
    static let entries = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex)
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test("the reference roots for every size 0 to 8, from stored nodes and from the right edge")
    func referenceRoots() throws {
        let tree = MemoryTree(leaves: Self.entries.map { Merkle.leafHash($0) })
        var edge = CompactRange()
        #expect(edge.root.hex == Self.roots[0])
        for size in 0...8 {
            #expect(try tree.root(size: UInt64(size)).hex == Self.roots[size], "size \(size)")
            if size > 0 {
                edge.append(tree.leaves[size - 1])
                #expect(edge.root.hex == Self.roots[size], "edge at size \(size)")
            }
        }
    }

    @Test("the reference inclusion and consistency proofs")
    func referenceProofs() throws {
        let tree = MemoryTree(leaves: Self.entries.map { Merkle.leafHash($0) })
        #expect(try tree.inclusionProof(index: 0, size: 8).map(\.hex) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
        #expect(try tree.inclusionProof(index: 5, size: 8).map(\.hex) == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
        #expect(try tree.consistencyProof(oldSize: 1, newSize: 8).map(\.hex) == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
        #expect(try tree.consistencyProof(oldSize: 6, newSize: 8).map(\.hex) == [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
        #expect(try tree.consistencyProof(oldSize: 2, newSize: 5).map(\.hex) == [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ])
    }

    @Test("every inclusion and consistency proof up to 64 leaves equals the naive recomputation and verifies; a changed hash does not")
    func everyProofUpTo64() throws {
        let leaves = (0..<64).map { Merkle.leafHash([UInt8($0), UInt8(truncatingIfNeeded: $0 &* 7), 0x2a]) }
        let tree = MemoryTree(leaves: leaves)
        for size in 1...64 {
            let root = try tree.root(size: UInt64(size))
            #expect(root == Naive.mth(leaves[..<size]))
            for index in 0..<size {
                let proof = try tree.inclusionProof(index: UInt64(index), size: UInt64(size))
                #expect(proof == Naive.path(index, leaves[..<size]), "inclusion \(index) of \(size)")
                #expect(Merkle.verifyInclusion(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: proof, root: root))
                #expect(!Merkle.verifyInclusion(leaf: leaves[(index + 1) % 64], index: UInt64(index), size: UInt64(size), proof: proof, root: root))
                if !proof.isEmpty {
                    var bad = proof
                    bad[bad.count / 2] = Merkle.leafHash([0xff])
                    #expect(!Merkle.verifyInclusion(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: bad, root: root))
                }
            }
            for old in 0...size {
                let oldRoot = try tree.root(size: UInt64(old))
                let proof = try tree.consistencyProof(oldSize: UInt64(old), newSize: UInt64(size))
                if old > 0 && old < size { #expect(proof == Naive.subproof(old, leaves[..<size], true), "consistency \(old) → \(size)") }
                #expect(Merkle.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(size), oldRoot: oldRoot, newRoot: root, proof: proof))
                if old > 0 {
                    let forged = Merkle.leafHash([0xee])
                    #expect(!Merkle.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(size), oldRoot: forged, newRoot: root, proof: proof))
                    if old < size {
                        #expect(!Merkle.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(size), oldRoot: oldRoot, newRoot: forged, proof: proof))
                    }
                }
            }
        }
    }

    @Test("the right edge reports every completed node, equal to the tree's, and reloads from them")
    func compactRange() throws {
        let leaves = (0..<100).map { Merkle.leafHash([UInt8($0)]) }
        let tree = MemoryTree(leaves: leaves)
        var edge = CompactRange()
        var nodes: [String: TreeHash] = [:]
        for leaf in leaves {
            edge.append(leaf) { level, index, hash in nodes["\(level)/\(index)"] = hash }
            #expect(edge.root == (try tree.root(size: edge.size)))
        }
        for (key, hash) in nodes {
            let parts = key.split(separator: "/")
            #expect(try tree.node(level: Int(parts[0])!, index: UInt64(parts[1])!) == hash)
        }
        #expect(nodes.count == 100 + 50 + 25 + 12 + 6 + 3 + 1)
        let reloaded = try CompactRange(size: 77, nodes: tree)
        #expect(reloaded.root == (try tree.root(size: 77)))
    }

    @Test("a hash's base64 appended in place spells what Foundation's encoder spells")
    func base64InPlace() throws {
        for n in 0..<300 {
            let hash = Merkle.leafHash((0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ n) })
            var bytes: [UInt8] = Array("x".utf8)
            hash.appendBase64(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "x" + hash.base64)
            #expect(TreeHash(base64: hash.base64) == hash)
        }
    }
}
