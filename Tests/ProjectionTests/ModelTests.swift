import AccountabilityProjection
import KinerjaDomain
import KinerjaSamples
import PropertyBased
import ScoresProjection
import Testing
import TrainingProjection

/// Generated ledgers as a projection sees them: the demo year (with its violations, objections
/// and some of its daily logs) or the random generator (with scores, corrections, placements,
/// and for some seeds objections and daily logs, in any order), recorded with
/// delays of up to 40 days so that some are backdated.
func generatedLedger(seed: UInt64, size: Int) -> [RecordedEvent] {
    var random = SeededRandom(seed: seed ^ 0x5EED)
    let events: [(Event, Int64?)]
    if seed % 2 == 0 {
        // One daily log in twenty: the plain fold is quadratic, and the logs are most of the year.
        events = DemoYear(seed: seed, employees: 8 + size % 40).items.enumerated().filter { index, item in
            if case .activityLogged = item.event.data { return index % 20 == 0 }
            return true
        }.map { ($0.element.event, $0.element.recordAt) }
    } else {
        var generator = SampleGenerator(seed: seed, employees: 3 + size % 12, cycle: seed % 4 == 1)
        events = generator.events(50 + size).map { ($0, nil) }
    }
    var clock = Int64.min
    return events.enumerated().map { index, item in
        let (event, recordAt) = item
        clock = max(clock, recordAt ?? event.occurredAt.micros + Int64.random(in: 0...40, using: &random) * Timestamp.microsPerDay)
        return RecordedEvent(event: event, seq: UInt64(index + 1), version: 0, recordedAt: clock)
    }
}

/// A plain, slow reading of PRODUCT §5 and §7: every rule evaluated by searching the whole list.
enum PlainFold {
    static let rules = RuleSet.permenPANRB6of2022

    static func employee(_ e: RecordedEvent) -> NIP? {
        if case .employee(let nip) = e.event.subject { return nip }
        return nil
    }

    static func placement(_ nip: NIP, on day: CivilDate, before seq: UInt64, in events: [RecordedEvent]) -> (Placement, EventID)? {
        var best: (Placement, EventID, UInt64)?
        for e in events where e.seq < seq && employee(e) == nip {
            guard case .employeePlaced(let p) = e.event.data, p.effectiveFrom <= day else { continue }
            if best == nil || (p.effectiveFrom, e.seq) >= (best!.0.effectiveFrom, best!.2) { best = (p, e.event.id, e.seq) }
        }
        return best.map { ($0.0, $0.1) }
    }

    /// The period a score or correction is about: follow `corrects` back to the score.given.
    static func period(of id: EventID, in events: [RecordedEvent]) -> Period? {
        guard let e = events.first(where: { $0.event.id == id }) else { return nil }
        switch e.event.data {
        case .scoreGiven(let s): return s.period
        case .scoreCorrected(let c): return period(of: c.corrects, in: events)
        default: return nil
        }
    }

    /// The objection.filed with this id, if any.
    static func objection(_ id: EventID, in events: [RecordedEvent]) -> (filed: ObjectionFiled, event: RecordedEvent)? {
        for e in events where e.event.id == id {
            if case .objectionFiled(let filed) = e.event.data { return (filed, e) }
        }
        return nil
    }

    /// The period a decision is about: its objection's score's.
    static func period(ofDecision d: ObjectionDecision, in events: [RecordedEvent]) -> Period? {
        objection(d.objection, in: events).flatMap { period(of: $0.filed.score, in: events) }
    }

