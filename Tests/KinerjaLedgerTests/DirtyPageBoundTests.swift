import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import Testing

@Suite("A ledger's write transactions keep a bounded number of dirty pages")
struct DirtyPageBoundTests {
    /// Imports the same events into a ledger whose write transactions keep at most 64 dirty
    /// pages, so that every commit goes through LMDB's spill path (its pages written to the file
    /// before the commit, read back when touched again), and into one without a bound.
    @Test("a ledger whose every commit spills holds what an unbounded one holds, and verifies")
    func spilledCommitsStoreTheSame() throws {
        var generator = SampleGenerator(seed: 11, employees: 300)
        let events = generator.events(12_000)
        var exports: [[String]] = []
        for bound in [64, Int(UInt32.max)] {
            var options = afterTheSample
            options.dirtyPageBound = bound
            try withLedger(options: options) { ledger, _ in
                // A staged import in commits of 3 000 records (each some 150 pages of records
                // alone), then inputs of one batch, each one transaction.
                let imported = try ledger.append(NumberedSubmission.numbering(Array(events.prefix(10_000))), options: AppendOptions(batchSize: 3_000))
                #expect(imported.appended == 10_000)
                for start in stride(from: 10_000, to: 12_000, by: 500) {
                    let report = try ledger.append(NumberedSubmission.numbering(Array(events[start..<start + 500])), options: AppendOptions(batchSize: 500))
                    #expect(report.appended == 500)
                }
                #expect(ledger.boundsDirtyPages)
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
