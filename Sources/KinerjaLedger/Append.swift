import Foundation
import KinerjaDomain
import LedgerStore

/// A submission and the input line it came from.
public struct NumberedSubmission: Sendable {
    public var line: Int
    public var submission: Submission

    public init(line: Int, submission: Submission) {
        self.line = line
        self.submission = submission
    }

    /// Fresh events numbered as lines 1, 2, 3...
    public static func numbering(_ events: some Sequence<Event>) -> [NumberedSubmission] {
        events.enumerated().map { NumberedSubmission(line: $0.offset + 1, submission: Submission(event: $0.element)) }
    }
}

/// How ``Ledger/append(_:options:progress:)`` treats its input.
public struct AppendOptions: Sendable {
    /// Store the good lines even if some are bad (the bad ones are still reported).
    public var skipInvalid: Bool
    /// Events per transaction. An input no larger than this is one atomic batch; a larger one is
    /// checked whole first and then committed in batches of this size.
    public var batchSize: Int

    public init(skipInvalid: Bool = false, batchSize: Int = 10_000) {
        self.skipInvalid = skipInvalid
        self.batchSize = max(1, batchSize)
    }
}

/// What an append did.
public struct AppendReport: Sendable {
    public var appended = 0
    public var duplicates = 0
    /// Every refused line, in line order.
    public var rejected: [WireError] = []
    /// The head after the append (unchanged when nothing was stored).
    public var head: Head
    /// False when nothing was stored because a line was bad.
    public var stored: Bool { appended > 0 }
}

extension Ledger {
    /// Appends submissions: each batch all-or-nothing, gapless, checked against the ledger and
    /// against the earlier submissions.
    ///
    /// - `invalid`: lines already refused by the wire decoder; with any of them, or any line the
    ///   ledger refuses, nothing is stored unless `options.skipInvalid`.
    /// - A fresh event whose id is recorded with the same content is a duplicate, skipped and
    ///   counted; with other content it is refused. A recorded event (carrying `seq`, `hash`...)
    ///   is a duplicate where the same `seq` is stored with the same hash.
    /// - `progress` is called after each committed batch with the number of submissions done and
    ///   the head it committed: from then on, that batch is durable.
    public func append(
        _ submissions: [NumberedSubmission],
        invalid: [WireError] = [],
        options: AppendOptions = AppendOptions(),
        progress: (_ done: Int, _ head: Head) -> Void = { _, _ in }
    ) throws -> AppendReport {
        let fitsOneBatch = submissions.count <= options.batchSize
        var accepted = submissions
        var report = AppendReport(head: try store.head())
        report.rejected = invalid
        // The dry run's records, and what it made of each accepted submission, while they can
        // be written as staged: until another writer moves the head.
        var prepared: (records: StagedRecords, outcomes: [Staged])?

        if !fitsOneBatch || (!invalid.isEmpty && !options.skipInvalid) {
            // Check everything before writing anything.
            let check = try store.dryRun { batch in
                var outcomes: [Staged] = []
                outcomes.reserveCapacity(submissions.count)
                let outcome = try Self.stage(submissions, in: &batch) { outcomes.append($0) }
                return (outcome, batch.staged, outcomes)
            }
            report.rejected = (invalid + check.0.rejected).sorted { $0.line < $1.line }
            if !report.rejected.isEmpty {
                if !options.skipInvalid { return report }
                let bad = Set(check.0.rejected.map(\.line))
                accepted = submissions.filter { !bad.contains($0.line) }
            }
            prepared = (check.1, check.2.filter { if case .rejected = $0 { false } else { true } })
        }

        var done = 0
        var written = 0
        for start in stride(from: 0, to: accepted.count, by: options.batchSize) {
            let end = min(start + options.batchSize, accepted.count)
            if let staged = prepared {
                var appended = 0
                for outcome in staged.outcomes[start..<end] { if case .appended = outcome { appended += 1 } }
                if let head = try store.append(staged.records, written..<written + appended) {
                    written += appended
                    report.appended += appended
                    report.duplicates += end - start - appended
                    report.head = head
                    done += end - start
                    progress(done, report.head)
                    continue
                }
                prepared = nil  // Another writer got in: stage what is left again.
            }
            let chunk = Array(accepted[start..<end])
            do {
                let outcome = try store.append { batch in
                    let outcome = try Self.stage(chunk, in: &batch)
                    // In one batch, a bad line stops the commit unless skipping. In later batches a
                    // bad line means another writer got in between the check and the write.
                    if !outcome.rejected.isEmpty && (!options.skipInvalid || !fitsOneBatch) { throw Abandoned(outcome: outcome) }
                    return outcome
                }
                report.appended += outcome.appended
                report.duplicates += outcome.duplicates
                report.rejected += outcome.rejected
                report.head = outcome.head
            } catch let abandoned as Abandoned {
                report.rejected = (report.rejected + abandoned.outcome.rejected).sorted { $0.line < $1.line }
                return report
            }
            done += chunk.count
            progress(done, report.head)
        }
        report.rejected.sort { $0.line < $1.line }
        return report
    }

