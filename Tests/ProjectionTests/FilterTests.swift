import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import ScoresProjection
import Testing

/// PRODUCT §6 read plainly, over what `log --format jsonl` prints (every event with its seq),
/// searching the whole list for each question.
enum PlainFilter {
    /// The appraisal period an event is about.
    static func period(_ e: RecordedEvent, in events: [RecordedEvent]) -> Period? {
        switch e.event.data {
        case .employeePlaced(let p): Period(year: p.effectiveFrom.year)
        case .trainingCompleted(let t): Period(year: t.completedOn.year)
        case .targetSet(let t): t.period
        case .targetRevised(let r): r.period
        case .scoreGiven(let s): s.period
        case .feedbackGiven(let f): f.period
        case .unitRated(let u): u.period
        case .scoreCorrected: PlainFold.period(of: e.event.id, in: events)
        case .objectionFiled(let o): PlainFold.period(of: o.score, in: events)
        case .objectionDecided(let d): PlainFold.period(ofDecision: d, in: events)
        case .activityLogged(let a): Period(year: a.date.year)
        case .accessGranted, .accessRevoked: nil
        }
    }

    /// Whether the event is about unit `unit`: its own, a placement in it, or an event of an
    /// employee placed in it at the end of the period the event is about (else on its date).
    static func inUnit(_ e: RecordedEvent, _ unit: String, in events: [RecordedEvent]) -> Bool {
        switch (e.event.subject, e.event.data) {
        case (.unit(let code), _): return code == unit
        case (_, .employeePlaced(let p)): return p.unit == unit
        case (.employee(let nip), let data):
            let about: Period? = switch data {
            case .trainingCompleted, .activityLogged: nil
            default: period(e, in: events)
            }
            let day = about?.lastDay ?? e.event.occurredAt.localDate
            return PlainFold.placement(nip, on: day, before: e.seq, in: events)?.0.unit == unit
        case (.identity, _): return false
        }
    }

    static func matches(_ e: RecordedEvent, _ request: ReportRequest, in events: [RecordedEvent]) -> Bool {
        let date = e.event.occurredAt.localDate
        return (request.employee.map { e.event.subject == .employee($0) } ?? true)
            && (request.types.isEmpty || request.types.contains(e.event.type))
            && (request.actor.map { e.event.actor.text == $0 } ?? true)
            && (request.since.map { date >= $0 } ?? true)
            && (request.until.map { date <= $0 } ?? true)
            && (request.year.map { period(e, in: events)?.year == $0 } ?? true)
            && (request.period.map { period(e, in: events) == $0 } ?? true)
            && (request.unit.map { inUnit(e, $0, in: events) } ?? true)
    }

    /// A score row or finding about `employee` (or unit `code`) and `period`.
    static func matches(employee: NIP?, unit code: String?, period: Period, actor: String?, _ request: ReportRequest, in events: [RecordedEvent]) -> Bool {
        (request.year.map { period.year == $0 } ?? true)
            && (request.period.map { period == $0 } ?? true)
            && (request.actor.map { actor == $0 } ?? true)
            && (request.employee.map { employee == $0 } ?? true)
            && (request.unit.map { unit in
                if let code { return code == unit }
                return employee.flatMap { PlainFold.placement($0, on: period.lastDay, before: .max, in: events)?.0.unit } == unit
            } ?? true)
    }
}

@Suite("Filters: one meaning on every command, against a plain filter of the log")
struct FilterTests {
    /// Every filter alone, then a few together, with values the sample year uses.
    static func requests(_ sample: DemoYear) -> [ReportRequest] {
        let person = sample.people[7]
        var requests: [ReportRequest] = []
        func add(_ change: (inout ReportRequest) -> Void) {
            var request = ReportRequest()
            change(&request)
            requests.append(request)
        }
        add { _ in }
        add { $0.employee = person.nip }
        for unit in Set(sample.people.map(\.unit)).sorted() { add { $0.unit = unit } }
        add { $0.year = sample.year }
        add { $0.year = sample.year + 1 }
        for period in ["\(sample.year)", "\(sample.year)-Q2", "\(sample.year)-Q4"] { add { $0.period = Period(period)! } }
        add { $0.actor = person.appraiser!.text }
        add { $0.actor = "hr:bkpsdm" }
        add { $0.types = [.scoreCorrected, .trainingCompleted] }
        add { $0.since = CivilDate(year: sample.year, month: 6, day: 1)! }
        add { $0.until = CivilDate(year: sample.year, month: 3, day: 31)! }
        add { $0.unit = person.unit; $0.period = Period(year: sample.year) }
        add { $0.unit = person.unit; $0.types = [.scoreGiven, .scoreCorrected] }
        add { $0.employee = person.nip; $0.year = sample.year; $0.actor = person.appraiser!.text }
        return requests
    }

