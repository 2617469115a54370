import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaReports

extension Language: ExpressibleByArgument {}

/// How a read command prints: the report formats, and `html`, a page for people (PRODUCT §10).
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    case table, json, csv, html

    var report: ReportFormat? { ReportFormat(rawValue: rawValue) }
}

/// The options every read command shares: where in the ledger's past, and how to print.
struct PointInTimeOptions: ParsableArguments {
    @Option(help: "Build on the ledger as it stood at this seq.")
    var atSeq: UInt64?

    @Option(help: "Build on the events recorded at or before this RFC 3339 instant.")
    var asOf: String?

    @Option(help: "table, json, csv or html (one self-contained page with charts).")
    var format: OutputFormat = .table

    @Option(help: "The labels' language of html (and the dossier's table): id (Bahasa Indonesia, html's default) or en. JSON and CSV keep the wire codes.")
    var lang: Language?

    func validate() throws {
        if atSeq != nil && asOf != nil { throw ValidationError("give --at-seq or --as-of, not both") }
        if lang != nil && (format == .json || format == .csv) { throw ValidationError("--lang applies to --format html (and the dossier's table): JSON and CSV keep the wire codes") }
        if let asOf, case .failure = Timestamp.parse(asOf) {
            throw ValidationError("--as-of must be an RFC 3339 timestamp with offset, such as 2026-12-31T23:59:59+07:00")
        }
    }

    /// `--lang` with a table is refused, never ignored: the reports' tables are in English
    /// (only the dossier's table takes a language).
    func refuseLanguageOfTable(_ command: String) throws {
        if lang != nil && format == .table { throw ValidationError("\(command): --lang applies to --format html; the table is in English") }
    }

    /// The page options of `--format html`: Indonesian unless `--lang en`.
    var html: HTMLOptions { HTMLOptions(language: lang ?? .id) }

    /// `report` written in the format asked: `text` for table, JSON and CSV, `page` for html.
    func render<R>(_ report: R, _ text: (R, ReportFormat) -> String, _ page: (R, HTMLOptions) -> String) -> String {
        if let format = format.report { return text(report, format) }
        return page(report, html)
    }

    var point: PointInTime {
        if let atSeq { return .seq(atSeq) }
        if let asOf, case .success(let instant) = Timestamp.parse(asOf) { return .asOf(instant.micros) }
        return .head
    }
}

/// The filters of PRODUCT §6, the same options with the same meaning on every command that
/// reads the ledger. A command refuses (exit 64) a filter it cannot apply.
struct ReportFilters: ParsableArguments {
    @Option(help: "Only this employee (an NIP): events whose subject they are.")
    var employee: String?

    @Option(help: "Only this unit (a unit code): its members' events (placement in effect at the end of the period the event is about, or on its date) and its own.")
    var unit: String?

    @Option(help: "Only this appraisal year: events about a period of it (not the year they were recorded in).")
    var year: Int?

    @Option(help: "Only this appraisal period (YYYY, YYYY-Qn or YYYY-MM).")
    var period: String?

    @Option(help: "Only events by this actor.")
    var actor: String?

    @Option(help: "Only events of this type (repeatable).")
    var type: [String] = []

    @Option(help: "Only events that occurred on or after this date (YYYY-MM-DD).")
    var since: String?

    @Option(help: "Only events that occurred on or before this date (YYYY-MM-DD).")
    var until: String?

    func validate() throws {
        if let employee, case .failure(let invalid) = NIP.validate(employee) { throw ValidationError("--employee: \(invalid.rule)") }
        if let unit, !Identifiers.isUnitCode(unit) { throw ValidationError("--unit must be a unit code such as DINKES") }
        if let year, !CivilDate.years.contains(year) { throw ValidationError("--year must be \(CivilDate.yearRule)") }
        if let period, Period(period) == nil { throw ValidationError("--period must be YYYY, YYYY-Qn or YYYY-MM") }
        for name in type where EventType(rawValue: name) == nil {
            throw ValidationError("--type: \"\(name)\" is not one of \(EventType.choices)")
        }
        for date in [since, until].compactMap({ $0 }) where CivilDate(date) == nil {
            throw ValidationError("--since and --until take a date YYYY-MM-DD, not \(date)")
        }
    }

    func request(_ point: PointInTime = .head) -> ReportRequest {
        var request = ReportRequest()
        request.point = point
        request.employee = employee.map(NIP.init(unchecked:))
        request.unit = unit
        request.year = year
        request.period = period.flatMap(Period.init)
        request.actor = actor
        request.types = Set(type.compactMap(EventType.init(rawValue:)))
        request.since = since.flatMap(CivilDate.init)
        request.until = until.flatMap(CivilDate.init)
        return request
    }

