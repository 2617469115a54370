import KinerjaDomain
import AppraisalCore
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
/// event can raise several. Decisions are judged against the state before them (the replay is
/// in `seq` order, or a bounded replay's placements first and then one stream at a time: an
/// employee's state changes only by their own events, and placements are read as recorded
/// before the event judged); year-end checks (training, missing annual score, unaligned targets, the
/// distribution curve) against everything replayed. The facts are ``AppraisalState``'s; this
/// layer keeps only the findings.
public struct Accountability: Projection, Sendable {
    public private(set) var state: AppraisalState
    public var rules: RuleBook { state.rules }
    /// Each rule set's start and backdating limit: the check every event gets, without copying a rule set.
    private let backdatingLimits: [(from: CivilDate, days: Int)]
    private var decisionFindings: [Finding] = []

    public init(rules: RuleBook = .standard) {
        state = AppraisalState(rules: rules)
        backdatingLimits = rules.sets.map { ($0.effectiveFrom, $0.backdatingLimitDays) }
    }

    public var scores: Scores { Scores(state: state) }
    public var training: TrainingHours { TrainingHours(state: state) }

    public mutating func apply(_ recorded: RecordedEvent) {
        recorded.withView { apply($0) }
    }

    /// Judges the event against the state before it, then folds it.
    public mutating func apply(_ event: borrowing EventView) {
        checkBackdating(event)
        // Only decisions are judged: the type first, since matching `event.data` copies it.
        if let employee = event.employee, event.type == .scoreGiven || event.type == .scoreCorrected || event.type == .objectionDecided {
            switch event.data {
            case .scoreGiven(let score):
                judgeScore(score, of: employee, event)
            case .scoreCorrected(let correction):
                judgeCorrection(correction, of: employee, event)
            case .objectionDecided(let decision):
                judgeDecision(decision, of: employee, event)
            default:
                break
            }
        }
        state.apply(event)
    }

    /// The other employees whose records a finding about `event`'s employee reads: the
    /// appraiser a placement names (whose own placement says who may decide an objection or
    /// correct a score on it: `correction_authority`, `objection_decider`) and the employee a
    /// target is aligned to (whose targets `alignment_broken` looks up). Nothing else in another
    /// employee's stream changes a finding about this one: corrections, objections and decisions
    /// name events of the same employee (the append rules), and the unit's curve reads its
    /// members' own scores and placements and the unit's own ratings. What a bounded replay of
    /// one unit's or employee's findings must fold besides their own events.
    public static func related(_ event: borrowing EventView) -> [NIP] {
        // The type first: matching `event.data` copies it.
        switch event.type {
        case .employeePlaced:
            guard case .employeePlaced(let placed) = event.data else { return [] }
            return placed.appraiser.map { [$0] } ?? []
        case .targetSet:
            guard case .targetSet(let target) = event.data else { return [] }
            return target.alignedTo.map { [$0.employee] } ?? []
        case .targetRevised:
            guard case .targetRevised(let revision) = event.data else { return [] }
            return revision.alignedTo.flatMap { $0 }.map { [$0.employee] } ?? []
        default:
            return []
        }
    }

    /// The types of the events ``related(_:)`` can name another employee in: a bounded replay
    /// need not decode the others to ask it.
    public static let relatedTypes: [EventType] = [.employeePlaced, .targetSet, .targetRevised]

    /// Whether the findings are the same without the `activity.logged` events recorded within a
    /// day of their `occurred_at`: those only count activities, which no finding reads, or raise
    /// `backdated_entry`, which needs a delay past the backdating limit — at least a day in every
    /// rule set.
    public var ignoresTimelyActivity: Bool { backdatingLimits.allSatisfy { $0.days >= 1 } }

    /// Moves the clock of the findings that depend on it (an objection still undecided) to
    /// the point a bounded replay stopped at (``AppraisalState/advance(to:recordedAt:)``).
    public mutating func advance(to seq: UInt64, recordedAt: Int64) {
        state.advance(to: seq, recordedAt: recordedAt)
    }

    private mutating func raise(_ code: FindingCode, _ subject: Subject, _ period: Period, _ events: [EventID], _ message: String, seq: UInt64) {
        decisionFindings.append(Finding(code: code, subject: subject, period: period, events: events, message: message, seq: seq))
    }

