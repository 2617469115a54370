import AccountabilityProjection
import AppraisalCore
import AuditTrailProjection
import Dispatch
import Foundation
import HistoryProjection
import KinerjaDomain
import KinerjaLedger
import ScoresProjection
import Synchronization

/// What a report covers: the point in time to replay to, and the filters (PRODUCT §6, each with
/// one meaning: `Filters.swift`). Every filter narrows it; nil and empty mean "all". A report
/// refuses a filter it cannot apply (``UnsupportedFilter``).
public struct ReportRequest: Sendable {
    public var point: PointInTime = .head
    public var year: Int?
    public var period: Period?
    public var employee: NIP?
    public var unit: String?
    public var actor: String?
    public var types: Set<EventType> = []
    /// The window of `occurred_at` dates, in each event's own offset.
    public var since: CivilDate?
    public var until: CivilDate?
    public var rules: RuleBook = .standard

    public init() {}
}

/// Reports built by replaying the ledger into projections, each stating the ledger position
/// it was built on, so that anyone can rebuild it and get the same bytes.
public enum Reports {
    /// The filters each report applies; any other is refused.
    public static let scoresFilters: [FilterName] = [.employee, .unit, .year, .period, .actor]
    public static let accountabilityFilters: [FilterName] = [.employee, .unit, .year, .period]
    public static let auditFilters = FilterName.allCases
    public static let historyFilters: [FilterName] = [.unit, .year, .period, .actor, .type, .since, .until]
    public static let unitsFilters: [FilterName] = [.unit, .year]

    /// What every report's query starts with: refuse the filters `command` cannot apply, then
    /// replay up to the request's point (one employee's stream, given `employee`) into a fresh
    /// appraisal state; `each` sees every event before it is folded, with the state before it.
    static func replay(
        _ ledger: Ledger, _ request: ReportRequest, _ command: String, _ supported: [FilterName], employee: NIP? = nil,
        each: (borrowing EventView, AppraisalState) -> Void = { _, _ in }
    ) throws -> (AppraisalState, LedgerPosition) {
        try request.refuse(command, except: supported)
        var state = AppraisalState(rules: request.rules)
        let position = try ledger.replayInPlace(at: request.point, employee: employee) { event in
            each(event, state)
            state.apply(event)
        }
        return (state, position)
    }

    // MARK: Scores

    public struct ScoresReport: Sendable {
        /// The name and unit of the placement in effect at the end of a row's period.
        public struct Placed: Sendable {
            public var name: String
            public var unit: String
        }

        public var position: LedgerPosition
        public var rows: [ScoreRow]
        /// Beside each row.
        public var placements: [Placed?]
        public var unitRatings: [String: [Int: UnitRatingCode]]
    }

    public static func scores(_ ledger: Ledger, _ request: ReportRequest) throws -> ScoresReport {
        let (state, position) = try replay(ledger, request, "report scores", scoresFilters, employee: request.employee)
        var rows: [ScoreRow] = []
        var placements: [ScoresReport.Placed?] = []
        for row in Scores(state: state).rows {
            guard request.matches(employee: row.employee, period: row.period, actor: row.actor, in: state) else { continue }
            let placed = state.placement(row.employee, on: row.period.lastDay).map { ScoresReport.Placed(name: state.names[$0.name], unit: state.names[$0.unit]) }
            rows.append(row)
            placements.append(placed)
        }
        var unitRatings: [String: [Int: UnitRatingCode]] = [:]
        for rating in state.unitRatings { unitRatings[state.names[rating.unit], default: [:]][rating.year] = rating.rating }
        return ScoresReport(position: position, rows: rows, placements: placements, unitRatings: unitRatings)
    }

