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
        #expect(fork.stdout.contains("line 1: hash: seq 1 is already recorded with hash"))
    }

    @Test("one changed byte in data.mdb: verify fails naming the seq; --expect-head catches a rewrite")
    func tampering() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")
        let head = try #require(try cli.run("verify").stdout.split(separator: " ").last.map { String($0.dropLast()) })
        #expect(try cli.run("verify", "--expect-head", head).status == 0)
        let other = try cli.run("verify", "--expect-head", String(repeating: "0", count: 64))
        #expect(other.status == 1)
        #expect(other.stdout.contains("not the expected"))

        let dataFile = cli.ledger + "/data.mdb"
        var data = try Data(contentsOf: URL(fileURLWithPath: dataFile))
        let range = try #require(data.firstRange(of: Data("Analisis Kebijakan Publik".utf8)))
        data[range.lowerBound] = UInt8(ascii: "B")
        try data.write(to: URL(fileURLWithPath: dataFile))
        let broken = try cli.run("verify")
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("FAILED at seq 8: hash mismatch"))
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
        let sizeBefore = ledger.store.mapSize
        var generator = SampleGenerator(seed: 8, employees: 50)
        let events = try cli.write("events.jsonl", generator.events(8_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        // Another process writes several MiB past this process's map.
        #expect(try cli.run("append", events).stdout.hasPrefix("appended 8000,"))
        #expect(try ledger.head().seq == 8_000)
        #expect(ledger.store.mapSize > sizeBefore)
        let report = try ledger.append(NumberedSubmission.numbering(generator.events(50)))
        #expect(report.appended == 50)
        #expect(try ledger.verify() == .intact(head: report.head, records: 8_050))
    }
}

