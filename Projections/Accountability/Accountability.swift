import KinerjaDomain
import ScoresProjection
import TrainingProjection

/// The finding codes of PRODUCT §5 and §7, in the order reports list them.
public enum FindingCode: String, CaseIterable, Hashable, Sendable {
    case scoreWithoutTarget = "score_without_target"
    case appraiserMismatch = "appraiser_mismatch"
    case noPlacement = "no_placement"
    case selfAssessment = "self_assessment"
    case correctionAuthority = "correction_authority"
    case lowScoreWithoutFeedback = "low_score_without_feedback"
    case trainingBelowMinimum = "training_below_minimum"
    case unalignedTarget = "unaligned_target"
    case missingAnnualScore = "missing_annual_score"
    case backdatedEntry = "backdated_entry"
    case distributionViolation = "distribution_violation"
    case objectionOutOfTime = "objection_out_of_time"
    case objectionDecider = "objection_decider"
    case objectionUndecided = "objection_undecided"
    case decisionOverridden = "decision_overridden"
    case alignmentBroken = "alignment_broken"
}

/// One breach of the process rules, with the events involved.
public struct Finding: Hashable, Sendable {
    public var code: FindingCode
    public var subject: Subject
    public var period: Period
    public var events: [EventID]
    public var message: String
    /// The `seq` of the event that raised it (for end-of-year checks, the latest involved).
    public var seq: UInt64

    public init(code: FindingCode, subject: Subject, period: Period, events: [EventID], message: String, seq: UInt64) {
        self.code = code
        self.subject = subject
        self.period = period
        self.events = events
        self.message = message
        self.seq = seq
    }
}

/// Accountability: whether the process rules were followed. Findings are independent: one
/// event can raise several. Decisions are judged by what was recorded before them (the replay
/// is in `seq` order); year-end checks (training, missing annual score, unaligned targets,
/// the distribution curve) by everything replayed.
public struct Accountability: Projection, Sendable {
    struct EmployeeYear: Hashable {
        var employee: NIP
        var year: Int
    }

    struct TargetKey: Hashable {
        var employee: NIP
        var year: Int
        var targetID: String
    }

    struct TargetState {
        var alignedTo: Alignment?
        var appraiserInEffect: Bool
        var events: [EventID]
        var seq: UInt64
    }

    struct Objection {
        var id: EventID
        var employee: NIP
        var seq: UInt64
        var recordedAt: Int64
        var receivedOn: CivilDate
        /// The date of its `occurred_at`.
        var filedOn: CivilDate
        /// The objected score's employee and period, when the score is known.
        var key: Scores.Key?
        /// The decision's id and `recorded_at`, once recorded.
        var decision: (id: EventID, recordedAt: Int64)?
    }

    struct UnitYear: Hashable {
        var unit: String
        var year: Int
    }

    public let rules: RuleBook
    public private(set) var scores: Scores
    public private(set) var training = TrainingHours()
    public private(set) var placements = PlacementTimeline()
    private var decisionFindings: [Finding] = []
    /// The first `target.set` of each employee and year.
    private var firstTargets: [EmployeeYear: (id: EventID, seq: UInt64)] = [:]
    private var supervisorFeedback: Set<EmployeeYear> = []
    private var annualScores: Set<EmployeeYear> = []
    private var targets: [TargetKey: TargetState] = [:]
    private var unitRatings: [UnitYear: (rating: UnitRatingCode, id: EventID, seq: UInt64)] = [:]
    /// Every objection, in `seq` order, and where each id is in that list.
    private var objections: [Objection] = []
    private var objectionIndex: [EventID: Int] = [:]
    /// The latest `objection.decided` on each employee and period.
    private var decided: [Scores.Key: EventID] = [:]
    /// The `recorded_at` of the last event applied: the report's point in time.
    private var lastRecordedAt: Int64 = .min

    public init(rules: RuleBook = .standard) {
        self.rules = rules
        scores = Scores(rules: rules)
    }

