import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import Testing

/// The sample agency (samples/sample.jsonl): the Sekda heads SETDA and appraises the head of
/// DINKES, who appraises an analyst of DINKES.
enum People {
    static let sekda = "197001011995031001"
    static let kadinkes = "198003152005012002"
    static let analyst = "199005202015031003"
    static let unknown = "198512122010011004"
    static let hr = "hr:bkpsdm-kota"
}

/// Lines of the sample file, by number (1-based).
func sampleLine(_ number: Int) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("samples/sample.jsonl"), encoding: .utf8)
    return text.split(separator: "\n").map(String.init)[number - 1]
}

/// A ledger with its access list: tokens for every role, and the sample's placements appended
/// through the API by HR. Its scratch directory is removed when the last reference goes.
final class Fixture: Sendable {
    let scratch = TemporaryDirectory("kinerja-server")
    let ledger: Ledger
    let access: AccessList
    let tokens: [String: String]
    /// Who grants the tokens: the actor of the `access.granted` events.
    static let `operator` = "operator:test"
    /// The grants recorded before anything else: seqs 1...8.
    static let grants = 8

    init() throws {
        ledger = try Ledger.create(at: scratch.child("ledger"))
        access = AccessList(ledgerPath: ledger.path)
        var tokens: [String: String] = [:]
        tokens[People.hr] = try access.grant(People.hr, role: .hr, units: ["SETDA", "DINKES"], by: Fixture.operator, recordingIn: ledger).token
        tokens["hr:dinkes"] = try access.grant("hr:dinkes", role: .hr, units: ["DINKES"], by: Fixture.operator, recordingIn: ledger).token
        tokens["auditor:inspektorat"] = try access.grant("auditor:inspektorat", role: .auditor, units: [], by: Fixture.operator, recordingIn: ledger).token
        tokens["survey:skm"] = try access.grant("survey:skm", role: .service, units: [], by: Fixture.operator, recordingIn: ledger).token
        for nip in [People.sekda, People.kadinkes, People.analyst, People.unknown] {
            tokens[nip] = try access.grant(nip, role: .employee, units: [], by: Fixture.operator, recordingIn: ledger).token
        }
        self.tokens = tokens
    }

    deinit { scratch.remove() }

    func app() -> some ApplicationProtocol {
        buildApplication(ledger: ledger, access: access, ServerConfiguration(year: 2026))
    }

    func headers(_ identity: String?, contentType: String = "application/x-ndjson") -> HTTPFields {
        var fields: HTTPFields = [.contentType: contentType]
        if let identity { fields[.authorization] = "Bearer \(tokens[identity]!)" }
        return fields
    }
}

struct Answer {
    var status: HTTPResponse.Status
    var body: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

extension TestClientProtocol {
    func call(_ uri: String, _ method: HTTPRequest.Method = .get, as identity: String?, _ fixture: Fixture, body: String? = nil, contentType: String = "application/x-ndjson")
        async throws -> Answer
    {
        try await execute(uri: uri, method: method, headers: fixture.headers(identity, contentType: contentType), body: body.map { ByteBuffer(string: $0) }) {
            Answer(status: $0.status, body: String(buffer: $0.body))
        }
    }
}

/// Removes `"actor":"…",` from a sample line: the server fills it in.
func withoutActor(_ line: String) -> String {
    line.replacingOccurrences(of: #""actor":"[^"]*","#, with: "", options: .regularExpression)
}

@Suite struct ServerTests {
    @Test func healthNeedsNoTokenEverythingElseDoes() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            #expect(try await client.call("/healthz", as: nil, fixture).status == .ok)
            let anonymous = try await client.call("/v1/events", as: nil, fixture)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.errorCode == "unauthorized")
            var forged = fixture.headers(People.hr)
            forged[.authorization] = "Bearer kt_000000000000_" + String(repeating: "0", count: 64)
            try await client.execute(uri: "/v1/events", method: .get, headers: forged) { #expect($0.status == .unauthorized) }
            #expect(try await client.call("/v1/nothing", as: People.hr, fixture).errorCode == "http_404")
        }
    }

    @Test func hrPlacesAndTheActorIsWhoAuthenticated() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            let placements = try (1...3).map { try withoutActor(sampleLine($0)) }.joined(separator: "\n")
            let placed = try await client.call("/v1/events", .post, as: People.hr, fixture, body: placements)
            #expect(placed.status == .ok, "\(placed.body)")
            #expect(placed.json["appended"] as? Int == 3)
            #expect((placed.json["events"] as? [[String: Any]])?.map { $0["seq"] as? Int } == [9, 10, 11])
            #expect((placed.json["head"] as? [String: Any])?["seq"] as? Int == Fixture.grants + 3)

