import Foundation
import KinerjaDomain
import LedgerStore

/// A submission and the input line it came from.
public struct NumberedSubmission: Sendable {
    public var line: Int
    public var submission: Submission
    /// What staging needs of the submission, built ahead by the thread that decoded it (nil:
    /// staging builds it).
    var prepared: Prepared?

    public init(line: Int, submission: Submission) {
        self.line = line
        self.submission = submission
    }

    /// ``prepared``, built now: called on a decoding thread, so that the thread staging the
    /// lines (the import's wall) does not encode, hash or derive keys.
    mutating func prepare() {
        prepared = Prepared(submission)
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
    /// The events stored, with their `seq`, in order: filled by ``Ledger/append(group:)`` only
    /// (a server answers from it without reading its records back); empty for other appends.
    public var events: [AppendedEvent] = []
    /// False when nothing was stored because a line was bad.
    public var stored: Bool { appended > 0 }
}

/// An event an append stored, and where.
public struct AppendedEvent: Sendable, Equatable {
    public var id: EventID
    public var seq: UInt64

    public init(id: EventID, seq: UInt64) {
        self.id = id
        self.seq = seq
    }
}

/// What an append reads: JSON Lines (a file mapped in memory, standard input, later a request's
/// body), or submissions already decoded.
public enum AppendSource: Sendable {
    case jsonLines(Data)
    /// Submissions, and lines the wire decoder already refused.
    case submissions([NumberedSubmission], invalid: [WireError])
}

/// How far an append has got: records written and durable, of those to write, and the head.
public struct AppendProgress: Sendable {
    public var committed: Int
    public var total: Int
    public var head: Head
}

extension Ledger {
    /// Appends the events of `source`: decoded, checked against the ledger and the earlier lines,
    /// staged, then committed. The one way anything is appended.
    ///
    /// - All or nothing per input: with any bad line (refused by the decoder, or by the ledger's
    ///   rules), nothing is stored and every bad line is reported, unless `options.skipInvalid`.
    /// - A fresh event whose id is recorded with the same content is a duplicate, skipped and
    ///   counted; with other content it is refused. A recorded event (carrying `seq`, `hash`...)
    ///   is a duplicate where the same record is stored at its `seq`; anything else there is a fork.
    /// - An input larger than a batch is checked whole first into a ``Staging`` area on disk, then
    ///   committed in batches: memory holds one batch, whatever the input's size, and a killed
    ///   import resumes by running it again. `progress` is called after each committed batch.
    public func append(
        _ source: AppendSource,
        options: AppendOptions = AppendOptions(),
        progress: (AppendProgress) -> Void = { _ in }
    ) throws -> AppendReport {
        var pipeline = AppendPipeline(store: store, lines: LineSource(source, batchSize: options.batchSize), options: options)
        while true {
            switch try pipeline.step() {
            case .running(let done?): progress(done)
            case .running(nil): continue
            case .finished(let report): return report
            }
        }
    }

    /// Appends submissions (see ``append(_:options:progress:)``); `progress` gets the records
    /// committed and the head.
    public func append(
        _ submissions: [NumberedSubmission],
        invalid: [WireError] = [],
        options: AppendOptions = AppendOptions(),
        progress: (_ done: Int, _ head: Head) -> Void = { _, _ in }
    ) throws -> AppendReport {
        try append(.submissions(submissions, invalid: invalid), options: options) { progress($0.committed, $0.head) }
    }

    /// Appends the events of JSON Lines input (see ``append(_:options:progress:)``); `progress`
    /// gets the records committed, the records to commit and the head.
    public func append(
        jsonLines data: Data,
        options: AppendOptions = AppendOptions(),
        progress: (_ done: Int, _ total: Int, _ head: Head) -> Void = { _, _, _ in }
    ) throws -> AppendReport {
        try append(.jsonLines(data), options: options) { progress($0.committed, $0.total, $0.head) }
    }
}

/// The input cut into batches of lines, each decoded on demand.
struct LineSource: Sendable {
    private enum Input: Sendable {
        case jsonLines(Data, [JSONLines.Chunk])
        case submissions([NumberedSubmission], invalid: [WireError], size: Int)
    }

