import AuditTrailProjection
import HistoryProjection
import KinerjaDomain
import PropertyBased
import ScoresProjection
import Testing

/// The audit trail's and history's facts, read plainly: each question answered by searching
/// the events before (or up to) the one described.
enum PlainTrail {
    static let rules = RuleSet.permenPANRB6of2022

    static func predicate(_ results: Rating, _ behavior: Rating) -> String { rules.predicate(results: results, behavior: behavior).rawValue }

    /// A target as its `target.set` and every later `target.revised` of it leave it.
    static func target(_ nip: NIP, year: Int, _ id: String, in events: ArraySlice<RecordedEvent>) -> TargetSet? {
        var target: TargetSet?
        for e in events where e.event.subject == .employee(nip) {
            switch e.event.data {
            case .targetSet(let t) where t.period.year == year && t.targetID == id: target = t
            case .targetRevised(let r) where r.period.year == year && r.targetID == id && target != nil:
                if let plan = r.plan { target!.plan = plan }
                if let indicator = r.indicator { target!.indicator = indicator }
                if let quantity = r.target { target!.target = quantity }
                if case .set(let alignment) = r.alignedTo { target!.alignedTo = alignment }
            default: break
            }
        }
        return target
    }

    static func quantity(_ q: TargetQuantity) -> String { "\(q.value.plainText) \(q.unit)" }
    static func alignment(_ a: Alignment?) -> String { a.map { "\($0.employee.text)/\($0.targetID)" } ?? "null" }

    /// What event `index` changed, in the audit trail's words.
    static func change(_ index: Int, in events: [RecordedEvent]) -> String {
        let e = events[index]
        let before = events[..<index]
        let all = Array(before)
        switch (e.event.subject, e.event.data) {
        case (.employee(let nip), .employeePlaced(let p)):
            let now = "placed in \(p.unit) as \(p.position), appraiser \(p.appraiser?.text ?? "none"), from \(p.effectiveFrom)"
            let previous = before.last { $0.event.subject == e.event.subject && $0.event.type == .employeePlaced }
            guard case .employeePlaced(let was)? = previous?.event.data else { return now }
            _ = nip
            return now + " (was \(was.unit), \(was.position), appraiser \(was.appraiser?.text ?? "none"))"
        case (_, .targetSet(let t)):
            return "target \(t.targetID) for \(t.period) (\(t.kind.rawValue)): \(quantity(t.target))"
                + (t.alignedTo.map { ", aligned to \($0.employee.text)/\($0.targetID)" } ?? ", not aligned")
        case (.employee(let nip), .targetRevised(let r)):
            guard let t = target(nip, year: r.period.year, r.targetID, in: before) else { return "revised target \(r.targetID) for \(r.period)" }
            var parts: [String] = []
            if let plan = r.plan { parts.append("plan \"\(t.plan)\" → \"\(plan)\"") }
            if let indicator = r.indicator { parts.append("indicator \"\(t.indicator)\" → \"\(indicator)\"") }
            if let q = r.target { parts.append("target \(quantity(t.target)) → \(quantity(q))") }
            if case .set(let a) = r.alignedTo { parts.append("aligned_to \(alignment(t.alignedTo)) → \(alignment(a))") }
            return "revised target \(r.targetID) for \(r.period): " + parts.joined(separator: "; ")
        case (.employee(let nip), .scoreGiven(let s)):
            let now = "score for \(s.period): results \(s.resultsRating.rawValue), behaviour \(s.behaviorRating.rawValue) → \(predicate(s.resultsRating, s.behaviorRating))"
            guard let current = PlainFold.scores(all)[Scores.Key(employee: nip, period: s.period)] else { return now }
            return now + " (replaces \(predicate(current.0, current.1)))"
        case (.employee(let nip), .scoreCorrected(let c)):
            guard let period = PlainFold.period(of: c.corrects, in: all) else { return "corrects \(c.corrects)" }
            let current = PlainFold.scores(all)[Scores.Key(employee: nip, period: period)]!
            return "corrects the score for \(period) (\(c.basis.rawValue)): \(predicate(current.0, current.1)) → \(predicate(c.resultsRating, c.behaviorRating))"
                + " (results \(c.resultsRating.rawValue), behaviour \(c.behaviorRating.rawValue))"
        case (_, .feedbackGiven(let f)):
            let about = [f.aspect?.rawValue, f.topic].compactMap { $0 }
            return "\(f.relation.rawValue) feedback for \(f.period)" + (about.isEmpty ? "" : " on " + about.joined(separator: ", "))
        case (_, .trainingCompleted(let t)):
            let total = training(e.event.subject, year: t.completedOn.year, in: events[...index])
            return "+\(t.hours.plainText) JP (\(t.title)), \(total.plainText) JP in \(t.completedOn.year)"
        case (_, .unitRated(let u)):
            let previous = before.last { x in
                if case .unitRated(let v) = x.event.data { return x.event.subject == e.event.subject && v.period.year == u.period.year }
                return false
            }
            guard case .unitRated(let was)? = previous?.event.data else { return "unit rated \(u.rating.rawValue) for \(u.period)" }
            return "unit rated \(u.rating.rawValue) for \(u.period) (was \(was.rating.rawValue))"
        case (.employee(let nip), .objectionFiled(let o)):
            guard let period = PlainFold.period(of: o.score, in: all) else { return "objection to \(o.score), received \(o.receivedOn)" }
            let current = PlainFold.scores(all)[Scores.Key(employee: nip, period: period)]!
            return "objection to the score for \(period) (now \(predicate(current.0, current.1))), received \(o.receivedOn)"
        case (.employee(let nip), .objectionDecided(let d)):
            guard let period = PlainFold.period(ofDecision: d, in: all) else { return "objection \(d.objection) \(d.outcome.rawValue)" }
            let current = PlainFold.scores(all)[Scores.Key(employee: nip, period: period)]!
            guard let results = d.resultsRating, let behavior = d.behaviorRating else {
                return "objection rejected: the score for \(period) stays \(predicate(current.0, current.1))"
            }
            return "objection upheld: the score for \(period) \(predicate(current.0, current.1)) → \(predicate(results, behavior))"
                + " (results \(results.rawValue), behaviour \(behavior.rawValue))"
        case (_, .activityLogged(let a)):
            return "activity on \(a.date) toward \(a.targetID)" + (a.output.map { ": \(quantity($0))" } ?? "") + (a.evidence.map { ", evidence \($0)" } ?? "")
        default:
            return e.event.type.rawValue
        }
    }

