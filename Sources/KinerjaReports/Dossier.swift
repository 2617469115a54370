import AccountabilityProjection
import AppraisalCore
import KinerjaDomain
import KinerjaLedger

extension Reports {
    // MARK: Dossier (PRODUCT §10)

    /// `report dossier` takes a year (and a point in time); the employee is its argument.
    public static let dossierFilters: [FilterName] = [.year]

    /// One employee's appraisal year: placements, targets with their alignment and
    /// realizations, daily activity per month, feedback, scores per period with what replaced
    /// what, objections and decisions, training against the minimum, and the findings about them.
    public struct DossierReport: Sendable {
        public struct PlacementLine: Sendable {
            public var name: String
            public var unit: String
            public var position: String
            public var appraiser: NIP?
            public var effectiveFrom: CivilDate
            public var event: EventID
        }

        /// Whether a target is cascaded from one of the appraiser's (intervensi).
        public enum AlignmentState: String, Sendable {
            /// Aligned to a target the named employee has set for the year.
            case aligned
            /// Not aligned, though the placement in effect when it was set had an appraiser.
            case unaligned
            /// Aligned to a target the named employee has not set for the year.
            case broken
            /// Not aligned, and nobody to align to (the head of the organisation).
            case notRequired = "not_required"
        }

        public struct RealizationLine: Sendable {
            public var period: Period
            public var value: Double
            public var evidence: String?
            public var event: EventID
        }

        public struct TargetLine: Sendable {
            public var targetID: String
            public var kind: TargetKind
            public var plan: String
            public var indicator: String
            public var target: TargetQuantity
            public var alignedTo: Alignment?
            public var alignment: AlignmentState
            /// The `target.set`, then each revision.
            public var events: [EventID]
            public var realizations: [RealizationLine]
        }

        public struct FeedbackLine: Sendable {
            public var period: Period
            public var relation: FeedbackRelation
            public var aspect: CoreValue?
            public var topic: String?
            public var text: String
            public var actor: String
            public var date: CivilDate
            public var event: EventID
        }

        /// One event that set a period's score: a `score.given`, a `score.corrected` or an upheld
        /// `objection.decided`, and the event whose score it replaced.
        public struct ScoreStep: Sendable {
            public var seq: UInt64
            public var event: EventID
            public var type: EventType
            public var actor: String
            public var date: CivilDate
            public var resultsRating: Rating
            public var behaviorRating: Rating
            public var predicate: Predicate
            public var basis: CorrectionBasis?
            public var replaces: EventID?
            public var reason: String?
        }

        public struct ScoreLine: Sendable {
            public var period: Period
            public var resultsRating: Rating
            public var behaviorRating: Rating
            public var predicate: Predicate
            public var actor: String
            public var event: EventID
            public var setBy: EventType
            public var objection: AppraisalState.ObjectionState?
            /// Every event that set it, in `seq` order (the last one stands).
            public var steps: [ScoreStep]
        }

        public struct DecisionLine: Sendable {
            public var event: EventID
            public var outcome: ObjectionOutcome
            public var actor: String
            public var date: CivilDate
            public var reason: String?
            public var resultsRating: Rating?
            public var behaviorRating: Rating?
        }

        public struct ObjectionLine: Sendable {
            public var event: EventID
            public var score: EventID
            public var period: Period?
            public var receivedOn: CivilDate
            public var filedOn: CivilDate
            public var grounds: String
            public var decision: DecisionLine?
        }

        public struct TrainingLine: Sendable {
            public var title: String
            public var provider: String
            public var hours: Double
            public var completedOn: CivilDate
            public var certificate: String?
            public var event: EventID
        }

        public var position: LedgerPosition
        public var employee: NIP
        public var year: Int
        /// The name and unit of the latest placement in effect in the year, if any.
        public var name: String?
        public var unit: String?
        public var placements: [PlacementLine] = []
        public var targets: [TargetLine] = []
        /// Activities dated in each month of the year, January first.
        public var activity = [Int](repeating: 0, count: 12)
        public var feedback: [FeedbackLine] = []
        public var scores: [ScoreLine] = []
        public var objections: [ObjectionLine] = []
        public var training: [TrainingLine] = []
        public var trainingHours: Double = 0
        public var minimumTrainingHours: Double
        public var findings: [Finding] = []
    }