    /// Current scores: the latest by seq of the scores for a period, their corrections, and the
    /// upheld decisions on objections to them.
    static func scores(_ events: [RecordedEvent]) -> [Scores.Key: (Rating, Rating, EventID, String)] {
        var result: [Scores.Key: (Rating, Rating, EventID, String, UInt64)] = [:]
        for e in events {
            guard let nip = employee(e) else { continue }
            let ratings: (Rating, Rating)
            let period: Period?
            switch e.event.data {
            case .scoreGiven(let s): (ratings, period) = ((s.resultsRating, s.behaviorRating), s.period)
            case .scoreCorrected(let c): (ratings, period) = ((c.resultsRating, c.behaviorRating), Self.period(of: e.event.id, in: events))
            case .objectionDecided(let d) where d.outcome == .upheld: (ratings, period) = ((d.resultsRating!, d.behaviorRating!), Self.period(ofDecision: d, in: events))
            default: continue
            }
            guard let period else { continue }
            let key = Scores.Key(employee: nip, period: period)
            if (result[key]?.4 ?? 0) < e.seq { result[key] = (ratings.0, ratings.1, e.event.id, e.event.actor.text, e.seq) }
        }
        return result.mapValues { ($0.0, $0.1, $0.2, $0.3) }
    }

    /// The distribution curve of SE MenPANRB 3/2023, read from the circular, not from the rule
    /// table: the share of the unit's scored members with each predikat, per unit rating.
    static func curveHolds(_ rating: UnitRatingCode, _ predicates: [Predicate]) -> Bool {
        let total = Double(predicates.count)
        func share(_ wanted: Predicate...) -> Double { Double(predicates.filter { wanted.contains($0) }.count) / total }
        func some(_ wanted: Predicate...) -> Bool { predicates.contains { wanted.contains($0) } }
        switch rating {
        case .outstanding:
            return share(.veryGood) <= 0.70
        case .good:
            return share(.good) <= 0.70 && some(.needsImprovement, .poor)
        case .needsImprovement:
            return share(.needsImprovement) >= 0.60 && share(.veryGood) <= 0.10
        case .poor:
            return share(.poor) >= 0.60 && share(.needsImprovement) >= 0.10 && share(.veryGood) <= 0.10
        case .veryPoor:
            return share(.veryPoor) >= 0.60 && share(.poor, .needsImprovement) >= 0.10 && share(.veryGood) == 0
        }
    }

    struct Row: Hashable, Comparable {
        var code: String
        var subject: String
        var period: String
        var events: [EventID]
        static func < (a: Row, b: Row) -> Bool {
            (a.code, a.subject, a.period, a.events.map(\.description).joined(separator: " ")) < (b.code, b.subject, b.period, b.events.map(\.description).joined(separator: " "))
        }
    }

