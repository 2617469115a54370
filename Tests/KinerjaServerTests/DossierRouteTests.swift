import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import Testing

/// PRODUCT §9–§10 over HTTP: the dossier, the reports as CSV and HTML, and the path table of 405.
@Suite struct DossierRouteTests {
    /// The sample's placements, targets and the analyst's Q1 score: seqs 9...14, the score last.
    static func sampleFixture() throws -> Fixture {
        let fixture = try Fixture()
        let report = try fixture.ledger.append(jsonLines: Data(try [1, 2, 3, 4, 5, 7].map { try sampleLine($0) }.joined(separator: "\n").utf8))
        #expect(report.rejected.isEmpty && report.appended == 6)
        return fixture
    }

    @Test func theDossierIsReadCheckedLikeTheHistory() async throws {
        let fixture = try Self.sampleFixture()
        try await fixture.app().test(.router) { client in
            let own = try await client.call("/v1/employees/\(People.analyst)/dossier", as: People.analyst, fixture)
            #expect(own.status == .ok, "\(own.body)")
            #expect(own.json["employee"] as? String == People.analyst)
            #expect(own.json["year"] as? Int == 2026)
            #expect((own.json["scores"] as? [Any])?.count == 1)
            #expect((own.json["ledger"] as? [String: Any])?["seq"] as? Int == Fixture.grants + 6)

            // The appraiser and the appraiser's appraiser, HR of the unit, the auditor: allowed.
            for identity in [People.kadinkes, People.sekda, "hr:dinkes", People.hr, "auditor:inspektorat"] {
                let read = try await client.call("/v1/employees/\(People.analyst)/dossier", as: identity, fixture)
                #expect(read.status == .ok, "\(identity): \(read.body)")
            }
            // A superior, a stranger, HR of another unit, a service: refused, whether or not the employee exists.
            let superior = try await client.call("/v1/employees/\(People.kadinkes)/dossier", as: People.analyst, fixture)
            let nobody = try await client.call("/v1/employees/\(People.unknown)/dossier", as: People.analyst, fixture)
            #expect(superior.status == .forbidden && nobody.status == .forbidden)
            #expect(superior.errorCode == "forbidden")
            #expect(superior.body.replacingOccurrences(of: People.kadinkes, with: "") == nobody.body.replacingOccurrences(of: People.unknown, with: ""))
            // Even a bad query is refused the same way before it is looked at: nothing is told.
            #expect(try await client.call("/v1/employees/\(People.unknown)/dossier?year=2026", as: People.analyst, fixture).status == .forbidden)
            #expect(try await client.call("/v1/employees/\(People.sekda)/dossier", as: "hr:dinkes", fixture).status == .forbidden)
            #expect(try await client.call("/v1/employees/\(People.analyst)/dossier", as: "survey:skm", fixture).status == .forbidden)
            #expect(try await client.call("/v1/employees/\(People.analyst)/dossier", as: nil, fixture).status == .unauthorized)
            // The auditor reads anyone's, an employee with no record too (an empty dossier, as the CLI's).
            #expect(try await client.call("/v1/employees/\(People.unknown)/dossier", as: "auditor:inspektorat", fixture).status == .ok)
        }
    }

    @Test func theDossierAtAPointInTimeAndAsAPage() async throws {
        let fixture = try Self.sampleFixture()
        try await fixture.app().test(.router) { client in
            let path = "/v1/employees/\(People.analyst)/dossier"
            // Before the score was recorded: no score, the ledger's position then.
            let before = try await client.call("\(path)?at-seq=\(Fixture.grants + 5)", as: People.analyst, fixture)
            #expect(before.status == .ok, "\(before.body)")
            #expect((before.json["scores"] as? [Any])?.count == 0)
            #expect((before.json["ledger"] as? [String: Any])?["seq"] as? Int == Fixture.grants + 5)
            let asOf = try await client.call("\(path)?as-of=2026-01-01T00:00:00%2B07:00&year=2026", as: People.analyst, fixture)
            #expect(asOf.status == .ok, "\(asOf.body)")
            #expect((asOf.json["placements"] as? [Any])?.count == 0)

            // HTML: Indonesian unless lang=en, a page that loads nothing.
            try await client.execute(uri: "\(path)?format=html", method: .get, headers: fixture.headers(People.analyst)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                let page = String(buffer: response.body)
                #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"id\">"))
                #expect(page.contains(People.analyst))
                #expect(!page.contains("<script"))
            }
            let english = try await client.call("\(path)?format=html&lang=en", as: People.analyst, fixture)
            #expect(english.body.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
            #expect(try await client.call("\(path)?format=json", as: People.analyst, fixture).json["employee"] as? String == People.analyst)

            // Bad queries: 400 naming what is wrong.
            for (query, says) in [
                ("format=csv", "not csv"), ("format=table", "format must be json, csv or html"), ("lang=en", "lang applies to format=html"),
                ("format=html&lang=fr", "lang must be id or en"), ("unit=DINKES", "unit"), ("period=2026-Q1", "period"),
                ("at-seq=999", "999"), ("at-seq=3&as-of=2026-01-01T00:00:00Z", "not both"), ("year=twenty", "year"), ("nonsense=1", "nonsense"),
                // A year no calendar date has: refused, never a trap in the report (it killed the server).
                ("year=0", "year must be a year from 1 to 9999"), ("year=-1", "year"), ("year=10000", "year"),
            ] {
                let refused = try await client.call("\(path)?\(query)", as: People.analyst, fixture)
                #expect(refused.status == .badRequest, "\(query): \(refused.body)")
                #expect(refused.errorCode == "bad_request")
                #expect(refused.body.contains(says), "\(query): \(refused.body)")
            }
            #expect(try await client.call("/v1/employees/123/dossier", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/reports/units?year=0", as: "auditor:inspektorat", fixture).status == .badRequest)
        }
    }

