import Crypto
import Testing
import TransparencyLog

/// `ChainHash.sha256` (OpenSSL's SHA-256 of a prefix and data) against swift-crypto's `SHA256`
/// (BoringSSL) of the concatenated bytes, at every length around the block boundaries, with the
/// prefixes the chain and the tree use, from unaligned addresses.
@Suite struct SHA256HashTests {
    /// Bytes that are not all alike, the same on every run.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    static func reference(_ bytes: [UInt8]) -> TreeHash { TreeHash(bytes: Array(SHA256.hash(data: bytes)))! }

    @Test func knownDigests() {
        let cases: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ]
        for (text, hex) in cases {
            let message = Array(text.utf8)
            // The whole message as data, as prefix, and split in two.
            func hash(_ prefix: [UInt8], _ data: [UInt8]) -> String {
                prefix.withUnsafeBytes { prefix in data.withUnsafeBytes { TreeHash.sha256(prefix, $0) } }.hex
            }
            let half = message.count / 2
            #expect(hash([], message) == hex)
            #expect(hash(message, []) == hex)
            #expect(hash(Array(message[..<half]), Array(message[half...])) == hex)
        }
    }

    @Test(arguments: [0, 1, 32, 63, 64, 65, 100, 130])
    func everyLength(prefixCount: Int) {
        let prefix = Self.bytes(prefixCount, seed: UInt64(prefixCount))
        // Read from 0 to 3 bytes into a buffer: the records' canonical bytes are at any address.
        let buffer = Self.bytes(300 + 3, seed: 7)
        for count in 0...300 {
            for offset in 0...3 where count + offset <= buffer.count {
                let data = Array(buffer[offset..<offset + count])
                let single = buffer.withUnsafeBytes { all in
                    prefix.withUnsafeBytes { TreeHash.sha256($0, UnsafeRawBufferPointer(rebasing: all[offset..<offset + count])) }
                }
                #expect(single == Self.reference(prefix + data), "prefix \(prefixCount), \(count) bytes at +\(offset)")
            }
        }
    }

    @Test func treeHashes() {
        let left = Self.reference([1, 2, 3])
        let right = Self.reference([4, 5])
        #expect(Merkle.nodeHash(left, right) == Self.reference([1] + left.bytes + right.bytes))
        let entry = Self.bytes(197, seed: 3)
        #expect(Merkle.leafHash(entry) == Self.reference([0] + entry))
    }
}
