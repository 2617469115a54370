import KinerjaDomain
import LedgerStore

/// Which streams a bounded replay reads (``Ledger/replayInPlace(at:selecting:related:_:)``):
/// the events of a few employees and units in its `order`, instead of the whole ledger.
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
    /// The order the events are delivered in (`seq` order unless set). Only this package's
    /// reports set another: a reader of ``Order/placementsThenStreams`` must read placements as
    /// recorded before the event it judges, which the audit trail's filters do not.
    package var order: Order = .seq
    /// From how many bytes of the selected employees' own records a replay in
    /// ``Order/placementsThenStreams`` copies them onto huge pages (``RecordArena``), not
    /// malloc's. Only the tests set it: the demo's selections are all below 2 MiB.
    package var hugePagesFrom = 2 << 20

    /// The order of a bounded replay's events.
    package enum Order: Sendable {
        /// `seq` order.
        case seq
        /// Every `employee.placed` first, in `seq` order; then each stream's other events
        /// together, in `seq` order, one stream after another. A fold of many employees then
        /// works on one employee's state at a time (in `seq` order it jumps to another
        /// employee's at nearly every event: a cache miss each). Only for a fold whose reading
        /// of one stream's state depends on no other stream's but through placements, read as
        /// of the event (those recorded before it: `AppraisalState.placement(of:on:before:)`).
        case placementsThenStreams
    }

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
    ///
    /// Each tag is built on the stack and handed over in place (import and verify call the rule
    /// on every record), and the stream's NIP is read only for an event that is tagged.
    static let tagRule = TagRule(name: "kinerja-placed-facts-2") { record, tag in
        guard let type = PayloadCodec.type(of: record.payload) else { return }
        switch type {
        case .employeePlaced:
            guard let employee = NIP(employeeStream: record.streamBytes),
                let view = try? EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt),
                case .employeePlaced(let placed) = view.data
            else { return }
            withPlacedTag(placed.unit.bytes, tag)
            withFactsTag(employee, tag)
        case .activityLogged:
            guard let occurredAt = PayloadCodec.occurredAt(of: record.payload), record.recordedAt - occurredAt > Timestamp.microsPerDay,
                let employee = NIP(employeeStream: record.streamBytes)
            else { return }
            withFactsTag(employee, tag)
        default:
            guard let employee = NIP(employeeStream: record.streamBytes) else { return }
            withFactsTag(employee, tag)
        }
    }

    /// The tag of a placement into the unit whose code is `unit` (UTF-8), built on the stack.
    private static func withPlacedTag<Value>(_ unit: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Value) -> Value {
        withUnsafeTemporaryAllocation(byteCount: unit.count + 1, alignment: 1) { tag in
            tag[0] = UInt8(ascii: "p")
            UnsafeMutableRawBufferPointer(rebasing: tag[1...]).copyMemory(from: unit)
            return body(UnsafeRawBufferPointer(tag))
        }
    }

    /// The tag of the employee's facts, built on the stack.
    private static func withFactsTag<Value>(_ employee: NIP, _ body: (UnsafeRawBufferPointer) -> Value) -> Value {
        withUnsafeTemporaryAllocation(byteCount: 9, alignment: 1) { tag in
            tag[0] = UInt8(ascii: "f")
            tag.storeBytes(of: employee.number.bigEndian, toByteOffset: 1, as: UInt64.self)
            return body(UnsafeRawBufferPointer(tag))
        }
    }

    /// The tag of a placement into `unit`, to look up: the rule's, copied.
    static func placedTag(_ unit: String) -> [UInt8] {
        var unit = unit
        return unit.withUTF8 { withPlacedTag(UnsafeRawBufferPointer($0)) { Array($0) } }
    }

    /// The tag of the employee's facts, to look up: the rule's, copied.
    static func factsTag(_ employee: NIP) -> [UInt8] { withFactsTag(employee) { Array($0) } }

    /// Replays up to `point`, in `selection.order`, only the events `selection` names, and the
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
        // In NIP order, the tags' key order (big-endian): the index's sort of them is then one pass.
        if facts { return try txn.seqs(taggedWithAny: employees.sorted { $0.number < $1.number }.map(factsTag), through: through, rule: tagRule.name) }
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
            guard let placed = try txn.seqs(taggedWith: placedTag(unit), through: through, rule: tagRule.name) else { return nil }
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
        // and the unit's, and the two delivered together in `seq` order (or placements first,
        // then stream by stream: ``Selection/Order``).
        guard let own = try seqs(txn, of: members, through: through, facts: selection.skipsTimelyActivity) else { return nil }
        let complete = try txn.withIndexedRecords(at: own) { mine -> Bool in
            var others: [NIP] = []
            // Which member each record is of, and whether it is a placement: what the order
            // ``Selection/Order/placementsThenStreams`` needs, read while the record is at hand.
            let grouping = selection.order == .placementsThenStreams
            var groups = StreamGroups(grouping ? members : [])
            var mineGroups: [Int32] = []
            var minePlaced: [Bool] = []
            // The records copied as they are read, for the order by stream to read the copies
            // (together in memory) rather than the records (each on its own page of the file);
            // nil where there is no order by stream, or no memory for the copies (the order by
            // stream then reads the records in place).
            var copies = grouping ? RecordArena(byteCount: mine.byteCount, records: mine.count, hugePagesFrom: selection.hugePagesFrom) : nil
            if grouping {
                mineGroups.reserveCapacity(mine.count)
                minePlaced.reserveCapacity(mine.count)
            }
            for index in 0..<mine.count {
                mine.prefetch(index + prefetchDistance)
                let named = try mine.withRecord(index) { record -> [NIP] in
                    if grouping {
                        mineGroups.append(groups.group(record.streamBytes))
                        minePlaced.append(record.payload.first == placedCode)
                    }
                    guard let type = record.payload.first, naming[Int(type)] else { return [] }
                    return related(try eventView(record))
                }
                copies?.append(mine, index)
                for other in named where seen.insert(other).inserted { others.append(other) }
            }
            guard var rest = try seqs(txn, of: others, through: through, facts: selection.skipsTimelyActivity) else { return false }
            if let unit = selection.unit {
                rest += try txn.seqs(inStream: Subject.unit(unit).stream).filter { $0 <= through }
                rest.sort()
            }
            try txn.withIndexedRecords(at: rest) { theirs in
                if grouping {
                    groups.add(others)
                    switch copies {
                    case .some(let copies): try Self.deliverByStream(mine.seqs, copies, mineGroups, minePlaced, theirs, &groups, body)
                    case .none: try Self.deliverByStream(mine.seqs, mine, mineGroups, minePlaced, theirs, &groups, body)
                    }
                    return
                }
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

extension Ledger {
    /// `employee.placed`'s type byte.
    fileprivate static let placedCode = EventType.employeePlaced.code

    /// Delivers `mine` (the records at `mineSeqs`, or copies of them) and `theirs` in the order
    /// ``Selection/Order/placementsThenStreams``: the placements of both in `seq` order, then
    /// the other records stream by stream (each stream's in `seq` order). `mineGroups` and
    /// `minePlaced` say, for each of `mine`, its stream's group in `groups` and whether it is a
    /// placement; `theirs` are read for theirs.
    fileprivate static func deliverByStream<Mine: NumberedRecords & ~Copyable>(
        _ mineSeqs: [UInt64], _ mine: borrowing Mine, _ mineGroups: [Int32], _ minePlaced: [Bool], _ theirs: borrowing IndexedRecords,
        _ groups: inout StreamGroups,
        _ body: (borrowing EventView) throws -> Void
    ) throws {
        assert(mineSeqs.count == mine.count && mineGroups.count == mine.count && minePlaced.count == mine.count, "a seq, group and placement for each of mine")
        var theirGroups: [Int32] = []
        var theirPlaced: [Bool] = []
        theirGroups.reserveCapacity(theirs.count)
        theirPlaced.reserveCapacity(theirs.count)
        for index in 0..<theirs.count {
            theirs.prefetch(index + prefetchDistance)
            try theirs.withRecord(index) { record in
                theirGroups.append(groups.group(record.streamBytes))
                theirPlaced.append(record.payload.first == placedCode)
            }
        }
        // The placements, both lists merged in `seq` order.
        var (i, j) = (0, 0)
        while true {
            while i < mine.count && !minePlaced[i] { i += 1 }
            while j < theirs.count && !theirPlaced[j] { j += 1 }
            if i == mine.count && j == theirs.count { break }
            if j == theirs.count || (i < mine.count && mineSeqs[i] < theirs.seqs[j]) {
                try mine.withRecord(i) { try body(eventView($0)) }
                i += 1
            } else {
                try theirs.withRecord(j) { try body(eventView($0)) }
                j += 1
            }
        }
        // The rest, grouped by stream through a counting sort (stable: each group's records
        // stay in `seq` order): position p of `order` is record `order[p]` of `mine`, or of
        // `theirs` less `mine.count`.
        var starts = [Int](repeating: 0, count: groups.count + 1)
        for (index, group) in mineGroups.enumerated() where !minePlaced[index] { starts[Int(group) + 1] += 1 }
        for (index, group) in theirGroups.enumerated() where !theirPlaced[index] { starts[Int(group) + 1] += 1 }
        for group in 0..<groups.count { starts[group + 1] += starts[group] }
        var order = [Int32](repeating: 0, count: starts[groups.count])
        for (index, group) in mineGroups.enumerated() where !minePlaced[index] {
            order[starts[Int(group)]] = Int32(index)
            starts[Int(group)] += 1
        }
        for (index, group) in theirGroups.enumerated() where !theirPlaced[index] {
            order[starts[Int(group)]] = Int32(mine.count + index)
            starts[Int(group)] += 1
        }
        let split = Int32(mine.count)
        for position in order.indices {
            if position + prefetchDistance < order.count {
                let ahead = order[position + prefetchDistance]
                if ahead < split { mine.prefetch(Int(ahead)) } else { theirs.prefetch(Int(ahead - split)) }
            }
            let index = order[position]
            if index < split {
                try mine.withRecord(Int(index)) { try body(eventView($0)) }
            } else {
                try theirs.withRecord(Int(index - split)) { try body(eventView($0)) }
            }
        }
    }
}

/// Streams numbered for grouping: each employee of a list (by the NIP its stream names) its
/// own group, numbered on first sight; every other stream (a unit's) shares one group, keyed
/// `UInt64.max` (which no NIP is).
private struct StreamGroups {
    /// Open addressing, at most half full: NIP → group + 1 (0 empty).
    private var keys: [UInt64]
    private var values: [Int32]
    private(set) var count = 0

    init(_ employees: [NIP]) {
        var size = 16
        while size < 2 * (employees.count + 64) { size *= 2 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        add(employees)
    }

    /// Gives each of `employees` a group (the caller's lists are of distinct employees).
    mutating func add(_ employees: [NIP]) {
        if 2 * (count + employees.count + 1) > keys.count { grow(to: count + employees.count + 1) }
        for nip in employees { _ = group(nip.number) }
    }

    /// The group of the stream `stream` (its name's bytes).
    mutating func group(_ stream: UnsafeRawBufferPointer) -> Int32 {
        // NIPs are 18 digits: UInt64.max is none of them, and stands for every other stream.
        group(NIP(employeeStream: stream)?.number ?? .max)
    }

    /// A process-wide random seed, as the projections' tables have (`Names.swift`), so that a
    /// sender cannot choose NIPs that collide; the same mixer (MurmurHash3's finalizer).
    private static let seed = UInt64.random(in: .min ... .max)

    private static func start(_ key: UInt64, _ mask: Int) -> Int {
        var x = key ^ seed
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return Int(truncatingIfNeeded: x) & mask
    }

    private mutating func group(_ key: UInt64) -> Int32 {
        let mask = keys.count - 1
        var slot = Self.start(key, mask)
        while values[slot] != 0 {
            if keys[slot] == key { return values[slot] - 1 }
            slot = (slot + 1) & mask
        }
        if 2 * (count + 1) > keys.count {
            grow(to: count + 1)
            return group(key)
        }
        keys[slot] = key
        values[slot] = Int32(count + 1)
        count += 1
        return Int32(count - 1)
    }

    private mutating func grow(to needed: Int) {
        var size = keys.count
        while size < 2 * needed { size *= 2 }
        let (oldKeys, oldValues) = (keys, values)
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        let mask = size - 1
        for (key, value) in zip(oldKeys, oldValues) where value != 0 {
            var slot = Self.start(key, mask)
            while values[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = value
        }
    }
}
