/// Predikat kinerja pegawai.
public enum Predicate: String, WireCode, Comparable {
    case veryGood = "very_good"
    case good
    case needsImprovement = "needs_improvement"
    case poor
    case veryPoor = "very_poor"

    /// needs_improvement, poor and very_poor: the scores that need supervisor feedback first.
    public var isLow: Bool { self != .veryGood && self != .good }

    public static func < (a: Predicate, b: Predicate) -> Bool { a.code < b.code }
}

/// One line of the distribution curve: the share of a unit's annually scored members whose
/// predikat is among `predicates` must be at most, or at least, `percent` (or, with
/// `.atLeastOne`, at least one member).
public struct CurveRule: Hashable, Sendable, CustomStringConvertible {
    public enum Bound: Hashable, Sendable {
        case atMost(percent: Int)
        case atLeast(percent: Int)
        case atLeastOne
    }

    public var predicates: [Predicate]
    public var bound: Bound

    public init(_ predicates: [Predicate], _ bound: Bound) {
        self.predicates = predicates
        self.bound = bound
    }

    /// Whether `count` of `total` members satisfy the rule.
    public func holds(count: Int, total: Int) -> Bool {
        switch bound {
        case .atMost(let percent): count * 100 <= percent * total
        case .atLeast(let percent): count * 100 >= percent * total
        case .atLeastOne: count >= 1
        }
    }

    public var description: String {
        let names = predicates.map(\.rawValue).joined(separator: " + ")
        return switch bound {
        case .atMost(0): "no \(names)"
        case .atMost(let percent): "\(names) at most \(percent)%"
        case .atLeast(let percent): "\(names) at least \(percent)%"
        case .atLeastOne: "at least one \(predicates.map(\.rawValue).joined(separator: " or "))"
        }
    }
}

/// The appraisal rules in force from a date: the predikat matrix, the distribution curve, the
/// training minimum, the backdating limit and the objection windows. Regulations change, so rules are data with a
/// version and an effective date; a decision is judged by the set in force on its date.
public struct RuleSet: Hashable, Sendable {
    public var version: String
    public var effectiveFrom: CivilDate
    /// results rating → behaviour rating → predikat.
    public var matrix: [Rating: [Rating: Predicate]]
    public var curve: [UnitRatingCode: [CurveRule]]
    /// JP a year an ASN is owed.
    public var minimumTrainingHours: Double
    /// An event recorded more than this many days after it occurred is backdated.
    public var backdatingLimitDays: Int
    /// How far an event's `occurred_at` may be after the ledger clock at recording (clocks
    /// disagree a little): later than that, it has not happened yet and is refused.
    public var clockSkewAllowanceMicros: Int64
    /// An objection is filed within this many days of receiving the result (PP 30/2019 Pasal 59).
    public var objectionFilingDays: Int
    /// An objection is decided within this many days of its recording.
    public var objectionDecisionDays: Int

    public func predicate(results: Rating, behavior: Rating) -> Predicate {
        matrix[results]![behavior]!
    }

    /// PermenPANRB 6/2022 (matrix), SE MenPANRB 3/2023 (curve), PP 11/2017 (20 JP), PP 30/2019
    /// Pasal 59 (objections within 14 days, decided within 14 days).
    public static let permenPANRB6of2022 = RuleSet(
        version: "PermenPANRB-6/2022+SE-MenPANRB-3/2023",
        effectiveFrom: CivilDate(year: 2023, month: 1, day: 1)!,
        matrix: [
            .aboveExpectation: [.aboveExpectation: .veryGood, .meetsExpectation: .good, .belowExpectation: .poor],
            .meetsExpectation: [.aboveExpectation: .good, .meetsExpectation: .good, .belowExpectation: .poor],
            .belowExpectation: [.aboveExpectation: .needsImprovement, .meetsExpectation: .needsImprovement, .belowExpectation: .veryPoor],
        ],
        curve: [
            .outstanding: [CurveRule([.veryGood], .atMost(percent: 70))],
            .good: [CurveRule([.good], .atMost(percent: 70)), CurveRule([.needsImprovement, .poor], .atLeastOne)],
            .needsImprovement: [CurveRule([.needsImprovement], .atLeast(percent: 60)), CurveRule([.veryGood], .atMost(percent: 10))],
            .poor: [CurveRule([.poor], .atLeast(percent: 60)), CurveRule([.needsImprovement], .atLeast(percent: 10)), CurveRule([.veryGood], .atMost(percent: 10))],
            .veryPoor: [CurveRule([.veryPoor], .atLeast(percent: 60)), CurveRule([.poor, .needsImprovement], .atLeast(percent: 10)), CurveRule([.veryGood], .atMost(percent: 0))],
        ],
        minimumTrainingHours: 20,
        backdatingLimitDays: 30,
        clockSkewAllowanceMicros: 5 * 60 * 1_000_000,
        objectionFilingDays: 14,
        objectionDecisionDays: 14
    )
}

/// Every rule set, each in force from its date until the next one's.
public struct RuleBook: Sendable {
    public let sets: [RuleSet]

    /// - Parameter sets: at least one; sorted here by effective date.
    public init(_ sets: [RuleSet]) {
        precondition(!sets.isEmpty, "a rule book needs a rule set")
        self.sets = sets.sorted { $0.effectiveFrom < $1.effectiveFrom }
    }

    /// The set in force on `date` (the earliest set for dates before every set).
    public func rules(on date: CivilDate) -> RuleSet {
        sets.last { $0.effectiveFrom <= date } ?? sets[0]
    }

    /// The set in force at the end of `period`: how a score for it is judged.
    public func rules(for period: Period) -> RuleSet { rules(on: period.lastDay) }

    /// The set in force at an instant (microseconds since the Unix epoch), taken in UTC: how an
    /// event recorded then is checked.
    public func rules(at micros: Int64) -> RuleSet {
        rules(on: CivilDate(daysSinceEpoch: Int(floorDivide(micros, Timestamp.microsPerDay))))
    }

    public static let standard = RuleBook([.permenPANRB6of2022])
}

/// An event as the ledger recorded it: what projections read.
public struct RecordedEvent: Sendable {
    public let event: Event
    public let seq: UInt64
    public let version: UInt64
    /// Microseconds since the Unix epoch, UTC.
    public let recordedAt: Int64

    public init(event: Event, seq: UInt64, version: UInt64, recordedAt: Int64) {
        self.event = event
        self.seq = seq
        self.version = version
        self.recordedAt = recordedAt
    }
}

/// A fold over recorded events, in `seq` order.
public protocol Projection {
    mutating func apply(_ recorded: RecordedEvent)
}