    public mutating func apply(_ recorded: RecordedEvent) {
        let event = recorded.event
        lastRecordedAt = recorded.recordedAt
        checkBackdating(recorded)
        switch (event.subject, event.data) {
        case (.employee(let employee), .employeePlaced(let placement)):
            placements.record(placement, of: employee, seq: recorded.seq, id: event.id)
        case (.employee(let employee), .targetSet(let target)):
            let key = EmployeeYear(employee: employee, year: target.period.year)
            if firstTargets[key] == nil { firstTargets[key] = (event.id, recorded.seq) }
            let placement = placements.inEffect(employee, on: event.occurredAt.localDate)
            targets[TargetKey(employee: employee, year: target.period.year, targetID: target.targetID)] = TargetState(
                alignedTo: target.alignedTo, appraiserInEffect: placement?.placement.appraiser != nil, events: [event.id], seq: recorded.seq)
        case (.employee(let employee), .targetRevised(let revision)):
            let key = TargetKey(employee: employee, year: revision.period.year, targetID: revision.targetID)
            targets[key]?.events.append(event.id)
            targets[key]?.seq = recorded.seq
            if case .set(let alignment) = revision.alignedTo { targets[key]?.alignedTo = alignment }
        case (.employee(let employee), .scoreGiven(let score)):
            judgeScore(score, of: employee, recorded)
        case (.employee(let employee), .scoreCorrected(let correction)):
            judgeCorrection(correction, of: employee, recorded)
        case (.employee(let employee), .feedbackGiven(let feedback)) where feedback.relation == .supervisor:
            supervisorFeedback.insert(EmployeeYear(employee: employee, year: feedback.period.year))
        case (.unit(let unit), .unitRated(let rating)):
            unitRatings[UnitYear(unit: unit, year: rating.period.year)] = (rating.rating, event.id, recorded.seq)
        case (.employee(let employee), .objectionFiled(let objection)):
            objectionIndex[event.id] = objections.count
            objections.append(Objection(
                id: event.id, employee: employee, seq: recorded.seq, recordedAt: recorded.recordedAt, receivedOn: objection.receivedOn, filedOn: event.occurredAt.localDate,
                key: scores.key(of: objection.score)))
        case (.employee(let employee), .objectionDecided(let decision)):
            judgeDecision(decision, of: employee, recorded)
        default:
            break
        }
        scores.apply(recorded)
        training.apply(recorded)
    }

    private mutating func raise(_ code: FindingCode, _ subject: Subject, _ period: Period, _ events: [EventID], _ message: String, seq: UInt64) {
        decisionFindings.append(Finding(code: code, subject: subject, period: period, events: events, message: message, seq: seq))
    }

    private mutating func checkBackdating(_ recorded: RecordedEvent) {
        let event = recorded.event
        let limit = rules.rules(on: event.occurredAt.localDate).backdatingLimitDays
        let delay = recorded.recordedAt - event.occurredAt.micros
        guard delay > Int64(limit) * Timestamp.microsPerDay else { return }
        let period: Period = switch event.data {
        case .targetSet(let target): target.period
        case .targetRevised(let revision): revision.period
        case .scoreGiven(let score): score.period
        case .feedbackGiven(let feedback): feedback.period
        case .unitRated(let rating): rating.period
        case .scoreCorrected(let correction): scores.key(of: correction.corrects)?.period ?? Period(year: event.occurredAt.localDate.year)
        case .objectionFiled(let objection): scores.key(of: objection.score)?.period ?? Period(year: event.occurredAt.localDate.year)
        case .objectionDecided(let decision): objectionIndex[decision.objection].flatMap { objections[$0].key?.period } ?? Period(year: event.occurredAt.localDate.year)
        case .activityLogged(let activity): Period(year: activity.date.year)
        default: Period(year: event.occurredAt.localDate.year)
        }
        let days = delay / Timestamp.microsPerDay
        raise(.backdatedEntry, event.subject, period, [event.id], "\(event.type.rawValue) recorded \(days) days after it occurred (limit \(limit))", seq: recorded.seq)
    }

    private mutating func judgeScore(_ score: ScoreGiven, of employee: NIP, _ recorded: RecordedEvent) {
        let event = recorded.event
        let subject = Subject.employee(employee)
        let year = EmployeeYear(employee: employee, year: score.period.year)
        if score.period.isAnnual { annualScores.insert(year) }
        if firstTargets[year] == nil {
            raise(.scoreWithoutTarget, subject, score.period, [event.id], "score for \(score.period) given with no target set for \(score.period.year) before it", seq: recorded.seq)
        }
        let lastDay = score.period.lastDay
        if let placement = placements.inEffect(employee, on: lastDay) {
            if let appraiser = placement.placement.appraiser, !appraiser.isText(event.actor) {
                raise(.appraiserMismatch, subject, score.period, [event.id, placement.id],
                      "scored by \(event.actor), but the appraiser in effect on \(lastDay) is \(appraiser.text)", seq: recorded.seq)
            }
        } else {
            raise(.noPlacement, subject, score.period, [event.id], "scored for \(score.period) with no placement in effect on \(lastDay)", seq: recorded.seq)
        }
        if employee.isText(event.actor) {
            raise(.selfAssessment, subject, score.period, [event.id], "the employee scored themself for \(score.period)", seq: recorded.seq)
        }
        let predicate = rules.rules(for: score.period).predicate(results: score.resultsRating, behavior: score.behaviorRating)
        checkFeedback(predicate, employee, score.period, recorded)
        checkOverride(Scores.Key(employee: employee, period: score.period), recorded)
    }

