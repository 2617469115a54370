import KinerjaDomain
import LedgerStore

extension Ledger {
    /// Appends several independent inputs (requests of a server) in one durable transaction:
    /// group commit. Each input is all-or-nothing on its own, with the rules of
    /// ``append(_:options:progress:)``: a bad one is rolled back out of the batch and reported,
    /// and never fails the others. Each later input sees the earlier ones' records (a duplicate
    /// of an event an earlier input carries is a duplicate). Each input is at most one batch.
    ///
    /// Returns, per input and in order, its report (its head: the head after its own records)
    /// or the error that stopped it, with the id and `seq` of each event it stored
    /// (``AppendReport/events``). Nothing is durable before this returns.
    public func append(group inputs: [JSONLines.Decoded]) throws -> [Result<AppendReport, any Error>] {
        try store.append({ batch in
            inputs.map { decoded in
                let mark = batch.mark
                var tally = Tally(head: batch.head, keepsEvents: true)
                do {
                    try tally.stage(decoded, in: &batch)
                } catch {
                    batch.rollback(to: mark)
                    return .failure(error)
                }
                var report = AppendReport(head: tally.head)
                report.duplicates = tally.duplicates
                report.rejected = tally.rejected.sorted { $0.line < $1.line }
                if report.rejected.isEmpty {
                    report.appended = tally.appended
                    report.events = tally.events
                } else {
                    batch.rollback(to: mark)
                    report.head = tally.base
                }
                return .success(report)
            }
        }, commitIf: { _ in true })
    }
}
