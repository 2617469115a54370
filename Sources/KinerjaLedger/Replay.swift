import Foundation
import KinerjaDomain
import LedgerStore

/// Which recorded events ``Ledger/forEachRecorded(_:_:)`` reads.
public struct LogFilter: Sendable {
    public var from: UInt64
    public var through: UInt64
    /// One employee's stream, read through the stream index rather than a scan.
    public var employee: NIP?
    /// Only these types; all when empty.
    public var types: Set<EventType>

    public init(from: UInt64 = 1, through: UInt64 = .max, employee: NIP? = nil, types: Set<EventType> = []) {
        self.from = from
        self.through = through
        self.employee = employee
        self.types = types
    }
}

extension Ledger {
    /// Calls `body` with each recorded event the filter selects, in `seq` order, from one
    /// consistent snapshot, with what the ledger recorded (`prev_hash` is the hash of `seq - 1`
    /// whether or not that event is selected, so every line can be checked on its own).
    /// Returns the head of the snapshot.
    /// `include`, when given, sees each event the filter selects first, read in place, and
    /// decides whether it is decoded and passed on.
    @discardableResult
    public func forEachRecorded(
        _ filter: LogFilter = LogFilter(), where include: ((borrowing EventView) throws -> Bool)? = nil, _ body: (Event, RecordedFields) throws -> Void
    ) throws -> Head {
        try store.read { txn in
            if let employee = filter.employee {
                for seq in try txn.seqs(inStream: Subject.employee(employee).stream) where seq >= filter.from && seq <= filter.through {
                    let previous = seq <= 1 ? ChainHash.zero : try txn.withRecord(at: seq - 1) { $0.hash } ?? .zero
                    try txn.withIndexedRecord(at: seq) { try Self.emit($0, previous: previous, filter: filter, include, body) }
                }
            } else {
                var previous = filter.from <= 1 ? ChainHash.zero : try txn.withRecord(at: filter.from - 1) { $0.hash } ?? .zero
                try txn.forEachRecord(from: filter.from, through: filter.through) { record in
                    try Self.emit(record, previous: previous, filter: filter, include, body)
                    previous = record.hash
                }
            }
            return txn.head
        }
    }

    private static func emit(
        _ record: borrowing RecordView, previous: ChainHash, filter: LogFilter, _ include: ((borrowing EventView) throws -> Bool)?, _ body: (Event, RecordedFields) throws -> Void
    ) throws {
        if !filter.types.isEmpty {
            guard let type = PayloadCodec.type(of: record.payload), filter.types.contains(type) else { return }
        }
        let view = try EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt)
        if let include, try !include(view) { return }
        try body(try view.event(), RecordedFields(record, previous: previous))
    }

    /// The chain hash recorded at `seq`, or nil past the head.
    public func hash(at seq: UInt64) throws -> ChainHash? {
        if seq == 0 { return .zero }
        return try store.read { try $0.withRecord(at: seq) { $0.hash } }
    }

    /// Re-hashes the whole chain, checks the head and every index against the log (the tag
    /// index too: a unit's membership and an employee's facts), and checks that every payload
    /// decodes to an event whose canonical encoding is exactly those bytes.
    public func verify() throws -> Verification {
        try verifyAll(tree: false).verification
    }

    /// What `kinerja verify` checks: ``verify()`` and, with `tree`, the Merkle tree
    /// (``verifyTree()``), in one read of the records shared by two threads. The tree's fault is
    /// given apart (nil when it agrees), and only when the rest is intact.
    public func verifyAll(tree: Bool = true) throws -> (verification: Verification, tree: (seq: UInt64?, reason: String)?) {
        let result = try store.verifyAll(tags: true, tree: tree, keysOf: Self.canonicalKeys)
        guard case .intact = result.records else { return (result.records, nil) }
        if let fault = result.tags { return (.broken(seq: fault.seq, reason: fault.reason), nil) }
        return (result.records, result.tree)
    }

    /// The unique keys of a record whose payload decodes to an event whose canonical encoding
    /// is exactly those bytes; throws otherwise.
    @Sendable private static func canonicalKeys(_ record: borrowing RecordView) throws -> [[UInt8]] {
        try PayloadCodec.canonicalKeys(record.payload, streamBytes: record.streamBytes, id: EventID(record.id))
    }
}

