import AppraisalCore
import KinerjaDomain
import KinerjaLedger

extension Reports {
    // MARK: Units (PRODUCT §10: e-Kinerja's Monitoring Kurva)

    /// A year's annual predikat of a unit's members (or of the whole organisation), its rating
    /// and the curve's rules for it.
    public struct UnitLine: Sendable {
        public var year: Int
        /// nil: the whole organisation.
        public var unit: String?
        /// Annual scores by predikat, in the order of ``Predicate``.
        public var counts: [Int]
        public var rating: UnitRatingCode?
        /// The curve's rules for the rating, judged on the counts (empty without a rating or scores).
        public var curve: [CurveCheck]

        public var scored: Int { counts.reduce(0, +) }
        /// Whether every rule holds; nil when there is nothing to judge.
        public var holds: Bool? { curve.isEmpty ? nil : curve.allSatisfy(\.holds) }
    }

    public struct UnitsReport: Sendable {
        public var position: LedgerPosition
        /// By year, then unit; each year's organisation line after its units.
        public var lines: [UnitLine]
    }

    /// Per unit and for the organisation: the members (placement in effect on 31 December) with
    /// an annual score, by predikat, the unit's latest rating, and the curve's rules for it —
    /// what `distribution_violation` judges. Every year with annual scores or ratings, or `--year`.
    public static func units(_ ledger: Ledger, _ request: ReportRequest) throws -> UnitsReport {
        let (state, position) = try replay(ledger, request, "report units", unitsFilters)
        var years = Set(state.unitRatings.map(\.year))
        for employee in state.employees { for score in employee.scores where score.period.isAnnual { years.insert(score.period.year) } }
        if let year = request.year { years = [year] }
        var lines: [UnitLine] = []
        for year in years.sorted() {
            let members = state.members(year: year)
            var units = Set(members.keys)
            for rating in state.unitRatings where rating.year == year { units.insert(rating.unit) }
            var organisation = [Int](repeating: 0, count: Predicate.allCases.count)
            for unit in units.sorted(by: { state.names[$0] < state.names[$1] }) {
                let predicates = (members[unit] ?? []).map(\.score.predicate)
                let counts = Predicate.allCases.map { predicate in predicates.filter { $0 == predicate }.count }
                for (index, count) in counts.enumerated() { organisation[index] += count }
                let code = state.names[unit]
                guard request.unit == nil || request.unit == code else { continue }
                let rating = state.unitRating(unit, year: year)?.rating
                let curve = rating.map { predicates.isEmpty ? [] : CurveCheck.checks(request.rules.rules(for: Period(year: year)), $0, predicates) } ?? []
                lines.append(UnitLine(year: year, unit: code, counts: counts, rating: rating, curve: curve))
            }
            if request.unit == nil { lines.append(UnitLine(year: year, unit: nil, counts: organisation, rating: nil, curve: [])) }
        }
        return UnitsReport(position: position, lines: lines)
    }

    public static func render(_ report: UnitsReport, _ format: ReportFormat) -> String {
        func holds(_ line: UnitLine) -> String { line.holds.map { $0 ? "yes" : "no" } ?? "-" }
        func curve(_ line: UnitLine) -> String { line.curve.map(\.rule.description).joined(separator: "; ") }
        switch format {
        case .json:
            var json = JSONWriter()
            json.raw("{")
            json.ledger(report.position, first: true)
            json.key("units")
            json.array(report.lines) { json, line in
                json.raw("{")
                json.key("year", first: true)
                json.raw(String(line.year))
                json.key("unit")
                json.optionalString(line.unit)
                json.key("scored")
                json.raw(String(line.scored))
                json.key("predicates")
                json.raw("{")
                for (position, predicate) in Predicate.allCases.enumerated() {
                    json.raw((position > 0 ? "," : "") + "\"\(predicate.rawValue)\":\(line.counts[position])")
                }
                json.raw("}")
                json.key("rating")
                json.optionalString(line.rating?.rawValue)
                json.key("curve")
                json.array(line.curve) { json, check in
                    json.raw("{")
                    json.key("rule", first: true)
                    json.string(check.rule.description)
                    json.key("count")
                    json.raw(String(check.count))
                    json.key("holds")
                    json.raw(check.holds ? "true" : "false")
                    json.raw("}")
                }
                json.key("holds")
                json.raw(line.holds.map { $0 ? "true" : "false" } ?? "null")
                json.raw("}")
            }
            json.raw("}")
            return json.text + "\n"
        case .csv:
            var csv = CSV(header: ["year", "unit", "scored"] + Predicate.allCases.map(\.rawValue) + ["rating", "curve", "holds"])
            for line in report.lines {
                csv.append([String(line.year), line.unit ?? "", String(line.scored)] + line.counts.map(String.init)
                           + [line.rating?.rawValue ?? "", curve(line), line.holds.map { $0 ? "true" : "false" } ?? ""])
            }
            return csv.text
        case .table:
            var text = report.position.line + "\n"
            for year in Set(report.lines.map(\.year)).sorted() {
                var table = TextTable(header: ["UNIT", "SCORED"] + Predicate.allCases.map { $0.rawValue.uppercased() } + ["UNIT RATING", "HOLDS", "CURVE"])
                table.rightAligned = Set(1...6)
                for line in report.lines where line.year == year {
                    table.rows.append([line.unit ?? "(organisation)", String(line.scored)] + line.counts.map(String.init)
                                      + [line.rating?.rawValue ?? "-", holds(line), line.curve.isEmpty ? "-" : curve(line)])
                }
                text += "annual predikat kinerja \(year), by unit\n\n" + table.text
            }
            return text
        }
    }
}