    public static func render(_ report: ScoresReport, _ format: ReportFormat) -> String {
        switch format {
        case .json:
            var json = JSONWriter()
            json.raw("{")
            json.ledger(report.position, first: true)
            json.key("scores")
            json.raw("[")
            for (index, (row, placed)) in zip(report.rows, report.placements).enumerated() {
                if index > 0 { json.raw(",") }
                json.raw("{")
                json.key("employee", first: true)
                json.string(row.employee.text)
                json.key("name")
                json.optionalString(placed?.name)
                json.key("unit")
                json.optionalString(placed?.unit)
                json.key("period")
                json.string(row.period.description)
                json.key("results_rating")
                json.string(row.resultsRating.rawValue)
                json.key("behavior_rating")
                json.string(row.behaviorRating.rawValue)
                json.key("predicate")
                json.string(row.predicate.rawValue)
                json.key("actor")
                json.string(row.actor)
                json.key("event")
                json.string(row.event.description)
                json.key("corrected")
                json.optionalString(row.correction?.rawValue)
                json.member("set_by", row.setBy.rawValue)
                json.member("original_actor", row.originalActor)
                json.member("original_event", row.originalEvent.description)
                json.key("objection")
                json.optionalString(row.objection?.rawValue)
                json.raw("}")
            }
            json.raw("]}")
            return json.text + "\n"
        case .csv:
            var csv = CSV(header: ["employee", "name", "unit", "period", "results_rating", "behavior_rating", "predicate", "actor", "event", "corrected",
                                   "set_by", "original_actor", "original_event", "objection"])
            for (row, placed) in zip(report.rows, report.placements) {
                csv.append([row.employee.text, placed?.name ?? "", placed?.unit ?? "", row.period.description, row.resultsRating.rawValue,
                            row.behaviorRating.rawValue, row.predicate.rawValue, row.actor, row.event.description, row.correction?.rawValue ?? "",
                            row.setBy.rawValue, row.originalActor, row.originalEvent.description, row.objection?.rawValue ?? ""])
            }
            return csv.text
        case .table:
            var table = TextTable(header: ["EMPLOYEE", "NAME", "UNIT", "PERIOD", "RESULTS", "BEHAVIOUR", "PREDIKAT", "SET BY", "EVENT", "FIRST SCORED BY"])
            for (row, placed) in zip(report.rows, report.placements) {
                let setBy = switch row.setBy {
                case .objectionDecided: "objection upheld by "
                case .scoreCorrected: "correction by "
                default: ""
                }
                table.rows.append([row.employee.text, placed?.name ?? "-", placed?.unit ?? "-", row.period.description,
                                   short(row.resultsRating), short(row.behaviorRating),
                                   row.predicate.rawValue + (row.objection.map { " (objection \($0.rawValue))" } ?? ""),
                                   setBy + row.actor, row.event.description, row.originalActor])
            }
            return report.position.line + "\n\(report.rows.count) scores\n\n" + table.text
        }
    }

    private static func short(_ rating: Rating) -> String {
        switch rating {
        case .aboveExpectation: "above"
        case .meetsExpectation: "meets"
        case .belowExpectation: "below"
        }
    }

    // MARK: Accountability

    public struct AccountabilityReport: Sendable {
        public var position: LedgerPosition
        public var year: Int?
        public var findings: [Finding]
        /// Beside each finding: the unit it is about (a unit's own, or the employee's placement
        /// in effect at the end of its period), when known.
        public var units: [String?] = []
    }

    /// One unit's or one employee's findings replay only the streams they read (their members'
    /// own events but timely daily logs, the appraisers and aligned-to employees those name, the
    /// unit's ratings: ``Accountability/related(_:)``), found through the membership index;
    /// everything else, and a ledger whose index does not cover the point, replays in full.
    /// Both give the same findings (`Tests/ProjectionTests/BoundedReplayTests`).
    public static func accountability(_ ledger: Ledger, _ request: ReportRequest) throws -> AccountabilityReport {
        try accountability(ledger, request, bounded: true)
    }

