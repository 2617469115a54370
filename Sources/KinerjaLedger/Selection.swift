import KinerjaDomain
import LedgerStore

/// Which streams a bounded replay reads (``Ledger/replayInPlace(at:selecting:related:_:)``):
/// the events of a few employees and units in `seq` order, instead of the whole ledger.
public struct Selection: Sendable {
    /// The employees ever placed in this unit by the point in time (every `employee.placed`
    /// into it recorded by then, whatever its `effective_from`: the only employees whose
    /// placement in effect on any day can be in the unit), and the unit's own stream.
    public var unit: String?
    /// These employees too.
    public var employees: [NIP]
    /// Whether an employee's `activity.logged` events recorded within a day of when they
    /// occurred may be left out (they are most of the ledger; a reader that needs them only
    /// when they were recorded later than that says so).
    public var skipsTimelyActivity: Bool
    /// Only the share `part` of `of` of the employees above: those whose NIP (as a number) is
    /// `part` modulo `of` (the employees their events name are read whatever their share), for
    /// several replays to fold the members' events between them. nil: all of them.
    public var share: (part: UInt64, of: UInt64)?

    /// - Precondition: `share`, when given, has `part < of` (a programming error otherwise:
    ///   no employee would be selected, or none could be, with `of` 0).
    public init(unit: String? = nil, employees: [NIP] = [], skipsTimelyActivity: Bool = false, share: (part: UInt64, of: UInt64)? = nil) {
        if let share { precondition(share.part < share.of, "a share is a part below the number of parts, not \(share.part) of \(share.of)") }
        self.unit = unit
        self.employees = employees
        self.skipsTimelyActivity = skipsTimelyActivity
        self.share = share
    }

    /// Whether `employee` is in ``share``.
    public func shares(_ employee: NIP) -> Bool {
        guard let share else { return true }
        return employee.number % share.of == share.part
    }
}

