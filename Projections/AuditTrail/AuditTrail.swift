import KinerjaDomain

/// One event of the audit trail, with what it changed.
public struct AuditEntry: Hashable, Sendable {
    public var seq: UInt64
    /// Microseconds since the epoch, UTC.
    public var recordedAt: Int64
    public var id: EventID
    public var type: EventType
    public var subject: Subject
    public var actor: String
    public var occurredAt: Timestamp
    public var reason: String?
    /// What the event changed, against the state before it, in one line.
    public var change: String
}

/// The audit trail: every event, in `seq` order, with what it changed. The state it keeps is
/// only what a change description needs (the previous placement, target, score, rating).
public struct AuditTrail: Projection, Sendable {
    struct TargetKey: Hashable {
        var employee: NIP
        var year: Int
        var targetID: String
    }

    struct ScoreKey: Hashable {
        var employee: NIP
        var period: Period
    }

    public let rules: RuleBook
    public private(set) var entries: [AuditEntry] = []
    /// Whether to keep every entry (`entries`); a history asks only for the latest, `last`.
    private let keepsEntries: Bool
    /// Without `keepsEntries`, the latest event, not yet folded into the state: its change is
    /// described only when `last` is asked for (against the state before it).
    private var pending: RecordedEvent?
    private var placements: [NIP: Placement] = [:]
    private var targets: [TargetKey: TargetSet] = [:]
    private var scoreOf: [EventID: ScoreKey] = [:]
    private var currentScores: [ScoreKey: (Rating, Rating)] = [:]
    /// Every objection id → the score it objects to.
    private var objections: [EventID: EventID] = [:]
    private var trainingHours: [NIP: [Int: Double]] = [:]
    private var unitRatings: [String: [Int: UnitRatingCode]] = [:]

    public init(rules: RuleBook = .standard, keepsEntries: Bool = true) {
        self.rules = rules
        self.keepsEntries = keepsEntries
    }

    public mutating func apply(_ recorded: RecordedEvent) {
        if keepsEntries {
            entries.append(entry(recorded))
            fold(recorded)
        } else {
            if let pending { fold(pending) }
            pending = recorded
        }
    }

    /// The entry of the latest event applied.
    public var last: AuditEntry? {
        keepsEntries ? entries.last : pending.map(entry)
    }

    private func entry(_ recorded: RecordedEvent) -> AuditEntry {
        let event = recorded.event
        return AuditEntry(
            seq: recorded.seq, recordedAt: recorded.recordedAt, id: event.id, type: event.type, subject: event.subject,
            actor: event.actor, occurredAt: event.occurredAt, reason: event.reason, change: change(recorded))
    }

    private func predicate(_ period: Period, _ ratings: (Rating, Rating)) -> String {
        rules.rules(for: period).predicate(results: ratings.0, behavior: ratings.1).rawValue
    }