    private let input: Input

    init(_ source: AppendSource, batchSize: Int) {
        switch source {
        case .jsonLines(let data): input = .jsonLines(data, JSONLines.chunks(of: data, lines: batchSize))
        case .submissions(let submissions, let invalid): input = .submissions(submissions, invalid: invalid, size: batchSize)
        }
    }

    /// The input's size in bytes (estimated for submissions).
    var bytes: Int {
        switch input {
        case .jsonLines(let data, _): data.count
        case .submissions(let submissions, _, _): submissions.count * 1024
        }
    }

    var count: Int {
        switch input {
        case .jsonLines(_, let chunks): chunks.count
        case .submissions(let submissions, _, let size): max(1, (submissions.count + size - 1) / size)
        }
    }

    func decode(_ index: Int) -> JSONLines.Decoded {
        switch input {
        case .jsonLines(let data, let chunks): JSONLines.decode(data, chunks[index])
        case .submissions(let submissions, let invalid, let size):
            JSONLines.Decoded(
                submissions: Array(submissions[min(index * size, submissions.count)..<min((index + 1) * size, submissions.count)]),
                invalid: index == 0 ? invalid : [])
        }
    }

    /// Calls `body` with each batch decoded, in order, the next one decoding on another thread
    /// meanwhile.
    func forEach(_ body: (JSONLines.Decoded) throws -> Void) throws {
        try JSONLines.decodeAhead(count: count, { [self] in decode($0) }, body)
    }
}

/// One append, as a state machine: each ``step()`` does one thing and returns where it got.
struct AppendPipeline {
    enum Step {
        /// Still going; with a progress report when a batch was committed.
        case running(AppendProgress?)
        case finished(AppendReport)
    }

    private enum State {
        /// Check every line and stage the good ones: straight into the ledger for an input of
        /// one batch, else into a staging area.
        case check
        /// Write the staging area's records to the ledger, a batch at a time; the next batch's
        /// index entries and tree nodes are prepared on another thread meanwhile.
        case commit(Staging, AppendReport, ahead: Ahead<PreparedCommit?>?)
        case finished(AppendReport)
    }

    let store: Store
    let lines: LineSource
    let options: AppendOptions
    private var state = State.check
    /// Records this append committed before another writer moved the head and it checked again:
    /// the check counts them as duplicates.
    private var committedEarlier = 0

    init(store: Store, lines: LineSource, options: AppendOptions) {
        self.store = store
        self.lines = lines
        self.options = options
    }

    mutating func step() throws -> Step {
        switch state {
        case .check:
            state = lines.count == 1 ? .finished(try appendOneBatch()) : try stageAll()
            return .running(nil)
        case .commit(let staging, var report, let ahead):
            let through = min(staging.committed + options.batchSize, staging.count)
            // The commit's index entries and tree nodes: prepared while the last one was written
            // (the first, here). Without them (an error preparing), the commit gathers its own.
            let preparer = staging.preparer(for: store)
            let committed = staging.committed
            let prepared = ahead?.wait() ?? (try? preparer.prepare(from: committed, through: through, continuing: nil))
            var next: Ahead<PreparedCommit?>?
            // The next commit's preparation needs this one's tree edge (it cannot read it from the
            // ledger before this commit is written): without a prepared commit, the next prepares itself.
            if through < staging.count, prepared != nil {
                let following = min(through + options.batchSize, staging.count)
                let edge = prepared?.edge
                next = Ahead { try? preparer.prepare(from: through, through: following, continuing: edge) }
            }
            let committedHead: Head?
            do {
                committedHead = try store.commit(staging, through: through, prepared: prepared)
            } catch {
                // Nothing may read the staging area once this append has thrown and discarded it.
                _ = next?.wait()
                throw error
            }
            guard let head = committedHead else {
                // Another writer got in: check again what is left (what was committed is now a duplicate).
                _ = next?.wait()
                committedEarlier += staging.committed
                staging.discard()
                state = .check
                return .running(nil)
            }
            report.head = head
            state = through == staging.count ? .finished(report) : .commit(staging, report, ahead: next)
            return .running(AppendProgress(committed: committedEarlier + through, total: committedEarlier + staging.count, head: head))
        case .finished(let report):
            return .finished(report)
        }
    }

