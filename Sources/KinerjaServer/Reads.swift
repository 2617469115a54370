import Foundation
import Hummingbird
import KinerjaDomain
import KinerjaLedger
import KinerjaReports

/// The query of a read: the filters and the point in time of PRODUCT §5–§6, with the CLI's
/// meanings, checked as the CLI checks them (a bad value is 400, never ignored).
struct ReadQuery: Sendable {
    var request = ReportRequest()
    var format = ReadFormat.json
    /// The labels' language of `format=html` (Indonesian unless `lang=en`); refused with JSON and CSV.
    var language: Language?

    /// `log`: the query of `GET /v1/events`, which takes `from` and `to` and is JSON Lines only
    /// (no `format` nor `lang`); every other read the reverse.
    init(_ query: Parameters, log: Bool = false) throws {
        func bad(_ message: String) -> ServerError { ServerError(.badRequest, "bad_request", message) }
        for (name, _) in query where !Self.known.contains(String(name)) { throw bad("unknown query parameter \(name)") }
        for (name, _) in query where (log ? ["format", "lang"] : ["from", "to"]).contains(String(name)) {
            throw bad(log ? "\(name): the log is JSON Lines only" : "\(name) applies to the log (GET /v1/events) only")
        }
        if let text = query.get("employee") { request.employee = try API.nip(text) }
        if let unit = query.get("unit") {
            guard Identifiers.isUnitCode(unit) else { throw bad("unit must be a unit code such as DINKES") }
            request.unit = unit
        }
        if let text = query.get("year") {
            guard let year = Int(text), CivilDate.years.contains(year) else { throw bad("year must be \(CivilDate.yearRule)") }
            request.year = year
        }
        if let text = query.get("period") {
            guard let period = Period(text) else { throw bad("period must be YYYY, YYYY-Qn or YYYY-MM") }
            request.period = period
        }
        request.actor = query.get("actor")
        for text in query.getAll("type") {
            guard let type = EventType(rawValue: text) else { throw bad("type: \"\(text)\" is not one of \(EventType.choices)") }
            request.types.insert(type)
        }
        for (name, keyPath) in [("since", \ReportRequest.since), ("until", \ReportRequest.until)] {
            guard let text = query.get(name) else { continue }
            guard let date = CivilDate(text) else { throw bad("\(name) takes a date YYYY-MM-DD, not \(text)") }
            request[keyPath: keyPath] = date
        }
        switch (try query.number("at-seq"), query.get("as-of")) {
        case (let seq?, nil): request.point = .seq(seq)
        case (nil, let text?):
            guard case .success(let instant) = Timestamp.parse(text) else { throw bad("as-of must be an RFC 3339 timestamp with offset") }
            request.point = .asOf(instant.micros)
        case (nil, nil): break
        default: throw bad("give at-seq or as-of, not both")
        }
        if let text = query.get("format") {
            guard let format = ReadFormat(rawValue: text) else { throw bad("format must be json, csv or html") }
            self.format = format
        }
        if let text = query.get("lang") {
            guard let language = Language(rawValue: text) else { throw bad("lang must be id or en") }
            guard format == .html else { throw bad("lang applies to format=html: JSON and CSV keep the wire codes") }
            self.language = language
        }
    }

    static let known: Set<String> = ["employee", "unit", "year", "period", "actor", "type", "since", "until", "at-seq", "as-of", "format", "lang", "from", "to"]

    /// `report` as the format asks, with the CLI's renderers: `text` for JSON and CSV, `page` for HTML.
    func render<R>(_ report: R, _ text: (R, ReportFormat) -> String, _ page: (R, HTMLOptions) -> String) -> Response {
        switch format {
        case .json: Response.text(text(report, .json), contentType: "application/json")
        case .csv: Response.text(text(report, .csv), contentType: "text/csv; charset=utf-8")
        case .html: Response.html(page(report, HTMLOptions(language: language ?? .id)))
        }
    }
}

/// The formats of a read over HTTP: the CLI's but its table.
enum ReadFormat: String, Sendable {
    case json, csv, html
}

extension API {
    /// Refuses a read the policy does not allow, the same way whether or not the employee exists:
    /// one employee's records, one unit's, or (neither) everything.
    func authorizeRead(_ identity: Identity, employee: NIP?, unit: String? = nil) throws {
        let allowed: Bool
        if let employee {
            allowed = try policy.mayRead(identity, employee: employee, placements: placements)
        } else if let unit {
            allowed = policy.mayReadAll(identity) || (identity.role == .hr && identity.units.contains(unit))
        } else {
            allowed = policy.mayReadAll(identity)
        }
        guard allowed else {
            let what = employee.map { "the records of \($0.text)" } ?? unit.map { "the records of unit \($0)" } ?? "the whole ledger"
            throw ServerError(.forbidden, "forbidden", "\(identity.role.rawValue) \(identity.name) may not read \(what)")
        }
    }

    /// `GET /v1/reports/{scores,audit,accountability,units}`: `report … --format json|csv`.
    func report(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = try ReadQuery(request.uri.queryParameters)
        let name = try context.parameters.require("report")
        let build: @Sendable (Ledger, ReadQuery) throws -> Response
        switch name {
        case "scores": build = { $1.render(try Reports.scores($0, $1.request), Reports.render, Reports.html) }
        case "audit": build = { $1.render(try Reports.audit($0, $1.request), Reports.render, Reports.html) }
        case "accountability": build = { $1.render(try Reports.accountability($0, $1.request), Reports.render, Reports.html) }
        case "units": build = { $1.render(try Reports.units($0, $1.request), Reports.render, Reports.html) }
        default: throw ServerError(.notFound, "not_found", "no report \(name): scores, audit, accountability or units")
        }
        return try await blocking { [self] in
            try authorizeRead(identity, employee: query.request.employee, unit: query.request.unit)
            return try refusingUnsupported { try build(ledger, query) }
        }
    }

    /// A filter the report cannot apply, or a point in time past the head, is bad usage (400), as
    /// it is for the CLI.
    func refusingUnsupported<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let unsupported as UnsupportedFilter {
            throw ServerError(.badRequest, "bad_request", unsupported.description)
        } catch let point as PointInTimeError {
            // An at-seq past the head: the query's fault, not the server's.
            throw ServerError(.badRequest, "bad_request", point.description)
        }
    }
}

extension Response {
    /// A report's page for people: it loads nothing from anywhere (its CSS and SVG are inline),
    /// is never sniffed as anything else, and is not cached (it is personal data).
    static func html(_ html: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff",
                .cacheControl: "no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