/// A point of the ledger's past.
public enum PointInTime: Hashable, Sendable {
    /// The ledger as it is.
    case head
    /// Events with `seq ≤ N`.
    case seq(UInt64)
    /// Events with `recorded_at ≤ T` (microseconds since the epoch).
    case asOf(Int64)
}

/// Where a report was built: the last `seq` it saw and that event's chain hash (printed as
/// 64 hexadecimal digits; ``ChainHash/zero`` for an empty ledger).
public struct LedgerPosition: Hashable, Sendable {
    public var seq: UInt64
    public var hash: ChainHash

    public init(seq: UInt64, hash: ChainHash) {
        self.seq = seq
        self.hash = hash
    }
}

/// A point in time the ledger cannot show.
public struct PointInTimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension Ledger {
    /// Replays recorded events in `seq` order up to `point`, decoded from the binary records
    /// (no JSON), all of them or one employee's through the stream index.
    /// Returns the position (seq and hash) the replay ends at, which every report states.
    @discardableResult
    public func replay(at point: PointInTime = .head, employee: NIP? = nil, _ body: (RecordedEvent) throws -> Void) throws -> LedgerPosition {
        try store.read { txn in
            try Self.replay(txn, at: point, employee: employee) { record in
                let event = try PayloadCodec.decode(record.payload, streamBytes: record.streamBytes, id: EventID(record.id))
                try body(RecordedEvent(event: event, seq: record.seq, version: record.version, recordedAt: record.recordedAt))
            }
        }
    }

    /// Replays recorded events like ``replay(at:employee:_:)``, each read in place: what
    /// projections fold. Nothing is decoded but what `body` reads; the view lives only during
    /// the call.
    @discardableResult
    public func replayInPlace(at point: PointInTime = .head, employee: NIP? = nil, _ body: (borrowing EventView) throws -> Void) throws -> LedgerPosition {
        try store.read { txn in
            try Self.replay(txn, at: point, employee: employee) { record in
                let view = try EventView(
                    payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt)
                try body(view)
            }
        }
    }

    private static func replay(_ txn: borrowing ReadTransaction, at point: PointInTime, employee: NIP?, _ deliver: (borrowing RecordView) throws -> Void) throws -> LedgerPosition {
        let through = try resolve(point, in: txn)
        let hash = through == 0 ? ChainHash.zero : try txn.withRecord(at: through) { $0.hash } ?? .zero
        if let employee {
            for seq in try txn.seqs(inStream: Subject.employee(employee).stream) where seq <= through {
                try txn.withIndexedRecord(at: seq, deliver)
            }
        } else {
            try txn.forEachRecord(through: through, deliver)
        }
        return LedgerPosition(seq: through, hash: hash)
    }

    /// The last `seq` at `point` in the ledger as it is now: what several replays of one point
    /// in time, in transactions of their own, replay to (`.seq` of it), whatever is appended
    /// between them.
    public func seq(at point: PointInTime) throws -> UInt64 {
        try store.read { txn in try Self.resolve(point, in: txn) }
    }

    /// The last `seq` at `point`. `recorded_at` never goes backwards along `seq`, so `asOf`
    /// is a binary search.
    static func resolve(_ point: PointInTime, in txn: borrowing ReadTransaction) throws -> UInt64 {
        switch point {
        case .head:
            return txn.head.seq
        case .seq(let seq):
            guard seq <= txn.head.seq else {
                throw PointInTimeError(description: "--at-seq \(seq) is past the head of the ledger (seq \(txn.head.seq))")
            }
            return seq
        case .asOf(let instant):
            var low: UInt64 = 0
            var high = txn.head.seq
            while low < high {
                let middle = low + (high - low + 1) / 2
                let recordedAt = try txn.withRecord(at: middle) { $0.recordedAt } ?? .max
                if recordedAt <= instant { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }
}