            // The same request again: duplicates, nothing new.
            let again = try await client.call("/v1/events", .post, as: People.hr, fixture, body: placements)
            #expect(again.json["duplicates"] as? Int == 3)

            // The Sekda sets the Kadinkes's target, sending no actor: recorded as the Sekda.
            let target = try await client.call("/v1/events", .post, as: People.sekda, fixture, body: withoutActor(sampleLine(4)), contentType: "application/json")
            #expect(target.status == .ok, "\(target.body)")
            let log = try await client.call("/v1/events?type=target.set", as: "auditor:inspektorat", fixture)
            #expect(log.status == .ok)
            #expect(log.body.contains(#""actor":"\#(People.sekda)""#))
            #expect(log.body.split(separator: "\n").count == 1)
        }
    }

    @Test func eachRoleIsRefusedWhatItMustNotDo() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            let placements = try (1...3).map { try sampleLine($0) }.joined(separator: "\n")
            #expect(try await client.call("/v1/events", .post, as: People.hr, fixture, body: placements).status == .ok)

            // Writing as another actor: the whole request is refused.
            let asAnother = try await client.call("/v1/events", .post, as: People.analyst, fixture, body: sampleLine(4))
            #expect(asAnother.status == .forbidden)
            #expect(asAnother.errorCode == "forbidden")
            // An employee setting a target for someone they do not appraise.
            let notTheirs = try await client.call("/v1/events", .post, as: People.analyst, fixture, body: withoutActor(sampleLine(4)))
            #expect(notTheirs.status == .forbidden)
            // An auditor appending.
            let auditor = try await client.call("/v1/events", .post, as: "auditor:inspektorat", fixture, body: withoutActor(sampleLine(4)))
            #expect(auditor.status == .forbidden)
            // A service recording a target; HR placing into a unit it does not administer.
            #expect(try await client.call("/v1/events", .post, as: "survey:skm", fixture, body: withoutActor(sampleLine(4))).status == .forbidden)
            let otherUnit = try withoutActor(sampleLine(1)).replacingOccurrences(of: "7e01", with: "7e99")
            #expect(try await client.call("/v1/events", .post, as: "hr:dinkes", fixture, body: otherUnit).status == .forbidden)

            // An employee logging an activity of someone else (even one they appraise): the
            // role table's 403, not a 422 of the wire rules — and with it the whole request.
            let activity = try withoutActor(sampleLine(13))
            let before = try fixture.ledger.head().seq
            let othersActivity = try await client.call("/v1/events", .post, as: People.kadinkes, fixture, body: activity)
            #expect(othersActivity.status == .forbidden, "\(othersActivity.body)")
            #expect(othersActivity.errorCode == "forbidden")
            #expect(othersActivity.json.description.contains("line 1"), "\(othersActivity.body)")
            let mixed = try await client.call("/v1/events", .post, as: People.kadinkes, fixture, body: withoutActor(sampleLine(4)) + "\n" + activity)
            #expect(mixed.status == .forbidden, "\(mixed.body)")
            #expect(mixed.body.contains("line 2"), "\(mixed.body)")
            // An actor that is no identity at all differs from who authenticated: 403 too.
            let badActor = try sampleLine(4).replacingOccurrences(of: #""actor":"\#(People.sekda)""#, with: #""actor":5"#)
            #expect(try await client.call("/v1/events", .post, as: People.kadinkes, fixture, body: badActor).status == .forbidden)
            #expect(try fixture.ledger.head().seq == before, "nothing was stored")
            // Their own activity is theirs to log: not refused by role (here 422: no target RHK-1 is set yet).
            #expect(try await client.call("/v1/events", .post, as: People.analyst, fixture, body: activity).status == .unprocessableContent)

            // Reads: the analyst may read their own record, not their superior's; the Sekda reaches
            // the analyst (their appraiser's appraiser); HR reads its units; a service reads nothing.
            #expect(try await client.call("/v1/employees/\(People.analyst)/history", as: People.analyst, fixture).status == .ok)
            let superior = try await client.call("/v1/employees/\(People.kadinkes)/history", as: People.analyst, fixture)
            let nobody = try await client.call("/v1/employees/\(People.unknown)/history", as: People.analyst, fixture)
            #expect(superior.status == .forbidden)
            #expect(nobody.status == .forbidden)
            // A denial does not tell whether the employee exists: the same answer but for the NIP.
            #expect(superior.body.replacingOccurrences(of: People.kadinkes, with: "") == nobody.body.replacingOccurrences(of: People.unknown, with: ""))
            #expect(try await client.call("/v1/employees/\(People.analyst)/history", as: People.sekda, fixture).status == .ok)
            #expect(try await client.call("/v1/employees/\(People.analyst)/history", as: "hr:dinkes", fixture).status == .ok)
            #expect(try await client.call("/v1/employees/\(People.sekda)/history", as: "hr:dinkes", fixture).status == .forbidden)
            #expect(try await client.call("/v1/employees/\(People.analyst)/history", as: "survey:skm", fixture).status == .forbidden)
            // The whole log: the auditor only.
            #expect(try await client.call("/v1/events", as: People.hr, fixture).status == .forbidden)
            #expect(try await client.call("/v1/events?employee=\(People.analyst)", as: People.kadinkes, fixture).status == .ok)
            let all = try await client.call("/v1/events", as: "auditor:inspektorat", fixture)
            #expect(all.body.split(separator: "\n").count == Fixture.grants + 3)

            // A revoked token stops working at the next request.
            try fixture.access.revoke(People.analyst, by: Fixture.operator, recordingIn: fixture.ledger)
            #expect(try await client.call("/v1/employees/\(People.analyst)/history", as: People.analyst, fixture).status == .unauthorized)
        }
    }

    @Test func badInputIsRefusedAndNothingIsStored() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            let good = try sampleLine(1)
            let bad = try sampleLine(2).replacingOccurrences(of: #""unit":"DINKES""#, with: #""unit":"dinkes""#)
            let refused = try await client.call("/v1/events", .post, as: People.hr, fixture, body: good + "\n" + bad + "\n{not json")
            #expect(refused.status == .unprocessableContent)
            let rejected = (refused.json["error"] as? [String: Any])?["rejected"] as? [[String: Any]]
            #expect(rejected?.map { $0["line"] as? Int } == [2, 3])
            #expect(rejected?.first?["field"] as? String == "data.unit")
            #expect(try fixture.ledger.head().seq == UInt64(Fixture.grants))

            // expected_version: a conflict is 409.
            let stale = good.replacingOccurrences(of: #""type""#, with: #""expected_version":3,"type""#)
            #expect(try await client.call("/v1/events", .post, as: People.hr, fixture, body: stale).status == .conflict)

            // Too many events: 413, before any is checked.
            let flood = Array(repeating: "{}", count: Limits.events + 1).joined(separator: "\n")
            #expect(try await client.call("/v1/events", .post, as: People.hr, fixture, body: flood).status == .contentTooLarge)
            #expect(try await client.call("/v1/events", .post, as: People.hr, fixture, body: "\n").status == .unprocessableContent)
            #expect(try await client.call("/v1/events?from=x", as: "auditor:inspektorat", fixture).status == .badRequest)
            // Found by schemathesis: a point in time past the head is the query's fault (400, not 500).
            #expect(try await client.call("/v1/reports/scores?at-seq=4660", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/employees/\(People.analyst)/history?at-seq=999", as: "auditor:inspektorat", fixture).status == .badRequest)
            // A path the API has, with a method it does not: 405 naming the methods it has.
            try await client.execute(uri: "/v1/checkpoint", method: .delete, headers: fixture.headers("auditor:inspektorat")) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
            #expect(try fixture.ledger.head().seq == UInt64(Fixture.grants))
        }
    }

    @Test func grantsAndRevocationsAreRecordedInTheLedger() async throws {
        let fixture = try Fixture()
        try await fixture.app().test(.router) { client in
            let granted = try await client.call("/v1/events?type=access.granted", as: "auditor:inspektorat", fixture)
            let lines = granted.body.split(separator: "\n").map(String.init)
            #expect(lines.count == Fixture.grants)
            #expect(lines.allSatisfy { $0.contains(#""actor":"operator:test""#) && $0.contains(#""stream":"access:"#) })
            #expect(lines.first?.contains(#""identity":"hr:bkpsdm-kota""#) == true)
            #expect(lines.first?.contains(#""data":{"role":"hr","units":["SETDA","DINKES"],"token_id":"#) == true)
            // Never the token nor its hash.
            for (identity, token) in fixture.tokens {
                #expect(!granted.body.contains(String(token.dropFirst(16))), "\(identity)")
                #expect(!granted.body.contains(try #require(fixture.access.grants().first { $0.identity == identity }).tokenHash))
            }

            // Both tokens work (and are now known to the server) before they are revoked.
            for identity in [People.analyst, "survey:skm"] {
                #expect(try await client.call("/openapi.yaml", as: identity, fixture).status == .ok, "\(identity)")
            }

            // A new grant to the same identity revokes its earlier token: both recorded.
            let before = try fixture.ledger.head().seq
            _ = try fixture.access.grant(People.analyst, role: .employee, units: [], by: "operator:admin", recordingIn: fixture.ledger)
            try fixture.access.revoke("survey:skm", by: "operator:admin", recordingIn: fixture.ledger)
            #expect(try fixture.ledger.head().seq == before + 3)
            // A token checked before is refused at the next request once revoked.
            for identity in [People.analyst, "survey:skm"] {
                #expect(try await client.call("/openapi.yaml", as: identity, fixture).status == .unauthorized, "\(identity)")
            }
            let audit = try await client.call("/v1/reports/audit?type=access.revoked&type=access.granted", as: "auditor:inspektorat", fixture)
            #expect(audit.status == .ok, "\(audit.body)")
            #expect(audit.body.contains("granted the role hr in SETDA, DINKES, token id"))
            #expect(audit.body.components(separatedBy: "revoked token id").count == 3)

            // Nobody records access events through the API: they are the ledger host's.
            let forged = #"{"id":"7f3c1e2a-5b6d-4e8f-9a0b-000000000010","type":"access.granted","identity":"hr:dinkes","occurred_at":"2026-01-05T08:00:00+07:00","data":{"role":"hr","units":["SETDA"],"token_id":"3f9a0c1d2e4b"}}"#
            for identity in [People.hr, "hr:dinkes", "auditor:inspektorat", People.sekda] {
                #expect(try await client.call("/v1/events", .post, as: identity, fixture, body: forged).status == .forbidden)
            }
        }
    }

    /// PRODUCT §9 for the types of §7: an employee logs their own activity and files their own
    /// objection; the decision is taken by one who reaches the employee (appraiser's appraiser).
    @Test func activitiesObjectionsAndDecisionsFollowTheRoleTable() async throws {
        let fixture = try Fixture()
        // The placements, the targets and the Q1 score, as the sample records them.
        let report = try fixture.ledger.append(jsonLines: Data(try [1, 2, 3, 4, 5, 7].map { try sampleLine($0) }.joined(separator: "\n").utf8))
        #expect(report.rejected.isEmpty && report.appended == 6)
        try await fixture.app().test(.router) { client in
            let activity = try withoutActor(sampleLine(13))
            let objection = try withoutActor(sampleLine(14))
            let decision = try withoutActor(sampleLine(15))

            // Anyone else's entry in the daily log: the actor becomes who authenticated, and the
            // actor rule (an activity's actor is its employee) refuses it as the role table does: 403.
            for identity in [People.kadinkes, People.sekda, People.hr, "auditor:inspektorat", "survey:skm"] {
                let refused = try await client.call("/v1/events", .post, as: identity, fixture, body: activity)
                #expect(refused.status == .forbidden, "\(identity)")
                #expect(refused.body.contains("an activity is logged by the employee themself"))
            }
            let logged = try await client.call("/v1/events", .post, as: People.analyst, fixture, body: activity)
            #expect(logged.status == .ok, "\(logged.body)")

            // An objection: the employee's own only.
            for identity in [People.kadinkes, People.sekda, People.unknown, People.hr, "auditor:inspektorat", "survey:skm"] {
                let refused = try await client.call("/v1/events", .post, as: identity, fixture, body: objection)
                #expect(refused.status == .forbidden, "\(identity): \(refused.body)")
            }
            let filed = try await client.call("/v1/events", .post, as: People.analyst, fixture, body: objection)
            #expect(filed.status == .ok, "\(filed.body)")

            // The decision: not by the employee, nor by one who does not reach them, nor HR, an auditor, a service.
            for identity in [People.analyst, People.unknown, People.hr, "auditor:inspektorat", "survey:skm"] {
                let refused = try await client.call("/v1/events", .post, as: identity, fixture, body: decision)
                #expect(refused.status == .forbidden, "\(identity): \(refused.body)")
                #expect(refused.body.contains("may not record this objection.decided") || identity != People.analyst)
            }
            let decided = try await client.call("/v1/events", .post, as: People.sekda, fixture, body: decision)
            #expect(decided.status == .ok, "\(decided.body)")
            #expect(try fixture.ledger.head().seq == UInt64(Fixture.grants + 6 + 3))
        }
    }
}