    private mutating func judgeCorrection(_ correction: ScoreCorrection, of employee: NIP, _ recorded: RecordedEvent) {
        let event = recorded.event
        let subject = Subject.employee(employee)
        let period = scores.key(of: correction.corrects)?.period ?? Period(year: event.occurredAt.localDate.year)
        if correction.basis == .objectionUpheld, let who = notTheAppraisersAppraiser(event.actor, of: employee, on: event.occurredAt.localDate) {
            raise(.correctionAuthority, subject, period, [event.id, correction.corrects], "objection upheld by \(event.actor), but \(who)", seq: recorded.seq)
        }
        let predicate = rules.rules(for: period).predicate(results: correction.resultsRating, behavior: correction.behaviorRating)
        checkFeedback(predicate, employee, period, recorded)
        if let key = scores.key(of: correction.corrects) { checkOverride(key, recorded) }
    }

    /// Nil when `actor` is the appraiser's appraiser of `employee` on `date` (placements in
    /// effect then); else what the appraiser's appraiser is, or why there is none.
    private func notTheAppraisersAppraiser(_ actor: String, of employee: NIP, on date: CivilDate) -> String? {
        let appraiser = placements.inEffect(employee, on: date)?.placement.appraiser
        let appraisersAppraiser = appraiser.flatMap { placements.inEffect($0, on: date)?.placement.appraiser }
        if appraisersAppraiser?.isText(actor) == true { return nil }
        let who = appraisersAppraiser.map { "is \($0.text)" } ?? (appraiser == nil ? "cannot be found: no appraiser in effect" : "cannot be found: the appraiser \(appraiser!.text) has none in effect")
        return "the appraiser's appraiser on \(date) \(who)"
    }

    /// `decision_overridden`: a score or correction for a period an objection was decided on.
    private mutating func checkOverride(_ key: Scores.Key, _ recorded: RecordedEvent) {
        guard let decision = decided[key] else { return }
        raise(.decisionOverridden, .employee(key.employee), key.period, [recorded.event.id, decision],
              "\(recorded.event.type.rawValue) by \(recorded.event.actor) after the objection for \(key.period) was decided: the decision is final", seq: recorded.seq)
    }

    private mutating func judgeDecision(_ decision: ObjectionDecision, of employee: NIP, _ recorded: RecordedEvent) {
        let event = recorded.event
        guard let index = objectionIndex[decision.objection] else { return }
        objections[index].decision = (event.id, recorded.recordedAt)
        let objection = objections[index]
        let period = objection.key?.period ?? Period(year: event.occurredAt.localDate.year)
        if let key = objection.key { decided[key] = event.id }
        if let who = notTheAppraisersAppraiser(event.actor, of: employee, on: event.occurredAt.localDate) {
            raise(.objectionDecider, .employee(employee), period, [event.id, decision.objection], "objection \(decision.outcome.rawValue) by \(event.actor), but \(who)", seq: recorded.seq)
        }
        guard decision.outcome == .upheld else { return }
        let limit = rules.rules(on: objection.receivedOn).objectionFilingDays
        let days = objection.filedOn.daysSinceEpoch - objection.receivedOn.daysSinceEpoch
        if days > limit {
            raise(.objectionOutOfTime, .employee(employee), period, [event.id, decision.objection],
                  "objection upheld though filed on \(objection.filedOn), \(days) days after the result was received on \(objection.receivedOn) (limit \(limit))",
                  seq: recorded.seq)
        }
    }

    private mutating func checkFeedback(_ predicate: Predicate, _ employee: NIP, _ period: Period, _ recorded: RecordedEvent) {
        guard predicate.isLow, !supervisorFeedback.contains(EmployeeYear(employee: employee, year: period.year)) else { return }
        raise(.lowScoreWithoutFeedback, .employee(employee), period, [recorded.event.id],
              "\(predicate.rawValue) for \(period) with no supervisor feedback for \(period.year) recorded before it", seq: recorded.seq)
    }