    /// The dossier of `employee` for `request.year` (by default the latest year their record
    /// holds), at the request's point in time. One replay of the ledger into the shared reducer
    /// (through ``Accountability``, whose findings it lists); the events of the employee are read
    /// as they pass, against the state before them, for what the state keeps no text of.
    public static func dossier(_ ledger: Ledger, employee: NIP, _ request: ReportRequest) throws -> DossierReport {
        try request.refuse("report dossier", except: dossierFilters)
        var accountability = Accountability(rules: request.rules)
        var steps: [DossierReport.ScoreStep] = [], stepPeriods: [Period] = []
        var realizations: [(targetID: String, line: DossierReport.RealizationLine)] = []
        var feedback: [DossierReport.FeedbackLine] = []
        var objections: [DossierReport.ObjectionLine] = []
        var training: [DossierReport.TrainingLine] = []
        let position = try ledger.replayInPlace(at: request.point) { event in
            if event.employee == employee {
                let state = accountability.state
                let actor = event.actor.string
                let date = event.occurredAt.localDate
                let seq = event.seq, id = event.id, type = event.type, reason = event.reason?.string
                func step(_ period: Period, _ results: Rating, _ behavior: Rating, basis: CorrectionBasis? = nil) {
                    let replaced = state.record(employee)?.score(period)?.event
                    steps.append(DossierReport.ScoreStep(
                        seq: seq, event: id, type: type, actor: actor, date: date, resultsRating: results, behaviorRating: behavior,
                        predicate: state.predicate(period, results, behavior), basis: basis, replaces: replaced, reason: reason))
                    stepPeriods.append(period)
                }
                switch event.data {
                case .scoreGiven(let given):
                    step(given.period, given.resultsRating, given.behaviorRating)
                    if let full = try? event.event(), case .scoreGiven(let score) = full.data {
                        for realization in score.realizations ?? [] {
                            realizations.append((realization.targetID, DossierReport.RealizationLine(period: given.period, value: realization.value, evidence: realization.evidence, event: event.id)))
                        }
                    }
                case .scoreCorrected(let correction):
                    if let period = state.period(of: correction.corrects) {
                        step(period, correction.resultsRating, correction.behaviorRating, basis: correction.basis)
                    }
                case .objectionFiled(let filed):
                    objections.append(DossierReport.ObjectionLine(
                        event: event.id, score: filed.score, period: state.period(of: filed.score), receivedOn: filed.receivedOn, filedOn: date,
                        grounds: filed.grounds.string))
                case .objectionDecided(let decided):
                    let ratings = decided.ratings
                    if let index = objections.firstIndex(where: { $0.event == decided.objection }) {
                        objections[index].decision = DossierReport.DecisionLine(
                            event: event.id, outcome: decided.outcome, actor: actor, date: date, reason: event.reason?.string,
                            resultsRating: ratings?.results, behaviorRating: ratings?.behavior)
                    }
                    if let ratings, let reference = state.objection(decided.objection)?.score {
                        step(state.score(reference).period, ratings.results, ratings.behavior)
                    }
                case .feedbackGiven(let given):
                    feedback.append(DossierReport.FeedbackLine(
                        period: given.period, relation: given.relation, aspect: given.aspect, topic: given.topic?.string, text: given.text.string,
                        actor: actor, date: date, event: event.id))
                case .trainingCompleted(let completed):
                    training.append(DossierReport.TrainingLine(
                        title: completed.title.string, provider: completed.provider.string, hours: completed.hours, completedOn: completed.completedOn,
                        certificate: completed.certificate?.string, event: event.id))
                default:
                    break
                }
            }
            accountability.apply(event)
        }

        let state = accountability.state
        let record = state.record(employee)
        var years = Set<Int>()
        for year in record?.years ?? [] { years.insert(year.year) }
        for target in record?.targets ?? [] { years.insert(target.year) }
        for score in record?.scores ?? [] { years.insert(score.period.year) }
        for placement in record?.placements ?? [] { years.insert(placement.effectiveFrom.year) }
        let year = request.year ?? years.max() ?? Timestamp(micros: max(state.recordedAt, 0)).localDate.year
        let period = Period(year: year)
        let rules = request.rules.rules(for: period)
        var dossier = DossierReport(position: position, employee: employee, year: year, minimumTrainingHours: rules.minimumTrainingHours)
        let names = state.names

        // Placements: those in effect at some time of the year, in the order of their dates.
        let placements = (record?.placements ?? []).sorted { ($0.effectiveFrom, $0.seq) < ($1.effectiveFrom, $1.seq) }
        let start = CivilDate(year: year, month: 1, day: 1)!
        for (index, placement) in placements.enumerated() where placement.effectiveFrom <= period.lastDay {
            if index + 1 < placements.count, placements[index + 1].effectiveFrom <= start { continue }
            dossier.placements.append(DossierReport.PlacementLine(
                name: names[placement.name], unit: names[placement.unit], position: names[placement.position], appraiser: placement.appraiser,
                effectiveFrom: placement.effectiveFrom, event: placement.id))
        }
        if let last = record?.placement(on: period.lastDay) ?? record?.placements.last {
            dossier.name = names[last.name]
            dossier.unit = names[last.unit]
        }

        for target in (record?.targets ?? []) where target.year == year {
            let id = names[target.targetID]
            let alignment: DossierReport.AlignmentState
            if let aligned = target.alignedTo {
                alignment = state.record(aligned.employee)?.target(year: year, aligned.targetID) != nil ? .aligned : .broken
            } else {
                alignment = target.appraiserInEffect ? .unaligned : .notRequired
            }
            dossier.targets.append(DossierReport.TargetLine(
                targetID: id, kind: target.kind, plan: state.texts[target.plan], indicator: state.texts[target.indicator],
                target: TargetQuantity(value: target.value, unit: names[target.unit]),
                alignedTo: target.alignedTo.map { Alignment(employee: $0.employee, targetID: names[$0.targetID]) }, alignment: alignment,
                events: target.events, realizations: realizations.filter { $0.targetID == id && $0.line.period.year == year }.map(\.line)))
        }

        if let activity = record?.year(year)?.activities { dossier.activity = activity.map(Int.init) }
        dossier.feedback = feedback.filter { $0.period.year == year }

        for score in (record?.scores ?? []).filter({ $0.period.year == year }).sorted(by: { $0.period < $1.period }) {
            dossier.scores.append(DossierReport.ScoreLine(
                period: score.period, resultsRating: score.resultsRating, behaviorRating: score.behaviorRating, predicate: score.predicate,
                actor: names[score.actor], event: score.event, setBy: score.setBy, objection: score.objection,
                steps: zip(steps, stepPeriods).filter { $0.1 == score.period }.map(\.0)))
        }
        dossier.objections = objections.filter { ($0.period?.year ?? $0.filedOn.year) == year }
        dossier.training = training.filter { $0.completedOn.year == year }
        dossier.trainingHours = dossier.training.reduce(0) { $0 + $1.hours }
        dossier.findings = accountability.findings(year: year).filter { $0.subject == .employee(employee) }
        return dossier
    }