    /// The whole input in one durable transaction, committed only if every line passed (or
    /// `skipInvalid`).
    private func appendOneBatch() throws -> AppendReport {
        let decoded = lines.decode(0)
        let skipInvalid = options.skipInvalid
        let tally = try store.append({ batch in
            var tally = Tally(head: batch.head)
            try tally.stage(decoded, in: &batch)
            return tally
        }, commitIf: { $0.rejected.isEmpty || skipInvalid })
        return report(tally, stored: tally.rejected.isEmpty || skipInvalid)
    }

    /// Checks and stages every line into a staging area; then commits it, unless a line was bad.
    private func stageAll() throws -> State {
        let staging = try Staging(for: store, inputBytes: lines.bytes)
        let tally = try store.stage(into: staging) { pass in
            var tally = Tally(head: staging.base)
            try lines.forEach { decoded in
                tally = try pass.stage { batch in
                    var batchTally = tally
                    try batchTally.stage(decoded, in: &batch)
                    return batchTally
                }
            }
            return tally
        }
        let stored = tally.rejected.isEmpty || options.skipInvalid
        var report = report(tally, stored: stored)
        guard stored, staging.count > 0 else { return .finished(report) }
        report.head = staging.base
        return .commit(staging, report, ahead: nil)
    }

    private func report(_ tally: Tally, stored: Bool) -> AppendReport {
        var report = AppendReport(head: stored ? tally.head : tally.base)
        report.appended = stored ? committedEarlier + tally.appended : committedEarlier
        report.duplicates = tally.duplicates - committedEarlier
        report.rejected = tally.rejected.sorted { $0.line < $1.line }
        return report
    }
}

/// What the check of the lines so far found.
struct Tally {
    let base: Head
    var head: Head
    var appended = 0
    var duplicates = 0
    var rejected: [WireError] = []
    /// Each stored event's id and `seq`, when `keepsEvents` (a group's request: one batch, small).
    var events: [AppendedEvent] = []
    let keepsEvents: Bool

    init(head: Head, keepsEvents: Bool = false) {
        base = head
        self.head = head
        self.keepsEvents = keepsEvents
    }

    /// Stages each submission that passes its checks; the refused ones are reported, not staged.
    mutating func stage(_ decoded: JSONLines.Decoded, in batch: inout Batch) throws {
        rejected += decoded.invalid
        batch.reserveCapacity(decoded.runs.reduce(0) { $0 + $1.count })
        for run in decoded.runs {
            try stage(run, in: &batch)
        }
        head = batch.head
    }

    private mutating func stage(_ run: [NumberedSubmission], in batch: inout Batch) throws {
        // Through the run's buffer: iterating the array copied each line (retaining its fields).
        try run.withUnsafeBufferPointer { items in
            for index in items.indices {
                switch try Ledger.stage(items.baseAddress! + index, in: &batch) {
                case .appended:
                    appended += 1
                    if keepsEvents { events.append(AppendedEvent(id: items[index].submission.event.id, seq: batch.head.seq)) }
                case .duplicate: duplicates += 1
                case .rejected(var error):
                    error.line = items[index].line
                    rejected.append(error)
                }
            }
        }
    }
}

/// A submission's canonical payload and unique keys, and for a recorded line its record's value
/// and chain hash (``PreparedRecord``): what ``Ledger/stage(_:in:)`` would otherwise
/// compute on the staging thread.
struct Prepared: Sendable {
    var payload: [UInt8]
    var keys: [[UInt8]]
    var record: PreparedRecord?