    @Test("log, audit, history, scores, accountability and units apply each filter as a plain reading of the log does, and refuse the rest")
    func everyFilter() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sample = DemoYear(seed: 33, employees: 40)
        let ledger = try DemoLedger.build(sample, at: dir.child("demo"))
        var events: [RecordedEvent] = []
        try ledger.forEachRecorded { event, recorded in
            events.append(RecordedEvent(event: event, seq: recorded.seq, version: recorded.version, recordedAt: recorded.recordedAt))
        }
        let plainScores = PlainFold.scores(events)
        let plainFindings = PlainFold.findings(events)
        let person = sample.people[7].nip
        var selective = 0
        defer { #expect(selective >= 12, "most filters select some events and leave others out") }
        for request in Self.requests(sample) {
            let given = request.filtersGiven
            let plain = events.filter { PlainFilter.matches($0, request, in: events) }.map(\.seq)
            func supported(_ list: [FilterName]) -> Bool { given.allSatisfy(list.contains) }
            if !plain.isEmpty && plain.count < events.count { selective += 1 }

            var logged: [UInt64] = []
            try Reports.log(ledger, request) { _, recorded, _ in logged.append(recorded.seq) }
            #expect(logged == plain, "log \(given)")
            #expect(try Reports.audit(ledger, request).entries.map(\.seq) == plain, "audit \(given)")

            if supported(Reports.historyFilters) {
                let history = try Reports.history(ledger, employee: person, request).entries.map(\.entry.seq)
                #expect(history == plain.filter { seq in events[Int(seq) - 1].event.subject == .employee(person) }, "history \(given)")
            } else {
                #expect(throws: UnsupportedFilter.self) { try Reports.history(ledger, employee: person, request) }
            }

            if supported(Reports.scoresFilters) {
                let rows = try Reports.scores(ledger, request).rows.map { Scores.Key(employee: $0.employee, period: $0.period) }
                let expected = plainScores.filter { key, score in
                    PlainFilter.matches(employee: key.employee, unit: nil, period: key.period, actor: score.3, request, in: events)
                }.keys
                #expect(Set(rows) == Set(expected) && rows.count == expected.count, "scores \(given)")
            } else {
                #expect(throws: UnsupportedFilter.self) { try Reports.scores(ledger, request) }
            }

            if supported(Reports.accountabilityFilters) {
                let findings = try Reports.accountability(ledger, request).findings.map {
                    PlainFold.Row(code: $0.code.rawValue, subject: $0.subject.stream, period: $0.period.description, events: $0.events)
                }.sorted()
                let expected = plainFindings.filter { row in
                    let subject = Subject(stream: row.subject)!
                    let employee: NIP? = if case .employee(let nip) = subject { nip } else { nil }
                    let unit: String? = if case .unit(let code) = subject { code } else { nil }
                    return PlainFilter.matches(employee: employee, unit: unit, period: Period(row.period)!, actor: nil, request, in: events)
                }
                #expect(findings == expected, "accountability \(given)")
            } else {
                #expect(throws: UnsupportedFilter.self) { try Reports.accountability(ledger, request) }
            }

            if supported(Reports.unitsFilters) {
                var all = ReportRequest()
                all.year = request.year
                let everything = try Reports.units(ledger, all).lines.filter { $0.unit != nil }
                let lines = try Reports.units(ledger, request).lines.filter { $0.unit != nil }
                #expect(lines.map(\.unit) == everything.filter { request.unit == nil || $0.unit == request.unit }.map(\.unit), "units \(given)")
            } else {
                #expect(throws: UnsupportedFilter.self) { try Reports.units(ledger, request) }
            }
        }
    }
}
