import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaReports

extension ReportFormat: ExpressibleByArgument {}

/// The options every read command shares: where in the ledger's past, and how to print.
struct PointInTimeOptions: ParsableArguments {
    @Option(help: "Build on the ledger as it stood at this seq.")
    var atSeq: UInt64?

    @Option(help: "Build on the events recorded at or before this RFC 3339 instant.")
    var asOf: String?

    @Option(help: "table, json or csv.")
    var format: ReportFormat = .table

    func validate() throws {
        if atSeq != nil && asOf != nil { throw ValidationError("give --at-seq or --as-of, not both") }
        if let asOf, case .failure = Timestamp.parse(asOf) {
            throw ValidationError("--as-of must be an RFC 3339 timestamp with offset, such as 2026-12-31T23:59:59+07:00")
        }
    }

    var point: PointInTime {
        if let atSeq { return .seq(atSeq) }
        if let asOf, case .success(let instant) = Timestamp.parse(asOf) { return .asOf(instant.micros) }
        return .head
    }
}

struct ReportFilters: ParsableArguments {
    @Option(help: "Only this year.")
    var year: Int?

    @Option(help: "Only this period (YYYY, YYYY-Qn or YYYY-MM).")
    var period: String?

    @Option(help: "Only this employee (an NIP).")
    var employee: String?

    @Option(help: "Only this unit (a unit code).")
    var unit: String?

    func validate() throws {
        if let period, Period(period) == nil { throw ValidationError("--period must be YYYY, YYYY-Qn or YYYY-MM") }
        if let employee, case .failure(let invalid) = NIP.validate(employee) { throw ValidationError("--employee: \(invalid.rule)") }
        if let unit, !Identifiers.isUnitCode(unit) { throw ValidationError("--unit must be a unit code such as DINKES") }
    }

    func request(_ point: PointInTime) -> ReportRequest {
        var request = ReportRequest()
        request.point = point
        request.year = year
        request.period = period.flatMap(Period.init)
        request.employee = employee.map(NIP.init(unchecked:))
        request.unit = unit
        return request
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
        subcommands: [Scores.self, Audit.self, Accountability.self]
    )

    struct Scores: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Current scores and predikat, per employee and period.")

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func run() throws {
            let ledger = try options.open()
            try report { Reports.render(try Reports.scores(ledger, filters.request(point.point)), point.format) }
        }
    }

    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every event, with what it changed: by actor, subject, type or time window.")

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        @Option(help: "Only events by this actor.")
        var actor: String?

        @Option(help: "Only events of this type (repeatable).")
        var type: [String] = []

        @Option(help: "Only events that occurred on or after this date (YYYY-MM-DD).")
        var since: String?

        @Option(help: "Only events that occurred on or before this date (YYYY-MM-DD).")
        var until: String?

        func validate() throws {
            for name in type where EventType(rawValue: name) == nil {
                throw ValidationError("--type: \"\(name)\" is not one of \(EventType.choices)")
            }
            for date in [since, until].compactMap({ $0 }) where CivilDate(date) == nil {
                throw ValidationError("--since and --until take a date YYYY-MM-DD, not \(date)")
            }
        }

        func run() throws {
            let ledger = try options.open()
            var request = filters.request(point.point)
            request.actor = actor
            request.types = Set(type.compactMap(EventType.init(rawValue:)))
            request.since = since.flatMap(CivilDate.init)
            request.until = until.flatMap(CivilDate.init)
            try report { Reports.render(try Reports.audit(ledger, request), point.format) }
        }
    }

    struct Accountability: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Findings: where the process rules were not followed.")

        @OptionGroup var options: LedgerOption
        @OptionGroup var filters: ReportFilters
        @OptionGroup var point: PointInTimeOptions

        func run() throws {
            let ledger = try options.open()
            try report { Reports.render(try Reports.accountability(ledger, filters.request(point.point)), point.format) }
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One employee's decision history, event by event, with the state of their record after each."
    )

    @OptionGroup var options: LedgerOption
    @OptionGroup var point: PointInTimeOptions

    @Argument(help: "The employee's NIP.")
    var nip: String

    func validate() throws {
        if case .failure(let invalid) = NIP.validate(nip) { throw ValidationError("NIP: \(invalid.rule)") }
    }

    func run() throws {
        let ledger = try options.open()
        var request = ReportRequest()
        request.point = point.point
        try report { Reports.render(try Reports.history(ledger, employee: NIP(unchecked: nip), request), point.format) }
    }
}