    @Test func reportsAsCSVAndHTMLWithTheCLIsRenderers() async throws {
        let fixture = try Self.sampleFixture()
        try await fixture.app().test(.router) { client in
            for report in ["scores", "audit", "accountability", "units"] {
                try await client.execute(uri: "/v1/reports/\(report)?format=csv&year=2026", method: .get, headers: fixture.headers("auditor:inspektorat")) { response in
                    #expect(response.status == .ok, "\(report)")
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    #expect(!String(buffer: response.body).hasPrefix("{"))
                }
                try await client.execute(uri: "/v1/reports/\(report)?format=html&year=2026", method: .get, headers: fixture.headers("auditor:inspektorat")) { response in
                    #expect(response.status == .ok, "\(report): \(String(buffer: response.body))")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    #expect(response.headers[.cacheControl] == "no-store")
                    #expect(String(buffer: response.body).hasPrefix("<!DOCTYPE html>\n<html lang=\"id\">"), "\(report)")
                }
                let json = try await client.call("/v1/reports/\(report)?year=2026", as: "auditor:inspektorat", fixture)
                #expect(json.status == .ok && json.body.hasPrefix("{"), "\(report): \(json.body)")
                let english = try await client.call("/v1/reports/\(report)?format=html&lang=en&year=2026", as: "auditor:inspektorat", fixture)
                #expect(english.body.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"), "\(report)")
                #expect(try await client.call("/v1/reports/\(report)?format=csv&lang=en", as: "auditor:inspektorat", fixture).status == .badRequest)
                #expect(try await client.call("/v1/reports/\(report)?format=pdf", as: "auditor:inspektorat", fixture).status == .badRequest)
            }
            // The same renderer as the CLI's: Indonesian predikat on the page, the wire code in the CSV.
            let page = try await client.call("/v1/reports/scores?format=html&unit=DINKES&year=2026", as: "hr:dinkes", fixture)
            #expect(page.status == .ok, "\(page.body)")
            #expect(page.body.contains("Baik"))
            let csv = try await client.call("/v1/reports/scores?format=csv&unit=DINKES&year=2026", as: "hr:dinkes", fixture)
            #expect(csv.body.contains("good") && !csv.body.contains("Baik"), "\(csv.body)")
            // Roles hold whatever the format: HR of DINKES reads DINKES, not SETDA nor everything.
            #expect(try await client.call("/v1/reports/scores?format=html&unit=SETDA", as: "hr:dinkes", fixture).status == .forbidden)
            #expect(try await client.call("/v1/reports/units?format=html", as: "hr:dinkes", fixture).status == .forbidden)
            #expect(try await client.call("/v1/reports/scores?format=csv", as: People.analyst, fixture).status == .forbidden)
            // A parameter the read does not take is refused, never ignored.
            #expect(try await client.call("/v1/events?format=csv", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/events?lang=en", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/reports/scores?from=3", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/employees/\(People.analyst)/history?to=3", as: People.analyst, fixture).status == .badRequest)
            #expect(try await client.call("/v1/events?from=3&to=9", as: "auditor:inspektorat", fixture).status == .ok)
            // history takes format=html too (as `history --format html`).
            let history = try await client.call("/v1/employees/\(People.analyst)/history?format=html", as: People.analyst, fixture)
            #expect(history.status == .ok && history.body.hasPrefix("<!DOCTYPE html>"), "\(history.body)")
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            for (path, method) in [
                ("/v1/employees/\(People.analyst)/dossier", HTTPRequest.Method.post), ("/v1/employees/\(People.analyst)/dossier", .delete),
                ("/v1/reports/scores", .post), ("/ui/", .post), ("/ui/employees/\(People.analyst)", .put),
                ("/ui/employees/\(People.analyst)/history", .delete), ("/ui/units", .post), ("/ui/scores", .patch), ("/ui/accountability", .post),
            ] {
                try await client.execute(uri: path, method: method, headers: fixture.headers("auditor:inspektorat")) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == "GET", "\(method) \(path)")
                }
            }
            // A method the path has is never a 405, and an unknown path is a 404.
            try await client.execute(uri: "/v1/employees/\(People.analyst)/nothing", method: .post, headers: fixture.headers("auditor:inspektorat")) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
