import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import Testing

/// The stream index of format 2 (sorted duplicates, the nth `seq` of a stream being its version
/// n) against a plain model, through every reader of the store's API, and the upgrade of a
/// ledger of format 1 (a key per record, stream ‖ 0x00 ‖ version → seq) made here.
@Suite("Stream index")
struct StreamIndexTests {
    /// Streams that probe the layout: the empty one, one a prefix of others, one of a single
    /// record, one long enough for pages of its own (more than a node holds), many short ones.
    static func stream(_ n: Int) -> String {
        switch n % 11 {
        case 0: ""
        case 1, 2, 3, 4: "s:1"
        case 5: "s:10"
        case 6: "s:1\u{0}x"
        default: "s:\(n % 97)"
        }
    }

    static let count = 3_000

    /// A ledger of ``count`` records in batches of uneven sizes, and the model: each stream's seqs.
    static func ledger(at path: String, options: StoreOptions = StoreOptions()) throws -> [String: [UInt64]] {
        var model: [String: [UInt64]] = [:]
        let store = try Store.create(at: path, options: options)
        var n = 1
        var size = 1
        while n <= count {
            let last = min(n + size - 1, count)
            try store.append { batch throws in
                for m in n...last {
                    let position = try batch.append(stream: stream(m), id: RecordID(high: 7, low: UInt64(m)), payload: Array("p\(m)".utf8)).position
                    #expect(position.version == UInt64((model[stream(m)] ?? []).count + 1))
                    model[stream(m), default: []].append(position.seq)
                }
                // A lone record's stream, added once.
                if n == 1 {
                    try batch.append(stream: "lone", id: RecordID(high: 8, low: 1), payload: [1])
                }
            }
            if n == 1 { model["lone"] = [UInt64(last + 1)] }
            n = last + 1
            size = size * 3 % 701 + 1
        }
        return model
    }

    /// Every reader of the stream index agrees with `model`, and verify finds the ledger intact.
    static func check(_ store: Store, _ model: [String: [UInt64]]) throws {
        try store.read { txn throws in
            for (stream, seqs) in model {
                #expect(try txn.seqs(inStream: stream) == seqs, "\(stream)")
                #expect(try txn.streamVersion(stream) == UInt64(seqs.count), "\(stream)")
                // Each record's version is its place in its stream.
                for (place, seq) in seqs.enumerated() where place % 37 == 0 || place == seqs.count - 1 {
                    let record = try #require(try txn.record(at: seq))
                    #expect(record.position.stream == stream && record.position.version == UInt64(place + 1))
                }
            }
            for absent in ["s", "s:", "s:1\u{0}", "s:100", "lone2", "\u{0}"] {
                #expect(try txn.seqs(inStream: absent) == [], "\(absent)")
                #expect(try txn.streamVersion(absent) == 0, "\(absent)")
            }
        }
        guard case .intact = try store.verify(keysOf: { _ in [] }) else {
            Issue.record("the ledger does not verify: \(try store.verify(keysOf: { _ in [] }))")
            return
        }
        #expect(try store.verifyAll(tags: false, tree: true, keysOf: { _ in [] }).records.isIntact)
    }

