import CanonicalBytes
import Foundation
import KinerjaDomain
import PropertyBased
import Testing

/// `access.granted` and `access.revoked` (PRODUCT §9): decoded, encoded and read back as every
/// other type, refused naming the field and the rule.
@Suite("Access events")
struct AccessEventTests {
    static let examples: [String] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schemas/v1/examples/valid.jsonl")
        return try! String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter { $0.contains(#""type":"access."#) }
    }()

    @Test("the schema examples decode, re-encode byte for byte, and read back from their payload")
    func examplesRoundTrip() throws {
        #expect(Self.examples.count == 3)
        for line in Self.examples {
            let event = try WireDecoder.decode(line: line, number: 1).get().event
            #expect(event.subject.stream.hasPrefix("access:"))
            #expect(WireEncoder.encode(event) == line)
            let payload = PayloadCodec.encode(event)
            let code: UInt8 = event.type == .accessGranted ? 12 : 13
            #expect(payload.first == code)
            let back = try payload.withUnsafeBytes { try PayloadCodec.decode($0, stream: event.stream, id: event.id) }
            #expect(back == event)
        }
    }

    @Test("any role, units and token id survive JSON and the payload")
    func generated() async {
        let unit = Gen.int(in: 0..<6).map { ["SETDA", "DINKES", "DISDIK", "BKPSDM", "A", "X.Y-Z_1"][$0] }
        await propertyCheck(count: 200, input: Gen.int(in: 0..<4), unit.array(of: 1...5), Gen.uint64()) { role, units, noise in
            let role = AccessRole.allCases[role]
            let tokenID = String(format: "%012llx", noise & 0xFFFF_FFFF_FFFF)
            let identity = role == .employee ? "199005202015031003" : "\(role.rawValue):id-\(noise % 1000)"
            for data in [EventData.accessGranted(AccessGrant(role: role, units: role == .hr ? units : [], tokenID: tokenID)), .accessRevoked(AccessRevocation(tokenID: tokenID))] {
                let event = Event(
                    id: EventID(high: noise, low: ~noise), subject: .identity(identity), actor: "operator:admin",
                    occurredAt: Timestamp(micros: 1_780_000_000_000_000 + Int64(noise % 1_000_000)), data: data)
                let line = WireEncoder.encode(event)
                #expect((try? WireDecoder.decode(line: line, number: 1).get())?.event == event, "\(line)")
                let back = try? PayloadCodec.encode(event).withUnsafeBytes { try PayloadCodec.decode($0, stream: event.stream, id: event.id) }
                #expect(back == event)
            }
        }
    }

    @Test(
        "bad access events are refused naming the field",
        arguments: [
            (#""role":"auditor","units":["SETDA"]"#, "data.units", "only an hr identity"),
            (#""role":"hr","units":[]"#, "data.units", "at least one unit"),
            (#""role":"hr","units":["setda"]"#, "data.units[0]", "unit code"),
            (#""role":"root","units":[]"#, "data.role", "is not one of employee, hr, auditor or service"),
            (#""role":"employee","units":[]"#, "identity", "their NIP"),
        ])
    func refused(data: String, field: String, rule: String) throws {
        let line = #"{"id":"7f3c1e2a-5b6d-4e8f-9a0b-000000000010","type":"access.granted","identity":"hr:bkpsdm","actor":"operator:admin","occurred_at":"2026-01-05T08:00:00+07:00","data":{\#(data),"token_id":"3f9a0c1d2e4b"}}"#
        guard case .failure(let error) = WireDecoder.decode(line: line, number: 4) else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(error.line == 4)
        #expect(error.field == field)
        #expect(error.rule.contains(rule), "\(error.rule)")
    }

    @Test("the subject of an access event is an identity, never an employee or a unit, and the token id is never a secret")
    func envelope() {
        let base = #"{"id":"7f3c1e2a-5b6d-4e8f-9a0b-000000000012","type":"access.revoked","actor":"operator:admin","occurred_at":"2026-06-30T17:00:00+07:00","#
        let cases: [(String, String)] = [
            (base + #""employee":"199005202015031003","data":{"token_id":"a1b2c3d4e5f6"}}"#, "employee"),
            (base + #""identity":"Not An Identity","data":{"token_id":"a1b2c3d4e5f6"}}"#, "identity"),
            (base + #""identity":"hr:x","data":{"token_id":"kt_a1b2c3d4e5f6_00"}}"#, "data.token_id"),
            (#"{"id":"7f3c1e2a-5b6d-4e8f-9a0b-000000000012","type":"unit.rated","unit":"SETDA","identity":"hr:x","actor":"hr:x","occurred_at":"2026-06-30T17:00:00+07:00","data":{"period":"2026","rating":"good"}}"#, "identity"),
        ]
        for (line, field) in cases {
            guard case .failure(let error) = WireDecoder.decode(line: line, number: 1) else {
                Issue.record("accepted: \(line)")
                continue
            }
            #expect(error.field == field, "\(error)")
        }
    }
}
