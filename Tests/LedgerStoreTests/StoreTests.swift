import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import PropertyBased
import Synchronization
import Testing
import TransparencyLog

func id(_ n: Int) -> RecordID { RecordID(high: 0xABCD, low: UInt64(n)) }
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Opens `path` with raw LMDB (no store open in this process) and runs `body` in a write transaction.
func rawWrite(_ path: String, _ body: (OpaquePointer, (String) -> MDB_dbi) -> Void) {
    var env: OpaquePointer?
    mdb_env_create(&env)
    mdb_env_set_maxdbs(env, 8)
    mdb_env_set_mapsize(env, 1 << 30)
    #expect(mdb_env_open(env, path, 0, 0o644) == 0)
    defer { mdb_env_close(env) }
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    body(txn!) { name in
        var dbi: MDB_dbi = 0
        mdb_dbi_open(txn, name, 0, &dbi)
        return dbi
    }
    #expect(mdb_txn_commit(txn) == 0)
}

@Suite("Store")
struct StoreTests {
    @Test("create, append, read back, reopen")
    func basics() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        do {
            let store = try Store.create(at: path)
            #expect(try store.head() == .empty)
            let position = try store.append { batch in
                try batch.append(stream: "s:a", id: id(1), payload: bytes("one"))
                return try batch.append(stream: "s:a", id: id(2), payload: bytes("two")).position
            }
            #expect(position == RecordPosition(seq: 2, stream: "s:a", version: 2, recordedAt: position.recordedAt))
        }
        let store = try Store.open(at: path)
        try store.read { txn throws in
            #expect(txn.head.seq == 2)
            #expect(try txn.record(at: 1)?.payload == bytes("one"))
            #expect(try txn.seq(of: id(2)) == 2)
            #expect(try txn.seqs(inStream: "s:a") == [1, 2])
            #expect(try txn.streamVersion("s:a") == 2)
            #expect(try txn.streamVersion("s:") == 0)
            #expect(try txn.streamVersion("s:ab") == 0)
        }
        guard case .intact(let head, let records) = try store.verify(keysOf: { _ in [] }) else {
            Issue.record("not intact")
            return
        }
        #expect(records == 2)
        #expect(head == (try store.head()))
    }

    /// A store of 3 000 records of 40–240 bytes: the events database spans many leaf pages.
    static func storeOfManyPages(_ dir: TemporaryDirectory) throws -> Store {
        var options = StoreOptions()
        options.syncsEachCommit = false
        let store = try Store.create(at: dir.child("l"), options: options)
        try store.append { batch in
            for n in 1...3000 { try batch.append(stream: "s:\(n % 7)", id: id(n), payload: Array(repeating: UInt8(n % 251), count: 40 + n % 200)) }
        }
        return store
    }

    @Test("records looked up together by ascending seqs are each the record read alone, across leaf pages; a missing one is refused")
    func indexedRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.storeOfManyPages(dir)
        await propertyCheck(count: 30, input: Gen.int(in: 1...3000).array(of: 0...300)) { picks in
            let seqs = Array(Set(picks.map(UInt64.init))).sorted()
            try! store.read { txn throws in
                let together = try txn.withIndexedRecords(at: seqs) { records in
                    #expect(records.seqs == seqs)
                    // Read back to front: every record stays readable while the call lasts.
                    return Array(try (0..<records.count).reversed().map { index in try records.withRecord(index) { $0.copy() } }.reversed())
                }
                #expect(together == (try seqs.map { try txn.record(at: $0)! }))
            }
        }
        // Near ones are reached by stepping forward from the last found, far ones by a search.
        for seqs: [UInt64] in [Array(100...160), Array(stride(from: 1, through: 3000, by: 17)), [1, 2, 3, 2999, 3000]] {
            try store.read { txn throws in
                let together = try txn.withIndexedRecords(at: seqs) { records in try (0..<records.count).map { index in try records.withRecord(index) { $0.copy() } } }
                #expect(together == (try seqs.map { try txn.record(at: $0)! }))
            }
        }
        for seqs: [UInt64] in [[5, 3001], [2995, 3001], [2999, 3000, 3001]] {
            #expect(throws: StoreError.self) { try store.read { txn throws in try txn.withIndexedRecords(at: seqs) { $0.count } } }
        }
        // A seq named twice or out of order (damaged indexes) is said to be damage, never trapped on.
        for seqs: [UInt64] in [[5, 5], [7, 6]] {
            #expect { try store.read { txn throws in try txn.withIndexedRecords(at: seqs) { $0.count } } } throws: { ($0 as? StoreError)?.code == .corrupt }
        }
    }

    @Test("records copied into a RecordArena read back as the records, on malloc's block and on huge pages", arguments: [2 << 20, 0])
    func recordArena(hugePagesFrom: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.storeOfManyPages(dir)
        for seqs: [UInt64] in [[], [1], Array(stride(from: 1, through: 3000, by: 3)), Array(1...3000)] {
            try store.read { txn throws in
                try txn.withIndexedRecords(at: seqs) { records in
                    guard var arena = RecordArena(byteCount: records.byteCount, records: records.count, hugePagesFrom: hugePagesFrom) else {
                        Issue.record("no memory for \(records.byteCount) bytes")
                        return
                    }
                    for index in 0..<records.count { arena.append(records, index) }
                    #expect(arena.count == records.count)
                    #if os(Linux)
                    // Where transparent huge pages are off, the block is still mapped on its own.
                    #expect(arena.isOnHugePages == (hugePagesFrom == 0 && !seqs.isEmpty))
                    #endif
                    // Read back to front: every copy is where it was put.
                    for index in (0..<records.count).reversed() {
                        arena.prefetch(index)
                        let copy = try arena.withRecord(index) { $0.copy() }
                        #expect(copy == (try records.withRecord(index) { $0.copy() }), "copy \(index)")
                    }
                }
            }
        }
    }

    @Test("create refuses an existing ledger; open refuses what is not a ledger")
    func openErrors() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = try Store.create(at: dir.child("l"))
        #expect { try Store.create(at: dir.child("l")) } throws: { ($0 as? StoreError)?.code == .alreadyExists }
        #expect { try Store.open(at: dir.child("missing")) } throws: { ($0 as? StoreError)?.code == .notALedger }
        #expect { try Store.open(at: dir.path) } throws: { ($0 as? StoreError)?.code == .notALedger }
        _ = FileManager.default.createFile(atPath: dir.child("file"), contents: Data("x".utf8))
        #expect { try Store.open(at: dir.child("file")) } throws: { ($0 as? StoreError)?.code == .notALedger }

        // An LMDB environment that is not a ledger.
        let other = dir.child("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        rawWrite(other) { _, _ in }
        #expect { try Store.open(at: other) } throws: { ($0 as? StoreError)?.code == .notALedger }
    }

    @Test("a ledger written by a newer format is refused with a clear error")
    func newerFormat() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        do { _ = try Store.create(at: path) }
        rawWrite(path) { txn, dbi in
            var key = bytes("format")
            var value: [UInt8] = [0, 0, 0, 4]
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    #expect(mdb_put(txn, dbi("meta"), &kv, &vv, 0) == 0)
                }
            }
        }
        #expect { try Store.open(at: path) } throws: { error in
            (error as? StoreError)?.code == .newerFormat && "\(error)".contains("newer ledger format (4)")
        }
    }

    @Test("a batch is all or nothing: a duplicate id or key anywhere rolls it back whole")
    func atomicBatches() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"))
        try store.append { batch in
            try batch.append(stream: "s:a", id: id(1), keys: [bytes("k1")], payload: bytes("one"))
        }
        #expect { try store.append { batch in
            try batch.append(stream: "s:a", id: id(2), payload: bytes("two"))
            try batch.append(stream: "s:b", id: id(1), payload: bytes("dup"))
        } } throws: { ($0 as? StoreError)?.code == .duplicateID }
        #expect { try store.append { batch in
            try batch.append(stream: "s:a", id: id(3), keys: [bytes("k2")], payload: bytes("three"))
            try batch.append(stream: "s:a", id: id(4), keys: [bytes("k2")], payload: bytes("four"))
        } } throws: { ($0 as? StoreError)?.code == .duplicateKey }
        #expect(try store.head().seq == 1)
        try store.read { txn throws in
            #expect(try txn.seq(of: id(2)) == nil)
            #expect(try txn.seq(forKey: bytes("k2")) == nil)
            #expect(try txn.streamVersion("s:a") == 1)
        }
    }

    @Test("the store agrees with a plain in-memory model over generated operation sequences")
    func modelBased() async throws {
        struct Model {
            var records: [(stream: String, id: RecordID, payload: [UInt8])] = []
            var ids: [RecordID: Int] = [:]
            var keys: Set<[UInt8]> = []
            var keysByID: [RecordID: [[UInt8]]] = [:]
        }
        // An operation: a batch of (stream index, id number, key number or -1) triples.
        let operation = Gen.int(in: 0..<4).array(of: 1...6)
        let batches = operation.array(of: 1...25)
        await propertyCheck(count: 25, input: batches, Gen.uint64()) { batches, seed in
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            let store = try! Store.create(at: dir.child("l"))
            var model = Model()
            var random = SeededRandom(seed: seed)
            for batch in batches {
                let items = batch.map { streamIndex in
                    (stream: "s:\(streamIndex)", id: id(Int.random(in: 0..<40, using: &random)),
                     key: Int.random(in: 0..<8, using: &random) == 0 ? [bytes("k\(Int.random(in: 0..<10, using: &random))")] : [],
                     payload: bytes("p\(random.next())"))
                }
                // The model: the batch succeeds only if no id or key repeats, in it or before it.
                var ids = Set(model.ids.keys)
                var keys = model.keys
                var accepted = true
                for item in items {
                    if !ids.insert(item.id).inserted { accepted = false }
                    for key in item.key where !keys.insert(key).inserted { accepted = false }
                }
                do {
                    try store.append { staged in
                        for item in items { try staged.append(stream: item.stream, id: item.id, keys: item.key, payload: item.payload) }
                    }
                    #expect(accepted)
                } catch {
                    #expect(!accepted, "\(error)")
                }
                if accepted {
                    for item in items {
                        model.ids[item.id] = model.records.count + 1
                        model.records.append((item.stream, item.id, item.payload))
                        model.keys.formUnion(item.key)
                        model.keysByID[item.id] = item.key
                    }
                }
            }
            try! store.read { txn throws in
                #expect(txn.head.seq == UInt64(model.records.count))
                var seq: UInt64 = 0
                var versions: [String: UInt64] = [:]
                try txn.forEachRecord { record in
                    seq += 1
                    let expected = model.records[Int(seq) - 1]
                    versions[expected.stream, default: 0] += 1
                    #expect(record.position.seq == seq)
                    #expect(record.position.stream == expected.stream)
                    #expect(record.position.version == versions[expected.stream])
                    #expect(record.id == expected.id)
                    #expect(Array(record.payload) == expected.payload)
                }
                #expect(seq == txn.head.seq)
                for stream in (0..<4).map({ "s:\($0)" }) {
                    let expected = model.records.indices.filter { model.records[$0].stream == stream }.map { UInt64($0 + 1) }
                    #expect(try txn.seqs(inStream: stream) == expected)
                    #expect(try txn.streamVersion(stream) == UInt64(expected.count))
                }
                for n in 0..<40 {
                    #expect(try txn.seq(of: id(n)) == model.ids[id(n)].map(UInt64.init))
                }
            }
            #expect(try! store.verify(keysOf: { model.keysByID[$0.id] ?? [] }).isIntact)
        }
    }

    @Test("a full map grows by itself and loses nothing")
    func mapGrowth() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"), options: StoreOptions(initialMapSize: 1 << 20))
        let initial = store.mapSize
        let payload = [UInt8](repeating: 7, count: 2000)
        for batch in 0..<40 {
            try store.append { staged in
                for n in 0..<100 { try staged.append(stream: "s:\(n % 7)", id: id(batch * 100 + n), payload: payload) }
            }
        }
        #expect(store.mapSize > initial)
        #expect(try store.head().seq == 4000)
        #expect(try store.verify(keysOf: { _ in [] }).isIntact)
    }

    @Test("a store opened to pre-map its file has every used page mapped at open, and again after its map grows")
    func premap() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let payload = [UInt8](repeating: 7, count: 2000)
        do {
            let store = try Store.create(at: path, options: StoreOptions(initialMapSize: 1 << 20))
            #expect(store.premap == nil)
            for batch in 0..<20 {
                try store.append { staged in
                    for n in 0..<100 { try staged.append(stream: "s:\(n % 7)", id: id(batch * 100 + n), payload: payload) }
                }
            }
        }
        var options = StoreOptions(initialMapSize: 1 << 20)
        options.premapsFile = true
        let store = try Store.open(at: path, options: options)
        let atOpen = try #require(store.premap)
        #if os(Linux)
        #expect(atOpen.failure == nil)
        // 2 000 records of 2 kB: about 4 MB of pages in use, all of them mapped in this process.
        #expect(atOpen.bytes >= 2000 * 2000 && atOpen.bytes <= store.mapSize)
        #expect(mappedBytes(path + "/data.mdb") >= atOpen.bytes)
        #else
        #expect(atOpen.bytes == 0 && atOpen.failure != nil)
        #endif
        // Every stored node (level 2 and up) read into the tree node cache, and the proofs read
        // through it are the stored tree's.
        #expect(atOpen.treeNodes == (2...11).reduce(0) { $0 + (2000 >> $1) })
        #expect(store.environment.treeCache.node(level: 2, index: 0) != nil)
        let seqs: [UInt64] = [1, 2, 3, 640, 1024, 1999, 2000]
        var proofs: [[TreeHash]] = []
        try store.read { txn in
            try txn.forEachProvenRecord(seqs: seqs, size: 2000, root: { #expect($0 == (try? txn.treeRoot(size: 2000))) }) { _, _, proof in proofs.append(proof) }
            #expect(try proofs == seqs.map { try txn.inclusionProof(seq: $0, size: 2000) })
        }
        let initial = store.mapSize
        for batch in 20..<60 {
            try store.append { staged in
                for n in 0..<100 { try staged.append(stream: "s:\(n % 7)", id: id(batch * 100 + n), payload: payload) }
            }
        }
        #expect(store.mapSize > initial)
        let afterGrowth = try #require(store.premap)
        #if os(Linux)
        // The grown map is a new mapping: pre-mapped again, with what was in use when it grew.
        #expect(afterGrowth.failure == nil && afterGrowth.bytes > atOpen.bytes)
        #expect(mappedBytes(path + "/data.mdb") >= afterGrowth.bytes)
        #endif
        try store.read { txn throws in
            #expect(txn.head.seq == 6000)
            #expect(try txn.record(at: 4321)?.payload == payload)
        }
        #expect(try store.verify(keysOf: { _ in [] }).isIntact)
    }

    @Test("threads appending at once lose nothing and leave no gap")
    func threads() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Store.create(at: dir.child("l"), options: StoreOptions(initialMapSize: 1 << 20))
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    for batch in 0..<30 {
                        try! store.append { staged in
                            for n in 0..<10 {
                                try staged.append(stream: "thread:\(thread)", id: id(thread * 10_000 + batch * 10 + n), payload: bytes("\(thread)-\(batch)-\(n)"))
                            }
                        }
                    }
                }
            }
        }
        #expect(try store.head().seq == 1200)
        try store.read { txn throws in
            for thread in 0..<4 {
                let seqs = try txn.seqs(inStream: "thread:\(thread)")
                #expect(seqs.count == 300)
                #expect(seqs == seqs.sorted())
            }
        }
        #expect(try store.verify(keysOf: { _ in [] }).isIntact)
    }

    @Test("recorded_at never goes backwards, whatever the clock says")
    func monotonicClock() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ticks = Mutex<Int64>(1_000_000_000)
        // A clock that runs backwards.
        let store = try Store.create(at: dir.child("l"), options: StoreOptions(clock: { ticks.withLock { $0 -= 1000; return $0 } }))
        for n in 0..<5 {
            try store.append { try $0.append(stream: "s:a", id: id(n), payload: bytes("x")) }
        }
        var last = Int64.min
        try store.read { txn throws in
            try txn.forEachRecord { record in
                #expect(record.position.recordedAt >= last)
                last = record.position.recordedAt
            }
        }
        #expect(last == 1_000_000_000 - 1000)
    }

    @Test("a recorded record is accepted only where it continues the chain exactly")
    func recordedRecords() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let source = try Store.create(at: dir.child("a"))
        try source.append { batch in
            for n in 0..<3 { try batch.append(stream: "s:\(n % 2)", id: id(n), payload: bytes("p\(n)")) }
        }
        let records = try source.read { txn throws in try (1...3).map { try txn.record(at: $0)! } }
        let copy = try Store.create(at: dir.child("b"))
        func restore(_ record: StoredRecord, hash: ChainHash? = nil) throws {
            try copy.append { try $0.appendRecorded(position: record.position, id: record.id, payload: record.payload, hash: hash ?? record.hash) }
        }
        #expect { try restore(records[1]) } throws: { ($0 as? StoreError)?.code == .doesNotContinue }
        try restore(records[0])
        #expect { try restore(records[1], hash: records[2].hash) } throws: { ($0 as? StoreError)?.code == .doesNotContinue }
        var wrongVersion = records[1]
        wrongVersion.position.version = 2
        #expect { try restore(wrongVersion) } throws: { ($0 as? StoreError)?.code == .doesNotContinue }
        try restore(records[1])
        try restore(records[2])
        #expect(try copy.head() == (try source.head()))
    }
}