    /// Refuses, as bad usage, a filter given that `command` cannot apply.
    func refuse(_ command: String, except supported: [FilterName]) throws {
        do {
            try request().refuse(command, except: supported)
        } catch let unsupported as UnsupportedFilter {
            throw ValidationError(unsupported.description)
        }
    }
}

/// Runs a report and prints it; errors become a message and exit code 1.
func report(_ body: () throws -> String) throws {
    print(try failing(body), terminator: "")
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reports rebuilt from the log, at any point of its past.",
        discussion: "Every report states the ledger seq and hash it was built on.",
        subcommands: [Scores.self, Audit.self, Accountability.self, Units.self, Dossier.self]
    )

    struct Scores: ReportCommand {
        static let configuration = CommandConfiguration(abstract: "Current scores and predikat, per employee and period.")
        static let name = "report scores"
        static let supported = Reports.scoresFilters

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func build(_ ledger: Ledger, _ request: ReportRequest) throws -> String {
            point.render(try Reports.scores(ledger, request), Reports.render, Reports.html)
        }
    }

    struct Audit: ReportCommand {
        static let configuration = CommandConfiguration(abstract: "Every event, with what it changed: by actor, subject, type or time window.")
        static let name = "report audit"
        static let supported = Reports.auditFilters

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func build(_ ledger: Ledger, _ request: ReportRequest) throws -> String {
            point.render(try Reports.audit(ledger, request), Reports.render, Reports.html)
        }
    }

    struct Accountability: ReportCommand {
        static let configuration = CommandConfiguration(abstract: "Findings: where the process rules were not followed.")
        static let name = "report accountability"
        static let supported = Reports.accountabilityFilters

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func build(_ ledger: Ledger, _ request: ReportRequest) throws -> String {
            point.render(try Reports.accountability(ledger, request), Reports.render, Reports.html)
        }
    }

    struct Units: ReportCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per unit and for the organisation: annual predikat counts, the unit's rating, the curve's rules for it and whether they hold.")
        static let name = "report units"
        static let supported = Reports.unitsFilters

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func build(_ ledger: Ledger, _ request: ReportRequest) throws -> String {
            point.render(try Reports.units(ledger, request), Reports.render, Reports.html)
        }
    }
}

extension Report {
    struct Dossier: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One employee's year: placements, targets, activity, feedback, scores and what replaced what, objections, training, findings.",
            discussion: "--year picks the year (by default the latest their record holds); --format table, json or html.")

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        @Argument(help: "The employee's NIP.")
        var nip: String

        func validate() throws {
            if case .failure(let invalid) = NIP.validate(nip) { throw ValidationError("NIP: \(invalid.rule)") }
            try filters.refuse("report dossier", except: Reports.dossierFilters)
            if point.format == .csv { throw ValidationError("report dossier is written as table, json or html, not csv") }
        }

        func run() throws {
            let ledger = try options.open()
            let request = filters.request(point.point)
            let language = point.lang ?? (point.format == .html ? .id : .en)
            try report {
                point.render(try Reports.dossier(ledger, employee: NIP(unchecked: nip), request), { Reports.render($0, $1, language: language) }, Reports.html)
            }
        }
    }
}

/// A `report` subcommand: the filters it applies (any other refused as bad usage), a point in
/// time, and the report built and rendered.
protocol ReportCommand: ParsableCommand {
    static var name: String { get }
    static var supported: [FilterName] { get }
    var options: LedgerOption { get }
    var filters: ReportFilters { get }
    var point: PointInTimeOptions { get }
    func build(_ ledger: Ledger, _ request: ReportRequest) throws -> String
}

extension ReportCommand {
    func validate() throws {
        try filters.refuse(Self.name, except: Self.supported)
        try point.refuseLanguageOfTable(Self.name)
    }

    func run() throws {
        let ledger = try options.open()
        try report { try build(ledger, filters.request(point.point)) }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One employee's decision history, event by event, with the state of their record after each."
    )

    @OptionGroup var options: LedgerOption
    @OptionGroup var filters: ReportFilters
    @OptionGroup var point: PointInTimeOptions

    @Argument(help: "The employee's NIP.")
    var nip: String

    func validate() throws {
        if case .failure(let invalid) = NIP.validate(nip) { throw ValidationError("NIP: \(invalid.rule)") }
        try filters.refuse("history", except: Reports.historyFilters)
        try point.refuseLanguageOfTable("history")
    }

    func run() throws {
        let ledger = try options.open()
        let request = filters.request(point.point)
        try report { point.render(try Reports.history(ledger, employee: NIP(unchecked: nip), request), Reports.render, Reports.html) }
    }
}
