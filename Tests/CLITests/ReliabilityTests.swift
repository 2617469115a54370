import Foundation
import Glibc
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import Testing

/// The head seq and hash `kinerja verify` prints, or nil when it fails.
func verifiedHead(_ cli: CLI, ledger: String? = nil) throws -> (seq: UInt64, hash: String)? {
    let result = try cli.run("verify", ledger: ledger)
    guard result.status == 0, let line = result.stdout.split(separator: "\n").last, line.hasPrefix("head: seq ") else { return nil }
    let words = line.split(separator: " ")
    return (UInt64(words[2])!, String(words[4]))
}

@Suite("Reliability: crashes, conflicts, hostile input, tampering")
struct ReliabilityTests {
    @Test("an import killed with SIGKILL 20 times at random moments, resumed by running it again: acknowledged batches kept, none half there, the same head as without a crash")
    func killedImports() throws {
        let cli = CLI()
        defer { cli.remove() }
        let batch: UInt64 = 500
        var generator = SampleGenerator(seed: 2024, employees: 120)
        let events = generator.events(10_000)
        let file = try cli.write("import.jsonl", events.map { WireEncoder.encode($0) }.joined(separator: "\n"))
        let reference = cli.scratch.child("reference")
        try cli.run("init", ledger: reference)
        let started = DispatchTime.now().uptimeNanoseconds
        #expect(try cli.run("append", file, "--batch-size", String(batch), ledger: reference).status == 0)
        // Kill at any moment of a run: reading, checking, or between and inside commits.
        let runTime = UInt32(min(5_000_000, (DispatchTime.now().uptimeNanoseconds - started) / 1_000))
        let expected = try #require(try verifiedHead(cli, ledger: reference))

        var random = SeededRandom(seed: 99)
        var kills = 0
        var rounds = 0
        while kills < 20 || rounds == 0 {
            try cli.run("init")
            rounds += 1
            while true {
                let process = try cli.start(["append", file, "--batch-size", String(batch), "--progress"])
                let delay = UInt32.random(in: 1_000...max(2_000, runTime), using: &random)
                usleep(delay)
                let killed = process.process.isRunning && kill(process.process.processIdentifier, SIGKILL) == 0
                let result = process.wait()
                if killed && result.status != 0 { kills += 1 }
                // Every batch acknowledged before the kill is there; no batch is half there.
                let acknowledged = result.stderr.split(separator: "\n").last { $0.hasPrefix("committed ") }
                    .map { UInt64($0.split(separator: " ").last!)! } ?? 0
                let head = try #require(try verifiedHead(cli), "the ledger does not verify after a kill")
                #expect(head.seq >= acknowledged)
                #expect(head.seq % batch == 0 || head.seq == UInt64(events.count))
                if !killed || result.status == 0 {
                    #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
                    #expect(head.seq == expected.seq && head.hash == expected.hash)
                    break
                }
            }
            try FileManager.default.removeItem(atPath: cli.ledger)
        }
        #expect(kills >= 20)
    }

