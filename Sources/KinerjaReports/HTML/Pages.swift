import AccountabilityProjection
import AppraisalCore
import AuditTrailProjection
import HistoryProjection
import KinerjaDomain
import KinerjaLedger
import ScoresProjection

/// `--format html`: each report as one self-contained page (``HTMLPage``), its labels from
/// ``Labels``, its charts from ``Chart``. Every free text is escaped; long tables are cut into
/// pages of ``HTMLOptions/rowLimit`` rows.
extension Reports {
    // MARK: Scores

    public static func html(_ report: ScoresReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        var counts = [Int](repeating: 0, count: Predicate.allCases.count)
        for row in report.rows { counts[Predicate.allCases.firstIndex(of: row.predicate)!] += 1 }
        page.figure(
            Chart.bars(zip(Predicate.allCases, counts).map { Chart.Bar(labels[.predicate($0)], Double($1)) }, title: labels[.predikat]),
            caption: "\(labels[.predikat]): \(report.rows.count)")
        let rows: [[Cell]] = zip(report.rows, report.placements).map { row, placed in
            var objection = row.objection.map { labels[.objectionState($0)] } ?? ""
            if row.setBy != .scoreGiven { objection = [labels[.eventType(row.setBy)], objection].filter { !$0.isEmpty }.joined(separator: "; ") }
            return [employeeCell(row.employee, options), Cell(placed?.name ?? "-"), Cell(placed?.unit ?? "-"), Cell(labels.period(row.period)),
                    Cell(labels[.rating(row.resultsRating)]), Cell(labels[.rating(row.behaviorRating)]), predicateBadge(row.predicate, labels),
                    Cell(row.actor), Cell(objection)]
        }
        page.table([labels[.employee], labels[.name], labels[.unit], labels[.period], labels[.results], labels[.behaviour], labels[.predikat],
                    labels[.setBy], labels[.objection]], rows, options: options)
        return page.document(title: labels[.scoresTitle], position: report.position, options: options)
    }

    // MARK: Units

    public static func html(_ report: UnitsReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        for year in Set(report.lines.map(\.year)).sorted() {
            let lines = report.lines.filter { $0.year == year }
            page.heading("\(labels[.year]) \(year)")
            let judged = lines.filter { $0.unit != nil && !$0.curve.isEmpty }
            if !judged.isEmpty {
                page.figure(
                    Chart.distribution(judged.map { Chart.UnitCurve(unit: $0.unit!, counts: $0.counts, checks: $0.curve) }, labels: labels,
                                       title: "\(labels[.distributionAgainstCurve]) \(year)"),
                    caption: "\(labels[.distributionAgainstCurve]) \(year)")
            }
            let rows: [[Cell]] = lines.map { line in
                let holds: Cell = line.holds.map { $0 ? Cell(html: "<span class=\"ok\">\(escapeHTML(labels[.yes]))</span>")
                    : Cell(html: "<span class=\"bad\">\(escapeHTML(labels[.no])) — \(escapeHTML(labels[.breach]))</span>") } ?? "-"
                let curve = line.curve.map { check in
                    escapeHTML(labels.rule(check.rule)) + " (\(check.count)/\(line.scored))" + (check.holds ? "" : " <span class=\"bad\">✗</span>")
                }.joined(separator: "<br>")
                return [Cell(line.unit ?? labels[.organisation]), .number(line.scored)] + line.counts.map { Cell.number($0) }
                    + [Cell(line.rating.map { labels[.unitRating($0)] } ?? "-"), holds, Cell(html: curve.isEmpty ? "-" : curve)]
            }
            page.table([labels[.unit], labels[.scored]] + Predicate.allCases.map { labels[.predicate($0)] } + [labels[.unitRating], labels[.holds], labels[.curve]],
                       rows, options: options)
        }
        if report.lines.isEmpty { page.paragraph(labels[.nothing]) }
        return page.document(title: labels[.unitsTitle], position: report.position, options: options)
    }

    // MARK: Accountability

