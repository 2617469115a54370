import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import Testing

/// The stream index of format 3 (sorted duplicates, the nth `seq` of a stream being its version
/// n, in a settled and a recent tier) against a plain model, through every reader of the store's
/// API, with recent tiers of several bounds; its faults as verify names them; and the upgrades
/// of ledgers of format 1 (a key per record, stream ‖ 0x00 ‖ version → seq) and 2 (the settled
/// tier only) made here.
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

    /// Options whose stream index folds its recent tier past `bound` entries.
    static func options(bound: Int) -> StoreOptions {
        var options = StoreOptions()
        options.streamRecentBound = bound
        return options
    }

    @Test(
        "every reader agrees with a plain model of the streams, before and after reopening, whatever the recent tier's bound",
        arguments: [StoreOptions().streamRecentBound, 0, 1, 40, 700])
    func readersAgreeWithModel(bound: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model = try Self.ledger(at: path, options: Self.options(bound: bound))
        #expect(model["s:1"]!.count > 1_000)  // pages of its own
        #expect(model["lone"]!.count == 1)
        let tiers = Self.tierSizes(path)
        // The recent tier holds no more than its bound after a commit, and all below it.
        #expect(tiers.recent == min(bound, Self.count + 1) || (bound < Self.count && tiers.recent <= bound), "\(tiers)")
        #expect(tiers.settled + tiers.recent == Self.count + 1)
        do { try Self.check(try Store.open(at: path, options: Self.options(bound: bound)), model) }
        // Appends continue each stream's versions.
        let store = try Store.open(at: path, options: Self.options(bound: bound))
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

    @Test("a fold moves whole streams in key order from where the last one stopped, round and round")
    func foldRotates() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        var model: [String: [UInt64]] = [:]
        do { _ = try Store.create(at: path, options: Self.options(bound: 30)) }
        var seen: Set<[UInt8]> = []
        var previous: [UInt8]?
        var wraps = 0
        for round in 0..<40 {
            do {
                let store = try Store.open(at: path, options: Self.options(bound: 30))
                try store.append { batch throws in
                    for n in 0..<10 {
                        let stream = "r:\((round * 10 + n) * 7 % 23)"
                        model[stream, default: []].append(try batch.append(stream: stream, id: RecordID(high: 11, low: UInt64(round * 10 + n)), payload: [1]).position.seq)
                    }
                }
            }
            // Past its bound, each commit brings the recent tier back under it.
            #expect(Self.tierSizes(path).recent <= 30, "round \(round)")
            if let fold = Self.recentKeys(path).fold {
                // Each fold stops further on than the last, or has gone round past the end.
                if let previous, !previous.lexicographicallyPrecedes(fold) { wraps += 1 }
                previous = fold
                seen.insert(fold)
            }
        }
        // Most streams' keys have been where a fold stopped: the folds went round the key space.
        #expect(seen.count >= 12, "\(seen.count)")
        #expect(wraps >= 2 && wraps <= 20, "\(wraps)")
        try Self.check(try Store.open(at: path, options: Self.options(bound: 30)), model)
    }

    @Test("verify names a fault of the recent tier: an entry missing, a seq in both tiers, a recent seq below a settled one")
    func recentTierFaults() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let intact = dir.child("l")
        do { _ = try Self.ledger(at: intact, options: Self.options(bound: 700)) }
        // A stream in both tiers: "s:1" has more than 1 000 records, folded and added since.
        let settled = Self.entries(intact, "stream-settled")[Array("s:1".utf8) + [0]] ?? []
        let recent = Self.entries(intact, "stream-recent")[Array("s:1".utf8) + [0]] ?? []
        try #require(settled.count > 1 && recent.count > 1)
        let key = Array("s:1".utf8) + [0]
        func verdicts(_ path: String) throws -> (Verification, Verification) {
            let store = try Store.open(at: path, options: Self.options(bound: 700))
            return (try store.verify(keysOf: { _ in [] }), try store.verifyAll(tags: false, tree: true, keysOf: { _ in [] }).records)
        }
        func damaged(_ name: String, _ change: (OpaquePointer, (String) -> MDB_dbi) -> Void) throws -> (Verification, Verification) {
            let path = dir.child(name)
            try FileManager.default.copyItem(atPath: intact, toPath: path)
            rawWrite(path, change)
            return try verdicts(path)
        }
        #expect(try verdicts(intact).0.isIntact && verdicts(intact).1.isIntact)

        // A recent entry missing.
        var (one, all) = try damaged("missing") { txn, dbi in Self.rawDelete(txn, dbi("stream-recent"), key, recent[1]) }
        #expect(one == all)
        #expect(one == .broken(seq: recent[1], reason: "the stream index has no entry for s:1 version \(settled.count + 2) pointing here"))

        // A settled seq in the recent tier as well.
        (one, all) = try damaged("both") { txn, dbi in Self.rawPut(txn, dbi("stream-recent"), key, settled.last!) }
        #expect(one == all)
        #expect(one == .broken(seq: settled.last!, reason: "the stream index (its recent tier) has an entry pointing at seq \(settled.last!) as version \(settled.count + 1) of its stream that the record does not claim"))

        // The stream's first seq moved to the recent tier: below its settled ones.
        (one, all) = try damaged("below") { txn, dbi in
            Self.rawDelete(txn, dbi("stream-settled"), key, settled[0])
            Self.rawPut(txn, dbi("stream-recent"), key, settled[0])
        }
        #expect(one == all)
        guard case .broken(let seq, let reason) = one else {
            Issue.record("a recent seq below a settled one is not found")
            return
        }
        #expect(seq == settled[0] && reason.contains("recent tier"), "\(reason)")
    }

    @Test("a ledger of format 2 is upgraded when opened: an empty recent tier, no record touched, the same answers, appends continue")
    func upgradeFromFormat2() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model: [String: [UInt64]]
        do { model = try Self.ledger(at: path, options: Self.options(bound: 700)) }
        let records = Self.entries(path, "events")
        Self.downgradeToFormat2(path)
        #expect(Self.format(path) == 2)
        #expect(Self.hasDatabase(path, "stream-recent") == false)
        do { try Self.check(try Store.open(at: path, options: Self.options(bound: 700)), model) }
        #expect(Self.format(path) == 3)
        // Format 2's index is gone (its entries rebuilt as the settled tier under another name):
        // a process of an older build still holding it fails instead of writing where this
        // build no longer reads.
        #expect(Self.hasDatabase(path, "stream-index") == false)
        #expect(Self.tierSizes(path) == (Self.count + 1, 0))
        #expect(Self.entries(path, "events") == records)
        var more = model
        do {
            let store = try Store.open(at: path, options: Self.options(bound: 700))
            try store.append { batch throws in
                for n in 0..<800 {
                    let stream = "s:\(n % 5)"
                    more[stream, default: []].append(try batch.append(stream: stream, id: RecordID(high: 12, low: UInt64(n)), payload: [1]).position.seq)
                }
            }
        }
        #expect(Self.tierSizes(path).recent <= 700)
        try Self.check(try Store.open(at: path, options: Self.options(bound: 700)), more)
    }

    @Test("a ledger of format 1 is upgraded when opened: the same answers, verify intact, appends continue, the old index gone")
    func upgradeFromFormat1() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let model: [String: [UInt64]]
        do { model = try Self.ledger(at: path, options: Self.options(bound: 700)) }
        Self.downgradeToFormat1(path)
        #expect(Self.format(path) == 1)

        // Opened with a map too small for the upgrade: it fills, is grown, and the upgrade runs again.
        var options = StoreOptions()
        options.initialMapSize = 64 << 10
        do {
            let store = try Store.open(at: path, options: options)
            try Self.check(store, model)
        }
        #expect(Self.format(path) == 3)
        #expect(Self.hasDatabase(path, "streams") == false)
        #expect(Self.tierSizes(path) == (Self.count + 1, 0))
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
        #expect(Self.format(path) == 3)
    }

    /// Rewrites the ledger at `path` (no store open on it) as format 1 wrote it: the stream index
    /// as `streams`, stream ‖ 0x00 ‖ version (u64 BE) → seq, and the format mark 1.
    static func downgradeToFormat1(_ path: String) {
        let streams = entries(path, "stream-settled", "stream-recent")
        rawWrite(path) { txn, dbi in
            var entries: [([UInt8], UInt64)] = []
            for (stream, seqs) in streams {
                for (place, seq) in seqs.enumerated() { entries.append((stream + withUnsafeBytes(of: UInt64(place + 1).bigEndian, Array.init), seq)) }
            }
            #expect(entries.count == count + 1)
            #expect(mdb_drop(txn, dbi("stream-settled"), 1) == 0)
            #expect(mdb_drop(txn, dbi("stream-recent"), 1) == 0)
            rawDelete(txn, dbi("meta"), Array("stream-fold".utf8))
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

    /// Rewrites the ledger at `path` (no store open on it) as format 2 wrote it: each stream's
    /// `seq`s, settled then recent, in `stream-index`, the two tiers and the fold's position
    /// gone, and the format mark 2.
    static func downgradeToFormat2(_ path: String) {
        let streams = entries(path, "stream-settled", "stream-recent")
        rawWrite(path) { txn, dbi in
            var index: MDB_dbi = 0
            #expect(mdb_dbi_open(txn, "stream-index", UInt32(MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED), &index) == 0)
            for (stream, seqs) in streams {
                for seq in seqs { rawPut(txn, index, stream, seq, flags: MDB_APPENDDUP) }
            }
            #expect(mdb_drop(txn, dbi("stream-settled"), 1) == 0)
            #expect(mdb_drop(txn, dbi("stream-recent"), 1) == 0)
            rawDelete(txn, dbi("meta"), Array("stream-fold".utf8))
            setFormat(txn, dbi("meta"), 2)
        }
    }

    /// The entries of the databases `names` of the ledger at `path` (no store open on it), by key:
    /// each key's values as u64 BE, those of the first database then the next's.
    static func entries(_ path: String, _ names: String...) -> [[UInt8]: [UInt64]] {
        var result: [[UInt8]: [UInt64]] = [:]
        rawWrite(path) { txn, dbi in
            for name in names {
                var cursor: OpaquePointer?
                #expect(mdb_cursor_open(txn, dbi(name), &cursor) == 0)
                var key = MDB_val()
                var value = MDB_val()
                var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                while rc == 0 {
                    let seq = value.mv_size == 8 ? UInt64(bigEndian: value.mv_data.loadUnaligned(as: UInt64.self)) : UInt64(value.mv_size)
                    result[Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)), default: []].append(seq)
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                }
                mdb_cursor_close(cursor)
            }
        }
        return result
    }

    /// The entries of the two tiers of the ledger at `path` (no store open on it).
    static func tierSizes(_ path: String) -> (settled: Int, recent: Int) {
        (entries(path, "stream-settled").values.reduce(0) { $0 + $1.count }, entries(path, "stream-recent").values.reduce(0) { $0 + $1.count })
    }

    /// The recent tier's keys, and the last key a fold moved.
    static func recentKeys(_ path: String) -> (keys: [[UInt8]], fold: [UInt8]?) {
        let keys = entries(path, "stream-recent")
        var fold: [UInt8]?
        rawWrite(path) { txn, dbi in
            var key = Array("stream-fold".utf8)
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var value = MDB_val()
                if mdb_get(txn, dbi("meta"), &kv, &value) == 0 { fold = Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)) }
            }
        }
        return (Array(keys.keys), fold)
    }

    static func rawPut(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ seq: UInt64, flags: Int32 = 0) {
        var key = key
        var value = withUnsafeBytes(of: seq.bigEndian, Array.init)
        key.withUnsafeMutableBytes { k in
            value.withUnsafeMutableBytes { v in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var vv = MDB_val(mv_size: 8, mv_data: v.baseAddress)
                #expect(mdb_put(txn, dbi, &kv, &vv, UInt32(flags)) == 0)
            }
        }
    }

    /// Deletes `key`, or only its value `seq`; a key not there is no failure.
    static func rawDelete(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ seq: UInt64? = nil) {
        var key = key
        var value = withUnsafeBytes(of: (seq ?? 0).bigEndian, Array.init)
        key.withUnsafeMutableBytes { k in
            value.withUnsafeMutableBytes { v in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var vv = MDB_val(mv_size: 8, mv_data: v.baseAddress)
                let rc = seq == nil ? mdb_del(txn, dbi, &kv, nil) : mdb_del(txn, dbi, &kv, &vv)
                #expect(rc == 0 || (seq == nil && rc == MDB_NOTFOUND))
            }
        }
    }
}
