import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import PropertyBased
import Testing

let samplePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../samples/sample.jsonl").path

/// Decodes JSON Lines text the way `kinerja append` does (line numbers from 1).
func submissions(_ lines: [String], firstLine: Int = 1) -> (ok: [NumberedSubmission], invalid: [WireError]) {
    var ok: [NumberedSubmission] = []
    var invalid: [WireError] = []
    for (offset, line) in lines.enumerated() {
        switch WireDecoder.decode(line: line, number: firstLine + offset) {
        case .success(let submission): ok.append(NumberedSubmission(line: firstLine + offset, submission: submission))
        case .failure(let error): invalid.append(error)
        }
    }
    return (ok, invalid)
}

let sampleLines = try! String(contentsOfFile: samplePath, encoding: .utf8).split(separator: "\n").map(String.init)


/// A ledger clock after every sample event (the sample's last occurred on 2027-01-15): the
/// ledger refuses events that occur after it records them.
let afterTheSample = StoreOptions(clock: { Int64(CivilDate(year: 2027, month: 1, day: 31)!.daysSinceEpoch) * Timestamp.microsPerDay })

/// Runs `body` with a fresh ledger in a temporary directory.
func withLedger<R>(options: StoreOptions = afterTheSample, _ body: (Ledger, TemporaryDirectory) throws -> R) throws -> R {
    let dir = TemporaryDirectory()
    defer { dir.remove() }
    return try body(try Ledger.create(at: dir.child("l"), options: options), dir)
}

func append(_ ledger: Ledger, _ lines: [String], skipInvalid: Bool = false, batchSize: Int = 10_000) throws -> AppendReport {
    let (ok, invalid) = submissions(lines)
    return try ledger.append(ok, invalid: invalid, options: AppendOptions(skipInvalid: skipInvalid, batchSize: batchSize))
}

func exportLines(_ ledger: Ledger, _ filter: LogFilter = LogFilter()) throws -> [String] {
    var lines: [String] = []
    try ledger.forEachRecorded(filter) { lines.append(WireEncoder.encode($0, recorded: $1)) }
    return lines
}

/// A sample line with one field replaced (top-level or `data.` fields; JSON text values).
func edit(_ line: String, _ changes: [String: String]) -> String {
    guard case .object(var object) = try! JSONParser.parse(line) else { fatalError() }
    for (path, value) in changes {
        let parts = path.split(separator: ".").map(String.init)
        let new = try! JSONParser.parse(value)
        if parts.count == 1 {
            if let index = object.members.firstIndex(where: { $0.key == parts[0] }) { object.members[index].value = new } else { object.members.append((parts[0], new)) }
        } else {
            guard case .object(var data) = object["data"]! else { fatalError() }
            if let index = data.members.firstIndex(where: { $0.key == parts[1] }) { data.members[index].value = new } else { data.members.append((parts[1], new)) }
            object.members[object.members.firstIndex { $0.key == "data" }!].value = .object(data)
        }
    }
    return JSONValue.object(object).jsonText
}

@Suite("Append semantics")
struct AppendTests {
    @Test("the sample appends whole; again, every line is a counted duplicate")
    func duplicates() throws {
        try withLedger { ledger, _ in
            let first = try append(ledger, sampleLines)
            #expect(first.appended == 15)
            #expect(first.rejected.isEmpty)
            let second = try append(ledger, sampleLines)
            #expect(second.appended == 0)
            #expect(second.duplicates == 15)
            #expect(second.head == first.head)
        }
    }

