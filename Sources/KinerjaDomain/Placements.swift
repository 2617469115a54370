/// Each employee's placements as recorded so far, to answer "the placement in effect on day D":
/// the `employee.placed` with the latest `effective_from` ≤ D (ties: the higher `seq`), among
/// those recorded before the event being judged. Fed in `seq` order, so "recorded before" is
/// "fed before".
public struct PlacementTimeline: Sendable {
    public struct Entry: Sendable {
        public var placement: Placement
        public var seq: UInt64
        public var id: EventID
    }

    private var entries: [NIP: [Entry]] = [:]

    public init() {}

    public mutating func record(_ placement: Placement, of employee: NIP, seq: UInt64, id: EventID) {
        entries[employee, default: []].append(Entry(placement: placement, seq: seq, id: id))
    }

    /// The placement in effect on `date`, among those recorded before `seq` (all when nil).
    public func inEffect(_ employee: NIP, on date: CivilDate, before seq: UInt64? = nil) -> Entry? {
        var best: Entry?
        for entry in entries[employee] ?? [] where entry.placement.effectiveFrom <= date && entry.seq < (seq ?? .max) {
            if let current = best, (current.placement.effectiveFrom, current.seq) > (entry.placement.effectiveFrom, entry.seq) { continue }
            best = entry
        }
        return best
    }

    /// Every employee with a placement.
    public var employees: Dictionary<NIP, [Entry]>.Keys { entries.keys }
}