    public static func html(_ report: AccountabilityReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        let units = report.units.count == report.findings.count ? report.units : report.findings.map { _ in nil }
        if report.findings.isEmpty {
            page.paragraph(labels[.noFindings])
        } else {
            var byCode: [FindingCode: Int] = [:]
            var byUnit: [String: Int] = [:]
            for (finding, unit) in zip(report.findings, units) {
                byCode[finding.code, default: 0] += 1
                byUnit[unit ?? "-", default: 0] += 1
            }
            page.heading(labels[.findingsByCode])
            let codes = FindingCode.allCases.filter { byCode[$0] != nil }
            page.figure(Chart.bars(codes.map { Chart.Bar(labels[.finding($0)], Double(byCode[$0]!)) }, title: labels[.findingsByCode]),
                        caption: "\(labels[.findings]): \(report.findings.count)")
            page.heading(labels[.findingsByUnit])
            let unitNames = byUnit.keys.sorted()
            page.figure(Chart.bars(unitNames.map { Chart.Bar($0, Double(byUnit[$0]!)) }, title: labels[.findingsByUnit]), caption: labels[.findingsByUnit])
            page.heading(labels[.findings])
            let rows: [[Cell]] = zip(report.findings, units).map { finding, unit in
                let subject: Cell = switch finding.subject {
                case .employee(let nip): employeeCell(nip, options)
                case .unit(let code): Cell(code)
                case .identity(let name): Cell(name)
                }
                return [Cell(html: "\(escapeHTML(labels[.finding(finding.code)]))<br><code>\(finding.code.rawValue)</code>"), subject, Cell(unit ?? "-"),
                        Cell(labels.period(finding.period)), Cell(finding.message)]
            }
            page.table([labels[.findings], labels[.subject], labels[.unit], labels[.period], labels[.message]], rows, options: options)
        }
        let title = labels[.accountabilityTitle] + (report.year.map { " \($0)" } ?? "")
        return page.document(title: title, position: report.position, options: options)
    }

    // MARK: Audit trail

    public static func html(_ report: AuditReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        page.paragraph("\(report.entries.count) \(labels[.event].lowercased())")
        let rows: [[Cell]] = report.entries.map { entry in
            let subject: Cell = switch entry.subject {
            case .employee(let nip): employeeCell(nip, options)
            case .unit(let code): Cell(code)
            case .identity(let name): Cell(name)
            }
            return [.number(Int(entry.seq)), Cell(labels.date(entry.occurredAt.localDate)), Cell(labels[.eventType(entry.type)]), subject, Cell(entry.actor),
                    Cell(entry.change), Cell(entry.reason ?? "")]
        }
        page.table([labels[.seq], labels[.occurred], labels[.type], labels[.subject], labels[.actor], labels[.change], labels[.reason]], rows, options: options)
        return page.document(title: labels[.auditTitle], position: report.position, options: options)
    }

    // MARK: History

    public static func html(_ report: HistoryReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        // Predikat per period over time: each score event a point; those it replaced open circles.
        var byPeriod: [Period: [Predicate]] = [:]
        var previous: [Period: Predicate] = [:]
        for step in report.entries {
            for score in step.state.scores where previous[score.period] != score.predicate || byPeriod[score.period] == nil {
                byPeriod[score.period, default: []].append(score.predicate)
                previous[score.period] = score.predicate
            }
        }
        let periods = byPeriod.keys.sorted()
        if !periods.isEmpty {
            page.figure(
                Chart.predicates(periods.map { Chart.Step(period: $0.description, predicate: byPeriod[$0]!.last, replaced: Array(byPeriod[$0]!.dropLast())) },
                                 labels: labels, title: labels[.predikatOverTime]),
                caption: labels[.predikatOverTime])
        }
        let rows: [[Cell]] = report.entries.map { step in
            let entry = step.entry
            return [.number(Int(entry.seq)), Cell(labels.date(entry.occurredAt.localDate)), Cell(labels[.eventType(entry.type)]), Cell(entry.actor),
                    Cell(entry.change), Cell(entry.reason ?? ""), Cell(describe(step.state))]
        }
        page.table([labels[.seq], labels[.occurred], labels[.type], labels[.actor], labels[.change], labels[.reason], labels[.after]], rows, options: options)
        let name = report.entries.last?.state.placement?.name
        return page.document(title: "\(labels[.historyTitle]): \(report.employee.text)", subtitle: name, position: report.position, options: options)
    }