    @Test("one bad line anywhere: nothing is stored, and every bad line is reported")
    func allOrNothing() throws {
        try withLedger { ledger, _ in
            var lines = sampleLines
            lines[5] = edit(lines[5], ["data.relation": #""boss""#])
            lines[9] = edit(lines[9], ["data.period": #""2026-Q7""#])
            let report = try append(ledger, lines)
            #expect(report.appended == 0)
            // Line 11 corrects the score of line 10: refused with it.
            #expect(report.rejected.map(\.line) == [6, 10, 11])
            #expect(report.rejected.last?.field == "data.corrects")
            #expect(try ledger.head() == .empty)
            let skipping = try append(ledger, lines, skipInvalid: true)
            #expect(skipping.appended == 12)
            #expect(skipping.rejected.map(\.line) == [6, 10, 11])
            #expect(skipping.rejected.last?.field == "data.corrects")
        }
    }

    @Test("a big input with its last line bad stores nothing, though it spans many batches")
    func bigInputLastLineBad() throws {
        try withLedger { ledger, _ in
            var generator = SampleGenerator(seed: 1, employees: 30)
            var lines = generator.events(2_000).map { WireEncoder.encode($0) }
            lines.append(edit(sampleLines[3], ["data.target_id": #""RHK 1""#]))
            let report = try append(ledger, lines, batchSize: 100)
            #expect(report.appended == 0)
            #expect(report.rejected.map(\.line) == [2001])
            #expect(try ledger.head().seq == 0)
            // A stateful refusal at the end (a revision of an unknown target) stores nothing either.
            lines[2000] = edit(sampleLines[8], ["employee": #""199005202015031003""#, "data.target_id": #""NOPE""#])
            let stateful = try append(ledger, lines, batchSize: 100)
            #expect(stateful.appended == 0)
            #expect(stateful.rejected.first?.field == "data.target_id")
            #expect(try ledger.head().seq == 0)
            lines.removeLast()
            let good = try append(ledger, lines, batchSize: 100)
            #expect(good.appended == 2000)
            #expect(try ledger.verify() == .intact(head: good.head, records: 2000))
        }
    }

    @Test("the same id with other content is a conflict, refused")
    func idConflict() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, sampleLines)
            let changed = edit(sampleLines[7], ["data.hours": "25"])
            let report = try append(ledger, [changed])
            #expect(report.rejected.first?.field == "id")
            #expect(report.rejected.first?.rule.contains("already recorded at seq 8 with other content") == true)
            // Same content in another spelling is the same event: a duplicate.
            let respelled = edit(sampleLines[7], ["data.hours": "24.0", "occurred_at": #""2026-05-20T16:00:00.000+07:00""#])
            #expect(try append(ledger, [respelled]).duplicates == 1)
            // The same instant in another offset is other content: dates are taken in the offset.
            let otherOffset = edit(sampleLines[7], ["occurred_at": #""2026-05-20T09:00:00Z""#])
            #expect(try append(ledger, [otherOffset]).rejected.first?.field == "id")
        }
    }

    @Test("a stale expected_version is a conflict; the current one appends")
    func expectedVersion() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, Array(sampleLines.prefix(8)))
            let employee = "199005202015031003"  // five events so far: version 5
            let fresh = edit(sampleLines[5], ["id": #""11111111-1111-4111-8111-111111111111""#, "expected_version": "4"])
            let stale = try append(ledger, [fresh])
            #expect(stale.rejected.first?.field == "expected_version")
            #expect(stale.rejected.first?.rule == "conflict: employee:\(employee) is at version 5, not 4")
            #expect(try ledger.head().seq == 8)
            #expect(try append(ledger, [edit(fresh, ["expected_version": "5"])]).appended == 1)
            // A retry of the same request is a duplicate, though the stream has moved on.
            #expect(try append(ledger, [edit(fresh, ["expected_version": "5"])]).duplicates == 1)
            let newStream = edit(sampleLines[11], ["id": #""22222222-2222-4222-8222-222222222222""#, "unit": #""DISDIK""#, "expected_version": "0"])
            #expect(try append(ledger, [newStream]).appended == 1)
        }
    }

    @Test("the stateful rules: target set once, revision of a known target, correction of an earlier score")
    func statefulRules() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, sampleLines)
            let cases: [(String, String, String)] = [
                (edit(sampleLines[4], ["id": #""33333333-3333-4333-8333-333333333301""#]), "data.target_id", "already set for this employee in 2026"),
                (edit(sampleLines[8], ["id": #""33333333-3333-4333-8333-333333333302""#, "data.target_id": #""RHK-2""#]), "data.target_id", "no target RHK-2"),
                (edit(sampleLines[8], ["id": #""33333333-3333-4333-8333-333333333303""#, "data.period": #""2025""#]), "data.target_id", "no target RHK-1 is set for this employee in 2025"),
                (edit(sampleLines[10], ["id": #""33333333-3333-4333-8333-333333333304""#, "data.corrects": #""44444444-4444-4444-8444-444444444444""#]), "data.corrects", "is recorded before"),
                (edit(sampleLines[10], ["id": #""33333333-3333-4333-8333-333333333305""#, "data.corrects": #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e06""#]), "data.corrects", "is a feedback.given"),
                (edit(sampleLines[10], ["id": #""33333333-3333-4333-8333-333333333306""#, "employee": #""198003152005012002""#]), "data.corrects", "belongs to employee:199005202015031003"),
            ]
            for (line, field, rule) in cases {
                let report = try append(ledger, [line])
                #expect(report.rejected.first?.field == field)
                #expect(report.rejected.first?.rule.contains(rule) == true, "\(report.rejected)")
            }
            // A correction of a correction is allowed.
            let again = edit(sampleLines[10], ["id": #""33333333-3333-4333-8333-333333333307""#, "data.corrects": #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0b""#, "data.basis": #""review""#])
            #expect(try append(ledger, [again]).appended == 1)
        }
    }

    @Test("stricter checks: an event from the future, a realization or a feedback topic naming no target set before it")
    func stricterChecks() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, Array(sampleLines.prefix(3)))
            // The ledger clock is 2027-01-31T00:00Z; 5 minutes of skew are allowed, not 6.
            let soon = edit(sampleLines[7], ["occurred_at": #""2027-01-31T07:05:00+07:00""#])
            let future = edit(sampleLines[7], ["id": #""66666666-6666-4666-8666-666666666601""#, "occurred_at": #""2027-01-31T07:06:00+07:00""#])
            let futureReport = try append(ledger, [soon, future])
            #expect(futureReport.rejected.map(\.line) == [2])
            #expect(futureReport.rejected.first?.code == .occurredInFuture)
            #expect(futureReport.rejected.first?.field == "occurred_at")
            // No target RHK-1 yet for this employee: the feedback topic and the realization are refused.
            let early = try append(ledger, [sampleLines[5], sampleLines[6]])
            #expect(early.rejected.map(\.field) == ["data.topic", "data.realizations[0].target_id"])
            #expect(early.rejected.allSatisfy { $0.code == .unknownTarget && $0.rule.contains("no target RHK-1 is set for this employee in 2026") })
            // Another employee's target, or the same id in another year, does not count.
            _ = try append(ledger, [sampleLines[3]])
            #expect(try append(ledger, [sampleLines[5]]).rejected.first?.code == .unknownTarget)
            _ = try append(ledger, [sampleLines[4]])
            let otherYear = edit(sampleLines[6], ["data.period": #""2025-Q1""#])
            #expect(try append(ledger, [otherYear]).rejected.first?.field == "data.realizations[0].target_id")
            // Set before them (here in the same input, earlier lines), they append.
            #expect(try append(ledger, [sampleLines[5], sampleLines[6]]).appended == 2)
        }
    }

    @Test("an input of many batches fills the map while it is staged and while it is committed: both grow it")
    func stagedImportGrowsTheMap() throws {
        var generator = SampleGenerator(seed: 3, employees: 40)
        let events = generator.events(6_000)
        try withLedger(options: StoreOptions(initialMapSize: 1 << 20, clock: afterTheSample.clock)) { ledger, _ in
            var progress: [Int] = []
            let report = try ledger.append(NumberedSubmission.numbering(events), options: AppendOptions(batchSize: 1_000)) { done, _ in progress.append(done) }
            #expect(report.appended == 6_000)
            #expect(progress == [1_000, 2_000, 3_000, 4_000, 5_000, 6_000])
            #expect(ledger.mapSize > 1 << 20)
            #expect(try ledger.verify() == .intact(head: report.head, records: 6_000))
        }
    }

    @Test("a target set twice in one batch is refused at the second line")
    func targetTwiceInBatch() throws {
        try withLedger { ledger, _ in
            let second = edit(sampleLines[4], ["id": #""55555555-5555-4555-8555-555555555555""#])
            let report = try append(ledger, Array(sampleLines.prefix(5)) + [second])
            #expect(report.rejected.map(\.line) == [6])
            #expect(try ledger.head().seq == 0)
        }
    }

    @Test("a stream with history in the ledger: its version staged across batches of one, and two lines of it in one batch, with expected_version")
    func stagedVersionsOfAStreamWithHistory() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, Array(sampleLines.prefix(8)))
            let employee = "199005202015031003"  // five events so far: version 5
            func line(_ n: Int, expecting version: Int) -> String {
                edit(sampleLines[5], ["id": "\"77777777-7777-4777-8777-77777777770\(n)\"", "expected_version": String(version)])
            }
            // Staged a line a batch, each batch sees the version the one before staged.
            let stale = try append(ledger, [line(1, expecting: 5), line(2, expecting: 6), line(3, expecting: 6)], batchSize: 1)
            #expect(stale.rejected.map(\.line) == [3])
            #expect(stale.rejected.first?.rule == "conflict: employee:\(employee) is at version 7, not 6")
            #expect(try ledger.head().seq == 8)
            let report = try append(ledger, [line(1, expecting: 5), line(2, expecting: 6), line(3, expecting: 7)], batchSize: 1)
            #expect(report.appended == 3)
            // Two lines of the stream in one batch, then one in the next.
            let paired = try append(ledger, [line(4, expecting: 8), line(5, expecting: 9), line(6, expecting: 10)], batchSize: 2)
            #expect(paired.appended == 3)
            var versions: [String: UInt64] = [:]
            try ledger.forEachRecorded { event, recorded in
                versions[event.stream, default: 0] += 1
                #expect(recorded.version == versions[event.stream])
            }
            #expect(versions["employee:\(employee)"] == 11)
            #expect(try ledger.verify() == .intact(head: paired.head, records: 14))
        }
    }

    @Test("recorded lines restored a batch of one or two at a time after the ledger has some: each continues its stream's version")
    func stagedRecordedVersionsAfterHistory() throws {
        try withLedger { source, dir in
            var generator = SampleGenerator(seed: 5, employees: 3)
            _ = try source.append(NumberedSubmission.numbering(generator.events(60)), options: AppendOptions(batchSize: 60))
            let export = try exportLines(source)
            for batchSize in [1, 2] {
                let copy = try Ledger.create(at: dir.child("copy\(batchSize)"))
                #expect(try append(copy, Array(export.prefix(20))).appended == 20)
                let resumed = try append(copy, export, batchSize: batchSize)
                #expect(resumed.rejected.isEmpty, "\(resumed.rejected)")
                #expect(resumed.duplicates == 20)
                #expect(resumed.appended == 40)
                #expect(try exportLines(copy) == export)
                #expect(try copy.verify() == source.verify())
            }
        }
    }
}

@Suite("Export and restore")
struct RestoreTests {
    @Test("an export re-imports into an empty ledger byte for byte, and resumes when interrupted")
    func roundTrip() throws {
        var generator = SampleGenerator(seed: 42, employees: 25, cycle: true)
        let events = generator.events(1_500)
        try withLedger { source, dir in
            _ = try source.append(NumberedSubmission.numbering(events), options: AppendOptions(batchSize: 200))
            let export = try exportLines(source)
            let copy = try Ledger.create(at: dir.child("copy"))
            // Interrupted: only the first 600 lines arrived.
            let partial = try append(copy, Array(export.prefix(600)))
            #expect(partial.appended == 600)
            // Run again with the whole export: resumes.
            let resumed = try append(copy, export, batchSize: 250)
            #expect(resumed.duplicates == 600)
            #expect(resumed.appended == 900)
            #expect(try copy.head() == source.head())
            #expect(try exportLines(copy) == export)
            #expect(try copy.verify() == source.verify())
        }
    }

    @Test("a recorded line that does not continue the chain is refused: gap, fork, wrong hash")
    func brokenChains() throws {
        try withLedger { source, dir in
            _ = try append(source, sampleLines)
            let export = try exportLines(source)
            let copy = try Ledger.create(at: dir.child("copy"))
            #expect(try append(copy, [export[1]]).rejected.first?.field == "seq")
            _ = try append(copy, Array(export.prefix(3)))
            let wrongPrev = edit(export[3], ["prev_hash": "\"" + String(repeating: "0", count: 64) + "\""])
            #expect(try append(copy, [wrongPrev]).rejected.first?.field == "prev_hash")
            let wrongHash = edit(export[3], ["hash": "\"" + String(repeating: "1", count: 64) + "\""])
            #expect(try append(copy, [wrongHash]).rejected.first?.rule.contains("is not SHA-256(head hash") == true)
            let forged = edit(export[3], ["data.plan": #""Rencana yang dipalsukan""#])
            let forgedReport = try append(copy, [forged])
            #expect(forgedReport.rejected.first?.field == "hash", "\(forgedReport.rejected)")
            let fork = edit(export[2], ["hash": "\"" + String(repeating: "2", count: 64) + "\""])
            #expect(try append(copy, [fork]).rejected.first?.rule.contains("forks the chain") == true)
            // A tampered line keeping its hash, re-imported into the intact ledger: a fork, not a duplicate.
            for change in [["data.plan": #""Rencana yang dipalsukan""#], ["recorded_at": #""2027-01-31T03:00:00.000001Z""#], ["prev_hash": "\"" + String(repeating: "3", count: 64) + "\""]] {
                let tampered = try append(source, [edit(export[3], change)])
                #expect(tampered.duplicates == 0)
                #expect(tampered.rejected.first?.code == .fork, "\(change): \(tampered.rejected)")
                #expect(tampered.rejected.first?.rule.contains("seq 4 is already recorded") == true)
            }
            #expect(try append(source, [export[3]]).duplicates == 1)
            let backwards = edit(export[3], ["recorded_at": #""2001-01-01T00:00:00.000000Z""#])
            #expect(try append(copy, [backwards]).rejected.isEmpty == false)
            #expect(try copy.head().seq == 3)
        }
    }

    @Test("log filters: a seq range, one employee, some types; prev_hash is always seq - 1's")
    func filters() throws {
        try withLedger { ledger, _ in
            _ = try append(ledger, sampleLines)
            let all = try exportLines(ledger)
            #expect(try exportLines(ledger, LogFilter(from: 4, through: 6)) == Array(all[3...5]))
            let andi = try exportLines(ledger, LogFilter(employee: NIP(unchecked: "199005202015031003")))
            #expect(andi == all.filter { $0.contains(#""employee":"199005202015031003""#) })
            let scores = try exportLines(ledger, LogFilter(types: [.scoreGiven, .scoreCorrected]))
            #expect(scores == [all[6], all[9], all[10]])
        }
    }
}

@Suite("The ledger against a plain model")
struct LedgerModelTests {
    @Test("generated ledgers with random duplicates and conflicts: counts, head and replay match a fold")
    func model() async throws {
        await propertyCheck(count: 15, input: Gen.uint64(), Gen.int(in: 1...300)) { seed, batchSize in
            var generator = SampleGenerator(seed: seed, employees: 8)
            let events = generator.events(400)
            var random = SeededRandom(seed: seed)
            // Resend some earlier events (duplicates) and some changed ones (conflicts).
            var input: [Event] = []
            for event in events {
                input.append(event)
                if Int.random(in: 0..<10, using: &random) == 0 {
                    var resent = input.randomElement(using: &random)!
                    if Bool.random(using: &random) { resent.actor = "system:changed" }
                    input.append(resent)
                }
            }
            // The model: a resent id is a duplicate if it equals the first event with that id, else a conflict.
            var first: [EventID: Event] = [:]
            var expectedConflicts: [Int] = []
            for (index, event) in input.enumerated() {
                if let original = first[event.id] {
                    if original != event { expectedConflicts.append(index + 1) }
                } else {
                    first[event.id] = event
                }
            }
            try! withLedger { ledger, _ in
                let report = try ledger.append(NumberedSubmission.numbering(input), options: AppendOptions(skipInvalid: true, batchSize: batchSize))
                #expect(report.appended == events.count)
                #expect(report.duplicates + report.rejected.count == input.count - events.count)
                #expect(report.rejected.map(\.line) == expectedConflicts)
                #expect(report.rejected.allSatisfy { $0.field == "id" })
                var replayed: [Event] = []
                var versions: [String: UInt64] = [:]
                var lastSeq: UInt64 = 0
                try ledger.forEachRecorded { event, recorded in
                    versions[event.stream, default: 0] += 1
                    #expect(recorded.version == versions[event.stream])
                    #expect(recorded.seq == lastSeq + 1)
                    lastSeq = recorded.seq
                    replayed.append(event)
                }
                #expect(replayed == events)
                #expect(try ledger.verify() == .intact(head: report.head, records: UInt64(events.count)))
            }
        }
    }
}
