import CLMDB
import Foundation
import Glibc
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import Testing

@Suite("kinerja: real processes on real LMDB files")
struct ProcessTests {
    @Test("eight processes appending at once: nothing lost, no gap, each file's order kept, verify passes")
    func concurrentAppenders() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        try cli.run("init")
        // Eight generated agencies; their employees' NIPs must not overlap for the files to be independent.
        let files = (1...8).map { seed -> (events: [Event], nips: Set<String>) in
            var generator = SampleGenerator(seed: UInt64(seed), employees: 20)
            return (generator.events(300), Set(generator.employees.map(\.nip.text)))
        }
        try #require(files.map(\.nips.count).reduce(0, +) == Set(files.flatMap(\.nips)).count)
        let paths = try files.enumerated().map { index, file in
            try cli.write("agency-\(index).jsonl", file.events.map { WireEncoder.encode($0) }.joined(separator: "\n") + "\n")
        }
        let processes = try paths.map { try cli.start(["append", $0, "--batch-size", "25"]) }
        for result in processes.map({ $0.wait() }) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("appended 300, duplicates 0, rejected 0\n"))
        }
        let verified = try cli.run("verify")
        #expect(verified.status == 0)
        #expect(verified.stdout.hasPrefix("ok: 2400 events"))

        // Every event is there once, and each file's events keep their order.
        let ledger = try Ledger.open(at: cli.ledger)
        var seqOf: [EventID: UInt64] = [:]
        try ledger.forEachRecorded { event, recorded in seqOf[event.id] = recorded.seq }
        #expect(seqOf.count == 2400)
        for file in files {
            let seqs = file.events.map { seqOf[$0.id] ?? 0 }
            #expect(seqs == seqs.sorted())
            #expect(!seqs.contains(0))
        }
    }

    @Test("eight processes opening a ledger of format 1 at once: one upgrades it, every one appends, verify passes")
    func concurrentUpgrade() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        try cli.run("init")
        // Nine generated agencies whose employees do not overlap: the first's events, then eight at once.
        let files = (0...8).map { seed -> (events: [Event], nips: Set<String>) in
            var generator = SampleGenerator(seed: UInt64(seed + 1), employees: seed == 0 ? 20 : 10)
            return (generator.events(seed == 0 ? 500 : 100), Set(generator.employees.map(\.nip.text)))
        }
        try #require(files.map(\.nips.count).reduce(0, +) == Set(files.flatMap(\.nips)).count)
        let paths = try files.enumerated().map { index, file in
            try cli.write("agency-\(index).jsonl", file.events.map { WireEncoder.encode($0) }.joined(separator: "\n") + "\n")
        }
        #expect(try cli.run("append", paths[0], "--batch-size", "100").status == 0)
        downgradeToFormat1(cli.ledger)
        let processes = try paths.dropFirst().map { try cli.start(["append", $0, "--batch-size", "10"]) }
        for result in processes.map({ $0.wait() }) {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("appended 100, duplicates 0, rejected 0\n"), "\(result.stdout)")
        }
        let verified = try cli.run("verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: 1300 events"), "\(verified.stdout)")
    }

    /// Rewrites the ledger at `path` (no store open on it in this process) as format 1 kept it:
    /// `streams`, stream ‖ 0x00 ‖ version (u64 BE) → seq, where format 3 keeps `stream-settled` and `stream-recent`.
    func downgradeToFormat1(_ path: String) {
        var env: OpaquePointer?
        mdb_env_create(&env)
        mdb_env_set_maxdbs(env, 8)
        mdb_env_set_mapsize(env, 1 << 30)
        #expect(mdb_env_open(env, path, 0, 0o644) == 0)
        defer { mdb_env_close(env) }
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
        var index: MDB_dbi = 0
        var recent: MDB_dbi = 0
        var streams: MDB_dbi = 0
        var meta: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, "stream-settled", 0, &index) == 0)
        #expect(mdb_dbi_open(txn, "stream-recent", 0, &recent) == 0)
        #expect(mdb_dbi_open(txn, "meta", 0, &meta) == 0)
        // Each stream's seqs: its settled ones (format 3's `stream-settled`), then its recent ones.
        var seqs: [[UInt8]: [[UInt8]]] = [:]
        for dbi in [index, recent] {
            var cursor: OpaquePointer?
            mdb_cursor_open(txn, dbi, &cursor)
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while rc == 0 {
                seqs[Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)), default: []].append(Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)))
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            mdb_cursor_close(cursor)
        }
        var entries: [[UInt8]: [UInt8]] = [:]
        for (stream, values) in seqs {
            for (place, seq) in values.enumerated() { entries[stream + withUnsafeBytes(of: UInt64(place + 1).bigEndian, Array.init)] = seq }
        }
        #expect(entries.count == 500)
        #expect(mdb_drop(txn, index, 1) == 0)
        #expect(mdb_drop(txn, recent, 1) == 0)
        #expect(mdb_dbi_open(txn, "streams", UInt32(MDB_CREATE), &streams) == 0)
        func put(_ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) {
            var key = key
            var value = value
            key.withUnsafeMutableBytes { k in
                value.withUnsafeMutableBytes { v in
                    var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                    #expect(mdb_put(txn, dbi, &kv, &vv, 0) == 0)
                }
            }
        }
        for (key, seq) in entries { put(streams, key, seq) }
        put(meta, Array("format".utf8), [0, 0, 0, 1])
        #expect(mdb_txn_commit(txn) == 0)
    }

    @Test("export, interrupted restore, resume: the same bytes and head hash")
    func restore() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        var generator = SampleGenerator(seed: 99, employees: 40)
        let events = try cli.write("events.jsonl", generator.events(3_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        #expect(try cli.run("append", events, "--batch-size", "500").status == 0)
        let export = try cli.run("log")
        let exportFile = try cli.write("export.jsonl", export.stdout)
        let firstHalf = try cli.write("first.jsonl", export.stdout.split(separator: "\n").prefix(1_234).joined(separator: "\n"))

        let copy = cli.scratch.child("copy")
        #expect(try cli.run("init", ledger: copy).status == 0)
        #expect(try cli.run("append", firstHalf, ledger: copy).stdout.hasPrefix("appended 1234, duplicates 0"))
        let resumed = try cli.run("append", "-", stdinFile: exportFile, ledger: copy)
        #expect(resumed.stdout.hasPrefix("appended 1766, duplicates 1234, rejected 0"))
        #expect(try cli.run("log", ledger: copy).stdout == export.stdout)
        #expect(try cli.run("verify", ledger: copy).stdout == (try cli.run("verify").stdout))
        // Another ledger's export does not fork this one.
        let other = cli.scratch.child("other")
        try cli.run("init", ledger: other)
        try cli.run("append", "samples/sample.jsonl", ledger: other)
        let fork = try cli.run("append", exportFile, ledger: other)
        #expect(fork.status == 1)
        #expect(fork.stdout.contains("line 1: seq: seq 1 is already recorded, and not as this line says: this line forks the chain"))
    }

    @Test("one changed byte in data.mdb: verify fails naming the seq; --expect SEQ:HASH catches a rewrite, not growth")
    func tampering() throws {
        let cli = CLI()
        defer { cli.remove() }
        // A ledger that grows after its hash at seq 10 was saved: still the same hash there.
        let growing = cli.scratch.child("growing")
        try cli.run("init", ledger: growing)
        try cli.run("append", try cli.write("first.jsonl", try String(contentsOfFile: sampleFile, encoding: .utf8).split(separator: "\n").prefix(10).joined(separator: "\n")), ledger: growing)
        let saved = try #require(try verifiedHead(cli, ledger: growing))
        #expect(try cli.run("verify", "--expect", "\(saved.seq):\(saved.hash)", ledger: growing).status == 0)
        try cli.run("append", "samples/sample.jsonl", ledger: growing)
        let first = try #require(try cli.run("log", "--to", "1", ledger: growing).stdout.components(separatedBy: "\"").last { $0.count == 64 })
        let grown = try cli.run("verify", "--expect", "\(saved.seq):\(saved.hash)", "--expect", "1:\(first)", ledger: growing)
        #expect(grown.status == 0, "\(grown.stdout) \(grown.stderr)")
        let other = try cli.run("verify", "--expect", "10:" + String(repeating: "0", count: 64), ledger: growing)
        #expect(other.status == 1)
        #expect(other.stdout.hasPrefix("FAILED at seq 10: the chain was rewritten: --expect 10:0000"))
        let past = try cli.run("verify", "--expect", "16:\(saved.hash)", ledger: growing)
        #expect(past.stdout.contains("is past the head (seq 15)"))
        #expect(try cli.run("verify", "--expect", "ten", ledger: growing).status == 64)

        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")

        let dataFile = cli.ledger + "/data.mdb"
        var data = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let range = try #require(data.firstRange(of: Data("Analisis Kebijakan Publik".utf8)))
        data[range.lowerBound] = UInt8(ascii: "B")
        try data.write(to: URL(fileURLWithPath: dataFile))
        let broken = try cli.run("verify")
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("FAILED at seq 8: hash mismatch"))
    }

    @Test("damaged storage (truncated, a page header overwritten, garbage): verify exits 1 saying so, never by a signal")
    func damagedStorage() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        var generator = SampleGenerator(seed: 5, employees: 60)
        try cli.run("append", try cli.write("events.jsonl", generator.events(3_000).map { WireEncoder.encode($0) }.joined(separator: "\n")))
        let dataFile = cli.ledger + "/data.mdb"
        let intact = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let pages = intact.count / 4096
        #expect(pages > 100)

        func verify(_ damaged: Data) throws -> ProcessResult {
            try damaged.write(to: URL(fileURLWithPath: dataFile))
            let result = try cli.run("verify")
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            return result
        }
        for size in [intact.count / 2, 3 * 4096, 4096 + 100] {
            let result = try verify(intact.prefix(size))
            #expect(result.stdout.hasPrefix("FAILED: the ledger's storage is damaged: "), "\(result.stdout) \(result.stderr)")
        }
        #expect(try verify(Data((0..<intact.count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })).stdout.hasPrefix("FAILED: the ledger's storage is damaged: "))
        // Bytes of the page headers throughout the file (flags, free-space bounds) flipped: read in
        // place, many of these make LMDB fault or abort. Verify reports them, or finds the data
        // intact where the byte does not matter (an old page, the upper bound); it never dies.
        var detected = 0
        for page in stride(from: 2, to: pages, by: max(1, pages / 15)) {
            for offset in [10, 12, 13] {
                var damaged = intact
                damaged[page * 4096 + offset] ^= 0xFF
                try damaged.write(to: URL(fileURLWithPath: dataFile))
                let result = try cli.run("verify")
                #expect(result.status == 0 || result.status == 1, "page \(page) byte \(offset): \(result.status)")
                if result.status == 1 {
                    detected += 1
                    #expect(result.stdout.hasPrefix("FAILED") || result.stderr.hasPrefix("kinerja: "), "page \(page) byte \(offset): \(result.stdout) \(result.stderr)")
                }
            }
        }
        #expect(detected > 10)
        try intact.write(to: URL(fileURLWithPath: dataFile))
        #expect(try cli.run("verify").status == 0)
    }

    @Test("readers killed inside a read transaction leave no stuck slots behind")
    func staleReaders() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        var generator = SampleGenerator(seed: 5, employees: 30)
        let events = try cli.write("events.jsonl", generator.events(6_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        #expect(try cli.run("append", events).status == 0)
        // This process keeps the environment open, so LMDB does not reset its reader table,
        // as a long-running server would.
        let ledger = try Ledger.open(at: cli.ledger)
        // More readers than LMDB's 126 slots, each stuck writing to a pipe nobody reads,
        // inside its read transaction; then killed.
        var pipes: [Pipe] = []
        var readers: [RunningProcess] = []
        for _ in 0..<140 {
            let pipe = Pipe()
            pipes.append(pipe)
            readers.append(try cli.start(["log"], stdout: pipe.fileHandleForWriting))
        }
        Thread.sleep(forTimeInterval: 3)
        for reader in readers { kill(reader.process.processIdentifier, SIGKILL) }
        for reader in readers { reader.process.waitUntilExit() }
        _ = pipes

        #expect(try ledger.head().seq == 6_000)
        let verified = try cli.run("verify")
        #expect(verified.status == 0, "\(verified.stderr)")
        let more = try cli.write("more.jsonl", generator.events(10).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        #expect(try cli.run("append", more).status == 0)
    }

    @Test("another process growing the map: this one adopts the new size and goes on reading and writing")
    func mapGrownElsewhere() throws {
        let cli = CLI()
        defer { cli.remove() }
        // This process creates the ledger with a 1 MiB map and keeps it open.
        let ledger = try Ledger.create(at: cli.ledger, options: StoreOptions(initialMapSize: 1 << 20))
        let sizeBefore = ledger.mapSize
        var generator = SampleGenerator(seed: 8, employees: 50)
        let events = try cli.write("events.jsonl", generator.events(8_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        // Another process writes several MiB past this process's map.
        #expect(try cli.run("append", events).stdout.hasPrefix("appended 8000,"))
        #expect(try ledger.head().seq == 8_000)
        #expect(ledger.mapSize > sizeBefore)
        let report = try ledger.append(NumberedSubmission.numbering(generator.events(50)))
        #expect(report.appended == 50)
        #expect(try ledger.verify() == .intact(head: report.head, records: 8_050))
    }
}

