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
    @discardableResult
    public func forEachRecorded(_ filter: LogFilter = LogFilter(), _ body: (Event, RecordedFields) throws -> Void) throws -> Head {
        try store.read { txn in
            if let employee = filter.employee {
                for seq in try txn.seqs(inStream: Subject.employee(employee).stream) where seq >= filter.from && seq <= filter.through {
                    let previous = seq <= 1 ? ChainHash.zero : try txn.withRecord(at: seq - 1) { $0.hash } ?? .zero
                    _ = try txn.withRecord(at: seq) { try Self.emit($0, previous: previous, filter: filter, body) }
                }
            } else {
                var previous = filter.from <= 1 ? ChainHash.zero : try txn.withRecord(at: filter.from - 1) { $0.hash } ?? .zero
                try txn.forEachRecord(from: filter.from, through: filter.through) { record in
                    try Self.emit(record, previous: previous, filter: filter, body)
                    previous = record.hash
                }
            }
            return txn.head
        }
    }

    private static func emit(_ record: RecordView, previous: ChainHash, filter: LogFilter, _ body: (Event, RecordedFields) throws -> Void) throws {
        if !filter.types.isEmpty {
            guard let type = PayloadCodec.type(of: record.payload), filter.types.contains(type) else { return }
        }
        let event = try PayloadCodec.decode(record.payload, stream: record.position.stream, id: EventID(record.id))
        try body(event, RecordedFields(record, previous: previous))
    }

    /// Re-hashes the whole chain, checks the head and every index against the log, and checks
    /// that every payload decodes to an event whose canonical encoding is exactly those bytes.
    public func verify() throws -> Verification {
        try store.verify { record in
            let event = try PayloadCodec.decode(record.payload, stream: record.position.stream, id: EventID(record.id))
            guard PayloadCodec.encode(event).elementsEqual(record.payload) else {
                throw NonCanonical()
            }
            return event.uniqueKeys
        }
    }
}

private struct NonCanonical: Error, CustomStringConvertible {
    var description: String { "the payload is not in canonical form" }
}