    private mutating func checkBackdating(_ event: borrowing EventView) {
        // A grant or a revocation is no appraisal decision: §5's findings are about employees and units.
        guard event.identity == nil else { return }
        let delay = event.recordedAt - event.occurredAt.micros
        let limit: Int
        if backdatingLimits.count == 1 {
            limit = backdatingLimits[0].days
        } else {
            let date = event.occurredAt.localDate
            limit = (backdatingLimits.last { $0.from <= date } ?? backdatingLimits[0]).days
        }
        guard delay > Int64(limit) * Timestamp.microsPerDay else { return }
        let period = event.dataPeriod ?? state.correctedPeriod(event) ?? activityPeriod(event) ?? Period(year: event.occurredAt.localDate.year)
        let days = delay / Timestamp.microsPerDay
        raise(.backdatedEntry, event.subject, period, [event.id], "\(event.type.rawValue) recorded \(days) days after it occurred (limit \(limit))", seq: event.seq)
    }

    private func activityPeriod(_ event: borrowing EventView) -> Period? {
        guard case .activityLogged(let activity) = event.data else { return nil }
        return Period(year: activity.date.year)
    }

    private mutating func judgeScore(_ score: DataView.ScoreGiven, of employee: NIP, _ event: borrowing EventView) {
        let subject = Subject.employee(employee)
        let number = state.employee(employee)
        if number.flatMap({ state.firstTarget($0, year: score.period.year) }) == nil {
            raise(.scoreWithoutTarget, subject, score.period, [event.id], "score for \(score.period) given with no target set for \(score.period.year) before it", seq: event.seq)
        }
        let lastDay = score.period.lastDay
        if let placement = number.flatMap({ state.placement(of: $0, on: lastDay, before: event.seq) }) {
            if let appraiser = placement.appraiser, !event.actor.isNIP(appraiser) {
                raise(.appraiserMismatch, subject, score.period, [event.id, placement.id],
                      "scored by \(event.actor.string), but the appraiser in effect on \(lastDay) is \(appraiser.text)", seq: event.seq)
            }
        } else {
            raise(.noPlacement, subject, score.period, [event.id], "scored for \(score.period) with no placement in effect on \(lastDay)", seq: event.seq)
        }
        if event.actor.isNIP(employee) {
            raise(.selfAssessment, subject, score.period, [event.id], "the employee scored themself for \(score.period)", seq: event.seq)
        }
        checkFeedback(state.predicate(score.period, score.resultsRating, score.behaviorRating), employee, number, score.period, event)
        if let number, let current = state.score(of: number, score.period) { checkOverride(current, employee, event) }
    }

    private mutating func judgeCorrection(_ correction: DataView.ScoreCorrected, of employee: NIP, _ event: borrowing EventView) {
        let subject = Subject.employee(employee)
        let period = state.period(of: correction.corrects) ?? Period(year: event.occurredAt.localDate.year)
        if correction.basis == .objectionUpheld, let who = notTheAppraisersAppraiser(event.actor, of: employee, on: event.occurredAt.localDate, before: event.seq) {
            raise(.correctionAuthority, subject, period, [event.id, correction.corrects], "objection upheld by \(event.actor.string), but \(who)", seq: event.seq)
        }
        checkFeedback(state.predicate(period, correction.resultsRating, correction.behaviorRating), employee, state.employee(employee), period, event)
        if let reference = state.scoreReference(of: correction.corrects) { checkOverride(state.score(reference), employee, event) }
    }

    /// Nil when `actor` is the appraiser's appraiser of `employee` on `date` (placements in
    /// effect then, as recorded before `seq`); else what the appraiser's appraiser is, or why
    /// there is none.
    private func notTheAppraisersAppraiser(_ actor: TextView, of employee: NIP, on date: CivilDate, before seq: UInt64) -> String? {
        let appraiser = state.placement(employee, on: date, before: seq)?.appraiser
        let appraisersAppraiser = appraiser.flatMap { state.placement($0, on: date, before: seq)?.appraiser }
        if let appraisersAppraiser, actor.isNIP(appraisersAppraiser) { return nil }
        let who = appraisersAppraiser.map { "is \($0.text)" } ?? (appraiser == nil ? "cannot be found: no appraiser in effect" : "cannot be found: the appraiser \(appraiser!.text) has none in effect")
        return "the appraiser's appraiser on \(date) \(who)"
    }