    // MARK: Dossier

    public static func html(_ report: DossierReport, _ options: HTMLOptions) -> String {
        let labels = options.labels
        var page = HTMLPage()
        page.raw("<dl class=\"facts\">")
        for (term, value) in [(labels[.employee], report.employee.text), (labels[.name], report.name ?? "-"), (labels[.unit], report.unit ?? "-"),
                              (labels[.year], String(report.year))] {
            page.raw("<dt>\(escapeHTML(term))</dt><dd>\(escapeHTML(value))</dd>")
        }
        page.raw("</dl>\n")

        page.heading(labels[.scores])
        if report.scores.isEmpty {
            page.paragraph(labels[.nothing])
        } else {
            page.figure(
                Chart.predicates(report.scores.map { score in
                    Chart.Step(period: score.period.description, predicate: score.predicate, replaced: score.steps.dropLast().map(\.predicate))
                }, labels: labels, title: labels[.predikatOverTime]),
                caption: labels[.predikatOverTime])
            var rows: [[Cell]] = []
            for score in report.scores {
                for step in score.steps {
                    let standing = step.event == score.event
                    let type = labels[.eventType(step.type)] + (step.basis.map { " (\(labels[.basis($0)]))" } ?? "")
                    rows.append([Cell(labels.period(score.period)), predicateBadge(step.predicate, labels),
                                 Cell(labels[.rating(step.resultsRating)]), Cell(labels[.rating(step.behaviorRating)]),
                                 Cell(html: escapeHTML(type) + (standing ? "" : " <span class=\"note\">(\(escapeHTML(labels[.replacedBy])) …)</span>")),
                                 Cell(step.actor), Cell(labels.date(step.date)), Cell(html: "<code>\(step.event)</code>"),
                                 Cell(html: step.replaces.map { "<code>\($0)</code>" } ?? "-"), Cell(step.reason ?? "")])
                }
            }
            page.table([labels[.period], labels[.predikat], labels[.results], labels[.behaviour], labels[.type], labels[.actor], labels[.occurred], labels[.event],
                        labels[.replaced], labels[.reason]], rows, options: options)
        }

        page.heading(labels[.placements])
        if report.placements.isEmpty { page.paragraph(labels[.nothing]) } else {
            page.table([labels[.effectiveFrom], labels[.name], labels[.unit], labels[.position], labels[.appraiser]],
                       report.placements.map { [Cell(labels.date($0.effectiveFrom)), Cell($0.name), Cell($0.unit), Cell($0.position),
                                                $0.appraiser.map { employeeCell($0, options) } ?? Cell(labels[.none])] },
                       options: options)
        }

        page.heading(labels[.targets])
        if report.targets.isEmpty { page.paragraph(labels[.nothing]) } else {
            let rows: [[Cell]] = report.targets.map { target in
                let alignment: Cell = switch target.alignment {
                case .aligned: Cell("\(labels[.alignedTo]) \(target.alignedTo!.employee.text)/\(target.alignedTo!.targetID)")
                case .broken: Cell(html: "<span class=\"bad\">\(escapeHTML("\(target.alignedTo!.employee.text)/\(target.alignedTo!.targetID): \(labels[.alignmentBroken])"))</span>")
                case .unaligned: Cell(html: "<span class=\"bad\">\(escapeHTML(labels[.notAligned]))</span>")
                case .notRequired: "-"
                }
                let realized = target.realizations.map { "\(labels.period($0.period)): \(labels.number($0.value))" + ($0.evidence.map { " (\($0))" } ?? "") }
                return [Cell(target.targetID), Cell(labels[.kind(target.kind)]), Cell(target.plan), Cell(target.indicator),
                        .number("\(labels.number(target.target.value)) \(target.target.unit)"), alignment,
                        Cell(html: realized.isEmpty ? "-" : realized.map(escapeHTML).joined(separator: "<br>")), .number(target.events.count - 1)]
            }
            page.table([labels[.target], labels[.type], labels[.plan], labels[.indicator], labels[.target], labels[.alignment], labels[.realizations], labels[.revisions]],
                       rows, options: options)
        }

        page.heading(labels[.activityPerMonth])
        page.figure(Chart.columns((1...12).map { Chart.Bar(String(labels[.month($0)].prefix(3)), Double(report.activity[$0 - 1])) }, title: labels[.activityPerMonth]),
                    caption: "\(labels[.total]): \(report.activity.reduce(0, +)) \(labels[.activities])")

        page.heading(labels[.training])
        let meets = report.trainingHours >= report.minimumTrainingHours
        let trainingBars = report.training.map { Chart.Bar($0.title, $0.hours) } + [Chart.Bar(labels[.total], report.trainingHours, breach: !meets)]
        page.figure(Chart.bars(trainingBars, limit: (report.minimumTrainingHours, "\(labels[.minimum]) \(labels.number(report.minimumTrainingHours)) JP"),
                               title: labels[.trainingAgainstMinimum], format: { labels.number($0) + " JP" }),
                    caption: "\(labels[.total]) \(labels.number(report.trainingHours)) JP — \(labels[meets ? .meetsMinimum : .belowMinimum])")
        if !report.training.isEmpty {
            page.table([labels[.completedOn], labels[.title], labels[.provider], labels[.hours], labels[.certificate]],
                       report.training.map { [Cell(labels.date($0.completedOn)), Cell($0.title), Cell($0.provider), .number(labels.number($0.hours)), Cell($0.certificate ?? "-")] },
                       options: options)
        }

        page.heading(labels[.feedback])
        if report.feedback.isEmpty { page.paragraph(labels[.nothing]) } else {
            page.table([labels[.period], labels[.relation], labels[.aspect], labels[.topic], labels[.actor], labels[.text]],
                       report.feedback.map { [Cell(labels.period($0.period)), Cell(labels[.relation($0.relation)]), Cell($0.aspect.map { labels[.coreValue($0)] } ?? "-"),
                                             Cell($0.topic ?? "-"), Cell($0.actor), Cell($0.text)] },
                       options: options)
        }

        page.heading(labels[.objections])
        if report.objections.isEmpty { page.paragraph(labels[.nothing]) } else {
            page.table([labels[.period], labels[.received], labels[.filed], labels[.grounds], labels[.decision], labels[.decidedBy], labels[.reason]],
                       report.objections.map { objection in
                           let decision = objection.decision.map { decision in
                               labels[.outcome(decision.outcome)] + ", " + labels.date(decision.date)
                                   + (decision.resultsRating.map { " — \(labels[.results]): \(labels[.rating($0)])" } ?? "")
                                   + (decision.behaviorRating.map { ", \(labels[.behaviour]): \(labels[.rating($0)])" } ?? "")
                           }
                           return [Cell(objection.period.map(labels.period) ?? "-"), Cell(labels.date(objection.receivedOn)), Cell(labels.date(objection.filedOn)),
                                   Cell(objection.grounds), Cell(decision ?? labels[.undecided]), Cell(objection.decision?.actor ?? "-"),
                                   Cell(objection.decision?.reason ?? "")]
                       },
                       options: options)
        }

        page.heading(labels[.findings])
        if report.findings.isEmpty { page.paragraph(labels[.noFindings]) } else {
            page.table([labels[.findings], labels[.period], labels[.message]],
                       report.findings.map { [Cell(html: "\(escapeHTML(labels[.finding($0.code)]))<br><code>\($0.code.rawValue)</code>"), Cell(labels.period($0.period)), Cell($0.message)] },
                       options: options)
        }
        let title = "\(labels[.dossierTitle]) \(report.year): \(report.name ?? report.employee.text)"
        return page.document(title: title, subtitle: report.employee.text, position: report.position, options: options)
    }
}

