import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import PropertyBased
import Testing

/// Every report of a ledger, in JSON: what "the same report" means below.
func allReports(_ ledger: Ledger, at point: PointInTime, employee: NIP) throws -> [String] {
    var request = ReportRequest()
    request.point = point
    return [
        Reports.render(try Reports.scores(ledger, request), .json),
        Reports.render(try Reports.accountability(ledger, request), .json),
        Reports.render(try Reports.audit(ledger, request), .json),
        Reports.render(try Reports.history(ledger, employee: employee, request), .json),
        Reports.render(try Reports.scores(ledger, request), .csv),
        Reports.render(try Reports.units(ledger, request), .json),
    ]
}

@Suite("Point in time")
struct PointInTimeTests {
    @Test("a report --at-seq N is byte for byte the report of a ledger holding only the first N events; --as-of T is the seq of the last event recorded by T")
    func atSeq() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sample = DemoYear(seed: 21, employees: 20)
        let ledger = try DemoLedger.build(sample, at: dir.child("demo"))
        var exported: [String] = []
        var recordedAt: [Int64] = []
        try ledger.forEachRecorded { event, recorded in
            exported.append(WireEncoder.encode(event, recorded: recorded))
            recordedAt.append(recorded.recordedAt)
        }
        let employee = sample.people[5].nip
        let count = exported.count
        await propertyCheck(count: 12, input: Gen.int(in: 0...count)) { n in
            let copyPath = dir.child("copy-\(n)-\(UInt32.random(in: 0...UInt32.max))")
            let copy = try! Ledger.create(at: copyPath)
            let lines = exported.prefix(n).enumerated().map { NumberedSubmission(line: $0.offset + 1, submission: try! WireDecoder.decode(line: $0.element, number: 1).get()) }
            let restored = try! copy.append(lines)
            #expect(restored.appended == n)
            let past = try! allReports(ledger, at: .seq(UInt64(n)), employee: employee)
            let small = try! allReports(copy, at: .head, employee: employee)
            #expect(past == small)
            // As of the instant event n was recorded: every event recorded by then.
            if n > 0 {
                let instant = recordedAt[n - 1]
                let through = recordedAt.lastIndex { $0 <= instant }! + 1
                #expect(try! allReports(ledger, at: .asOf(instant), employee: employee) == allReports(ledger, at: .seq(UInt64(through)), employee: employee))
            }
        }
        #expect(try allReports(ledger, at: .asOf(Int64.min + 1), employee: employee) == allReports(ledger, at: .seq(0), employee: employee))
        #expect(throws: PointInTimeError.self) { try ledger.replay(at: .seq(UInt64(count + 1))) { _ in } }
    }

    @Test("one employee's history reads only their stream, and equals a full replay filtered to them")
    func historyUsesTheStream() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sample = DemoYear(seed: 4, employees: 30)
        let ledger = try DemoLedger.build(sample, at: dir.child("demo"))
        for person in sample.people.prefix(6) {
            var streamed: [UInt64] = []
            try ledger.replay(employee: person.nip) { streamed.append($0.seq) }
            var scanned: [UInt64] = []
            try ledger.replay { if $0.event.subject == .employee(person.nip) { scanned.append($0.seq) } }
            #expect(streamed == scanned)
            #expect(!streamed.isEmpty)
        }
    }
}