extension Ledger {
    /// The ledger's tags, kept by the store in its secondary index (``TagRule``):
    /// - `p` ‖ unit code on every `employee.placed` into that unit: the index of unit
    ///   membership by time (its `seq`s, and through them the employees);
    /// - `f` ‖ NIP (u64 BE) on every event of the employee's stream but an `activity.logged`
    ///   recorded within a day (24 h) of its `occurred_at`: the employee's facts, what a reading
    ///   that leaves out timely daily logs reads of them.
    static let tagRule = TagRule(name: "kinerja-placed-facts-2") { record in
        guard let employee = NIP(employeeStream: record.streamBytes), let type = PayloadCodec.type(of: record.payload) else { return [] }
        switch type {
        case .employeePlaced:
            guard let view = try? EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt),
                case .employeePlaced(let placed) = view.data
            else { return [] }
            return [placedTag(placed.unit.bytes), factsTag(employee)]
        case .activityLogged:
            guard let occurredAt = PayloadCodec.occurredAt(of: record.payload), record.recordedAt - occurredAt > Timestamp.microsPerDay else { return [] }
            return [factsTag(employee)]
        default:
            return [factsTag(employee)]
        }
    }

    static func placedTag(_ unit: some Collection<UInt8>) -> [UInt8] { [UInt8(ascii: "p")] + Array(unit) }

    static func factsTag(_ employee: NIP) -> [UInt8] { [UInt8(ascii: "f")] + employee.number.bigEndianBytes }

    /// Replays, in `seq` order up to `point`, only the events `selection` names, and the
    /// events of the employees that `related` names in them (an appraiser a placement names, an
    /// employee a target is aligned to: what a reading of the selected employees looks up in
    /// others' records; their own `related` are not followed), each read in place.
    ///
    /// - Parameter relatedTypes: the types of the events `related` can name anyone in (nil:
    ///   any); the selected events of other types are not decoded to ask it.
    ///
    /// Returns the position (as ``replayInPlace(at:employee:_:)``) and the `recorded_at` of the
    /// event at it — the clock of a full replay to that point, which a bounded one may not have
    /// folded — or nil when the membership index does not cover the point (a ledger written
    /// since by an older build, opened where it cannot be written): the caller replays in full.
    public func replayInPlace(
        at point: PointInTime, selecting selection: Selection, relatedTypes: [EventType]? = nil, related: (borrowing EventView) -> [NIP],
        _ body: (borrowing EventView) throws -> Void
    ) throws -> (position: LedgerPosition, recordedAt: Int64)? {
        var naming = [Bool](repeating: relatedTypes == nil, count: 256)
        for type in relatedTypes ?? [] { naming[Int(type.code)] = true }
        return try store.read { txn in try Self.replay(txn, at: point, selecting: selection, naming: naming, related: related, body) }
    }

    /// The `seq`s through `through` of the employees' facts (``factsTag(_:)``), or of all their
    /// events; nil where the index does not cover `through`.
    private static func seqs(_ txn: borrowing ReadTransaction, of employees: [NIP], through: UInt64, facts: Bool) throws -> [UInt64]? {
        if facts { return try txn.seqs(taggedWithAny: employees.map(factsTag), through: through, rule: tagRule.name) }
        var seqs: [UInt64] = []
        for nip in employees { seqs += try txn.seqs(inStream: Subject.employee(nip).stream).filter { $0 <= through } }
        return seqs.sorted()
    }

    @inline(__always)
    private static func eventView(_ record: borrowing RecordView) throws -> EventView {
        try EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt)
    }

    /// How many records ahead of the one it reads a pass over ``IndexedRecords`` asks the CPU to
    /// fetch: enough for their first reads to overlap (each is a cache miss: the records are
    /// scattered over the file), few enough that they are still in the caches when read.
    private static let prefetchDistance = 8

    private static func replay(
        _ txn: borrowing ReadTransaction, at point: PointInTime, selecting selection: Selection, naming: [Bool],
        related: (borrowing EventView) -> [NIP], _ body: (borrowing EventView) throws -> Void
    ) throws -> (position: LedgerPosition, recordedAt: Int64)? {
        let through = try resolve(point, in: txn)
        var members: [NIP] = []
        var seen = Set<NIP>()
        for nip in selection.employees where selection.shares(nip) && seen.insert(nip).inserted { members.append(nip) }
        if let unit = selection.unit {
            guard let placed = try txn.seqs(taggedWith: placedTag(unit.utf8), through: through, rule: tagRule.name) else { return nil }
            try txn.withIndexedRecords(at: placed) { records in
                for index in 0..<records.count {
                    records.prefetch(index + prefetchDistance)
                    let nip = try records.withRecord(index) { NIP(employeeStream: $0.streamBytes) }
                    if let nip, selection.shares(nip), seen.insert(nip).inserted { members.append(nip) }
                }
            }
        }
        // Each record is looked up once, in `seq` order through one cursor: the members' own
        // (read for the employees they name, and kept for the fold), then the named employees'
        // and the unit's, and the two folded together in `seq` order.
        guard let own = try seqs(txn, of: members, through: through, facts: selection.skipsTimelyActivity) else { return nil }
        let complete = try txn.withIndexedRecords(at: own) { mine -> Bool in
            var others: [NIP] = []
            for index in 0..<mine.count {
                mine.prefetch(index + prefetchDistance)
                let named = try mine.withRecord(index) { record -> [NIP] in
                    guard let type = record.payload.first, naming[Int(type)] else { return [] }
                    return related(try eventView(record))
                }
                for other in named where seen.insert(other).inserted { others.append(other) }
            }
            guard var rest = try seqs(txn, of: others, through: through, facts: selection.skipsTimelyActivity) else { return false }
            if let unit = selection.unit {
                rest += try txn.seqs(inStream: Subject.unit(unit).stream).filter { $0 <= through }
                rest.sort()
            }
            try txn.withIndexedRecords(at: rest) { theirs in
                var (i, j) = (0, 0)
                while i < mine.count || j < theirs.count {
                    if j == theirs.count || (i < mine.count && mine.seqs[i] < theirs.seqs[j]) {
                        mine.prefetch(i + prefetchDistance)
                        try mine.withRecord(i) { try body(eventView($0)) }
                        i += 1
                    } else {
                        theirs.prefetch(j + prefetchDistance)
                        try theirs.withRecord(j) { try body(eventView($0)) }
                        j += 1
                    }
                }
            }
            return true
        }
        guard complete else { return nil }
        var hash = ChainHash.zero
        var recordedAt = Int64.min
        if through > 0 {
            _ = try txn.withRecord(at: through) { record in
                hash = record.hash
                recordedAt = record.recordedAt
            }
        }
        return (LedgerPosition(seq: through, hash: hash), recordedAt)
    }
}

extension UInt64 {
    fileprivate var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
}