    /// What `recorded` changes, against the state before it.
    private func change(_ recorded: RecordedEvent) -> String {
        let event = recorded.event
        switch (event.subject, event.data) {
        case (.employee(let employee), .employeePlaced(let placement)):
            let now = "placed in \(placement.unit) as \(placement.position), appraiser \(placement.appraiser?.text ?? "none"), from \(placement.effectiveFrom)"
            guard let before = placements[employee] else { return now }
            return now + " (was \(before.unit), \(before.position), appraiser \(before.appraiser?.text ?? "none"))"
        case (.employee, .targetSet(let target)):
            let aligned = target.alignedTo.map { ", aligned to \($0.employee.text)/\($0.targetID)" } ?? ", not aligned"
            return "target \(target.targetID) for \(target.period) (\(target.kind.rawValue)): \(describe(target.target))\(aligned)"
        case (.employee(let employee), .targetRevised(let revision)):
            guard let target = targets[TargetKey(employee: employee, year: revision.period.year, targetID: revision.targetID)] else {
                return "revised target \(revision.targetID) for \(revision.period)"
            }
            var changes: [String] = []
            if let plan = revision.plan { changes.append("plan \"\(target.plan)\" → \"\(plan)\"") }
            if let indicator = revision.indicator { changes.append("indicator \"\(target.indicator)\" → \"\(indicator)\"") }
            if let quantity = revision.target { changes.append("target \(describe(target.target)) → \(describe(quantity))") }
            if case .set(let alignment) = revision.alignedTo { changes.append("aligned_to \(describe(target.alignedTo)) → \(describe(alignment))") }
            return "revised target \(revision.targetID) for \(revision.period): " + changes.joined(separator: "; ")
        case (.employee(let employee), .scoreGiven(let score)):
            let ratings = (score.resultsRating, score.behaviorRating)
            let now = "score for \(score.period): results \(score.resultsRating.rawValue), behaviour \(score.behaviorRating.rawValue) → \(predicate(score.period, ratings))"
            guard let before = currentScores[ScoreKey(employee: employee, period: score.period)] else { return now }
            return now + " (replaces \(predicate(score.period, before)))"
        case (.employee, .scoreCorrected(let correction)):
            guard let key = scoreOf[correction.corrects] else { return "corrects \(correction.corrects)" }
            let ratings = (correction.resultsRating, correction.behaviorRating)
            let before = currentScores[key].map { predicate(key.period, $0) } ?? "?"
            return "corrects the score for \(key.period) (\(correction.basis.rawValue)): \(before) → \(predicate(key.period, ratings))"
                + " (results \(correction.resultsRating.rawValue), behaviour \(correction.behaviorRating.rawValue))"
        case (.employee, .feedbackGiven(let feedback)):
            let about = [feedback.aspect?.rawValue, feedback.topic].compactMap { $0 }
            return "\(feedback.relation.rawValue) feedback for \(feedback.period)" + (about.isEmpty ? "" : " on " + about.joined(separator: ", "))
        case (.employee(let employee), .trainingCompleted(let training)):
            let year = training.completedOn.year
            let total = (trainingHours[employee]?[year] ?? 0) + training.hours
            return "+\(training.hours.plainText) JP (\(training.title)), \(total.plainText) JP in \(year)"
        case (.unit(let unit), .unitRated(let rating)):
            let before = unitRatings[unit]?[rating.period.year].map { " (was \($0.rawValue))" } ?? ""
            return "unit rated \(rating.rating.rawValue) for \(rating.period)\(before)"
        case (.employee, .objectionFiled(let objection)):
            guard let key = scoreOf[objection.score] else { return "objection to \(objection.score), received \(objection.receivedOn)" }
            let standing = currentScores[key].map { " (now \(predicate(key.period, $0)))" } ?? ""
            return "objection to the score for \(key.period)\(standing), received \(objection.receivedOn)"
        case (.employee, .objectionDecided(let decision)):
            guard let score = objections[decision.objection], let key = scoreOf[score] else {
                return "objection \(decision.objection) \(decision.outcome.rawValue)"
            }
            let before = currentScores[key].map { predicate(key.period, $0) } ?? "?"
            guard let ratings = decision.ratings else { return "objection rejected: the score for \(key.period) stays \(before)" }
            return "objection upheld: the score for \(key.period) \(before) → \(predicate(key.period, (ratings.results, ratings.behavior)))"
                + " (results \(ratings.results.rawValue), behaviour \(ratings.behavior.rawValue))"
        case (.employee, .activityLogged(let activity)):
            let output = activity.output.map { ": \(describe($0))" } ?? ""
            return "activity on \(activity.date) toward \(activity.targetID)\(output)" + (activity.evidence.map { ", evidence \($0)" } ?? "")
        default:
            return event.type.rawValue
        }
    }

    /// Folds `recorded` into the state the descriptions need.
    private mutating func fold(_ recorded: RecordedEvent) {
        let event = recorded.event
        switch (event.subject, event.data) {
        case (.employee(let employee), .employeePlaced(let placement)):
            placements[employee] = placement
        case (.employee(let employee), .targetSet(let target)):
            targets[TargetKey(employee: employee, year: target.period.year, targetID: target.targetID)] = target
        case (.employee(let employee), .targetRevised(let revision)):
            let key = TargetKey(employee: employee, year: revision.period.year, targetID: revision.targetID)
            guard var target = targets[key] else { return }
            if let plan = revision.plan { target.plan = plan }
            if let indicator = revision.indicator { target.indicator = indicator }
            if let quantity = revision.target { target.target = quantity }
            if case .set(let alignment) = revision.alignedTo { target.alignedTo = alignment }
            targets[key] = target
        case (.employee(let employee), .scoreGiven(let score)):
            let key = ScoreKey(employee: employee, period: score.period)
            scoreOf[event.id] = key
            currentScores[key] = (score.resultsRating, score.behaviorRating)
        case (.employee, .scoreCorrected(let correction)):
            guard let key = scoreOf[correction.corrects] else { return }
            scoreOf[event.id] = key
            currentScores[key] = (correction.resultsRating, correction.behaviorRating)
        case (.employee, .objectionFiled(let objection)):
            objections[event.id] = objection.score
        case (.employee, .objectionDecided(let decision)):
            guard let ratings = decision.ratings, let score = objections[decision.objection], let key = scoreOf[score] else { return }
            currentScores[key] = (ratings.results, ratings.behavior)
        case (.employee(let employee), .trainingCompleted(let training)):
            trainingHours[employee, default: [:]][training.completedOn.year, default: 0] += training.hours
        case (.unit(let unit), .unitRated(let rating)):
            unitRatings[unit, default: [:]][rating.period.year] = rating.rating
        default:
            break
        }
    }

    private func describe(_ quantity: TargetQuantity) -> String { "\(quantity.value.plainText) \(quantity.unit)" }

    private func describe(_ alignment: Alignment?) -> String {
        alignment.map { "\($0.employee.text)/\($0.targetID)" } ?? "null"
    }
}