    /// Appends the events of JSON Lines input, as ``append(_:invalid:options:progress:)`` does,
    /// decoding one batch of lines at a time: an input larger than a batch is checked whole
    /// first, but what is held meanwhile is the input and the checked records, not every
    /// decoded event as well.
    ///
    /// - `progress` is called after each committed batch with the number of lines done, the
    ///   number to do (the lines that are stored or found duplicates) and the head committed.
    public func append(
        jsonLines data: Data,
        options: AppendOptions = AppendOptions(),
        progress: (_ done: Int, _ total: Int, _ head: Head) -> Void = { _, _, _ in }
    ) throws -> AppendReport {
        let chunks = JSONLines.chunks(of: data, lines: options.batchSize)
        guard chunks.count > 1 else {
            let decoded = JSONLines.decode(data)
            return try append(decoded.submissions, invalid: decoded.invalid, options: options) { progress($0, decoded.submissions.count, $1) }
        }

        // Check everything before writing anything, one chunk decoded at a time.
        var report = AppendReport(head: try store.head())
        var stores: [Bool] = []  // for each line to do, in order: stored (or else a duplicate)
        let staged = try store.dryRun { batch in
            try JSONLines.decodeAhead(data, chunks) { decoded in
                report.rejected += decoded.invalid
                let outcome = try Self.stage(decoded.submissions, in: &batch) { staged in
                    switch staged {
                    case .appended: stores.append(true)
                    case .duplicate: stores.append(false)
                    case .rejected: break
                    }
                }
                report.rejected += outcome.rejected
            }
            return batch.staged
        }
        report.rejected.sort { $0.line < $1.line }
        if !report.rejected.isEmpty && !options.skipInvalid { return report }

        var done = 0
        var written = 0
        while done < stores.count {
            let end = min(done + options.batchSize, stores.count)
            let appended = stores[done..<end].count { $0 }
            guard let head = try store.append(staged, written..<written + appended) else {
                // Another writer got in: decode again, and stage what is left batch by batch.
                let refused = Set(report.rejected.map(\.line))
                var rest: [NumberedSubmission] = []
                for chunk in chunks {
                    rest += JSONLines.decode(data, chunk).submissions.filter { !refused.contains($0.line) }
                }
                let finished = done
                let tail = try append(Array(rest.dropFirst(done)), options: options) { progress(finished + $0, stores.count, $1) }
                report.appended += tail.appended
                report.duplicates += tail.duplicates
                report.rejected = (report.rejected + tail.rejected).sorted { $0.line < $1.line }
                report.head = tail.head
                return report
            }
            written += appended
            report.appended += appended
            report.duplicates += end - done - appended
            report.head = head
            done = end
            progress(done, stores.count, head)
        }
        return report
    }

    private struct Abandoned: Error {
        let outcome: StageOutcome
    }

    struct StageOutcome {
        var appended = 0
        var duplicates = 0
        var rejected: [WireError] = []
        var head: Head
    }