/// The organisation's pages, as `kinerja demo` writes them beside its ledger: the units' curve,
/// the findings and one employee's dossier, linked to each other by file name.
public enum OrganisationPages {
    public struct Page: Sendable {
        public var file: String
        public var html: String
    }

    /// Whose dossier the demo shows: the employee whose objection decision was overridden (every
    /// step of the cycle happens to them), else the first employee with a finding.
    public static func dossierSubject(_ report: Reports.AccountabilityReport) -> NIP? {
        let subjects = report.findings.compactMap { finding -> (FindingCode, NIP)? in
            if case .employee(let nip) = finding.subject { return (finding.code, nip) } else { return nil }
        }
        return subjects.first { $0.0 == .decisionOverridden }?.1 ?? subjects.first?.1
    }

    /// The pages for `year` at the ledger's head; `dossier`: whose dossier to include.
    public static func build(_ ledger: Ledger, year: Int, dossier employee: NIP?, language: Language = .id) throws -> [Page] {
        var request = ReportRequest()
        request.year = year
        let labels = Labels(language)
        let dossierFile = employee.map { "dossier-\($0.text).html" }
        var options = HTMLOptions(language: language)
        options.navigation = [HTMLOptions.Link(labels[.unitsTitle], "units.html"), HTMLOptions.Link(labels[.accountabilityTitle], "accountability.html")]
        if let employee, let dossierFile {
            options.navigation.append(HTMLOptions.Link("\(labels[.dossierTitle]) \(employee.text)", dossierFile))
            options.dossierLink = { $0 == employee ? dossierFile : nil }
        }
        var pages = [
            Page(file: "units.html", html: Reports.html(try Reports.units(ledger, request), options)),
            Page(file: "accountability.html", html: Reports.html(try Reports.accountability(ledger, request), options)),
        ]
        if let employee, let dossierFile {
            pages.append(Page(file: dossierFile, html: Reports.html(try Reports.dossier(ledger, employee: employee, request), options)))
        }
        return pages
    }
}

