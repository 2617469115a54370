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
            var line = Line()
            line.append(string: feedback.relation.rawValue)
            line.append(" feedback for ")
            line.append(string: feedback.period.description)
            if let aspect = feedback.aspect {
                line.append(" on ")
                line.append(string: aspect.rawValue)
                if let topic = feedback.topic {
                    line.append(", ")
                    line.append(topic)
                }
            } else if let topic = feedback.topic {
                line.append(" on ")
                line.append(topic)
            }
            return line.text
        case .trainingCompleted(let training):
            let year = training.completedOn.year
            let total = (record.flatMap { state.employee(number: $0).year(year)?.trainingHours } ?? 0) + training.hours
            var line = Line()
            line.append("+")
            line.number(training.hours)
            line.append(" JP (")
            line.append(training.title)
            line.append("), ")
            line.number(total)
            line.append(" JP in ")
            line.append(string: String(year))
            return line.text
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
            // Most of an employee's events: the line is written as bytes, once (interpolating
            // it was most of the cost of a history).
            var line = Line()
            line.append("activity on ")
            line.append(activity.date)
            line.append(" toward ")
            line.append(activity.targetID)
            if let output = activity.output {
                line.append(": ")
                line.number(output.value)
                line.append(" ")
                line.append(output.unit)
            }
            if let evidence = activity.evidence {
                line.append(", evidence ")
                line.append(evidence)
            }
            return line.text
        case .accessGranted(let grant):
            let units = (try? grant.unitCodes()) ?? []
            return "granted the role \(grant.role.rawValue)" + (units.isEmpty ? "" : " in " + units.joined(separator: ", ")) + ", token id \(grant.tokenID.string)"
        case .accessRevoked(let revocation):
            return "revoked token id \(revocation.tokenID.string)"
        }
    }
}

/// A line of text written as UTF-8 bytes and made a `String` once: what ``AuditTrail/change(_:before:)``
/// builds for the frequent events (one allocation, where interpolation appended piece by piece).
private struct Line {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(128) }

    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func append(string text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// The text's bytes as stored (checked for UTF-8 when the event was appended).
    mutating func append(_ text: TextView) { bytes.append(contentsOf: text.bytes) }

    /// `YYYY-MM-DD`, as ``CivilDate/description`` writes it.
    mutating func append(_ date: CivilDate) { date.appendDescription(to: &bytes) }

    /// As `plainText` writes it: an integral value without a fraction.
    mutating func number(_ value: Double) { value.appendPlainText(to: &bytes) }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