    /// Stages each submission that passes its checks; the refused ones are reported, not staged.
    static func stage(_ submissions: [NumberedSubmission], in batch: inout Batch, each: (Staged) -> Void = { _ in }) throws -> StageOutcome {
        var outcome = StageOutcome(head: batch.head)
        for item in submissions {
            let staged = try stage(item.submission, in: &batch)
            each(staged)
            switch staged {
            case .appended: outcome.appended += 1
            case .duplicate: outcome.duplicates += 1
            case .rejected(var error):
                error.line = item.line
                outcome.rejected.append(error)
            }
        }
        outcome.head = batch.head
        return outcome
    }

    enum Staged {
        case appended
        case duplicate
        case rejected(WireError)
    }

    static func stage(_ submission: Submission, in batch: inout Batch) throws -> Staged {
        let event = submission.event
        let id = RecordID(event.id)
        let payload = PayloadCodec.encode(event)
        func reject(_ field: String, _ rule: String) -> Staged { .rejected(WireError(line: 0, field: field, rule: rule)) }

        if let recorded = submission.recorded {
            if recorded.seq <= batch.head.seq {
                let stored = try batch.record(at: recorded.seq)
                if stored?.hash.hex == recorded.hash { return .duplicate }
                return reject("hash", "seq \(recorded.seq) is already recorded with hash \(stored?.hash.hex ?? "?"): this line forks the chain")
            }
            guard recorded.seq == batch.head.seq + 1 else {
                return reject("seq", "seq \(recorded.seq) leaves a gap: the ledger's head is seq \(batch.head.seq)")
            }
            guard recorded.prevHash == batch.head.hash.hex else {
                return reject("prev_hash", "is not the hash of seq \(batch.head.seq), \(batch.head.hash.hex)")
            }
        } else if let seq = try batch.seq(of: id) {
            let stored = try batch.record(at: seq)
            if stored?.position.stream == event.stream && stored?.payload == payload { return .duplicate }
            return reject("id", "\(event.id) is already recorded at seq \(seq) with other content")
        }

        if let expected = submission.expectedVersion {
            let version = try batch.streamVersion(event.stream)
            if version != expected {
                return reject("expected_version", "conflict: \(event.stream) is at version \(version), not \(expected)")
            }
        }
        let broken = try event.checkAgainstLedger(
            recordedEvent: { id in
                guard let seq = try batch.seq(of: RecordID(id)), let record = try batch.record(at: seq),
                    let type = record.payload.withUnsafeBytes(PayloadCodec.type(of:))
                else { return nil }
                return (record.position.stream, type)
            },
            isClaimed: { key in try batch.seq(forKey: key) != nil }
        )
        if let broken { return .rejected(broken) }
        if let broken = try event.checkCycleAgainstLedger(
            recordedEvent: { id in
                guard let seq = try batch.seq(of: RecordID(id)), let record = try batch.record(at: seq) else { return nil }
                return try record.payload.withUnsafeBytes { try PayloadCodec.decode($0, stream: record.position.stream, id: id) }
            },
            isClaimed: { key in try batch.seq(forKey: key) != nil },
            recordedAt: submission.recorded?.recordedAt ?? batch.nextRecordedAt
        ) {
            return .rejected(broken)
        }

        do {
            if let recorded = submission.recorded {
                guard let hash = ChainHash(hex: recorded.hash) else { return reject("hash", "is not a SHA-256 hash") }
                let position = RecordPosition(seq: recorded.seq, stream: recorded.stream, version: recorded.version, recordedAt: recorded.recordedAt)
                try batch.appendRecorded(position: position, id: id, keys: event.uniqueKeys, payload: payload, hash: hash)
            } else {
                try batch.append(stream: event.stream, id: id, keys: event.uniqueKeys, payload: payload)
            }
        } catch let error as StoreError where error.code == .doesNotContinue {
            return reject(submission.recorded == nil ? "" : "hash", error.message)
        } catch let error as StoreError where error.code == .duplicateID {
            return reject("id", "\(event.id) is already recorded: \(error.message)")
        }
        return .appended
    }
}