    /// `decision_overridden`: a score or correction for a period an objection was decided on.
    private mutating func checkOverride(_ score: AppraisalState.Score, _ employee: NIP, _ event: borrowing EventView) {
        guard let decision = score.decision else { return }
        raise(.decisionOverridden, .employee(employee), score.period, [event.id, decision],
              "\(event.type.rawValue) by \(event.actor.string) after the objection for \(score.period) was decided: the decision is final", seq: event.seq)
    }

    private mutating func judgeDecision(_ decision: DataView.ObjectionDecided, of employee: NIP, _ event: borrowing EventView) {
        guard let objection = state.objection(decision.objection) else { return }
        let period = objection.score.map { state.score($0).period } ?? Period(year: event.occurredAt.localDate.year)
        if let who = notTheAppraisersAppraiser(event.actor, of: employee, on: event.occurredAt.localDate, before: event.seq) {
            raise(.objectionDecider, .employee(employee), period, [event.id, decision.objection],
                  "objection \(decision.outcome.rawValue) by \(event.actor.string), but \(who)", seq: event.seq)
        }
        guard decision.outcome == .upheld else { return }
        let limit = rules.rules(on: objection.receivedOn).objectionFilingDays
        let days = objection.filedOn.daysSinceEpoch - objection.receivedOn.daysSinceEpoch
        if days > limit {
            raise(.objectionOutOfTime, .employee(employee), period, [event.id, decision.objection],
                  "objection upheld though filed on \(objection.filedOn), \(days) days after the result was received on \(objection.receivedOn) (limit \(limit))",
                  seq: event.seq)
        }
    }

    /// - Parameter number: `employee`'s number in ``state``, if any.
    private mutating func checkFeedback(_ predicate: Predicate, _ employee: NIP, _ number: Int32?, _ period: Period, _ event: borrowing EventView) {
        guard predicate.isLow, !(number.map { state.hasSupervisorFeedback($0, year: period.year) } ?? false) else { return }
        raise(.lowScoreWithoutFeedback, .employee(employee), period, [event.id],
              "\(predicate.rawValue) for \(period) with no supervisor feedback for \(period.year) recorded before it", seq: event.seq)
    }

    /// Every finding, decisions and year-end checks, ordered by year, code, subject and `seq`.
    /// - Parameter year: only findings whose period falls in this year.
    public func findings(year: Int? = nil) -> [Finding] {
        var all = findings(ofShare: { _ in true }, units: true) + distributionFindings(scores: memberScores(ofShare: { _ in true }))
        if let year { all = all.filter { $0.period.year == year } }
        return Self.order(all).map { all[$0] }
    }

    // Several replays can share out one unit's members (each folds its share's events and those
    // of the employees they name, and every one the unit's events): each employee's findings
    // are those of the replay whose share they are in, the unit's own those of any one of them,
    // and the distribution curve is judged on the members' scores from all of them. Ordered
    // (``order(_:)``), they are the findings of one replay of all the members.

    /// The findings about the employees `owns` says are this replay's share (decisions and
    /// year-end checks), and with `units` those about units but the distribution curve (a
    /// unit's backdated rating), in no particular order.
    public func findings(ofShare owns: (NIP) -> Bool, units: Bool) -> [Finding] {
        decisionFindings.filter { finding in
            switch finding.subject {
            case .employee(let nip): owns(nip)
            case .unit, .identity: units
            }
        } + employeeYearEndFindings(owns)
    }

    /// The annual scores of the members of each unit (a placement in it on 31 December) among
    /// the employees `owns` says are this replay's, by year, for each year a unit was rated.
    public func memberScores(ofShare owns: (NIP) -> Bool) -> [Int: [String: [AppraisalState.Score]]] {
        var result: [Int: [String: [AppraisalState.Score]]] = [:]
        for year in Set(state.unitRatings.map(\.year)) {
            var byUnit: [String: [AppraisalState.Score]] = [:]
            for (unit, scores) in state.members(year: year) {
                byUnit[state.names[unit], default: []] += scores.filter { owns($0.employee) }.map(\.score)
            }
            result[year] = byUnit
        }
        return result
    }