extension Reports {
    // MARK: People (the server's landing page)

    /// An employee as the latest placement recorded for them says.
    public struct Person: Sendable {
        public var nip: NIP
        public var name: String
        public var unit: String
        public var position: String
        public var appraiser: NIP?
    }

    /// Everyone placed, by NIP, with their latest placement (the latest `effective_from`, ties to
    /// the higher `seq`), at the request's point in time; and the units, sorted.
    public static func people(_ ledger: Ledger, at point: PointInTime = .head) throws -> (position: LedgerPosition, people: [Person], units: [String]) {
        var state = AppraisalState()
        let position = try ledger.replayInPlace(at: point) { state.apply($0) }
        let names = state.names
        var people: [Person] = []
        var units = Set<String>()
        for employee in state.employees {
            guard let latest = employee.placements.max(by: { ($0.effectiveFrom, $0.seq) < ($1.effectiveFrom, $1.seq) }) else { continue }
            people.append(Person(nip: employee.nip, name: names[latest.name], unit: names[latest.unit], position: names[latest.position], appraiser: latest.appraiser))
            units.insert(names[latest.unit])
        }
        return (position, people.sorted { $0.nip < $1.nip }, units.sorted())
    }

    /// A page of links: the server's `/ui/` landing page, what an identity may open.
    public struct LinkSection: Sendable {
        public var title: String
        public var links: [HTMLOptions.Link]

        public init(title: String, links: [HTMLOptions.Link]) {
            self.title = title
            self.links = links
        }
    }

    public static func landing(title: String, subtitle: String, sections: [LinkSection], position: LedgerPosition, _ options: HTMLOptions) -> String {
        var page = HTMLPage()
        for section in sections {
            page.heading(section.title)
            if section.links.isEmpty {
                page.paragraph(options.labels[.nothing])
                continue
            }
            page.raw("<ul>\n" + section.links.map { "<li><a href=\"\(escapeHTML($0.href))\">\(escapeHTML($0.label))</a></li>\n" }.joined() + "</ul>\n")
        }
        return page.document(title: title, subtitle: subtitle, position: position, options: options)
    }
}
