import AppraisalCore
import KinerjaDomain

/// An employee's current score for a period.
public struct ScoreRow: Hashable, Sendable {
    public var employee: NIP
    public var period: Period
    public var resultsRating: Rating
    public var behaviorRating: Rating
    public var predicate: Predicate
    /// Who gave the score (or the correction that stands).
    public var actor: String
    /// The event that stands: a `score.given`, or the `score.corrected` that replaced it.
    public var event: EventID
    public var seq: UInt64
    /// The basis of the correction that stands, if the score was corrected.
    public var correction: CorrectionBasis?
    /// The type of the event that stands: `score.given`, `score.corrected` or `objection.decided`.
    public var setBy: EventType
    /// Who first scored it: the `score.given` the standing event corrects or decides on, directly or not.
    public var originalActor: String
    public var originalEvent: EventID
    /// The latest objection to this score, if any: pending, upheld, rejected, or overridden by
    /// a later score or correction.
    public var objection: ObjectionState?
}

/// Where an objection (keberatan) to a score stands.
public typealias ObjectionState = AppraisalState.ObjectionState

/// Current scores (predikat kinerja): for each employee and period, the latest by `seq` of the
/// `score.given` events for that period and the `score.corrected` events that correct one of
/// them, directly or through another correction, and the upheld `objection.decided` events whose
/// objection names one of them (PRODUCT §7). The predikat is derived with the rule set in
/// force at the end of the period. A reading of ``AppraisalState``, which folds the chain.
public struct Scores: Projection, Sendable {
    public struct Key: Hashable, Sendable {
        public var employee: NIP
        public var period: Period

        public init(employee: NIP, period: Period) {
            self.employee = employee
            self.period = period
        }
    }

    public private(set) var state: AppraisalState
    public var rules: RuleBook { state.rules }

    public init(rules: RuleBook = .standard) { state = AppraisalState(rules: rules) }

    /// The scores of a state folded elsewhere.
    public init(state: AppraisalState) { self.state = state }

    public mutating func apply(_ recorded: RecordedEvent) {
        recorded.withView { state.apply($0) }
    }

    public mutating func apply(_ event: borrowing EventView) { state.apply(event) }

    /// The row of one current score.
    public static func row(_ score: AppraisalState.Score, of employee: NIP, in state: AppraisalState) -> ScoreRow {
        ScoreRow(
            employee: employee, period: score.period, resultsRating: score.resultsRating, behaviorRating: score.behaviorRating,
            predicate: score.predicate, actor: state.names[score.actor], event: score.event, seq: score.seq, correction: score.correction,
            setBy: score.setBy, originalActor: state.names[score.original.actor], originalEvent: score.original.event, objection: score.objection)
    }

    /// Every current score, by employee and period.
    public var current: [Key: ScoreRow] {
        Dictionary(uniqueKeysWithValues: rows.map { (Key(employee: $0.employee, period: $0.period), $0) })
    }

    /// The current scores, by employee then period.
    public var rows: [ScoreRow] {
        state.employees.sorted { $0.nip < $1.nip }.flatMap { employee in
            employee.scores.sorted { $0.period < $1.period }.map { Self.row($0, of: employee.nip, in: state) }
        }
    }

    /// The current score of `employee` for `period`.
    public func score(_ employee: NIP, _ period: Period) -> ScoreRow? {
        state.record(employee)?.score(period).map { Self.row($0, of: employee, in: state) }
    }

    /// The score an objection objects to, if it is known.
    public func score(objectedBy objection: EventID) -> EventID? { state.objection(objection)?.scoreEvent }

    /// The period and employee a score or correction is about.
    public func key(of id: EventID) -> Key? {
        state.scoreReference(of: id).map { Key(employee: state.employee(number: $0.employee).nip, period: state.score($0).period) }
    }
}
