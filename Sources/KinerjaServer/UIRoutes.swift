import Foundation
import Hummingbird
import KinerjaDomain
import KinerjaLedger
import KinerjaReports

/// The pages for people under `/ui/` (PRODUCT §10): the same HTML the CLI writes with
/// `--format html`, behind the same bearer token and the same ``AccessPolicy`` as `/v1/`:
///
/// | path | page | who |
/// |---|---|---|
/// | `/ui/` | the links this identity may open | everyone authenticated |
/// | `/ui/employees/{nip}` | the employee's dossier (`?year=`) | the employee, their appraiser and the appraiser's appraiser, HR of their unit, auditors |
/// | `/ui/employees/{nip}/history` | their decision history (`?page=`) | as the dossier |
/// | `/ui/units?unit=U` | the unit's curve (without `unit`: every unit, auditors only) | HR of U, auditors |
/// | `/ui/scores?unit=U` | the unit's employees and predikat, linked to their dossiers (`?page=`) | HR of U, auditors |
/// | `/ui/accountability?unit=U` | the findings (without `unit`: all, auditors only) | HR of U, auditors |
///
/// Every page takes `at-seq` or `as-of` (a point in time), `year` where it applies, and `lang`
/// (`id`, the default, or `en`). A browser sends no bearer token by itself: the office's
/// reverse proxy in front of `kinerja serve` (which terminates TLS) adds
/// `Authorization: Bearer <token>` for the person it authenticated.
extension API {
    func addUIRoutes(to group: RouterGroup<ServerContext>) {
        group.get("ui") { request, context in try await landing(request, context) }
        group.get("ui/employees/:nip") { request, context in try await employeePage(request, context, history: false) }
        group.get("ui/employees/:nip/history") { request, context in try await employeePage(request, context, history: true) }
        group.get("ui/units") { request, context in try await unitPage(request, context, "units") }
        group.get("ui/scores") { request, context in try await unitPage(request, context, "scores") }
        group.get("ui/accountability") { request, context in try await unitPage(request, context, "accountability") }
    }

    /// `/ui/`: what the identity may open.
    func landing(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = try UIQuery(request.uri.queryParameters, allowed: ["lang", "at-seq", "as-of", "year"])
        return try await page { [self] in
            let labels = Labels(query.language)
            let (position, people, units) = try Reports.people(ledger, at: query.request.point)
            var sections: [Reports.LinkSection] = []
            func dossier(_ person: Reports.Person) -> HTMLOptions.Link {
                HTMLOptions.Link("\(person.name) — \(person.nip.text), \(person.position), \(person.unit)", query.link("/ui/employees/\(person.nip.text)"))
            }
            func unitLinks(_ unit: String) -> [HTMLOptions.Link] {
                [HTMLOptions.Link("\(labels[.unitsTitle]): \(unit)", query.link("/ui/units", unit: unit)),
                 HTMLOptions.Link("\(labels[.scoresOfUnit]): \(unit)", query.link("/ui/scores", unit: unit)),
                 HTMLOptions.Link("\(labels[.accountabilityTitle]): \(unit)", query.link("/ui/accountability", unit: unit))]
            }
            switch identity.role {
            case .employee:
                if let me = NIP(identity.name) {
                    let own = people.first { $0.nip == me }
                    sections.append(Reports.LinkSection(
                        title: labels[.ownDossier],
                        links: [own.map(dossier) ?? HTMLOptions.Link(me.text, query.link("/ui/employees/\(me.text)"))]))
                    // Those they appraise and those their appraisees appraise, as the latest
                    // placements say; each confirmed by the policy, which reads the placements.
                    let direct = Set(people.filter { $0.appraiser == me }.map(\.nip))
                    let candidates = people.filter { $0.nip != me && ($0.appraiser == me || $0.appraiser.map(direct.contains) == true) }
                    let team = try candidates.filter { try policy.mayRead(identity, employee: $0.nip, placements: placements) }
                    sections.append(Reports.LinkSection(title: labels[.team], links: team.map(dossier)))
                }
            case .hr:
                sections.append(Reports.LinkSection(title: labels[.yourUnits], links: identity.units.sorted().flatMap(unitLinks)))
            case .auditor:
                sections.append(Reports.LinkSection(title: labels[.everything], links: [
                    HTMLOptions.Link(labels[.unitsTitle], query.link("/ui/units")),
                    HTMLOptions.Link(labels[.accountabilityTitle], query.link("/ui/accountability")),
                ]))
                sections.append(Reports.LinkSection(title: labels[.unit], links: units.flatMap(unitLinks)))
            case .service:
                break
            }
            let html = Reports.landing(
                title: labels[.landingTitle], subtitle: "\(identity.name) (\(identity.role.rawValue))", sections: sections, position: position, query.options)
            return Response.html(html)
        }
    }

