import Foundation
import KinerjaSamples
import LedgerStore
import Testing

@Suite("Staging area")
struct StagingTests {
    @Test("a staging pass that outgrows the staging map grows it and runs again from the start, and commits every record once")
    func outgrowsItsMap() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"))
        // 100 batches of 100 records of 8 KiB (three overflow pages each): about 120 MiB staged,
        // past the staging area's smallest map (64 MiB, the size for an input said to be empty).
        let staging = try Staging(for: store, inputBytes: 0)
        let payload = [UInt8](repeating: 0x5A, count: 8 << 10)
        var passes = 0
        try store.stage(into: staging) { pass in
            passes += 1
            for batch in 0..<100 {
                try pass.stage { batch_ in
                    for record in 0..<100 {
                        let n = batch * 100 + record
                        try batch_.append(stream: "s:\(n % 7)", id: id(n), keys: [Array("k\(n)".utf8)], payload: payload)
                    }
                }
            }
        }
        #expect(passes >= 2, "the pass ran \(passes) times")
        #expect(staging.count == 10_000)
        var committed = 0
        while committed < staging.count {
            committed = min(committed + 1_000, staging.count)
            #expect(try store.commit(staging, through: committed) != nil)
        }
        try store.read { txn throws in
            #expect(txn.head.seq == 10_000)
            #expect(try txn.seq(of: id(9_999)) == 10_000)
            #expect(try txn.seq(forKey: Array("k5000".utf8)) == 5_001)
            #expect(try txn.streamVersion("s:3") == 1_429)
        }
        #expect(try store.verifyTree() == nil)
    }
}