    static func findings(_ events: [RecordedEvent]) -> [Row] {
        var rows: [Row] = []
        func add(_ code: FindingCode, _ subject: Subject, _ period: Period, _ ids: [EventID]) {
            rows.append(Row(code: code.rawValue, subject: subject.stream, period: period.description, events: ids))
        }
        for e in events {
            let event = e.event
            if e.recordedAt - event.occurredAt.micros > Int64(rules.backdatingLimitDays) * Timestamp.microsPerDay {
                let period: Period = switch event.data {
                case .targetSet(let t): t.period
                case .targetRevised(let r): r.period
                case .scoreGiven(let s): s.period
                case .feedbackGiven(let f): f.period
                case .unitRated(let u): u.period
                case .scoreCorrected: Self.period(of: event.id, in: events) ?? Period(year: event.occurredAt.localDate.year)
                case .objectionFiled(let o): Self.period(of: o.score, in: events) ?? Period(year: event.occurredAt.localDate.year)
                case .objectionDecided(let d): Self.period(ofDecision: d, in: events) ?? Period(year: event.occurredAt.localDate.year)
                case .activityLogged(let a): Period(year: a.date.year)
                default: Period(year: event.occurredAt.localDate.year)
                }
                add(.backdatedEntry, event.subject, period, [event.id])
            }
            guard let nip = employee(e) else { continue }
            let before = events.filter { $0.seq < e.seq && employee($0) == nip }
            func appraisersAppraiser(on day: CivilDate) -> NIP? {
                let appraiser = placement(nip, on: day, before: e.seq, in: events)?.0.appraiser
                return appraiser.flatMap { placement($0, on: day, before: e.seq, in: events)?.0.appraiser }
            }
            /// The latest decision recorded before this event on an objection to a score of `period`.
            func decision(on period: Period) -> EventID? {
                before.last { if case .objectionDecided(let d) = $0.event.data { return Self.period(ofDecision: d, in: events) == period }; return false }?.event.id
            }
            func supervisorFeedback(_ year: Int) -> Bool {
                before.contains { if case .feedbackGiven(let f) = $0.event.data { return f.relation == .supervisor && f.period.year == year }; return false }
            }
            switch event.data {
            case .scoreGiven(let s):
                let hasTarget = before.contains { if case .targetSet(let t) = $0.event.data { return t.period.year == s.period.year }; return false }
                if !hasTarget { add(.scoreWithoutTarget, event.subject, s.period, [event.id]) }
                if let (p, placementID) = placement(nip, on: s.period.lastDay, before: e.seq, in: events) {
                    if let appraiser = p.appraiser, appraiser.text != event.actor.text { add(.appraiserMismatch, event.subject, s.period, [event.id, placementID]) }
                } else {
                    add(.noPlacement, event.subject, s.period, [event.id])
                }
                if event.actor.text == nip.text { add(.selfAssessment, event.subject, s.period, [event.id]) }
                if rules.predicate(results: s.resultsRating, behavior: s.behaviorRating).isLow && !supervisorFeedback(s.period.year) {
                    add(.lowScoreWithoutFeedback, event.subject, s.period, [event.id])
                }
                if let d = decision(on: s.period) { add(.decisionOverridden, event.subject, s.period, [event.id, d]) }
            case .scoreCorrected(let c):
                let period = Self.period(of: event.id, in: events)!
                if c.basis == .objectionUpheld, appraisersAppraiser(on: event.occurredAt.localDate)?.text != event.actor.text {
                    add(.correctionAuthority, event.subject, period, [event.id, c.corrects])
                }
                if rules.predicate(results: c.resultsRating, behavior: c.behaviorRating).isLow && !supervisorFeedback(period.year) {
                    add(.lowScoreWithoutFeedback, event.subject, period, [event.id])
                }
                if let d = decision(on: period) { add(.decisionOverridden, event.subject, period, [event.id, d]) }
            case .objectionDecided(let d):
                guard let (filed, filing) = objection(d.objection, in: before) else { break }
                let period = period(of: filed.score, in: events) ?? Period(year: event.occurredAt.localDate.year)
                if appraisersAppraiser(on: event.occurredAt.localDate)?.text != event.actor.text { add(.objectionDecider, event.subject, period, [event.id, d.objection]) }
                let days = filing.event.occurredAt.localDate.daysSinceEpoch - filed.receivedOn.daysSinceEpoch
                if d.outcome == .upheld && days > 14 { add(.objectionOutOfTime, event.subject, period, [event.id, d.objection]) }
            default:
                break
            }
        }
        // Year-end checks over everything.
        var targetYears: Set<Scores.Key> = []
        for e in events {
            guard let nip = employee(e), case .targetSet(let t) = e.event.data else { continue }
            let key = Scores.Key(employee: nip, period: Period(year: t.period.year))
            if targetYears.insert(key).inserted {
                let hours = events.filter { employee($0) == nip }.reduce(0.0) { sum, x in
                    if case .trainingCompleted(let tr) = x.event.data, tr.completedOn.year == t.period.year { return sum + tr.hours }
                    return sum
                }
                let trainings = events.filter { if case .trainingCompleted(let tr) = $0.event.data { return employee($0) == nip && tr.completedOn.year == t.period.year }; return false }.map(\.event.id)
                if hours < rules.minimumTrainingHours { add(.trainingBelowMinimum, .employee(nip), key.period, trainings) }
                let annual = events.contains { if case .scoreGiven(let s) = $0.event.data { return employee($0) == nip && s.period == key.period }; return false }
                if !annual { add(.missingAnnualScore, .employee(nip), key.period, [e.event.id]) }
            }
            let revisions = events.filter { x in
                if case .targetRevised(let r) = x.event.data { return employee(x) == nip && r.period.year == t.period.year && r.targetID == t.targetID }
                return false
            }
            var aligned = t.alignedTo
            for r in revisions { if case .targetRevised(let revision) = r.event.data, case .set(let a) = revision.alignedTo { aligned = a } }
            let hasAppraiser = placement(nip, on: e.event.occurredAt.localDate, before: e.seq, in: events)?.0.appraiser != nil
            if aligned == nil && hasAppraiser { add(.unalignedTarget, .employee(nip), t.period, [e.event.id] + revisions.map(\.event.id)) }
            if let aligned, !events.contains(where: { x in
                if case .targetSet(let other) = x.event.data { return employee(x) == aligned.employee && other.period.year == t.period.year && other.targetID == aligned.targetID }
                return false
            }) {
                add(.alignmentBroken, .employee(nip), t.period, [e.event.id] + revisions.map(\.event.id))
            }
        }
        // Objections: judged at the recorded_at of the last event.
        let now = events.last?.recordedAt ?? 0
        for e in events {
            guard case .objectionFiled(let o) = e.event.data else { continue }
            let decision = events.first { if case .objectionDecided(let d) = $0.event.data { return d.objection == e.event.id }; return false }
            guard (decision?.recordedAt ?? now) - e.recordedAt > 14 * Timestamp.microsPerDay else { continue }
            let period = period(of: o.score, in: events) ?? Period(year: Timestamp(micros: e.recordedAt).localDate.year)
            add(.objectionUndecided, e.event.subject, period, [e.event.id] + (decision.map { [$0.event.id] } ?? []))
        }
        let current = scores(events)
        var latestRatings: [String: (UnitRatingCode, RecordedEvent, Int)] = [:]
        for e in events {
            if case .unitRated(let u) = e.event.data, case .unit(let code) = e.event.subject { latestRatings["\(code)|\(u.period.year)"] = (u.rating, e, u.period.year) }
        }
        for (key, (rating, e, year)) in latestRatings {
            let unit = String(key.split(separator: "|")[0])
            let period = Period(year: year)
            let employees = Set(events.compactMap(employee))
            let members = employees.filter { placement($0, on: period.lastDay, before: .max, in: events)?.0.unit == unit }
                .compactMap { current[Scores.Key(employee: $0, period: period)].map { ($0, $0.2) } }
            guard !members.isEmpty else { continue }
            let predicates = members.map { rules.predicate(results: $0.0.0, behavior: $0.0.1) }
            if !curveHolds(rating, predicates) {
                let scoreEvents = events.filter { x in members.contains { $0.1 == x.event.id } }.map(\.event.id)
                add(.distributionViolation, .unit(unit), period, [e.event.id] + scoreEvents)
            }
        }
        return rows.sorted()
    }
}