    init(_ submission: Submission) {
        let event = submission.event
        payload = PayloadCodec.encode(event)
        keys = event.uniqueKeys
        record = submission.recorded.map { recorded in
            PreparedRecord(
                position: RecordPosition(seq: recorded.seq, stream: recorded.stream, version: recorded.version, recordedAt: recorded.recordedAt),
                id: RecordID(event.id), payload: payload, previous: recorded.prevHash, claimed: recorded.hash)
        }
    }
}

extension Ledger {
    enum Staged {
        case appended
        case duplicate
        case rejected(WireError)
    }

    /// Checks and stages one line, read through a pointer into its run (the decoded list):
    /// iterating the run copied each line, retaining each of its fields. The pointee must stay
    /// valid and unchanged for the whole call.
    static func stage(_ item: UnsafePointer<NumberedSubmission>, in batch: inout Batch) throws -> Staged {
        // The event and the recorded fields copied out once: read through the pointer, each call given a closure copied them.
        let event = item.pointee.submission.event
        let recorded = item.pointee.submission.recorded
        let id = RecordID(event.id)
        let payload = item.pointee.prepared?.payload ?? PayloadCodec.encode(event)
        func reject(_ field: String, _ code: WireError.Code, _ rule: String) -> Staged {
            .rejected(WireError(line: 0, field: field, code: code, rule: rule))
        }

        if let recorded {
            let (hash, previous) = (recorded.hash, recorded.prevHash)
            if recorded.seq <= batch.head.seq {
                let position = RecordPosition(seq: recorded.seq, stream: recorded.stream, version: recorded.version, recordedAt: recorded.recordedAt)
                if try batch.isStored(position: position, id: id, payload: payload, previous: previous, hash: hash) { return .duplicate }
                return reject("seq", .fork, "seq \(recorded.seq) is already recorded, and not as this line says: this line forks the chain")
            }
            guard recorded.seq == batch.head.seq + 1 else {
                return reject("seq", .chainGap, "seq \(recorded.seq) leaves a gap: the ledger's head is seq \(batch.head.seq)")
            }
            guard previous == batch.head.hash else {
                return reject("prev_hash", .chainMismatch, "is not the hash of seq \(batch.head.seq), \(batch.head.hash.hex)")
            }
        } else if let seq = try batch.seq(of: id) {
            let stored = try batch.record(at: seq)
            if stored?.position.stream == event.stream && stored?.payload == payload { return .duplicate }
            return reject("id", .idConflict, "\(event.id) is already recorded at seq \(seq) with other content")
        }

        if let expected = item.pointee.submission.expectedVersion {
            let version = try batch.streamVersion(event.stream)
            if version != expected {
                return reject("expected_version", .versionConflict, "conflict: \(event.stream) is at version \(version), not \(expected)")
            }
        }
        let recordedAt = recorded?.recordedAt ?? batch.clock
        let broken = try event.checkAgainstLedger(
            recordedAt: recordedAt,
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
            recordedAt: recordedAt
        ) {
            return .rejected(broken)
        }

        do {
            let keys = item.pointee.prepared?.keys ?? event.uniqueKeys
            if let recorded, let record = item.pointee.prepared?.record {
                try batch.appendRecorded(record, keys: keys, hash: recorded.hash)
            } else if let recorded {
                let position = RecordPosition(seq: recorded.seq, stream: recorded.stream, version: recorded.version, recordedAt: recorded.recordedAt)
                try batch.appendRecorded(position: position, id: id, keys: keys, payload: payload, hash: recorded.hash)
            } else {
                try batch.append(stream: event.stream, id: id, keys: keys, payload: payload)
            }
        } catch let error as StoreError where error.code == .doesNotContinue {
            return reject(recorded == nil ? "" : "hash", .chainMismatch, error.message)
        } catch let error as StoreError where error.code == .duplicateID {
            return reject("id", .idConflict, "\(event.id) is already recorded: \(error.message)")
        }
        return .appended
    }
}
