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
public enum ObjectionState: String, Hashable, Sendable {
    case pending
    case upheld
    case rejected
    /// Decided, and then replaced by a later score or correction (the decision is final).
    case overridden

    /// The state once another score or correction replaces the score.
    var afterReplacement: ObjectionState {
        self == .pending ? .pending : .overridden
    }
}

/// Current scores (predikat kinerja): for each employee and period, the latest by `seq` of the
/// `score.given` events for that period and the `score.corrected` events that correct one of
/// them, directly or through another correction, and the upheld `objection.decided` events whose
/// objection names one of them (PRODUCT §7). The predikat is derived with the rule set in
/// force at the end of the period.
public struct Scores: Projection, Sendable {
    public struct Key: Hashable, Sendable {
        public var employee: NIP
        public var period: Period

        public init(employee: NIP, period: Period) {
            self.employee = employee
            self.period = period
        }
    }

    public let rules: RuleBook
    /// Every score and correction id → the employee and period it scores.
    public private(set) var scoredBy: [EventID: Key] = [:]
    public private(set) var current: [Key: ScoreRow] = [:]
    /// Every score and correction id → the `score.given` it goes back to (its actor and id).
    private var origins: [EventID: (actor: String, event: EventID)] = [:]
    /// Every objection id → the score it objects to.
    private var objections: [EventID: EventID] = [:]

    public init(rules: RuleBook = .standard) { self.rules = rules }

    public mutating func apply(_ recorded: RecordedEvent) {
        let event = recorded.event
        guard case .employee(let employee) = event.subject else { return }
        switch event.data {
        case .scoreGiven(let score):
            let key = Key(employee: employee, period: score.period)
            scoredBy[event.id] = key
            origins[event.id] = (event.actor, event.id)
            current[key] = row(key, score.resultsRating, score.behaviorRating, recorded, origin: origins[event.id]!, objection: current[key]?.objection?.afterReplacement)
        case .scoreCorrected(let correction):
            guard let key = scoredBy[correction.corrects], let origin = origins[correction.corrects] else { return }
            scoredBy[event.id] = key
            origins[event.id] = origin
            current[key] = row(key, correction.resultsRating, correction.behaviorRating, recorded, origin: origin, objection: current[key]?.objection?.afterReplacement, correction: correction.basis)
        case .objectionFiled(let objection):
            guard let key = scoredBy[objection.score] else { return }
            objections[event.id] = objection.score
            current[key]?.objection = .pending
        case .objectionDecided(let decision):
            guard let score = objections[decision.objection], let key = scoredBy[score], let origin = origins[score] else { return }
            if let ratings = decision.ratings {
                current[key] = row(key, ratings.results, ratings.behavior, recorded, origin: origin, objection: .upheld)
            } else {
                current[key]?.objection = .rejected
            }
        default:
            break
        }
    }

    private func row(
        _ key: Key, _ results: Rating, _ behavior: Rating, _ recorded: RecordedEvent, origin: (actor: String, event: EventID), objection: ObjectionState?,
        correction: CorrectionBasis? = nil
    ) -> ScoreRow {
        ScoreRow(
            employee: key.employee, period: key.period, resultsRating: results, behaviorRating: behavior,
            predicate: rules.rules(for: key.period).predicate(results: results, behavior: behavior),
            actor: recorded.event.actor, event: recorded.event.id, seq: recorded.seq, correction: correction,
            setBy: recorded.event.type, originalActor: origin.actor, originalEvent: origin.event, objection: objection)
    }

    /// The score an objection objects to, if it is known.
    public func score(objectedBy objection: EventID) -> EventID? { objections[objection] }

    /// The current scores, by employee then period.
    public var rows: [ScoreRow] {
        current.values.sorted { ($0.employee, $0.period) < ($1.employee, $1.period) }
    }

    /// The current score of `employee` for `period`.
    public func score(_ employee: NIP, _ period: Period) -> ScoreRow? { current[Key(employee: employee, period: period)] }

    /// The period and employee a score or correction is about.
    public func key(of id: EventID) -> Key? { scoredBy[id] }
}