    public static func render(_ report: DossierReport, _ format: ReportFormat, language: Language = .en) -> String {
        switch format {
        case .json: dossierJSON(report)
        case .csv, .table: dossierTable(report, Labels(language))
        }
    }

    static func dossierJSON(_ report: DossierReport) -> String {
        var json = JSONWriter()
        json.raw("{")
        json.ledger(report.position, first: true)
        json.member("employee", report.employee.text)
        json.key("year")
        json.raw(String(report.year))
        json.key("name")
        json.optionalString(report.name)
        json.key("unit")
        json.optionalString(report.unit)
        json.key("placements")
        json.array(report.placements) { json, placement in
            json.raw("{")
            json.member("name", placement.name, first: true)
            json.member("unit", placement.unit)
            json.member("position", placement.position)
            json.key("appraiser")
            json.optionalString(placement.appraiser?.text)
            json.member("effective_from", placement.effectiveFrom.description)
            json.member("event", placement.event.description)
            json.raw("}")
        }
        json.key("targets")
        json.array(report.targets) { json, target in
            json.raw("{")
            json.member("target_id", target.targetID, first: true)
            json.member("kind", target.kind.rawValue)
            json.member("plan", target.plan)
            json.member("indicator", target.indicator)
            json.key("target")
            json.target(target.target)
            json.key("aligned_to")
            json.alignment(target.alignedTo)
            json.member("alignment", target.alignment.rawValue)
            json.key("events")
            json.stringArray(target.events.map(\.description))
            json.key("realizations")
            json.array(target.realizations) { json, realization in
                json.raw("{")
                json.member("period", realization.period.description, first: true)
                json.key("value")
                json.number(realization.value)
                json.key("evidence")
                json.optionalString(realization.evidence)
                json.member("event", realization.event.description)
                json.raw("}")
            }
            json.raw("}")
        }
        json.key("activity")
        json.raw("{")
        json.key("total", first: true)
        json.raw(String(report.activity.reduce(0, +)))
        json.key("months")
        json.raw("[" + report.activity.map(String.init).joined(separator: ",") + "]")
        json.raw("}")
        json.key("feedback")
        json.array(report.feedback) { json, feedback in
            json.raw("{")
            json.member("period", feedback.period.description, first: true)
            json.member("relation", feedback.relation.rawValue)
            json.key("aspect")
            json.optionalString(feedback.aspect?.rawValue)
            json.key("topic")
            json.optionalString(feedback.topic)
            json.member("text", feedback.text)
            json.member("actor", feedback.actor)
            json.member("date", feedback.date.description)
            json.member("event", feedback.event.description)
            json.raw("}")
        }
        json.key("scores")
        json.array(report.scores) { json, score in
            json.raw("{")
            json.member("period", score.period.description, first: true)
            json.member("results_rating", score.resultsRating.rawValue)
            json.member("behavior_rating", score.behaviorRating.rawValue)
            json.member("predicate", score.predicate.rawValue)
            json.member("actor", score.actor)
            json.member("event", score.event.description)
            json.member("set_by", score.setBy.rawValue)
            json.key("objection")
            json.optionalString(score.objection?.rawValue)
            json.key("steps")
            json.array(score.steps) { json, step in
                json.raw("{")
                json.key("seq", first: true)
                json.raw(String(step.seq))
                json.member("event", step.event.description)
                json.member("type", step.type.rawValue)
                json.member("actor", step.actor)
                json.member("date", step.date.description)
                json.member("results_rating", step.resultsRating.rawValue)
                json.member("behavior_rating", step.behaviorRating.rawValue)
                json.member("predicate", step.predicate.rawValue)
                json.key("basis")
                json.optionalString(step.basis?.rawValue)
                json.key("replaces")
                json.optionalString(step.replaces?.description)
                json.key("reason")
                json.optionalString(step.reason)
                json.raw("}")
            }
            json.raw("}")
        }
        json.key("objections")
        json.array(report.objections) { json, objection in
            json.raw("{")
            json.member("event", objection.event.description, first: true)
            json.member("score", objection.score.description)
            json.key("period")
            json.optionalString(objection.period?.description)
            json.member("received_on", objection.receivedOn.description)
            json.member("filed_on", objection.filedOn.description)
            json.member("grounds", objection.grounds)
            json.key("decision")
            if let decision = objection.decision {
                json.raw("{")
                json.member("event", decision.event.description, first: true)
                json.member("outcome", decision.outcome.rawValue)
                json.member("actor", decision.actor)
                json.member("date", decision.date.description)
                json.key("reason")
                json.optionalString(decision.reason)
                json.key("results_rating")
                json.optionalString(decision.resultsRating?.rawValue)
                json.key("behavior_rating")
                json.optionalString(decision.behaviorRating?.rawValue)
                json.raw("}")
            } else {
                json.raw("null")
            }
            json.raw("}")
        }
        json.key("training")
        json.raw("{")
        json.key("hours", first: true)
        json.number(report.trainingHours)
        json.key("minimum")
        json.number(report.minimumTrainingHours)
        json.key("meets_minimum")
        json.raw(report.trainingHours >= report.minimumTrainingHours ? "true" : "false")
        json.key("completed")
        json.array(report.training) { json, training in
            json.raw("{")
            json.member("title", training.title, first: true)
            json.member("provider", training.provider)
            json.key("hours")
            json.number(training.hours)
            json.member("completed_on", training.completedOn.description)
            json.key("certificate")
            json.optionalString(training.certificate)
            json.member("event", training.event.description)
            json.raw("}")
        }
        json.raw("}")
        json.key("findings")
        json.array(report.findings) { json, finding in
            json.raw("{")
            json.member("code", finding.code.rawValue, first: true)
            json.member("period", finding.period.description)
            json.key("events")
            json.stringArray(finding.events.map(\.description))
            json.member("message", finding.message)
            json.raw("}")
        }
        json.raw("}")
        return json.text + "\n"
    }

