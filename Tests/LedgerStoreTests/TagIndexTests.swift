import CLMDB
import Foundation
import KinerjaSamples
import LedgerStore
import PropertyBased
import Testing

/// A rule that tags a record with each byte of its payload's first two, as "t<byte>", and
/// with its stream: plain enough to model with a filter.
private func rule(_ name: String) -> TagRule {
    TagRule(name: name) { record in
        record.payload.prefix(2).map { Array("t\($0)".utf8) } + [Array(record.streamBytes)]
    }
}

/// ``rule(_:)``, each tag handed over in place from a buffer on the stack.
private func inPlaceRule(_ name: String) -> TagRule {
    TagRule(name: name) { record, tag in
        for byte in record.payload.prefix(2) {
            let text = "t\(byte)".utf8
            withUnsafeTemporaryAllocation(byteCount: text.count, alignment: 1) { buffer in
                buffer.copyBytes(from: text)
                tag(UnsafeRawBufferPointer(buffer))
            }
        }
        tag(record.streamBytes)
    }
}

private func expectedTags(_ records: [(stream: String, payload: [UInt8])]) -> [String: [UInt64]] {
    var tags: [String: [UInt64]] = [:]
    for (index, record) in records.enumerated() {
        var seen = Set<String>()
        for tag in record.payload.prefix(2).map({ "t\($0)" }) + [record.stream] where seen.insert(tag).inserted {
            tags[tag, default: []].append(UInt64(index + 1))
        }
    }
    return tags
}

@Suite("Tag index")
struct TagIndexTests {
    @Test(
        "each tag lists the seqs of the records its rule tags, up to any seq, across batches and staged commits; the index verifies",
        arguments: [false, true])
    func model(inPlace: Bool) async throws {
        await propertyCheck(count: 20, input: Gen.int(in: 0...9).array(of: 1...40), Gen.int(in: 1...7)) { bytesList, batchSize in
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            var options = StoreOptions()
            options.syncsEachCommit = false
            options.tagRule = inPlace ? inPlaceRule("r1") : rule("r1")
            let store = try! Store.create(at: dir.child("l"), options: options)
            var records: [(stream: String, payload: [UInt8])] = []
            for (index, byte) in bytesList.enumerated() {
                records.append(("s:\(byte % 3)", [UInt8(byte), UInt8((byte * 7 + index) % 4)]))
            }
            for start in stride(from: 0, to: records.count, by: batchSize) {
                try! store.append { batch in
                    for (offset, record) in records[start..<min(start + batchSize, records.count)].enumerated() {
                        try batch.append(stream: record.stream, id: RecordID(high: 1, low: UInt64(start + offset)), payload: record.payload)
                    }
                }
            }
            let expected = expectedTags(records)
            try! store.read { txn throws in
                for through in [0, records.count / 2, records.count] {
                    for tag in expected.keys.sorted() + ["t99", "s:"] {
                        #expect(try txn.seqs(taggedWith: Array(tag.utf8), through: UInt64(through)) == (expected[tag] ?? []).filter { $0 <= through })
                    }
                }
                #expect(try txn.seqs(taggedWith: Array("t1".utf8), through: .max, rule: "another") == nil)
                // Several tags at once: the union of each one's seqs, ascending, each once.
                let tags = expected.keys.sorted()
                for through in [0, records.count / 2, records.count] {
                    for count in [0, 1, 2, tags.count] {
                        let chosen = Array(tags.shuffled().prefix(count)) + ["t99"]
                        let union = Set(chosen.flatMap { expected[$0] ?? [] }.filter { $0 <= through }).sorted()
                        #expect(try txn.seqs(taggedWithAny: chosen.map { Array($0.utf8) }, through: UInt64(through)) == union)
                    }
                }
                #expect(try txn.seqs(taggedWithAny: [Array("t1".utf8)], through: .max, rule: "another") == nil)
            }
            // Both of verify's checks of the index: the pass's, and the one that names the record.
            let verified = try! store.verifyAll(tags: true, tree: false) { _ in [] }
            #expect(verified.records.isIntact && verified.tags == nil)
            #expect(try! store.verifyTags() == nil)
            // The rule's tags as arrays, in the order it gives them.
            try! store.read { txn throws in
                try txn.forEachRecord { record in
                    let stored = records[Int(record.seq) - 1]
                    #expect(options.tagRule!.tags(record) == stored.payload.map { Array("t\($0)".utf8) } + [Array(stored.stream.utf8)])
                }
            }
        }
    }