    /// - Parameter bounded: false replays the whole ledger whatever the filters (what the
    ///   bounded replay is checked against).
    public static func accountability(_ ledger: Ledger, _ request: ReportRequest, bounded: Bool) throws -> AccountabilityReport {
        try request.refuse("report accountability", except: accountabilityFilters)
        if bounded && request.unit != nil && ProcessInfo.processInfo.activeProcessorCount > 1,
            let report = try sharedAccountability(ledger, request, parts: 2)
        {
            return report
        }
        var accountability = Accountability(rules: request.rules)
        var replayed: LedgerPosition?
        if bounded && (request.unit != nil || request.employee != nil) {
            var selection = Selection(unit: request.unit, employees: request.employee.map { [$0] } ?? [], skipsTimelyActivity: accountability.ignoresTimelyActivity)
            selection.order = .placementsThenStreams
            if let (position, recordedAt) = try ledger.replayInPlace(
                at: request.point, selecting: selection, relatedTypes: Accountability.relatedTypes, related: Accountability.related, { accountability.apply($0) })
            {
                accountability.advance(to: position.seq, recordedAt: recordedAt)
                replayed = position
            } else {
                accountability = Accountability(rules: request.rules)
            }
        }
        let position = try replayed ?? ledger.replayInPlace(at: request.point) { accountability.apply($0) }
        let (findings, units) = kept(accountability.findings(year: request.year), request, in: accountability.state)
        return AccountabilityReport(position: position, year: request.year, findings: findings, units: units)
    }

