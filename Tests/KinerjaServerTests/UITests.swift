import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaServer
import Testing

/// The sample agency's events before November 2026 (the later ones would be in the future of the ledger's clock, today).
func sample2026() throws -> Data {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("samples/sample.jsonl"), encoding: .utf8)
    return Data(text.split(separator: "\n").filter { line in
        line.range(of: #""occurred_at":"(2026-(0\d|10)-)"#, options: .regularExpression) != nil
    }.joined(separator: "\n").utf8)
}

@Suite("/ui/: the pages for people, with the roles of /v1/")
struct UITests {
    static func fixture() throws -> Fixture {
        let fixture = try Fixture()
        let report = try fixture.ledger.append(jsonLines: sample2026())
        #expect(report.rejected.isEmpty && report.appended > 10, "\(report.rejected)")
        return fixture
    }

    @Test("the landing page lists what the identity may open")
    func landing() async throws {
        let fixture = try Self.fixture()
        try await fixture.app().test(.router) { client in
            let analyst = try await client.call("/ui/", as: People.analyst, fixture)
            #expect(analyst.status == .ok)
            #expect(analyst.body.hasPrefix("<!DOCTYPE html>\n<html lang=\"id\">"))
            #expect(analyst.body.contains("href=\"/ui/employees/\(People.analyst)\""))
            #expect(!analyst.body.contains("/ui/employees/\(People.kadinkes)") && !analyst.body.contains("/ui/units"))
            // Their appraiser sees them; the appraiser's appraiser sees both.
            let kadinkes = try await client.call("/ui", as: People.kadinkes, fixture)
            #expect(kadinkes.body.contains("href=\"/ui/employees/\(People.analyst)\"") && kadinkes.body.contains("href=\"/ui/employees/\(People.kadinkes)\""))
            let sekda = try await client.call("/ui/", as: People.sekda, fixture)
            #expect(sekda.body.contains("/ui/employees/\(People.analyst)\"") && sekda.body.contains("/ui/employees/\(People.kadinkes)\""))
            // HR: its units; an auditor: everything.
            let hr = try await client.call("/ui/?lang=en", as: "hr:dinkes", fixture)
            #expect(hr.body.contains("<html lang=\"en\">"))
            #expect(hr.body.contains("href=\"/ui/units?lang=en&amp;unit=DINKES\"") && hr.body.contains("href=\"/ui/scores?lang=en&amp;unit=DINKES\""))
            #expect(!hr.body.contains("unit=SETDA"))
            let auditor = try await client.call("/ui/", as: "auditor:inspektorat", fixture)
            #expect(auditor.body.contains("href=\"/ui/units\"") && auditor.body.contains("href=\"/ui/accountability\"") && auditor.body.contains("unit=SETDA"))
            #expect(try await client.call("/ui/", as: nil, fixture).status == .unauthorized)
        }
    }

    @Test("an employee sees their own dossier, an appraiser their team's, HR its units', an auditor everyone's; nobody learns who exists")
    func dossiers() async throws {
        let fixture = try Self.fixture()
        try await fixture.app().test(.router) { client in
            let analyst = "/ui/employees/\(People.analyst)"
            for identity in [People.analyst, People.kadinkes, People.sekda, "hr:dinkes", People.hr, "auditor:inspektorat"] {
                let page = try await client.call(analyst, as: identity, fixture)
                #expect(page.status == .ok, "\(identity): \(page.body)")
                #expect(page.body.contains("Dosir Kinerja 2026: Andi Pratama"))
            }
            for identity in [People.unknown, "survey:skm"] {
                #expect(try await client.call(analyst, as: identity, fixture).status == .forbidden, "\(identity)")
            }
            // Upwards and sideways: refused, for one who exists as for one who does not.
            #expect(try await client.call("/ui/employees/\(People.kadinkes)", as: People.analyst, fixture).status == .forbidden)
            #expect(try await client.call("/ui/employees/\(People.sekda)", as: "hr:dinkes", fixture).status == .forbidden)
            let nobody = try await client.call("/ui/employees/\(People.unknown)", as: People.analyst, fixture)
            let somebody = try await client.call("/ui/employees/\(People.sekda)", as: People.analyst, fixture)
            #expect(nobody.status == .forbidden && somebody.status == .forbidden)
            #expect(nobody.body.replacingOccurrences(of: People.unknown, with: "X") == somebody.body.replacingOccurrences(of: People.sekda, with: "X"))

            #expect(try await client.call(analyst + "?at-seq=100000", as: People.analyst, fixture).status == .badRequest)
            let page = try await client.call(analyst + "?lang=en&at-seq=5", as: People.analyst, fixture)
            #expect(page.body.contains("<html lang=\"en\">") && page.body.contains("seq <strong>5</strong>"))
            #expect(page.body.contains("href=\"/ui/employees/\(People.analyst)/history?lang=en&amp;at-seq=5\""))
            try await client.execute(uri: analyst, method: .get, headers: fixture.headers(People.analyst)) { response in
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'; style-src 'unsafe-inline'") == true)
                #expect(response.headers[.cacheControl] == "no-store")
            }
            let history = try await client.call(analyst + "/history", as: People.kadinkes, fixture)
            #expect(history.status == .ok && history.body.contains("Riwayat Keputusan: \(People.analyst)"))
            #expect(try await client.call(analyst + "/history", as: People.unknown, fixture).status == .forbidden)
        }
    }

    @Test("unit pages: HR of the unit and auditors; the organisation's: auditors only; bad queries refused")
    func units() async throws {
        let fixture = try Self.fixture()
        try await fixture.app().test(.router) { client in
            for page in ["units", "scores", "accountability"] {
                #expect(try await client.call("/ui/\(page)?unit=DINKES", as: "hr:dinkes", fixture).status == .ok, "\(page)")
                #expect(try await client.call("/ui/\(page)?unit=SETDA", as: "hr:dinkes", fixture).status == .forbidden)
                #expect(try await client.call("/ui/\(page)", as: "hr:dinkes", fixture).status == .forbidden)
                #expect(try await client.call("/ui/\(page)", as: "auditor:inspektorat", fixture).status == .ok)
                #expect(try await client.call("/ui/\(page)?unit=DINKES", as: People.kadinkes, fixture).status == .forbidden)
            }
            let scores = try await client.call("/ui/scores?unit=DINKES&year=2026", as: "hr:dinkes", fixture)
            #expect(scores.body.contains("href=\"/ui/employees/\(People.analyst)?year=2026\""))
            let units = try await client.call("/ui/units?year=2026", as: "auditor:inspektorat", fixture)
            #expect(units.body.contains("Monitoring Kurva Distribusi Predikat") && units.body.contains("<h2>Tahun 2026</h2>"))
            for bad in ["/ui/units?lang=fr", "/ui/units?format=json", "/ui/units?at-seq=1&as-of=2026-01-01T00:00:00Z", "/ui/scores?page=0", "/ui/units?unit=dinkes"] {
                #expect(try await client.call(bad, as: "auditor:inspektorat", fixture).status == .badRequest, "\(bad)")
            }
            #expect(try await client.call("/ui/employees/123", as: "auditor:inspektorat", fixture).status == .badRequest)
        }
    }
}