    static func dossierTable(_ report: DossierReport, _ labels: Labels) -> String {
        var text = report.position.line + "\n"
        text += "\(labels[.dossierTitle]) \(report.year): \(report.employee.text)"
        text += (report.name.map { " \($0)" } ?? "") + (report.unit.map { ", \($0)" } ?? "") + "\n"
        func section(_ title: Label.Text, _ table: TextTable?, empty: Bool) {
            text += "\n\(labels[title])\n"
            if let table, !empty { text += "\n" + table.text } else { text += "  -\n" }
        }
        var placements = TextTable(header: [labels[.effectiveFrom], labels[.unit], labels[.position], labels[.appraiser]].map { $0.uppercased() })
        for placement in report.placements {
            placements.rows.append([placement.effectiveFrom.description, placement.unit, placement.position, placement.appraiser?.text ?? labels[.none]])
        }
        section(.placements, placements, empty: report.placements.isEmpty)
        var targets = TextTable(header: ["ID", labels[.target], labels[.alignment], labels[.realizations], labels[.plan]].map { $0.uppercased() })
        for target in report.targets {
            let alignment = switch target.alignment {
            case .aligned: "\(target.alignedTo!.employee.text)/\(target.alignedTo!.targetID)"
            case .broken: "\(target.alignedTo!.employee.text)/\(target.alignedTo!.targetID) (\(labels[.alignmentBroken]))"
            case .unaligned: labels[.notAligned]
            case .notRequired: "-"
            }
            let realized = target.realizations.map { "\($0.period) \($0.value.plainText)" }.joined(separator: ", ")
            targets.rows.append([target.targetID, "\(target.target.value.plainText) \(target.target.unit)", alignment, realized.isEmpty ? "-" : realized, target.plan])
        }
        section(.targets, targets, empty: report.targets.isEmpty)
        text += "\n\(labels[.activityPerMonth]): " + (1...12).map { "\(labels[.month($0)].prefix(3)) \(report.activity[$0 - 1])" }.joined(separator: ", ")
        text += " (\(labels[.total]) \(report.activity.reduce(0, +)))\n"
        var feedback = TextTable(header: [labels[.period], labels[.relation], labels[.actor], labels[.text]].map { $0.uppercased() })
        for line in report.feedback { feedback.rows.append([line.period.description, line.relation.rawValue, line.actor, line.text]) }
        section(.feedback, feedback, empty: report.feedback.isEmpty)
        var scores = TextTable(header: [labels[.period], labels[.predikat], labels[.type], labels[.actor], labels[.event], labels[.replaced]].map { $0.uppercased() })
        for score in report.scores {
            for step in score.steps {
                let standing = step.event == score.event ? " *" : ""
                scores.rows.append([score.period.description, step.predicate.rawValue + standing, step.type.rawValue + (step.basis.map { " (\($0.rawValue))" } ?? ""),
                                    step.actor, step.event.description, step.replaces?.description ?? "-"])
            }
        }
        section(.scores, scores, empty: report.scores.isEmpty)
        if !report.scores.isEmpty { text += "  * \(labels[.stands])\n" }
        var objections = TextTable(header: [labels[.period], labels[.received], labels[.filed], labels[.decision], labels[.decidedBy]].map { $0.uppercased() })
        for objection in report.objections {
            objections.rows.append([objection.period?.description ?? "-", objection.receivedOn.description, objection.filedOn.description,
                                    objection.decision.map { "\($0.outcome.rawValue) \($0.date)" } ?? labels[.undecided], objection.decision?.actor ?? "-"])
        }
        section(.objections, objections, empty: report.objections.isEmpty)
        var training = TextTable(header: [labels[.completedOn], labels[.hours], labels[.title]].map { $0.uppercased() })
        training.rightAligned = [1]
        for line in report.training { training.rows.append([line.completedOn.description, line.hours.plainText, line.title]) }
        section(.training, training, empty: report.training.isEmpty)
        let meets = report.trainingHours >= report.minimumTrainingHours
        text += "  \(labels[.total]) \(report.trainingHours.plainText) JP, \(labels[.minimum]) \(report.minimumTrainingHours.plainText) JP: \(labels[meets ? .meetsMinimum : .belowMinimum])\n"
        var findings = TextTable(header: [labels[.code], labels[.period], labels[.message]].map { $0.uppercased() })
        for finding in report.findings { findings.rows.append([finding.code.rawValue, finding.period.description, finding.message]) }
        section(.findings, findings, empty: report.findings.isEmpty)
        return text
    }
}