    /// The permutation that orders `findings` by year, code, subject and `seq`: the order of
    /// ``findings(year:)``.
    public static func order(_ findings: [Finding]) -> [Int] {
        // Sort keys computed once, and the findings moved once: sorting the findings themselves
        // copies each (strings, arrays) at every step.
        let keys = sortKeys(findings)
        return keys.indices.sorted { keys[$0] < keys[$1] }
    }

    /// Lists each in the order of ``order(_:)``, merged: where in `lists` (which list, and where
    /// in it) each finding of the merged order is. Findings that tie stay in the order of the
    /// lists, so this is the order ``order(_:)`` gives their concatenation (its sort is stable).
    ///
    /// - Precondition: each list is already in the order of ``order(_:)`` (checked in debug
    ///   builds; a list out of order would be merged into an order that is not the reports').
    public static func mergedOrder(_ lists: [[Finding]]) -> [(list: Int, index: Int)] {
        let keys = lists.map(sortKeys)
        assert(keys.allSatisfy { list in zip(list, list.dropFirst()).allSatisfy { !($1 < $0) } }, "each list in the order of Accountability.order")
        var next = [Int](repeating: 0, count: lists.count)
        var result: [(list: Int, index: Int)] = []
        result.reserveCapacity(lists.reduce(0) { $0 + $1.count })
        while true {
            var best: Int?
            for list in keys.indices where next[list] < keys[list].count {
                // Strictly less: a tie goes to the earlier list.
                if let current = best, !(keys[list][next[list]] < keys[current][next[current]]) { continue }
                best = list
            }
            guard let best else { return result }
            result.append((best, next[best]))
            next[best] += 1
        }
    }

    /// A finding's place in the order of reports: year, code (in ``FindingCode``'s order),
    /// subject (as stream names sort: employees by NIP, whose digits sort as numbers, before
    /// units by code), `seq`.
    private struct SortKey: Comparable {
        var year: Int, code: Int, nip: UInt64, unit: String, seq: UInt64
        static func < (a: SortKey, b: SortKey) -> Bool { (a.year, a.code, a.nip, a.unit, a.seq) < (b.year, b.code, b.nip, b.unit, b.seq) }
    }

    private static let codeOrder = Dictionary(uniqueKeysWithValues: FindingCode.allCases.enumerated().map { ($1, $0) })

    private static func sortKeys(_ findings: [Finding]) -> [SortKey] {
        let order = codeOrder
        return findings.map { finding in
            switch finding.subject {
            case .employee(let nip): SortKey(year: finding.period.year, code: order[finding.code]!, nip: nip.number, unit: "", seq: finding.seq)
            case .unit(let unit), .identity(let unit): SortKey(year: finding.period.year, code: order[finding.code]!, nip: .max, unit: unit, seq: finding.seq)
            }
        }
    }