    /// `/ui/employees/{nip}` and its history: the policy decides, as for `/v1/employees/{nip}/…`.
    func employeePage(_ request: Request, _ context: ServerContext, history: Bool) async throws -> Response {
        let identity = try context.requireIdentity()
        let nip = try Self.nip(context.parameters.require("nip"))
        let query = try UIQuery(request.uri.queryParameters, allowed: history ? ["lang", "at-seq", "as-of", "page"] : ["lang", "at-seq", "as-of", "year"])
        return try await page { [self] in
            try authorizeRead(identity, employee: nip)
            var options = query.options
            options.navigation = [HTMLOptions.Link(options.labels[.landingTitle], query.link("/ui/"))]
            if history {
                options.navigation.append(HTMLOptions.Link(options.labels[.dossierTitle], query.link("/ui/employees/\(nip.text)")))
                options.pageLink = { [query] in query.link("/ui/employees/\(nip.text)/history", page: $0) }
                return Response.html(Reports.html(try Reports.history(ledger, employee: nip, query.request), options))
            }
            options.navigation.append(HTMLOptions.Link(options.labels[.historyTitle], query.link("/ui/employees/\(nip.text)/history")))
            // Links from the dossier to the appraiser's, which the policy may refuse: the page says nothing of whether they exist.
            options.dossierLink = { [query] in query.link("/ui/employees/\($0.text)") }
            return Response.html(Reports.html(try Reports.dossier(ledger, employee: nip, query.request), options))
        }
    }

    /// `/ui/units`, `/ui/scores`, `/ui/accountability`: one unit's (HR of it, auditors) or the
    /// whole organisation's (auditors).
    func unitPage(_ request: Request, _ context: ServerContext, _ report: String) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = try UIQuery(request.uri.queryParameters, allowed: ["lang", "at-seq", "as-of", "year", "unit", "page"])
        return try await page { [self] in
            try authorizeRead(identity, employee: nil, unit: query.request.unit)
            var options = query.options
            let labels = options.labels
            options.navigation = [HTMLOptions.Link(labels[.landingTitle], query.link("/ui/"))]
            if let unit = query.request.unit {
                options.navigation += [
                    HTMLOptions.Link(labels[.unitsTitle], query.link("/ui/units", unit: unit)),
                    HTMLOptions.Link(labels[.scoresOfUnit], query.link("/ui/scores", unit: unit)),
                    HTMLOptions.Link(labels[.accountabilityTitle], query.link("/ui/accountability", unit: unit)),
                ]
            }
            options.dossierLink = { [query] in query.link("/ui/employees/\($0.text)") }
            options.pageLink = { [query] in query.link("/ui/\(report)", unit: query.request.unit, page: $0) }
            let html: String = try refusingUnsupported {
                switch report {
                case "units": Reports.html(try Reports.units(ledger, query.request), options)
                case "scores": Reports.html(try Reports.scores(ledger, query.request), options)
                default: Reports.html(try Reports.accountability(ledger, query.request), options)
                }
            }
            return Response.html(html)
        }
    }
}

/// The query of a page: a point in time, `year`, `unit`, `page` and `lang`, each checked (a bad
/// value is 400, an unknown parameter too, never ignored).
struct UIQuery: Sendable {
    var request = ReportRequest()
    var language = Language.id
    var page = 1
    private var given: [(String, String)] = []

    init(_ query: Parameters, allowed: Set<String>) throws {
        func bad(_ message: String) -> ServerError { ServerError(.badRequest, "bad_request", message) }
        for (name, _) in query where !allowed.contains(String(name)) {
            throw bad("unknown query parameter \(name): this page takes \(allowed.sorted().joined(separator: ", "))")
        }
        if let text = query.get("lang") {
            guard let language = Language(rawValue: text) else { throw bad("lang must be id or en") }
            self.language = language
            given.append(("lang", text))
        }
        if let text = query.get("year") {
            guard let year = Int(text), CivilDate.years.contains(year) else { throw bad("year must be \(CivilDate.yearRule)") }
            request.year = year
            given.append(("year", text))
        }
        if let unit = query.get("unit") {
            guard Identifiers.isUnitCode(unit) else { throw bad("unit must be a unit code such as DINKES") }
            request.unit = unit
        }
        if let text = query.get("page") {
            guard let page = Int(text), page >= 1 else { throw bad("page must be a whole number from 1") }
            self.page = page
        }
        switch (try query.number("at-seq"), query.get("as-of")) {
        case (let seq?, nil):
            request.point = .seq(seq)
            given.append(("at-seq", String(seq)))
        case (nil, let text?):
            guard case .success(let instant) = Timestamp.parse(text) else { throw bad("as-of must be an RFC 3339 timestamp with offset") }
            request.point = .asOf(instant.micros)
            given.append(("as-of", text))
        case (nil, nil): break
        default: throw bad("give at-seq or as-of, not both")
        }
    }

    var options: HTMLOptions {
        var options = HTMLOptions(language: language)
        options.page = page
        return options
    }

    /// `path` with the language, year and point in time of this query kept, and `unit`, `page`.
    func link(_ path: String, unit: String? = nil, page: Int? = nil) -> String {
        var items = given.map { URLQueryItem(name: $0.0, value: $0.1) }
        if let unit { items.append(URLQueryItem(name: "unit", value: unit)) }
        if let page, page > 1 { items.append(URLQueryItem(name: "page", value: String(page))) }
        var components = URLComponents()
        components.path = path
        components.queryItems = items.isEmpty ? nil : items
        // `+` in an RFC 3339 offset would read back as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? path
    }
}

extension API {
    /// Runs a page's blocking work off the cooperative pool; a point in time past the head is
    /// the request's mistake (400), as a bad parameter is.
    func page(_ body: @escaping @Sendable () throws -> Response) async throws -> Response {
        try await blocking {
            do {
                return try body()
            } catch let error as PointInTimeError {
                throw ServerError(.badRequest, "bad_request", error.description.replacingOccurrences(of: "--at-seq", with: "at-seq"))
            }
        }
    }
}