    /// One unit's findings from `parts` bounded replays on as many threads, the unit's members
    /// shared out among them by NIP (``Selection/share``): each folds its members' events and
    /// those of the employees they name, all of them the unit's own, and each judges and
    /// filters its share's findings; the distribution curve is judged on the scores of all
    /// (``Accountability/findings(ofShare:units:)``). Nil where the membership index does not
    /// cover the point. `hugePagesFrom`: ``Selection/hugePagesFrom`` (only tests set it).
    package static func sharedAccountability(_ ledger: Ledger, _ request: ReportRequest, parts: Int, hugePagesFrom: Int = 2 << 20) throws -> AccountabilityReport? {
        let through = try ledger.seq(at: request.point)
        let results = Mutex<[Result<SharedPart?, any Error>]>(Array(repeating: .success(nil), count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let result = Result { () throws -> SharedPart? in
                var accountability = Accountability(rules: request.rules)
                let share = (part: UInt64(part), of: UInt64(parts))
                var selection = Selection(
                    unit: request.unit, employees: request.employee.map { [$0] } ?? [], skipsTimelyActivity: accountability.ignoresTimelyActivity, share: share)
                selection.order = .placementsThenStreams
                selection.hugePagesFrom = hugePagesFrom
                guard let (position, recordedAt) = try ledger.replayInPlace(
                    at: .seq(through), selecting: selection, relatedTypes: Accountability.relatedTypes, related: Accountability.related, { accountability.apply($0) })
                else { return nil }
                accountability.advance(to: position.seq, recordedAt: recordedAt)
                // Kept and ordered here, on the part's own thread; merged on the caller's. Every
                // part's state ends on its own thread: the first hands over only the unit ratings
                // the curve is judged against.
                let (findings, units) = kept(accountability.findings(ofShare: selection.shares, units: part == 0), request, in: accountability.state)
                let order = Accountability.order(findings)
                return SharedPart(
                    position: position, findings: order.map { findings[$0] }, units: order.map { units[$0] },
                    scores: accountability.memberScores(ofShare: selection.shares), ratedUnits: part == 0 ? accountability.ratedUnits : nil)
            }
            results.withLock { $0[part] = result }
        }
        var lists: [[Finding]] = []
        var units: [[String?]] = []
        var scores: [Int: [String: [AppraisalState.Score]]] = [:]
        var first: SharedPart?
        for result in results.withLock({ $0 }) {
            guard let part = try result.get() else { return nil }
            lists.append(part.findings)
            units.append(part.units)
            scores.merge(part.scores) { $0.merging($1, uniquingKeysWith: +) }
            if first == nil { first = part }
        }
        guard let first, let ratedUnits = first.ratedUnits else { return nil }
        // The curve's findings are about units: a unit's own code is all the filter reads.
        let curve = Accountability.distributionFindings(ratedUnits, rules: request.rules, scores: scores).filter { finding in
            guard case .unit(let unit) = finding.subject else { return false }
            return request.matches(unitCode: unit, period: finding.period)
        }
        let curveOrder = Accountability.order(curve)
        lists.append(curveOrder.map { curve[$0] })
        units.append(curveOrder.map { index -> String? in
            guard case .unit(let unit) = curve[index].subject else { return nil }
            return unit
        })
        // The parts' lists, then the curve's, as ``Accountability/order(_:)`` orders them put together.
        let order = Accountability.mergedOrder(lists)
        return AccountabilityReport(
            position: first.position, year: request.year, findings: order.map { lists[$0.list][$0.index] }, units: order.map { units[$0.list][$0.index] })
    }

    /// What one part of ``sharedAccountability(_:_:parts:hugePagesFrom:)`` hands back from its thread.
    private struct SharedPart: Sendable {
        var position: LedgerPosition
        /// Its findings and the unit beside each, in the order of ``Accountability/order(_:)``.
        var findings: [Finding]
        var units: [String?]
        var scores: [Int: [String: [AppraisalState.Score]]]
        /// The first part's: the unit ratings the curve is judged against.
        var ratedUnits: [Accountability.RatedUnit]?
    }

    /// The findings `request` keeps (the state the findings were judged in says where each
    /// employee was placed), and beside each the unit it is about (a unit's own, or the
    /// employee's placement in effect at the end of its period), when known.
    private static func kept(_ all: [Finding], _ request: ReportRequest, in state: AppraisalState) -> (findings: [Finding], units: [String?]) {
        let findings = all.filter { finding in
            switch finding.subject {
            case .employee(let employee): request.matches(employee: employee, period: finding.period, in: state)
            case .unit(let unit): request.matches(employee: nil, unitCode: unit, period: finding.period, in: state)
            case .identity: false  // no finding is about an identity
            }
        }
        let units = findings.map { finding -> String? in
            switch finding.subject {
            case .employee(let employee): state.placement(employee, on: finding.period.lastDay).map { state.names[$0.unit] }
            case .unit(let unit): unit
            case .identity: nil
            }
        }
        return (findings, units)
    }

    public static func render(_ report: AccountabilityReport, _ format: ReportFormat) -> String {
        func subject(_ finding: Finding) -> (employee: String?, unit: String?) {
            switch finding.subject {
            case .employee(let nip): (nip.text, nil)
            case .unit(let code): (nil, code)
            case .identity: (nil, nil)
            }
        }
        switch format {
        case .json:
            var json = JSONWriter()
            json.raw("{")
            json.ledger(report.position, first: true)
            json.key("year")
            json.raw(report.year.map(String.init) ?? "null")
            json.key("findings")
            json.raw("[")
            for (index, finding) in report.findings.enumerated() {
                if index > 0 { json.raw(",") }
                json.raw("{")
                json.key("code", first: true)
                json.string(finding.code.rawValue)
                let (employee, unit) = subject(finding)
                if let employee {
                    json.key("employee")
                    json.string(employee)
                }
                if let unit {
                    json.key("unit")
                    json.string(unit)
                }
                json.key("period")
                json.string(finding.period.description)
                json.key("events")
                json.stringArray(finding.events.map(\.description))
                json.key("message")
                json.string(finding.message)
                json.raw("}")
            }
            json.raw("]}")
            return json.text + "\n"
        case .csv:
            var csv = CSV(header: ["code", "employee", "unit", "period", "events", "message"])
            for finding in report.findings {
                let (employee, unit) = subject(finding)
                csv.append([finding.code.rawValue, employee ?? "", unit ?? "", finding.period.description, finding.events.map(\.description).joined(separator: " "), finding.message])
            }
            return csv.text
        case .table:
            var table = TextTable(header: ["CODE", "SUBJECT", "PERIOD", "MESSAGE"])
            for finding in report.findings {
                let (employee, unit) = subject(finding)
                table.rows.append([finding.code.rawValue, employee ?? unit ?? "", finding.period.description, finding.message])
            }
            var counts: [FindingCode: Int] = [:]
            for finding in report.findings { counts[finding.code, default: 0] += 1 }
            let summary = FindingCode.allCases.compactMap { code in counts[code].map { "\($0) \(code.rawValue)" } }
            let scope = report.year.map { "accountability findings for \($0)" } ?? "accountability findings"
            return report.position.line + "\n\(scope): \(report.findings.count)" + (summary.isEmpty ? "" : " (" + summary.joined(separator: ", ") + ")")
                + "\n\n" + (report.findings.isEmpty ? "" : table.text)
        }
    }

    // MARK: Audit trail

    public struct AuditReport: Sendable {
        public var position: LedgerPosition
        public var entries: [AuditEntry]
    }

    public static func audit(_ ledger: Ledger, _ request: ReportRequest) throws -> AuditReport {
        var entries: [AuditEntry] = []
        let (_, position) = try replay(ledger, request, "report audit", auditFilters, employee: request.employee) { event, state in
            if request.matches(event, before: state) { entries.append(AuditTrail.entry(event, before: state)) }
        }
        return AuditReport(position: position, entries: entries)
    }

    public static func render(_ report: AuditReport, _ format: ReportFormat) -> String {
        func subject(_ entry: AuditEntry) -> String { entry.subject.text }
        switch format {
        case .json:
            var json = JSONWriter()
            json.raw("{")
            json.ledger(report.position, first: true)
            json.key("events")
            json.raw("[")
            for (index, entry) in report.entries.enumerated() {
                if index > 0 { json.raw(",") }
                writeEntry(entry, to: &json)
                json.raw("}")
            }
            json.raw("]}")
            return json.text + "\n"
        case .csv:
            var csv = CSV(header: ["seq", "recorded_at", "id", "type", "stream", "actor", "occurred_at", "reason", "change"])
            for entry in report.entries {
                csv.append([String(entry.seq), Timestamp(micros: entry.recordedAt).utcMicrosecondText, entry.id.description, entry.type.rawValue,
                            entry.subject.stream, entry.actor, entry.occurredAt.description, entry.reason ?? "", entry.change])
            }
            return csv.text
        case .table:
            var table = TextTable(header: ["SEQ", "OCCURRED", "TYPE", "SUBJECT", "ACTOR", "CHANGE"])
            table.rightAligned = [0]
            for entry in report.entries {
                table.rows.append([String(entry.seq), entry.occurredAt.localDate.description, entry.type.rawValue, subject(entry), entry.actor,
                                   entry.change + (entry.reason.map { " — reason: \($0)" } ?? "")])
            }
            return report.position.line + "\n\(report.entries.count) events\n\n" + table.text
        }
    }

    /// The fields of an audit entry, in an object left open for more.
    static func writeEntry(_ entry: AuditEntry, to json: inout JSONWriter) {
        json.raw("{")
        json.key("seq", first: true)
        json.raw(String(entry.seq))
        json.key("recorded_at")
        json.string(Timestamp(micros: entry.recordedAt).utcMicrosecondText)
        json.key("id")
        json.string(entry.id.description)
        json.key("type")
        json.string(entry.type.rawValue)
        json.key("stream")
        json.string(entry.subject.stream)
        json.key("actor")
        json.string(entry.actor)
        json.key("occurred_at")
        json.string(entry.occurredAt.description)
        json.key("reason")
        json.optionalString(entry.reason)
        json.key("change")
        json.string(entry.change)
    }

    // MARK: History

    public struct HistoryReport: Sendable {
        public var position: LedgerPosition
        public var employee: NIP
        public var entries: [HistoryEntry]
    }

    public static func history(_ ledger: Ledger, employee: NIP, _ request: ReportRequest) throws -> HistoryReport {
        try request.refuse("history", except: historyFilters)
        var history = History(employee: employee, rules: request.rules)
        let position = try ledger.replayInPlace(at: request.point, employee: employee) { event in
            history.apply(event, keep: request.matches(event, before: history.state))
        }
        return HistoryReport(position: position, employee: employee, entries: history.entries)
    }

    public static func render(_ report: HistoryReport, _ format: ReportFormat) -> String {
        switch format {
        case .json:
            var json = JSONWriter()
            json.raw("{")
            json.ledger(report.position, first: true)
            json.key("employee")
            json.string(report.employee.text)
            json.key("entries")
            json.raw("[")
            for (index, step) in report.entries.enumerated() {
                if index > 0 { json.raw(",") }
                writeEntry(step.entry, to: &json)
                json.key("state")
                writeState(step.state, to: &json)
                json.raw("}")
            }
            json.raw("]}")
            return json.text + "\n"
        case .csv:
            var csv = CSV(header: ["seq", "recorded_at", "id", "type", "actor", "occurred_at", "reason", "change", "state"])
            for step in report.entries {
                let entry = step.entry
                csv.append([String(entry.seq), Timestamp(micros: entry.recordedAt).utcMicrosecondText, entry.id.description, entry.type.rawValue,
                            entry.actor, entry.occurredAt.description, entry.reason ?? "", entry.change, describe(step.state)])
            }
            return csv.text
        case .table:
            var text = report.position.line + "\ndecision history of \(report.employee.text): \(report.entries.count) events\n"
            for step in report.entries {
                let entry = step.entry
                text += "\n#\(entry.seq)  \(entry.occurredAt)  \(entry.type.rawValue) by \(entry.actor)\n"
                text += "    \(entry.change)\n"
                if let reason = entry.reason { text += "    reason: \(reason)\n" }
                text += "    after: \(describe(step.state))\n"
            }
            return text
        }
    }

    static func describe(_ state: EmployeeState) -> String {
        var parts: [String] = []
        if let placement = state.placement {
            parts.append("\(placement.unit), appraiser \(placement.appraiser?.text ?? "none")")
        }
        if !state.targets.isEmpty {
            parts.append("targets " + state.targets.map { "\($0.year)/\($0.targetID) \($0.target.value.plainText) \($0.target.unit)" }.joined(separator: ", "))
        }
        if !state.scores.isEmpty {
            parts.append("scores " + state.scores.map { "\($0.period) \($0.predicate.rawValue)" + ($0.objection.map { " (objection \($0.rawValue))" } ?? "") }.joined(separator: ", "))
        }
        if !state.trainingHours.isEmpty {
            parts.append("training " + state.trainingHours.keys.sorted().map { "\($0) \(state.trainingHours[$0]!.plainText) JP" }.joined(separator: ", "))
        }
        if !state.feedback.isEmpty {
            parts.append("feedback " + state.feedback.keys.sorted().map { "\($0) ×\(state.feedback[$0]!)" }.joined(separator: ", "))
        }
        if !state.activities.isEmpty {
            parts.append("activities " + state.activities.keys.sorted().map { "\($0) ×\(state.activities[$0]!)" }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    static func writeState(_ state: EmployeeState, to json: inout JSONWriter) {
        json.raw("{")
        json.key("placement", first: true)
        if let placement = state.placement {
            json.raw("{")
            json.key("name", first: true)
            json.string(placement.name)
            json.key("unit")
            json.string(placement.unit)
            json.key("position")
            json.string(placement.position)
            json.key("appraiser")
            json.optionalString(placement.appraiser?.text)
            json.key("effective_from")
            json.string(placement.effectiveFrom.description)
            json.raw("}")
        } else {
            json.raw("null")
        }
        json.key("targets")
        json.raw("[")
        for (index, target) in state.targets.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("period", first: true)
            json.string(String(target.year))
            json.key("target_id")
            json.string(target.targetID)
            json.key("kind")
            json.string(target.kind.rawValue)
            json.key("plan")
            json.string(target.plan)
            json.key("target")
            json.target(target.target)
            json.key("aligned_to")
            json.alignment(target.alignedTo)
            json.raw("}")
        }
        json.raw("]")
        json.key("scores")
        json.raw("[")
        for (index, score) in state.scores.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{")
            json.key("period", first: true)
            json.string(score.period.description)
            json.key("results_rating")
            json.string(score.resultsRating.rawValue)
            json.key("behavior_rating")
            json.string(score.behaviorRating.rawValue)
            json.key("predicate")
            json.string(score.predicate.rawValue)
            json.key("event")
            json.string(score.event.description)
            json.key("objection")
            json.optionalString(score.objection?.rawValue)
            json.raw("}")
        }
        json.raw("]")
        json.key("training_hours")
        json.raw("{")
        for (index, year) in state.trainingHours.keys.sorted().enumerated() {
            if index > 0 { json.raw(",") }
            json.string(String(year))
            json.raw(":")
            json.number(state.trainingHours[year]!)
        }
        json.raw("}")
        for (key, counts) in [("feedback" as StaticString, state.feedback), ("activities", state.activities)] {
            json.key(key)
            json.raw("{")
            for (index, year) in counts.keys.sorted().enumerated() {
                if index > 0 { json.raw(",") }
                json.string(String(year))
                json.raw(":")
                json.raw(String(counts[year]!))
            }
            json.raw("}")
        }
        json.raw("}")
    }
}