@Suite("Tampering")
struct TamperingTests {
    /// A ledger of 50 records, closed, with the offset in data.mdb of a marker inside record `target`.
    func ledger(in dir: TemporaryDirectory, marking target: Int) throws -> (path: String, offset: Int) {
        let path = dir.child("l")
        do {
            let store = try Store.create(at: path)
            try store.append { batch in
                for n in 1...50 {
                    try batch.append(stream: "s:\(n % 3)", id: id(n), keys: [bytes("key-\(n)")], payload: bytes(n == target ? "MARKER-\(n)-MARKER" : "payload \(n)"))
                }
            }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb"))
        let offset = try #require(data.firstRange(of: Data("MARKER-\(target)".utf8))?.lowerBound)
        return (path, offset)
    }

    func verify(_ path: String) throws -> Verification {
        try Store.open(at: path).verify { record in [bytes("key-\(record.id.low)")] }
    }

    @Test("one flipped byte in a record is found at its seq", arguments: [1, 17, 50])
    func flippedByte(target: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, offset) = try ledger(in: dir, marking: target)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path + "/data.mdb"))
        try handle.seek(toOffset: UInt64(offset + 2))
        try handle.write(contentsOf: Data("X".utf8))
        try handle.close()
        guard case .broken(let seq, let reason) = try verify(path) else {
            Issue.record("tampering not detected")
            return
        }
        #expect(seq == UInt64(target))
        #expect(reason.contains("hash mismatch"))
    }

    @Test("a missing or stray index entry is found")
    func indexFaults() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, _) = try ledger(in: dir, marking: 1)
        #expect(try verify(path).isIntact)
        // Delete the id index entry of record 23.
        rawWrite(path) { txn, dbi in
            var key = id(23).bytes
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                #expect(mdb_del(txn, dbi("ids"), &kv, nil) == 0)
            }
        }
        #expect(try verify(path) == .broken(seq: 23, reason: "the id index does not point at this record"))
        // Put it back pointing at the wrong record.
        rawWrite(path) { txn, dbi in
            var key = id(23).bytes
            var value = UInt64(24).bigEndianBytesForTest
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    #expect(mdb_put(txn, dbi("ids"), &kv, &vv, 0) == 0)
                }
            }
        }
        guard case .broken(let seq, _) = try verify(path) else {
            Issue.record("wrong index entry not detected")
            return
        }
        #expect(seq == 23)
    }
}

