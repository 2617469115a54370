import AppraisalCore
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

/// The audit trail: every event, in `seq` order, with what it changed against the state before
/// it. The state is ``AppraisalState``'s; this layer only describes.
public struct AuditTrail: Projection, Sendable {
    public private(set) var state: AppraisalState
    public private(set) var entries: [AuditEntry] = []

    public init(rules: RuleBook = .standard) { state = AppraisalState(rules: rules) }

    public var rules: RuleBook { state.rules }

    public mutating func apply(_ recorded: RecordedEvent) {
        recorded.withView { apply($0) }
    }

    public mutating func apply(_ event: borrowing EventView) {
        entries.append(Self.entry(event, before: state))
        state.apply(event)
    }

    /// The entry of the latest event applied.
    public var last: AuditEntry? { entries.last }

    /// The entry of `event`, its change described against `state`, the state before it.
    public static func entry(_ event: borrowing EventView, before state: AppraisalState) -> AuditEntry {
        AuditEntry(
            seq: event.seq, recordedAt: event.recordedAt, id: event.id, type: event.type, subject: event.subject,
            actor: event.actor.string, occurredAt: event.occurredAt, reason: event.reason?.string, change: change(event, before: state))
    }

    /// What `event` changes, against `state`, the state before it.
    public static func change(_ event: borrowing EventView, before state: AppraisalState) -> String {
        let names = state.names
        let record = event.employee.flatMap { state.employee($0) }
        switch event.data {
        case .employeePlaced(let placement):
            let now = "placed in \(placement.unit.string) as \(placement.position.string), appraiser \(placement.appraiser?.text ?? "none"), from \(placement.effectiveFrom)"
            guard let before = record.flatMap({ state.employee(number: $0).placements.last }) else { return now }
            return now + " (was \(names[before.unit]), \(names[before.position]), appraiser \(before.appraiser?.text ?? "none"))"
        case .targetSet(let target):
            let aligned = target.alignedTo.map { ", aligned to \($0.employee.text)/\($0.targetID.string)" } ?? ", not aligned"
            return "target \(target.targetID.string) for \(target.period) (\(target.kind.rawValue)): \(target.value.plainText) \(target.unit.string)\(aligned)"
        case .targetRevised(let revision):
            guard let record, let target = state.target(of: record, year: revision.period.year, revision.targetID) else {
                return "revised target \(revision.targetID.string) for \(revision.period)"
            }
            var changes: [String] = []
            if let plan = revision.plan { changes.append("plan \"\(state.texts[target.plan])\" → \"\(plan.string)\"") }
            if let indicator = revision.indicator { changes.append("indicator \"\(state.texts[target.indicator])\" → \"\(indicator.string)\"") }
            if let quantity = revision.target {
                changes.append("target \(target.value.plainText) \(names[target.unit]) → \(quantity.value.plainText) \(quantity.unit.string)")
            }
            if let alignment = revision.alignedTo {
                let before = target.alignedTo.map { "\($0.employee.text)/\(names[$0.targetID])" } ?? "null"
                let after = alignment.map { "\($0.employee.text)/\($0.targetID.string)" } ?? "null"
                changes.append("aligned_to \(before) → \(after)")
            }
            return "revised target \(revision.targetID.string) for \(revision.period): " + changes.joined(separator: "; ")
        case .scoreGiven(let score):
            let predicate = state.predicate(score.period, score.resultsRating, score.behaviorRating)
            let now = "score for \(score.period): results \(score.resultsRating.rawValue), behaviour \(score.behaviorRating.rawValue) → \(predicate.rawValue)"
            guard let before = record.flatMap({ state.employee(number: $0).score(score.period) }) else { return now }
            return now + " (replaces \(before.predicate.rawValue))"
        case .scoreCorrected(let correction):
            guard let reference = state.scoreReference(of: correction.corrects) else { return "corrects \(correction.corrects)" }
            let before = state.score(reference)
            return "corrects the score for \(before.period) (\(correction.basis.rawValue)): \(before.predicate.rawValue) → "
                + "\(state.predicate(before.period, correction.resultsRating, correction.behaviorRating).rawValue)"
                + " (results \(correction.resultsRating.rawValue), behaviour \(correction.behaviorRating.rawValue))"
        case .feedbackGiven(let feedback):
            let about = [feedback.aspect?.rawValue, feedback.topic?.string].compactMap { $0 }
            return "\(feedback.relation.rawValue) feedback for \(feedback.period)" + (about.isEmpty ? "" : " on " + about.joined(separator: ", "))
        case .trainingCompleted(let training):
            let year = training.completedOn.year
            let total = (record.flatMap { state.employee(number: $0).year(year)?.trainingHours } ?? 0) + training.hours
            return "+\(training.hours.plainText) JP (\(training.title.string)), \(total.plainText) JP in \(year)"
        case .unitRated(let rating):
            let before = event.unit.flatMap { state.unitRating($0.string, year: rating.period.year) }.map { " (was \($0.rating.rawValue))" } ?? ""
            return "unit rated \(rating.rating.rawValue) for \(rating.period)\(before)"
        case .objectionFiled(let objection):
            guard let reference = state.scoreReference(of: objection.score) else { return "objection to \(objection.score), received \(objection.receivedOn)" }
            let score = state.score(reference)
            return "objection to the score for \(score.period) (now \(score.predicate.rawValue)), received \(objection.receivedOn)"
        case .objectionDecided(let decision):
            guard let reference = state.objection(decision.objection)?.score else { return "objection \(decision.objection) \(decision.outcome.rawValue)" }
            let before = state.score(reference)
            guard let ratings = decision.ratings else { return "objection rejected: the score for \(before.period) stays \(before.predicate.rawValue)" }
            return "objection upheld: the score for \(before.period) \(before.predicate.rawValue) → \(state.predicate(before.period, ratings.results, ratings.behavior).rawValue)"
                + " (results \(ratings.results.rawValue), behaviour \(ratings.behavior.rawValue))"
        case .activityLogged(let activity):
            let output = activity.output.map { ": \($0.value.plainText) \($0.unit.string)" } ?? ""
            return "activity on \(activity.date) toward \(activity.targetID.string)\(output)" + (activity.evidence.map { ", evidence \($0.string)" } ?? "")
        case .accessGranted(let grant):
            let units = (try? grant.unitCodes()) ?? []
            return "granted the role \(grant.role.rawValue)" + (units.isEmpty ? "" : " in " + units.joined(separator: ", ")) + ", token id \(grant.tokenID.string)"
        case .accessRevoked(let revocation):
            return "revoked token id \(revocation.tokenID.string)"
        }
    }
}