    @Test("every reader agrees with a plain model of the streams, before and after reopening")
    func readersAgreeWithModel() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model = try Self.ledger(at: path)
        #expect(model["s:1"]!.count > 1_000)  // pages of its own
        #expect(model["lone"]!.count == 1)
        do { try Self.check(try Store.open(at: path), model) }
        // Appends continue each stream's versions.
        let store = try Store.open(at: path)
        var more = model
        try store.append { batch throws in
            for (n, stream) in ["s:1", "", "lone", "new"].enumerated() {
                let position = try batch.append(stream: stream, id: RecordID(high: 9, low: UInt64(n)), payload: [2]).position
                #expect(position.version == UInt64((more[stream] ?? []).count + 1))
                more[stream, default: []].append(position.seq)
                #expect(try batch.streamVersion(stream) == position.version)
            }
        }
        try Self.check(store, more)
    }

    @Test("a record that does not continue its stream's version is still refused, and a rolled-back batch leaves the index as it was")
    func continuationRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"))
        var hash = ChainHash.zero
        try store.append { batch throws in
            hash = try batch.append(stream: "a", id: RecordID(high: 1, low: 1), payload: [1]).hash
        }
        let before = try store.head()
        // Version 3 of "a" (its next is 2), and version 2 of a stream that has none.
        for (stream, version) in [("a", UInt64(3)), ("b", UInt64(2)), ("a", UInt64(1))] {
            #expect {
                try store.append { batch throws in
                    let position = RecordPosition(seq: 2, stream: stream, version: version, recordedAt: before.recordedAt)
                    try batch.appendRecorded(position: position, id: RecordID(high: 1, low: 2), payload: [2], hash: hash)
                }
            } throws: { ($0 as? StoreError)?.code == .doesNotContinue }
        }
        #expect(throws: StoreError.self) {
            try store.append { batch throws in
                try batch.append(stream: "a", id: RecordID(high: 1, low: 3), payload: [3])
                try batch.append(stream: "a", id: RecordID(high: 1, low: 1), payload: [3])  // a duplicate id
            }
        }
        try store.read { txn throws in
            #expect(try txn.seqs(inStream: "a") == [1])
            #expect(try txn.streamVersion("a") == 1)
        }
    }

    @Test("a ledger of format 1 is upgraded when opened: the same answers, verify intact, appends continue, the old index gone")
    func upgradeFromFormat1() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model: [String: [UInt64]]
        do { model = try Self.ledger(at: path) }
        Self.downgradeToFormat1(path)
        #expect(Self.format(path) == 1)

        // Opened with a map too small for the upgrade: it fills, is grown, and the upgrade runs again.
        var options = StoreOptions()
        options.initialMapSize = 64 << 10
        do {
            let store = try Store.open(at: path, options: options)
            try Self.check(store, model)
        }
        #expect(Self.format(path) == 2)
        #expect(Self.hasDatabase(path, "streams") == false)
        let store = try Store.open(at: path)
        try store.append { batch throws in
            #expect(try batch.append(stream: "s:1", id: RecordID(high: 10, low: 1), payload: [1]).position.version == UInt64(model["s:1"]!.count + 1))
        }
        #expect(try store.read { try $0.streamVersion("s:1") } == UInt64(model["s:1"]!.count + 1))
    }

    @Test("opening an upgraded ledger again changes nothing")
    func upgradeIsIdempotent() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model: [String: [UInt64]]
        do { model = try Self.ledger(at: path) }
        Self.downgradeToFormat1(path)
        do { _ = try Store.open(at: path) }
        do { try Self.check(try Store.open(at: path), model) }
        #expect(Self.format(path) == 2)
    }

    /// Rewrites the ledger at `path` (no store open on it) as format 1 wrote it: the stream index
    /// as `streams`, stream ‖ 0x00 ‖ version (u64 BE) → seq, and the format mark 1.
    static func downgradeToFormat1(_ path: String) {
        rawWrite(path) { txn, dbi in
            var entries: [([UInt8], UInt64)] = []
            var cursor: OpaquePointer?
            #expect(mdb_cursor_open(txn, dbi("stream-index"), &cursor) == 0)
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            var version: UInt64 = 0
            var last: [UInt8] = []
            while rc == 0 {
                let stream = Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size))
                version = stream == last ? version + 1 : 1
                last = stream
                let seq = UInt64(bigEndian: value.mv_data.loadUnaligned(as: UInt64.self))
                entries.append((stream + withUnsafeBytes(of: version.bigEndian, Array.init), seq))
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            mdb_cursor_close(cursor)
            #expect(entries.count == count + 1)
            #expect(mdb_drop(txn, dbi("stream-index"), 1) == 0)
            var streams: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, "streams", UInt32(MDB_CREATE), &streams) == 0)
            for (key, seq) in entries {
                var key = key
                var seqBytes = withUnsafeBytes(of: seq.bigEndian, Array.init)
                key.withUnsafeMutableBytes { k in
                    seqBytes.withUnsafeMutableBytes { v in
                        var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                        var vv = MDB_val(mv_size: 8, mv_data: v.baseAddress)
                        #expect(mdb_put(txn, streams, &kv, &vv, UInt32(MDB_NOOVERWRITE)) == 0)
                    }
                }
            }
            setFormat(txn, dbi("meta"), 1)
        }
    }

    static func setFormat(_ txn: OpaquePointer, _ meta: MDB_dbi, _ format: UInt32) {
        var key = Array("format".utf8)
        var value = withUnsafeBytes(of: format.bigEndian, Array.init)
        key.withUnsafeMutableBytes { k in
            value.withUnsafeMutableBytes { v in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                #expect(mdb_put(txn, meta, &kv, &vv, 0) == 0)
            }
        }
    }

    /// The format mark of the ledger at `path` (no store open on it).
    static func format(_ path: String) -> UInt32? {
        var format: UInt32?
        rawWrite(path) { txn, dbi in
            var key = Array("format".utf8)
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var value = MDB_val()
                if mdb_get(txn, dbi("meta"), &kv, &value) == 0, value.mv_size == 4 {
                    format = UInt32(bigEndian: value.mv_data.loadUnaligned(as: UInt32.self))
                }
            }
        }
        return format
    }

    static func hasDatabase(_ path: String, _ name: String) -> Bool {
        var found = false
        rawWrite(path) { txn, _ in
            var handle: MDB_dbi = 0
            found = mdb_dbi_open(txn, name, 0, &handle) == 0
        }
        return found
    }
}
