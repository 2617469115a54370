import Foundation
import KinerjaSamples
import LedgerStore
import Testing

/// The orders and digests the writer and `verify` take shortcuts for, against the plain thing.
@Suite("Index order and digests")
struct IndexOrderTests {
    /// Keys that the sort's 16-byte prefixes cannot tell apart alone: equal in bytes 0–8, differing
    /// only in bytes 8–16 or past them, zero bytes (which the prefixes' padding also gives), and
    /// lengths 0 to 24 (8, 16, 17 among them), with repeated keys of several `seq`s.
    static func keys(seed: UInt64) -> [(key: [UInt8], seq: UInt64)] {
        var random = seed
        func next(_ bound: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int((random >> 33) % UInt64(bound))
        }
        let lengths = [0, 1, 7, 8, 9, 15, 16, 17, 18, 24]
        var keys: [(key: [UInt8], seq: UInt64)] = []
        for seq in 1...400 {
            let length = lengths[next(lengths.count)]
            // Bytes from {0, 1, 0xFF}, and a shared first 8 bytes more often than not.
            var key = (0..<length).map { _ in [0, 1, 0xFF][next(3)] as UInt8 }
            if next(4) != 0 { for index in 0..<min(8, length) { key[index] = 0x65 } }
            keys.append((key, UInt64(seq)))
            if next(5) == 0 { keys.append((key, UInt64(1_000 + seq))) }
        }
        return keys
    }

    /// LMDB's default order (memcmp, then the shorter first), then `seq`.
    static func byteWise(_ a: (key: [UInt8], seq: UInt64), _ b: (key: [UInt8], seq: UInt64)) -> Bool {
        a.key.lexicographicallyPrecedes(b.key) || (a.key == b.key && a.seq < b.seq)
    }

    @Test("index entries are written in plain byte-wise order, then seq order", arguments: [1, 2, 3, 4] as [UInt64])
    func writeOrder(seed: UInt64) {
        var keys = Self.keys(seed: seed)
        keys.shuffle()
        // Keys that differ only in bytes 8–16, only past 16, only in length, and zero bytes.
        let edge: [[UInt8]] = [
            [UInt8](repeating: 0, count: 8), [UInt8](repeating: 0, count: 16), [UInt8](repeating: 0, count: 17),
            [UInt8](repeating: 7, count: 8) + [0, 0, 0, 0, 0, 0, 0, 1], [UInt8](repeating: 7, count: 8) + [0, 0, 0, 0, 0, 0, 0, 0],
            [UInt8](repeating: 7, count: 8) + [0, 0, 0, 0, 0, 0, 0, 0, 0], [UInt8](repeating: 7, count: 8) + [0, 0, 0, 0, 0, 0, 0, 0, 1],
            [UInt8](repeating: 7, count: 16) + [0], [UInt8](repeating: 7, count: 16), [UInt8](repeating: 7, count: 8), [],
        ]
        keys += edge.enumerated().map { ($1, UInt64(5_000 + $0)) }
        let written = IndexEntriesOrder.written(keys)
        let expected = keys.sorted(by: Self.byteWise)
        #expect(written.map(\.key) == expected.map(\.key))
        #expect(written.map(\.seq) == expected.map(\.seq))
    }

    @Test("the stream index's digest with each stream's key hashed once is the digest of every entry's whole key", arguments: [0, 1, 40] as [Int])
    func streamDigest(bound: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var options = StoreOptions()
        options.streamRecentBound = bound
        options.syncsEachCommit = false
        let store = try Store.create(at: dir.child("l"), options: options)
        // Streams of one and of many records, names of 0, 7, 8, 9 and 20 bytes (a prefix of others).
        let streams = ["", "s:12345", "s:123456", "s:1234567", "employee:12345678901", "employee:1234567890"]
        for batch in 0..<10 {
            try store.append { records throws in
                for n in 0..<(batch * 7 + 1) {
                    let stream = n % 5 == 4 && batch > 0 ? streams[0] : streams[1 + (n + batch) % (streams.count - 1)]
                    try records.append(stream: stream, id: RecordID(high: UInt64(batch), low: UInt64(n)), payload: [UInt8(n & 0xFF)])
                }
            }
        }
        let digests = try store.streamDigests()
        #expect(digests.onceHashed.count == 325)
        #expect(digests.onceHashed.count == digests.fullKey.count)
        #expect(digests.onceHashed.sum == digests.fullKey.sum)
        #expect(try store.verify(keysOf: { _ in [] }) == .intact(head: try store.head(), records: 325))
    }
}
