import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import Testing

@Suite("A ledger's write transactions keep a bounded number of dirty pages")
struct DirtyPageBoundTests {
    /// Imports the same events into a ledger whose write transactions keep at most 64 dirty
    /// pages, so that every commit goes through LMDB's spill path (its pages written to the file
    /// before the commit, read back when touched again), and into one without a bound. Every
    /// tenth target has a plan and an indicator of 2 000 characters: its record lies on overflow
    /// pages, which a spill writes and frees like any other. The stream index's recent tier
    /// folds past 1 000 entries, so commits also delete and move index entries.
    @Test("a ledger whose commits spill holds what an unbounded one holds, and verifies")
    func spilledCommitsStoreTheSame() throws {
        var generator = SampleGenerator(seed: 11, employees: 300)
        var targets = 0
        let long = String(repeating: "Menyusun laporan kinerja unit. ", count: 64).prefix(2_000)
        let lines = generator.events(12_000).map { event -> String in
            let line = WireEncoder.encode(event)
            guard event.type == .targetSet else { return line }
            targets += 1
            return targets % 10 == 0 ? edit(line, ["data.plan": "\"\(long)\"", "data.indicator": "\"\(long)\""]) : line
        }
        #expect(targets > 100)
        var exports: [[String]] = []
        for bound in [64, Int(UInt32.max)] {
            var options = afterTheSample
            options.dirtyPageBound = bound
            options.streamRecentBound = 1_000
            try withLedger(options: options) { ledger, _ in
                // A staged import in commits of 3 000 records (each some 150 pages of records
                // alone), then inputs of one batch, each one transaction.
                let imported = try append(ledger, Array(lines.prefix(10_000)), batchSize: 3_000)
                #expect(imported.appended == 10_000 && imported.rejected.isEmpty)
                for start in stride(from: 10_000, to: 12_000, by: 500) {
                    let report = try append(ledger, Array(lines[start..<start + 500]), batchSize: 500)
                    #expect(report.appended == 500 && report.rejected.isEmpty)
                }
                #expect(ledger.boundsDirtyPages)
                if bound == 64 { #expect(ledger.spilledTransactions >= 8) } else { #expect(ledger.spilledTransactions == 0) }
                let head = try ledger.head()
                let checked = try ledger.verifyAll(tree: true)
                #expect(checked.verification == .intact(head: head, records: 12_000))
                #expect(checked.tree == nil)
                exports.append(try exportLines(ledger))
            }
        }
        #expect(exports[0].count == 12_000)
        #expect(exports[0] == exports[1])
    }
}
