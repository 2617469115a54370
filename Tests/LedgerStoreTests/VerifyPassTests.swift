import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import Testing

/// `verifyAll` reads the records once, in chunks of 4 096 shared by two threads; a ledger of
/// 9 000 records has two complete chunks (and a tree node above them) and a partial one. Each
/// fault, wherever it lies, must be found, and named as the record-by-record checks name it.
@Suite("One verify pass on two threads")
struct VerifyPassTests {
    static let count = 9_000

    static func options() -> StoreOptions {
        var options = StoreOptions()
        options.syncsEachCommit = false
        // Both tiers of the stream index hold entries: commits of 1 000 fold the recent tier to 2 000.
        options.streamRecentBound = 2_000
        options.tagRule = TagRule(name: "pass-2") { record in
            // Every seventh record carries tags repeated (each counted once), next to each other
            // and apart, two of one length, prefixes of others after and before them, and its stream.
            guard record.id.low % 7 == 0 else { return [] }
            return ["seven", "seven", "ab", "a", "ba", "abc", "ab", "a", "seven"].map { Array($0.utf8) } + [Array(record.streamBytes)]
        }
        return options
    }

    static func keys(_ record: borrowing RecordView) -> [[UInt8]] {
        record.id.low % 5 == 0 ? [Array("key-\(record.id.low)".utf8)] : []
    }

    /// An intact ledger of ``count`` records in `dir`, in batches.
    static func ledger(in dir: TemporaryDirectory) throws -> String {
        let path = dir.child("l")
        let store = try Store.create(at: path, options: options())
        for start in stride(from: 1, through: count, by: 1_000) {
            try store.append { batch in
                for n in start..<min(start + 1_000, count + 1) {
                    let id = RecordID(high: 9, low: UInt64(n))
                    try batch.append(stream: "s:\(n % 13)", id: id, keys: n % 5 == 0 ? [Array("key-\(n)".utf8)] : [], payload: Array("payload \(n)".utf8))
                }
            }
        }
        return path
    }

    /// What `verifyAll` says of the ledger at `path`, beside what the separate checks say.
    static func verdicts(_ path: String) throws -> (all: (records: Verification, tags: VerificationFault?, tree: VerificationFault?), records: Verification, tags: VerificationFault?, tree: VerificationFault?) {
        let store = try Store.open(at: path, options: options())
        let all = try store.verifyAll(tags: true, tree: true, keysOf: { keys($0) })
        return (all, try store.verify(keysOf: { keys($0) }), try store.verifyTags(), try store.verifyTree())
    }

    func copy(_ path: String, in dir: TemporaryDirectory, _ name: String) throws -> String {
        let target = dir.child(name)
        try FileManager.default.copyItem(atPath: path, toPath: target)
        return target
    }

