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
        try commitAll(staging, to: store, step: 1_000)
        try store.read { txn throws in
            #expect(txn.head.seq == 10_000)
            #expect(try txn.seq(of: id(9_999)) == 10_000)
            #expect(try txn.seq(forKey: Array("k5000".utf8)) == 5_001)
            #expect(try txn.streamVersion("s:3") == 1_429)
        }
        #expect(try store.verifyTree() == nil)
    }

    @Test("commits prepared on another thread store what commits that gather their own entries store, and a prepared commit for other records is not used")
    func preparedCommits() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Two ledgers with the same 3 records already stored, then the same 2 345 records staged
        // into each: one committed plainly, one with prepared commits (chained from one to the
        // next, one prepared for the wrong records and one from another staging area, which must
        // be ignored).
        func ledger(_ name: String, ids offset: Int = 0) throws -> (Store, Staging) {
            // A fixed clock: the two ledgers' records are then the same bytes.
            let store = try Store.create(at: dir.child(name), options: StoreOptions(clock: { 1_780_000_000_000_000 }))
            try store.append { batch in
                for n in 0..<3 { try batch.append(stream: "s:\(n % 7)", id: id(100_000 + n), keys: [Array("early\(n)".utf8)], payload: [UInt8(n)]) }
            }
            let staging = try Staging(for: store, inputBytes: 1 << 20)
            try store.stage(into: staging) { pass in
                for chunk in 0..<5 {
                    try pass.stage { batch in
                        for record in 0..<469 {
                            let n = chunk * 469 + record
                            let keys = n % 3 == 0 ? [Array("k\(n)".utf8), Array("j\(n)".utf8)] : []
                            try batch.append(stream: "s:\(n % 37)", id: id(n + offset), keys: keys, payload: Array("payload \(n)".utf8))
                        }
                    }
                }
            }
            return (store, staging)
        }
        let (plain, plainStaging) = try ledger("plain")
        let (prepared, preparedStaging) = try ledger("prepared")
        // Other records at the same seqs, staged for a third ledger with the same head.
        let (other, otherStaging) = try ledger("other", ids: 50_000)
        let size = 500
        var committed = 0
        while committed < plainStaging.count {
            committed = min(committed + size, plainStaging.count)
            #expect(try plain.commit(plainStaging, through: committed) != nil)
        }
        let preparer = preparedStaging.preparer(for: prepared)
        var previous: PreparedCommit?
        committed = 0
        while committed < preparedStaging.count {
            let through = min(committed + size, preparedStaging.count)
            let next = try preparer.prepare(from: committed, through: through, continuing: previous?.edge)
            // The commit after this one's, given to this one: not used.
            if committed == 500 {
                // Prepared from another staging area (other records, the same seqs and base): not used.
                let foreign = try otherStaging.preparer(for: other).prepare(from: committed, through: through, continuing: previous?.edge)
                #expect(try prepared.commit(preparedStaging, through: through, prepared: foreign) != nil)
            } else if through < preparedStaging.count, committed == 1_000 {
                let wrong = try preparer.prepare(from: through, through: min(through + size, preparedStaging.count), continuing: next.edge)
                #expect(try prepared.commit(preparedStaging, through: through, prepared: wrong) != nil)
            } else {
                #expect(try prepared.commit(preparedStaging, through: through, prepared: next) != nil)
            }
            previous = next
            committed = through
        }
        #expect(try prepared.verifyTree() == nil)
        let keys: (borrowing RecordView) throws -> [[UInt8]] = { record in
            let n = Int(record.id.low)
            if n >= 100_000 { return [Array("early\(n - 100_000)".utf8)] }
            return n % 3 == 0 ? [Array("k\(n)".utf8), Array("j\(n)".utf8)] : []
        }
        #expect(try prepared.verify(keysOf: keys) == plain.verify(keysOf: keys))
        guard case .intact(let head, _) = try prepared.verify(keysOf: keys) else {
            Issue.record("the prepared ledger does not verify")
            return
        }
        #expect(head.seq == 2_348)
        try plain.read { a throws in
            try prepared.read { b throws in
                #expect(try a.treeRoot(size: 2_348) == b.treeRoot(size: 2_348))
                #expect(try a.treeRoot(size: 1_003) == b.treeRoot(size: 1_003))
                for stream in 0..<37 { #expect(try a.seqs(inStream: "s:\(stream)") == b.seqs(inStream: "s:\(stream)")) }
                for n in stride(from: 0, to: 2_345, by: 3) {
                    #expect(try b.seq(of: id(n)) == UInt64(n + 4))
                    #expect(try b.seq(forKey: Array("j\(n)".utf8)) == UInt64(n + 4))
                }
                for seq in UInt64(1)...2_348 { #expect(try a.record(at: seq) == b.record(at: seq)) }
            }
        }
    }

    @Test("the staging area's disk reservation follows the pages LMDB used: never below them, at most an eighth and a few MiB above")
    func reservationFollowsPagesUsed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"))
        // 30 batches of 1 000 records: short payloads and a few of 9 KiB (overflow pages), keys on
        // a third, 700 streams (one staged-version entry each in the staging area's meta table,
        // overwritten by every batch).
        let staging = try Staging(for: store, inputBytes: 64 << 20)
        var stagedBytes = 0
        var checked = 0
        try store.stage(into: staging) { pass in
            for chunk in 0..<30 {
                try pass.stage { batch in
                    for record in 0..<1_000 {
                        let n = chunk * 1_000 + record
                        let payload = Array(repeating: UInt8(ascii: "p"), count: n % 97 == 0 ? 9_000 : 300 + n % 200)
                        let keys = n % 3 == 0 ? [Array("key-\(n)".utf8)] : []
                        stagedBytes += payload.count
                        try batch.append(stream: "stream:\(n % 700)", id: id(n), keys: keys, payload: payload)
                    }
                }
                // Between batches: what is reserved covers what LMDB has used.
                #expect(staging.budget.reservedBytes >= staging.budget.usedBytes)
                checked += 1
            }
        }
        #expect(checked == 30 && staging.count == 30_000)
        let budget = staging.budget
        #expect(budget.measures, "LMDB's next page was not readable: the whole map was reserved")
        let used = budget.usedBytes
        let reserved = budget.reservedBytes
        #expect(used > stagedBytes, "used \(used) bytes for \(stagedBytes) bytes of payloads")
        #expect(reserved >= used)
        #expect(reserved <= used + used / 8 + (8 << 20), "reserved \(reserved) bytes for \(used) used")
        // The estimate this replaced reserved 3.75 times the staged bytes.
        #expect(reserved < 3 * stagedBytes)
        try commitAll(staging, to: store, step: 10_000)
        try store.read { txn throws in
            #expect(txn.head.seq == 30_000)
            #expect(try txn.seq(forKey: Array("key-29997".utf8)) == 29_998)
        }
    }

    /// Commits every staged record, `step` at a time, each commit stored.
    private func commitAll(_ staging: Staging, to store: Store, step: Int) throws {
        var committed = 0
        while committed < staging.count {
            committed = min(committed + step, staging.count)
            #expect(try store.commit(staging, through: committed) != nil)
        }
    }
}