    static func training(_ subject: Subject, year: Int, in events: ArraySlice<RecordedEvent>) -> Double {
        events.reduce(0.0) { sum, x in
            if case .trainingCompleted(let t) = x.event.data, x.event.subject == subject, t.completedOn.year == year { return sum + t.hours }
            return sum
        }
    }

    /// An employee's record after `events`.
    static func state(_ nip: NIP, after events: ArraySlice<RecordedEvent>) -> EmployeeState {
        var state = EmployeeState()
        let own = events.filter { $0.event.subject == .employee(nip) }
        for e in own {
            if case .employeePlaced(let p) = e.event.data { state.placement = p }
            if case .trainingCompleted(let t) = e.event.data { state.trainingHours[t.completedOn.year] = training(e.event.subject, year: t.completedOn.year, in: events) }
            if case .feedbackGiven(let f) = e.event.data { state.feedback[f.period.year, default: 0] += 1 }
            if case .activityLogged(let a) = e.event.data { state.activities[a.date.year, default: 0] += 1 }
        }
        var ids: [(Int, String)] = []
        for e in own { if case .targetSet(let t) = e.event.data, !ids.contains(where: { $0 == (t.period.year, t.targetID) }) { ids.append((t.period.year, t.targetID)) } }
        state.targets = ids.sorted { $0 < $1 }.map { year, id in
            let t = target(nip, year: year, id, in: events)!
            return EmployeeState.Target(year: year, targetID: id, kind: t.kind, plan: t.plan, target: t.target, alignedTo: t.alignedTo)
        }
        return state
    }
}

@Suite("Audit trail and history against a plain fold of the events")
struct TrailModelTests {
    @Test("every audit entry says what a plain reading of the events before it says changed")
    func auditTrail() async {
        await propertyCheck(count: 30, input: Gen.uint64(), Gen.int(in: 0...200)) { seed, size in
            let events = generatedLedger(seed: seed, size: size)
            var trail = AuditTrail()
            for event in events { trail.apply(event) }
            #expect(trail.entries.map(\.seq) == events.map(\.seq))
            for (index, entry) in trail.entries.enumerated() {
                let event = events[index].event
                #expect(entry.id == event.id && entry.type == event.type && entry.subject == event.subject && entry.actor == event.actor.text && entry.reason == event.reason)
                #expect(entry.change == PlainTrail.change(index, in: events), "seed \(seed) size \(size) seq \(entry.seq)")
            }
        }
    }

    @Test("each history step holds the employee's record as a plain reading of the events up to it")
    func history() async {
        await propertyCheck(count: 30, input: Gen.uint64(), Gen.int(in: 0...200)) { seed, size in
            let events = generatedLedger(seed: seed, size: size)
            let employees = Array(Set(events.compactMap(PlainFold.employee)).sorted().prefix(4))
            for nip in employees {
                var history = History(employee: nip)
                for event in events { history.apply(event) }
                let own = events.indices.filter { events[$0].event.subject == .employee(nip) }
                #expect(history.entries.map(\.entry.seq) == own.map { events[$0].seq })
                for (step, index) in zip(history.entries, own) {
                    let upTo = events[...index]
                    var plain = PlainTrail.state(nip, after: upTo)
                    let scores = PlainFold.scores(Array(upTo)).filter { $0.key.employee == nip }.sorted { $0.key.period < $1.key.period }
                    #expect(step.state.scores.map(\.period) == scores.map(\.key.period))
                    #expect(step.state.scores.map(\.event) == scores.map(\.value.2))
                    plain.scores = step.state.scores
                    #expect(step.state == plain, "seed \(seed) size \(size) \(nip) seq \(step.entry.seq)")
                    #expect(step.entry.change == PlainTrail.change(index, in: events))
                }
            }
        }
    }
}
