import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import Testing

@Suite struct GroupCommitTests {
    /// A training of the analyst, recorded by HR.
    func training(_ id: UUID) -> String {
        #"{"id":"\#(id.uuidString.lowercased())","type":"training.completed","employee":"\#(People.analyst)","actor":"hr:bkpsdm-kota","occurred_at":"2026-03-01T08:00:00+07:00","data":{"title":"Pelatihan","provider":"BPSDM","hours":2,"completed_on":"2026-03-01"}}"#
    }

    @Test func concurrentRequestsShareTransactionsAndABadOneFailsOnlyItself() async throws {
        let scratch = TemporaryDirectory("kinerja-group")
        defer { scratch.remove() }
        let ledger = try Ledger.create(at: scratch.child("ledger"))
        let writer = GroupCommitter(ledger: ledger)
        _ = try await writer.append(JSONLines.decode(Data(try (1...3).map { try sampleLine($0) }.joined(separator: "\n").utf8)))

        // 64 requests of 3 events at once; every eighth carries a line the ledger refuses (a
        // revision of an unknown target), after two good ones.
        let reports = try await withThrowingTaskGroup(of: (Int, AppendReport).self) { group in
            for request in 0..<64 {
                group.addTask {
                    var lines = [training(UUID()), training(UUID())]
                    lines.append(request % 8 == 7 ? try sampleLine(9).replacingOccurrences(of: "7e09", with: String(format: "%04x", request)).replacingOccurrences(of: "RHK-1", with: "RHK-9") : training(UUID()))
                    return (request, try await writer.append(JSONLines.decode(Data(lines.joined(separator: "\n").utf8))))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (request, report) in reports {
            if request % 8 == 7 {
                #expect(report.appended == 0 && report.rejected.map(\.line) == [3])
            } else {
                #expect(report.appended == 3 && report.rejected.isEmpty)
            }
        }
        // Each request's records are consecutive, ending at its head; all of them gapless.
        let good = reports.values.filter { $0.rejected.isEmpty }
        #expect(Set(good.map(\.head.seq)).count == 56)
        #expect(try ledger.head().seq == 3 + 56 * 3)
        // Each good report names its own events (id and seq) from the commit, as the ledger holds them.
        var recorded: [UInt64: EventID] = [:]
        try ledger.forEachRecorded { event, fields in recorded[fields.seq] = event.id }
        for report in good {
            #expect(report.events.map(\.seq) == Array(report.head.seq - 2...report.head.seq))
            #expect(report.events.allSatisfy { recorded[$0.seq] == $0.id })
        }
        #expect(reports.values.filter { !$0.rejected.isEmpty }.allSatisfy { $0.events.isEmpty })
        // A request repeating a stored event beside a new one: the duplicate is counted, only the new one listed.
        let stored = try #require(good.first?.events.first)
        let fresh = UUID()
        let mixed = try await writer.append(JSONLines.decode(Data(
            [try #require(reportsLine(stored.seq, in: ledger)), training(fresh)].joined(separator: "\n").utf8)))
        #expect(mixed.duplicates == 1 && mixed.appended == 1)
        #expect(mixed.events == [AppendedEvent(id: try #require(EventID(fresh.uuidString.lowercased())), seq: mixed.head.seq)])
        let statistics = writer.statistics
        #expect(statistics.requests == 66)
        #expect(statistics.transactions < statistics.requests)
        // Every event of those requests, stored, duplicate or refused: 3, 64 × 3, then 2.
        #expect(statistics.events == 3 + 64 * 3 + 2)
        #expect(statistics.busy > .zero)
        #expect(statistics.eventsPerTransaction == Double(statistics.events) / Double(statistics.transactions))
        #expect(statistics.description.hasPrefix("group commit: \(statistics.transactions) transactions, 66 requests, 197 events ("))
        guard case .intact = try ledger.verify() else { Issue.record("the chain does not verify"); return }
        #if os(Linux)
        // The writer thread asked to run before others: where the system lets a thread of this
        // process do so (root with CAP_SYS_NICE, or an RLIMIT_NICE), it runs writerBoost below
        // the process's nice value; else it keeps the process's.
        let nice = try #require(writer.writerThreadNice)
        let process = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let boosted = max(-20, process - GroupCommitter.writerBoost)
        let allowed = try await onThread {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, boosted) == 0
        }
        #expect(nice == (allowed ? boosted : process))
        // Only that thread: the process's other threads (this one) keep their priority.
        if allowed { #expect(process != nice) }
        #endif
    }

    /// The wire line of the event stored at `seq`, as a client would send it again (a fresh event, no `seq`).
    func reportsLine(_ seq: UInt64, in ledger: Ledger) throws -> String? {
        var line: String?
        try ledger.forEachRecorded(LogFilter(from: seq, through: seq)) { event, _ in line = WireEncoder.encode(event) }
        return line
    }
}