    /// Every finding, decisions and year-end checks, ordered by year, code, subject and `seq`.
    /// - Parameter year: only findings whose period falls in this year.
    public func findings(year: Int? = nil) -> [Finding] {
        var all = decisionFindings + yearEndFindings()
        if let year { all = all.filter { $0.period.year == year } }
        // Sort keys computed once, and the findings moved once: sorting the findings themselves
        // copies each (strings, arrays) at every step. Subjects sort as their stream names do:
        // employees (by NIP, whose digits sort as numbers) before units (by code).
        let order = Dictionary(uniqueKeysWithValues: FindingCode.allCases.enumerated().map { ($1, $0) })
        struct SortKey: Comparable {
            var year: Int, code: Int, nip: UInt64, unit: String, seq: UInt64
            static func < (a: SortKey, b: SortKey) -> Bool { (a.year, a.code, a.nip, a.unit, a.seq) < (b.year, b.code, b.nip, b.unit, b.seq) }
        }
        let keys = all.map { finding in
            switch finding.subject {
            case .employee(let nip): SortKey(year: finding.period.year, code: order[finding.code]!, nip: nip.number, unit: "", seq: finding.seq)
            case .unit(let unit): SortKey(year: finding.period.year, code: order[finding.code]!, nip: .max, unit: unit, seq: finding.seq)
            }
        }
        return keys.indices.sorted { keys[$0] < keys[$1] }.map { all[$0] }
    }

    private func yearEndFindings() -> [Finding] {
        var result: [Finding] = []
        for (key, first) in firstTargets {
            let subject = Subject.employee(key.employee)
            let period = Period(year: key.year)
            let rules = rules.rules(for: period)
            let total = training.total(key.employee, year: key.year)
            if total.hours < rules.minimumTrainingHours {
                result.append(Finding(
                    code: .trainingBelowMinimum, subject: subject, period: period, events: total.events,
                    message: "\(total.hours.plainText) JP of training completed in \(key.year), below the minimum of \(rules.minimumTrainingHours.plainText)",
                    seq: first.seq))
            }
            if !annualScores.contains(key) {
                result.append(Finding(
                    code: .missingAnnualScore, subject: subject, period: period, events: [first.id],
                    message: "targets set for \(key.year) but no annual score (period \(key.year)) given", seq: first.seq))
            }
        }
        for (key, target) in targets where target.alignedTo == nil && target.appraiserInEffect {
            result.append(Finding(
                code: .unalignedTarget, subject: .employee(key.employee), period: Period(year: key.year), events: target.events,
                message: "target \(key.targetID) is not aligned to a target of the appraiser", seq: target.seq))
        }
        for objection in objections {
            let limit = rules.rules(on: Timestamp(micros: objection.recordedAt).localDate).objectionDecisionDays
            let decidedAt = objection.decision?.recordedAt ?? lastRecordedAt
            let days = (decidedAt - objection.recordedAt) / Timestamp.microsPerDay
            guard decidedAt - objection.recordedAt > Int64(limit) * Timestamp.microsPerDay else { continue }
            let message = objection.decision == nil
                ? "objection still undecided \(days) days after it was recorded (limit \(limit))"
                : "objection decided \(days) days after it was recorded (limit \(limit))"
            result.append(Finding(
                code: .objectionUndecided, subject: .employee(objection.employee),
                period: objection.key?.period ?? Period(year: Timestamp(micros: objection.recordedAt).localDate.year),
                events: [objection.id] + (objection.decision.map { [$0.id] } ?? []), message: message, seq: objection.seq))
        }
        for (key, target) in targets {
            guard let aligned = target.alignedTo, targets[TargetKey(employee: aligned.employee, year: key.year, targetID: aligned.targetID)] == nil else { continue }
            result.append(Finding(
                code: .alignmentBroken, subject: .employee(key.employee), period: Period(year: key.year), events: target.events,
                message: "target \(key.targetID) is aligned to \(aligned.employee.text)/\(aligned.targetID), which that employee has not set for \(key.year)",
                seq: target.seq))
        }
        for (key, rated) in unitRatings {
            let period = Period(year: key.year)
            let lastDay = period.lastDay
            var members: [ScoreRow] = []
            for employee in placements.employees where placements.inEffect(employee, on: lastDay)?.placement.unit == key.unit {
                if let score = scores.score(employee, period) { members.append(score) }
            }
            guard !members.isEmpty else { continue }
            let broken = (rules.rules(for: period).curve[rated.rating] ?? []).filter { rule in
                !rule.holds(count: members.filter { rule.predicates.contains($0.predicate) }.count, total: members.count)
            }
            guard !broken.isEmpty else { continue }
            let counts = Predicate.allCases.compactMap { predicate -> String? in
                let count = members.filter { $0.predicate == predicate }.count
                return count == 0 ? nil : "\(count) \(predicate.rawValue)"
            }
            let scoreEvents = members.sorted { $0.seq < $1.seq }.map(\.event)
            result.append(Finding(
                code: .distributionViolation, subject: .unit(key.unit), period: period, events: [rated.id] + scoreEvents,
                message: "unit rated \(rated.rating.rawValue); of \(members.count) annual scores (\(counts.joined(separator: ", "))) the curve needs \(broken.map(\.description).joined(separator: "; "))",
                seq: max(rated.seq, members.map(\.seq).max() ?? 0)))
        }
        return result
    }
}