@Suite("Projections against a plain fold of the events")
struct ModelTests {
    @Test("scores, training hours and findings equal a plain reading of the rules, over generated ledgers")
    func againstPlainFold() async {
        await propertyCheck(count: 60, input: Gen.uint64(), Gen.int(in: 0...400)) { seed, size in
            let events = generatedLedger(seed: seed, size: size)
            var scores = Scores()
            var training = TrainingHours()
            var accountability = Accountability()
            for event in events {
                scores.apply(event)
                training.apply(event)
                accountability.apply(event)
            }
            let plainScores = PlainFold.scores(events)
            #expect(scores.current.count == plainScores.count)
            for (key, plain) in plainScores {
                let row = scores.current[key]
                #expect(row?.event == plain.2 && row?.actor == plain.3)
                #expect(row?.predicate == RuleSet.permenPANRB6of2022.predicate(results: plain.0, behavior: plain.1))
            }
            for e in events {
                guard case .employee(let nip) = e.event.subject, case .trainingCompleted(let t) = e.event.data else { continue }
                let plain = events.reduce(0.0) { sum, x in
                    if case .trainingCompleted(let other) = x.event.data, x.event.subject == e.event.subject, other.completedOn.year == t.completedOn.year { return sum + other.hours }
                    return sum
                }
                #expect(training.hours(nip, year: t.completedOn.year) == plain)
            }
            let projected = accountability.findings().map {
                PlainFold.Row(code: $0.code.rawValue, subject: $0.subject.stream, period: $0.period.description, events: $0.events)
            }.sorted()
            let plain = PlainFold.findings(events)
            #expect(projected == plain, "seed \(seed) size \(size): \(Set(projected).symmetricDifference(plain).sorted().prefix(4))")
        }
    }
}