    /// The year-end findings about the employees `includes`: training, missing annual scores,
    /// targets unaligned or aligned to nothing, objections left undecided.
    private func employeeYearEndFindings(_ includes: (NIP) -> Bool) -> [Finding] {
        var result: [Finding] = []
        // By number: an employee's record is not copied (its lists retained and released) to read it.
        for number in state.employees.indices where includes(state.employees[number].nip) {
            let subject = Subject.employee(state.employees[number].nip)
            for year in state.employees[number].years {
                guard let first = year.firstTarget else { continue }
                let period = Period(year: year.year)
                let rules = rules.rules(for: period)
                if year.trainingHours < rules.minimumTrainingHours {
                    result.append(Finding(
                        code: .trainingBelowMinimum, subject: subject, period: period, events: year.trainingEvents,
                        message: "\(year.trainingHours.plainText) JP of training completed in \(year.year), below the minimum of \(rules.minimumTrainingHours.plainText)",
                        seq: first.seq))
                }
                if state.score(of: Int32(number), period) == nil {
                    result.append(Finding(
                        code: .missingAnnualScore, subject: subject, period: period, events: [first.id],
                        message: "targets set for \(year.year) but no annual score (period \(year.year)) given", seq: first.seq))
                }
            }
            for target in state.employees[number].targets {
                if let aligned = target.alignedTo {
                    guard !(state.employee(aligned.employee).map { state.hasTarget($0, year: target.year, aligned.targetID) } ?? false) else { continue }
                    result.append(Finding(
                        code: .alignmentBroken, subject: subject, period: Period(year: target.year), events: target.events,
                        message: "target \(state.names[target.targetID]) is aligned to \(aligned.employee.text)/\(state.names[aligned.targetID]), which that employee has not set for \(target.year)",
                        seq: target.seq))
                } else if target.appraiserInEffect {
                    result.append(Finding(
                        code: .unalignedTarget, subject: subject, period: Period(year: target.year), events: target.events,
                        message: "target \(state.names[target.targetID]) is not aligned to a target of the appraiser", seq: target.seq))
                }
            }
        }
        for objection in state.objections {
            let nip = state.employee(number: objection.employee).nip
            guard includes(nip) else { continue }
            let limit = rules.rules(on: Timestamp(micros: objection.recordedAt).localDate).objectionDecisionDays
            let decidedAt = objection.decision?.recordedAt ?? state.recordedAt
            let days = (decidedAt - objection.recordedAt) / Timestamp.microsPerDay
            guard decidedAt - objection.recordedAt > Int64(limit) * Timestamp.microsPerDay else { continue }
            let message = objection.decision == nil
                ? "objection still undecided \(days) days after it was recorded (limit \(limit))"
                : "objection decided \(days) days after it was recorded (limit \(limit))"
            result.append(Finding(
                code: .objectionUndecided, subject: .employee(nip),
                period: objection.score.map { state.score($0).period } ?? Period(year: Timestamp(micros: objection.recordedAt).localDate.year),
                events: [objection.id] + (objection.decision.map { [$0.id] } ?? []), message: message, seq: objection.seq))
        }
        return result
    }

    /// `distribution_violation` for each unit rating this replay folded, judged on the members'
    /// annual scores `scores` (``memberScores(ofShare:)``, of one replay or put together from
    /// several).
    public func distributionFindings(scores members: [Int: [String: [AppraisalState.Score]]]) -> [Finding] {
        Self.distributionFindings(ratedUnits, rules: rules, scores: members)
    }

    /// The latest rating of each unit and year that this replay folded, its code built: what
    /// ``distributionFindings(_:rules:scores:)`` needs of the state (the rest of it can be freed).
    public var ratedUnits: [RatedUnit] {
        state.unitRatings.map { RatedUnit(unit: state.names[$0.unit], year: $0.year, rating: $0.rating, id: $0.id, seq: $0.seq) }
    }

    /// A unit's latest rating for a year (``AppraisalState/UnitRating``, its code built).
    public struct RatedUnit: Sendable {
        public var unit: String
        public var year: Int
        public var rating: UnitRatingCode
        public var id: EventID
        public var seq: UInt64
    }

    /// `distribution_violation` for each of `ratedUnits` (``ratedUnits``), judged by `rules` on
    /// the members' annual scores `scores`.
    public static func distributionFindings(_ ratedUnits: [RatedUnit], rules: RuleBook, scores members: [Int: [String: [AppraisalState.Score]]]) -> [Finding] {
        var result: [Finding] = []
        for rated in ratedUnits {
            let period = Period(year: rated.year)
            let unit = rated.unit
            let scores = members[rated.year]?[unit] ?? []
            guard !scores.isEmpty else { continue }
            let broken = CurveCheck.checks(rules.rules(for: period), rated.rating, scores.map(\.predicate)).filter { !$0.holds }.map(\.rule)
            guard !broken.isEmpty else { continue }
            let counts = Predicate.allCases.compactMap { predicate -> String? in
                let count = scores.filter { $0.predicate == predicate }.count
                return count == 0 ? nil : "\(count) \(predicate.rawValue)"
            }
            let scoreEvents = scores.sorted { $0.seq < $1.seq }.map(\.event)
            result.append(Finding(
                code: .distributionViolation, subject: .unit(unit), period: period, events: [rated.id] + scoreEvents,
                message: "unit rated \(rated.rating.rawValue); of \(scores.count) annual scores (\(counts.joined(separator: ", "))) the curve needs \(broken.map(\.description).joined(separator: "; "))",
                seq: max(rated.seq, scores.map(\.seq).max() ?? 0)))
        }
        return result
    }
}