    @Test("seqs gathered from several entries come out ascending and each once, through a bitmap or a sort")
    func seqList() async {
        await propertyCheck(count: 100, input: Gen.int(in: 1...5_000).array(of: 0...60), Gen.int(in: 0...2)) { seqs, repeats in
            let last = UInt64(seqs.max() ?? 1)
            let list = seqs.map(UInt64.init) + seqs.prefix(repeats * 10).map(UInt64.init)
            let expected = Set(list).sorted()
            // A range short for the count goes through the bitmap, a long one through a sort.
            #expect(SeqList.ascendingUnique(list, through: last) == expected)
            #expect(SeqList.ascendingUnique(list, through: last * 1_000) == expected)
        }
    }

    @Test("a ledger written without the rule gets its index at open; another rule rebuilds it; a store without a rule has none")
    func upgrade() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        let records: [(stream: String, payload: [UInt8])] = (0..<30).map { ("s:\($0 % 4)", [UInt8($0 % 5), UInt8($0 % 2)]) }
        func append(_ store: Store, _ range: Range<Int>) throws {
            try store.append { batch in
                for index in range { try batch.append(stream: records[index].stream, id: RecordID(high: 2, low: UInt64(index)), payload: records[index].payload) }
            }
        }
        do {
            let store = try Store.create(at: path)
            try append(store, 0..<20)
            try store.read { txn throws in #expect(try txn.seqs(taggedWith: Array("t1".utf8), through: .max) == nil) }
        }
        do {
            var options = StoreOptions()
            options.tagRule = rule("r1")
            let store = try Store.open(at: path, options: options)
            let expected = expectedTags(Array(records[0..<20]))
            try store.read { txn throws in #expect(try txn.seqs(taggedWith: Array("t1".utf8), through: .max, rule: "r1") == expected["t1"]) }
            try append(store, 20..<25)
            let more = expectedTags(Array(records[0..<25]))
            try store.read { txn throws in #expect(try txn.seqs(taggedWith: Array("s:2".utf8), through: .max) == more["s:2"]) }
        }
        do {
            // An older build appends without extending the index: it no longer covers the head.
            try append(try Store.open(at: path), 25..<30)
        }
        do {
            // Another rule, which tags only by stream: rebuilt from the records, covering all 30.
            var options = StoreOptions()
            options.tagRule = TagRule(name: "r2") { [Array($0.streamBytes)] }
            let store = try Store.open(at: path, options: options)
            let expected = expectedTags(records)
            try store.read { txn throws in
                #expect(try txn.seqs(taggedWith: Array("s:3".utf8), through: .max, rule: "r2") == expected["s:3"])
                #expect(try txn.seqs(taggedWith: Array("t1".utf8), through: .max, rule: "r2") == [])
                #expect(try txn.seqs(taggedWith: Array("t1".utf8), through: .max, rule: "r1") == nil)
            }
            guard case .intact = try store.verify(keysOf: { _ in [] }) else {
                Issue.record("the tag index broke verification")
                return
            }
        }
    }

    @Test("verifyTags names the record whose entry was deleted, and a stray entry; an intact index passes")
    func tampering() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.child("l")
        var options = StoreOptions()
        options.tagRule = rule("r1")
        do {
            let store = try Store.create(at: path, options: options)
            try store.append { batch in
                for index in 0..<12 { try batch.append(stream: "s:\(index % 3)", id: RecordID(high: 3, low: UInt64(index)), payload: [UInt8(index % 4), 1]) }
            }
            #expect(try store.verifyTags() == nil)
        }
        func tagKey(_ tag: String, _ seq: UInt64) -> [UInt8] { [UInt8(tag.utf8.count)] + Array(tag.utf8) + withUnsafeBytes(of: seq.bigEndian, Array.init) }
        rawWrite(path) { txn, dbi in
            var key = tagKey("t2", 3)
            key.withUnsafeMutableBytes { raw in
                var value = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
                #expect(mdb_del(txn, dbi("tags"), &value, nil) == 0)
            }
        }
        do {
            let store = try Store.open(at: path, options: options)
            let fault = try store.verifyTags()
            #expect(fault?.seq == 3)
        }
        rawWrite(path) { txn, dbi in
            var key = tagKey("t2", 3)
            var stray = tagKey("t3", 5)
            key.withUnsafeMutableBytes { raw in
                stray.withUnsafeMutableBytes { strayRaw in
                    var empty = MDB_val(mv_size: 0, mv_data: nil)
                    var value = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
                    #expect(mdb_put(txn, dbi("tags"), &value, &empty, 0) == 0)
                    var strayValue = MDB_val(mv_size: strayRaw.count, mv_data: strayRaw.baseAddress)
                    #expect(mdb_put(txn, dbi("tags"), &strayValue, &empty, 0) == 0)
                }
            }
        }
        let store = try Store.open(at: path, options: options)
        let fault = try store.verifyTags()
        #expect(fault != nil && fault?.seq == nil)
    }
}