    func put(_ path: String, _ database: String, key: [UInt8], value: [UInt8]) {
        rawWrite(path) { txn, dbi in
            var key = key
            var value = value
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    #expect(mdb_put(txn, dbi(database), &kv, &vv, 0) == 0)
                }
            }
        }
    }

    /// Deletes `key`, or with `value` only that one of its duplicates (the stream index's).
    func delete(_ path: String, _ database: String, key: [UInt8], value: [UInt8]? = nil) {
        rawWrite(path) { txn, dbi in
            var key = key
            var value = value ?? []
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    let rc = v.count == 0 ? mdb_del(txn, dbi(database), &kv, nil) : mdb_del(txn, dbi(database), &kv, &vv)
                    #expect(rc == 0)
                }
            }
        }
    }

    /// Deletes the stream index's entry `value` under `key` from whichever of `databases` holds it.
    func delete(_ path: String, _ databases: [String], key: [UInt8], value: [UInt8]) {
        var deleted = 0
        rawWrite(path) { txn, dbi in
            var key = key
            var value = value
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    for database in databases {
                        var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                        var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                        if mdb_del(txn, dbi(database), &kv, &vv) == 0 { deleted += 1 }
                    }
                }
            }
        }
        #expect(deleted == 1)
    }

    func seqKey(_ seq: UInt64) -> [UInt8] { withUnsafeBytes(of: seq.bigEndian, Array.init) }

    /// The stored tree's key of the node of `level` whose last leaf is `lastLeaf`.
    func nodeKey(lastLeaf: UInt64, level: UInt8) -> [UInt8] { seqKey(lastLeaf) + [level] }

    @Test("an intact ledger of several chunks verifies, and every kind of fault is found where the separate checks find it")
    func faults() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let intact = try Self.ledger(in: dir)
        do {
            let verdict = try Self.verdicts(intact)
            guard case .intact(let head, let records) = verdict.all.records else {
                Issue.record("an intact ledger does not verify: \(verdict.all.records)")
                return
            }
            #expect(records == UInt64(Self.count) && head.seq == UInt64(Self.count))
            #expect(verdict.all.tags == nil && verdict.all.tree == nil)
        }

        // A record's byte in the second chunk.
        var path = try copy(intact, in: dir, "record")
        rawWrite(path) { txn, dbi in
            var key = seqKey(6_000)
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
                var value = MDB_val()
                #expect(mdb_get(txn, dbi("events"), &kv, &value) == 0)
                var bytes = Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
                bytes[bytes.count - 1] ^= 1
                bytes.withUnsafeMutableBytes { raw in
                    var changed = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
                    #expect(mdb_put(txn, dbi("events"), &kv, &changed, 0) == 0)
                }
            }
        }
        var verdict = try Self.verdicts(path)
        #expect(verdict.all.records == verdict.records)
        guard case .broken(let seq, let reason) = verdict.all.records else {
            Issue.record("a changed record is not found")
            return
        }
        #expect(seq == 6_000 && reason.contains("hash mismatch"))

        // A stream index entry of the last, partial chunk.
        path = try copy(intact, in: dir, "stream")
        delete(path, ["stream-settled", "stream-recent"], key: Array("s:\(8_500 % 13)".utf8) + [0], value: seqKey(8_500))
        verdict = try Self.verdicts(path)
        #expect(verdict.all.records == verdict.records)
        #expect(verdict.all.records == .broken(seq: 8_500, reason: "the stream index has no entry for s:\(8_500 % 13) version \(8_500 / 13 + 1) pointing here"))

        // A tag entry of a record in the first chunk.
        path = try copy(intact, in: dir, "tag")
        delete(path, "tags", key: [UInt8(5)] + Array("seven".utf8) + seqKey(700))
        verdict = try Self.verdicts(path)
        #expect(verdict.all.records.isIntact)
        #expect(verdict.all.tags?.seq == 700 && verdict.tags?.seq == 700)

        // A node inside the second chunk, the node above the two chunks, a node more than the records imply.
        for (name, key, value) in [
            ("node", nodeKey(lastLeaf: 4_096 + 63, level: 6), [UInt8](repeating: 7, count: 32)),
            ("upper", nodeKey(lastLeaf: 8_191, level: 13), [UInt8](repeating: 7, count: 32)),
            ("stray", nodeKey(lastLeaf: 8_191, level: 20), [UInt8](repeating: 7, count: 32)),
        ] {
            path = try copy(intact, in: dir, name)
            put(path, "tree", key: key, value: value)
            verdict = try Self.verdicts(path)
            #expect(verdict.all.records.isIntact && verdict.all.tags == nil, "\(name)")
            #expect(verdict.all.tree != nil, "\(name): the tree's fault is not found")
            #expect(verdict.all.tree?.seq == verdict.tree?.seq && verdict.all.tree?.reason == verdict.tree?.reason, "\(name)")
        }
        // A node missing.
        path = try copy(intact, in: dir, "missing")
        delete(path, "tree", key: nodeKey(lastLeaf: 8_991, level: 2))
        verdict = try Self.verdicts(path)
        #expect(verdict.all.tree != nil && verdict.all.tree?.seq == verdict.tree?.seq)
    }

    @Test("a stray event key between two chunks or before seq 1 is found and named")
    func strayEventKeys() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let intact = try Self.ledger(in: dir)
        for (name, key) in [("boundary", seqKey(4_096) + [0]), ("zero", seqKey(0)), ("short", [UInt8(0)])] {
            let path = try copy(intact, in: dir, name)
            put(path, "events", key: key, value: [UInt8](repeating: 1, count: 40))
            let store = try Store.open(at: path, options: Self.options())
            // `verify` is the pass too: when it finds a fault, the record-by-record checks name it.
            let verified = try store.verify(keysOf: { Self.keys($0) })
            let all = try store.verifyAll(tags: true, tree: true, keysOf: { Self.keys($0) })
            #expect(!verified.isIntact, "\(name): verify misses it")
            #expect(all.records == verified, "\(name)")
        }
    }

    @Test("a stream whose versions skip one, its records re-hashed and its index agreeing, is found")
    func versionsThatSkip() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = try copy(try Self.ledger(in: dir), in: dir, "skip")
        // The last record, 9 000, is version 693 of s:4: an insider makes it 694 and re-hashes
        // it and the head (the stream index holds its seq, as it did); the tree is dropped for
        // opening to rebuild.
        let stream = Array("s:4".utf8)
        rawWrite(path) { txn, dbi in
            func get(_ database: String, _ key: [UInt8]) -> [UInt8] {
                var key = key
                return key.withUnsafeMutableBytes { k in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var value = MDB_val()
                    #expect(mdb_get(txn, dbi(database), &kv, &value) == 0)
                    return Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
                }
            }
            func set(_ database: String, _ key: [UInt8], _ value: [UInt8]) {
                var key = key
                var value = value
                key.withUnsafeMutableBytes { k in
                    value.withUnsafeMutableBytes { v in
                        var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                        var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                        #expect(mdb_put(txn, dbi(database), &kv, &vv, 0) == 0)
                    }
                }
            }
            let previous = ChainHash(bytes: get("events", seqKey(8_999)).prefix(32))!
            var record = get("events", seqKey(9_000))
            // hash (32) ‖ format (1) ‖ seq (8) ‖ stream (varint 3, "s:4") ‖ version (8)
            #expect(Array(record[42..<45]) == stream && Array(record[45..<53]) == seqKey(693))
            record.replaceSubrange(45..<53, with: seqKey(694))
            let hash = record.withUnsafeBytes { ChainHash.chain(previous, UnsafeRawBufferPointer(rebasing: $0[32...])) }
            record.replaceSubrange(0..<32, with: hash.bytes)
            set("events", seqKey(9_000), record)
            var head = get("meta", Array("head".utf8))
            head.replaceSubrange(8..<40, with: hash.bytes)
            set("meta", Array("head".utf8), head)
            #expect(mdb_drop(txn, dbi("tree"), 1) == 0)
            var key = Array("tree".utf8)
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                #expect(mdb_del(txn, dbi("meta"), &kv, nil) == 0)
            }
        }
        let verdict = try Self.verdicts(path)
        guard case .broken(let seq, _) = verdict.records else {
            Issue.record("the record-by-record checks miss a version skipped: \(verdict.records)")
            return
        }
        #expect(seq == 9_000)
        #expect(verdict.all.records == verdict.records)
    }
}