extension TamperingTests {
    /// Runs `body` on the raw `events` database of a closed ledger.
    func withEvents(_ path: String, _ body: (OpaquePointer, MDB_dbi) -> Void) {
        rawWrite(path) { txn, dbi in body(txn, dbi("events")) }
    }

    func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ seq: UInt64) -> [UInt8] {
        var key = seq.bigEndianBytesForTest
        return key.withUnsafeMutableBytes { k in
            var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
            var value = MDB_val()
            #expect(mdb_get(txn, dbi, &kv, &value) == 0)
            return Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
        }
    }

    func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ seq: UInt64, _ bytes: [UInt8]) {
        var key = seq.bigEndianBytesForTest
        var value = bytes
        key.withUnsafeMutableBytes { k in
            value.withUnsafeMutableBytes { v in
                var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
                var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                #expect(mdb_put(txn, dbi, &kv, &vv, 0) == 0)
            }
        }
    }

    @Test("a deleted record is found at its seq")
    func deletedRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, _) = try ledger(in: dir, marking: 1)
        withEvents(path) { txn, dbi in
            var key = UInt64(20).bigEndianBytesForTest
            key.withUnsafeMutableBytes { k in
                var kv = MDB_val(mv_size: 8, mv_data: k.baseAddress)
                #expect(mdb_del(txn, dbi, &kv, nil) == 0)
            }
        }
        #expect(try verify(path) == .broken(seq: 20, reason: "record 20 is missing"))
    }

    @Test("two records swapped are found at the first")
    func swappedRecords() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, _) = try ledger(in: dir, marking: 1)
        withEvents(path) { txn, dbi in
            let a = get(txn, dbi, 30)
            let b = get(txn, dbi, 31)
            put(txn, dbi, 30, b)
            put(txn, dbi, 31, a)
        }
        #expect(try verify(path) == .broken(seq: 30, reason: "record stored under seq 30 says seq 31"))
    }

    @Test("a forged record with a correct hash of its own breaks the chain at the next record")
    func forgedRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (path, _) = try ledger(in: dir, marking: 12)
        withEvents(path) { txn, dbi in
            let previous = Array(get(txn, dbi, 11).prefix(32))
            var forged = Array(get(txn, dbi, 12).dropFirst(32))
            let marker = Array("MARKER-12".utf8)
            let at = forged.indices.first { forged[$0...].starts(with: marker) }!
            forged[at] = UInt8(ascii: "N")
            let hash = forged.withUnsafeBytes { ChainHash.chain(ChainHash(bytes: previous)!, $0) }
            put(txn, dbi, 12, hash.bytes + forged)
        }
        guard case .broken(let seq, let reason) = try verify(path) else {
            Issue.record("forgery not detected")
            return
        }
        #expect(seq == 13)
        #expect(reason.contains("seq 12 was replaced"))
    }
}

extension Verification {
    var isIntact: Bool {
        if case .intact = self { return true }
        return false
    }
}

extension UInt64 {
    var bigEndianBytesForTest: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
}

/// The bytes of `file` this process has mapped in its page tables (the mappings' `Rss` in
/// /proc/self/smaps); 0 where there is no such file.
func mappedBytes(_ file: String) -> Int {
    let resolved = URL(fileURLWithPath: file).resolvingSymlinksInPath().path
    // Read to its end: `String(contentsOfFile:)` stops at a proc file's first page.
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return 0 }
    defer { try? handle.close() }
    let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    var total = 0
    var inFile = false
    for line in smaps.split(separator: "\n") {
        if let first = line.first, first.isHexDigit, line.contains("-") && !line.hasSuffix(":") && line.split(separator: " ").count >= 5 {
            inFile = line.hasSuffix(resolved)
        } else if inFile, line.hasPrefix("Rss:") {
            total += (Int(line.split(separator: " ")[1]) ?? 0) * 1024
        }
    }
    return total
}