    @Test("eight processes racing on one stream with expected_version: one wins each round, every loser told, nothing of theirs stored")
    func conflictingWriters() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        try cli.run("init")
        var counter = 0
        for round in 0..<5 {
            let files = try (0..<8).map { writer -> String in
                counter += 1
                let id = String(format: "9a0b1c2d-0000-4000-8000-%012d", counter)
                return try cli.write("r\(round)w\(writer).jsonl", """
                    {"id":"\(id)","type":"unit.rated","unit":"SHARED","actor":"system:writer-\(writer)","occurred_at":"2026-01-15T08:00:00+07:00","expected_version":\(round),"data":{"period":"2026","rating":"good"}}
                    """)
            }
            let results = try files.map { try cli.start(["append", $0]) }.map { $0.wait() }
            let winners = results.filter { $0.status == 0 }
            #expect(winners.count == 1, "round \(round): \(results.map(\.stdout))")
            #expect(winners.first?.stdout.hasPrefix("appended 1, duplicates 0, rejected 0") == true)
            for loser in results where loser.status != 0 {
                #expect(loser.status == 1)
                #expect(loser.stdout.contains("line 1: expected_version: conflict: unit:SHARED is at version \(round + 1), not \(round)"))
            }
        }
        let head = try #require(try verifiedHead(cli))
        #expect(head.seq == 5)
    }

    @Test("threads in one process racing with expected_version: exactly one wins each version")
    func conflictingThreads() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ledger = try Ledger.create(at: dir.child("l"))
        let outcomes = await withTaskGroup(of: Int.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    var appended = 0
                    for version in 0..<20 {
                        let event = Event(
                            id: EventID(high: UInt64(thread + 1), low: UInt64(version)), subject: .unit("SHARED"), actor: "system:t\(thread)",
                            occurredAt: Timestamp(micros: 1_780_000_000_000_000), data: .unitRated(UnitRating(period: Period(year: 2026), rating: .good)))
                        let report = try! ledger.append([NumberedSubmission(line: 1, submission: Submission(event: event, expectedVersion: UInt64(version)))])
                        appended += report.appended
                        #expect(report.appended + report.rejected.count == 1)
                        #expect(report.rejected.allSatisfy { $0.field == "expected_version" })
                    }
                    return appended
                }
            }
            return await group.reduce(0, +)
        }
        let head = try ledger.head()
        #expect(UInt64(outcomes) == head.seq)
        #expect(try Store.open(at: dir.child("l")).read { try $0.streamVersion("unit:SHARED") } == head.seq)
        #expect(try ledger.verify() == .intact(head: head, records: head.seq))
    }

    @Test("hostile input: a 100 MB line, truncated files, a large file whose last line is bad; each refused clearly, nothing stored")
    func hostileInput() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        let hugePath = cli.scratch.child("huge.jsonl")
        var huge = Data(#"{"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e01","type":"feedback.given","data":{"text":""#.utf8)
        huge.append(Data(repeating: UInt8(ascii: "a"), count: 100 << 20))
        huge.append(Data(#""}}"#.utf8))
        try huge.write(to: URL(fileURLWithPath: hugePath))
        let refused = try cli.run("append", hugePath)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("line 1: line is \(huge.count) bytes, longer than the 1048576 accepted"))
        #expect(try verifiedHead(cli)?.seq == 0)

        // A restore cut short at any byte: the cut line is refused, and with it the whole file.
        let export = try String(contentsOfFile: sampleFile, encoding: .utf8)
        let bytes = Array(export.utf8)
        var random = SeededRandom(seed: 5)
        for _ in 0..<5 {
            var cut = Int.random(in: 1..<bytes.count - 1, using: &random)
            if bytes[cut - 1] == UInt8(ascii: "\n") { cut += 1 }
            let truncated = try cli.write("cut.jsonl", String(decoding: bytes[..<cut], as: UTF8.self))
            let result = try cli.run("append", truncated)
            #expect(result.status == 1)
            #expect(result.stdout.contains("nothing was stored"))
            #expect(try verifiedHead(cli)?.seq == 0)
        }

        // Many lines, the last one bad: nothing stored, though it spans many batches.
        let count = largeInputLines
        var generator = SampleGenerator(seed: 31, employees: 2_000)
        let path = cli.scratch.child("large.jsonl")
        let bad = #"{"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e01","type":"unit.rated","unit":"DINKES","actor":"system:x","occurred_at":"2027-01-15T08:00:00+07:00","data":{"period":"2026","rating":"great"}}"#
        try writeGeneratedLines(&generator, count: count, to: path, trailer: bad)
        let large = try cli.run("append", path)
        #expect(large.status == 1)
        #expect(large.stdout.hasPrefix("appended 0, duplicates 0, rejected 1\n  line \(count + 1): data.rating: \"great\" is not one of"))
        #expect(try verifiedHead(cli)?.seq == 0)
    }

    @Test("a chain rewritten consistently verifies on its own, but not against a checkpoint kept from before")
    func rewrittenChain() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")
        let checkpoints = cli.scratch.child("checkpoints")
        #expect(try cli.run("verify", "--checkpoint", checkpoints).status == 0)
        let saved = try String(contentsOfFile: checkpoints, encoding: .utf8)
        #expect(saved.hasPrefix("seq 15 hash "))

        // Someone rebuilds the ledger with one decision changed, and puts it in its place.
        let forged = cli.scratch.child("forged")
        try cli.run("init", ledger: forged)
        let lines = try String(contentsOfFile: sampleFile, encoding: .utf8).replacingOccurrences(of: #""results_rating":"below_expectation""#, with: #""results_rating":"above_expectation""#)
        try cli.run("append", try cli.write("forged.jsonl", lines), ledger: forged)
        try FileManager.default.removeItem(atPath: cli.ledger)
        try FileManager.default.moveItem(atPath: forged, toPath: cli.ledger)

        #expect(try cli.run("verify").status == 0)
        let caught = try cli.run("verify", "--checkpoint", checkpoints)
        #expect(caught.status == 1)
        #expect(caught.stdout.hasPrefix("FAILED at seq 15: the chain was rewritten: the checkpoint (\(checkpoints), line 1) says"))

        // On an honest ledger, checkpoints accumulate as it grows.
        let honest = cli.scratch.child("honest")
        try cli.run("init", ledger: honest)
        try cli.run("append", try cli.write("first.jsonl", export(lines: 0..<6)), ledger: honest)
        let file = cli.scratch.child("honest-checkpoints")
        #expect(try cli.run("verify", "--checkpoint", file, ledger: honest).status == 0)
        try cli.run("append", try cli.write("rest.jsonl", export(lines: 6..<12)), ledger: honest)
        #expect(try cli.run("verify", "--checkpoint", file, ledger: honest).status == 0)
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ")[1] } == ["6", "12"])
    }

    private func export(lines: Range<Int>) throws -> String {
        try String(contentsOfFile: sampleFile, encoding: .utf8).split(separator: "\n")[lines].joined(separator: "\n")
    }
}
