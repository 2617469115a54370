import CanonicalBytes
import Foundation
import KinerjaDomain
import KinerjaSamples
import PropertyBased
import Testing

@Suite("Encoding round trips")
struct RoundTripTests {
    @Test("wire JSON and canonical payload give back the same event, over generated ledgers")
    func generated() async {
        await propertyCheck(count: 40, input: Gen.uint64()) { seed in
            var generator = SampleGenerator(seed: seed, employees: 12, cycle: true)
            for event in generator.events(200) {
                let line = WireEncoder.encode(event)
                let decoded = try? WireDecoder.decode(line: line, number: 1).get()
                #expect(decoded?.event == event, "\(line)")
                let payload = PayloadCodec.encode(event)
                let back = try? payload.withUnsafeBytes { try PayloadCodec.decode($0, stream: event.stream, id: event.id) }
                #expect(back == event)
            }
        }
    }

    @Test("free text with any Unicode survives JSON and the payload unchanged")
    func unicodeText() async {
        // Any scalar but the surrogate code points (which are not scalars), ASCII half the time.
        let scalar = Gen.uint32(in: 0...0x10FFFF).map { value in
            Unicode.Scalar(value % 2 == 0 ? value % 0x80 : value) ?? "\u{FFFD}"
        }
        let text = scalar.array(of: 1...60).map { scalars in
            String(String.UnicodeScalarView(scalars))
        }
        await propertyCheck(count: 300, input: text) { text in
            let line = JSONValue.object(sample("feedback.given")).setting([.key("data"), .key("text")], to: .string(text)).jsonText
            switch WireDecoder.decode(line: line, number: 1) {
            case .success(let submission):
                guard case .feedbackGiven(let feedback) = submission.event.data else { Issue.record("not feedback"); return }
                #expect(feedback.text == text)
                let again = try? WireDecoder.decode(line: WireEncoder.encode(submission.event), number: 1).get()
                #expect(again?.event == submission.event)
            case .failure(let error):
                // Only the text rules may refuse it: blank, or a control character.
                #expect(error.field == "data.text")
                #expect(error.rule.contains("blank") || error.rule.contains("control"))
            }
        }
    }

    @Test("numbers are written in a form that reads back to the same binary64")
    func numbers() async {
        await propertyCheck(count: 500, input: Gen.uint64()) { bits in
            let value = abs(Double(bitPattern: bits))
            guard value.isFinite else { return }
            var writer = JSONWriter()
            writer.number(value)
            let parsed = try? JSONParser.parse(writer.text)
            guard case .number(let number)? = parsed else { Issue.record("\(writer.text) did not parse"); return }
            #expect(number.value.bitPattern == value.bitPattern, "\(writer.text)")
        }
    }

    @Test("timestamps print as the shortest RFC 3339 text that parses back, in their own offset")
    func timestamps() throws {
        let cases = [
            ("2026-04-02T09:15:00+07:00", "2026-04-02T09:15:00+07:00"),
            ("2026-04-02T09:15:00.500+07:00", "2026-04-02T09:15:00.5+07:00"),
            ("2026-04-02t02:15:00.000001z", "2026-04-02T02:15:00.000001Z"),
            ("2026-04-02T09:15:00+00:00", "2026-04-02T09:15:00Z"),
            ("1969-12-31T23:59:59.999999-09:30", "1969-12-31T23:59:59.999999-09:30"),
        ]
        for (input, output) in cases {
            let timestamp = try Timestamp.parse(input).get()
            #expect(timestamp.description == output)
            #expect(try Timestamp.parse(timestamp.description).get() == timestamp)
        }
        // Dates are taken in the event's own offset.
        #expect(try Timestamp.parse("2026-12-31T23:30:00+07:00").get().localDate == CivilDate(year: 2026, month: 12, day: 31))
        #expect(try Timestamp.parse("2026-12-31T23:30:00-05:00").get().localDate == CivilDate(year: 2026, month: 12, day: 31))
        #expect(try Timestamp.parse("2027-01-01T05:30:00+07:00").get().localDate == CivilDate(year: 2027, month: 1, day: 1))
    }

    @Test("civil dates agree with a day-by-day count", arguments: [1900, 1970, 2000, 2024, 2100])
    func civilDates(year: Int) {
        var days = CivilDate(year: year, month: 1, day: 1)!.daysSinceEpoch
        for month in 1...12 {
            for day in 1...CivilDate.daysIn(month: month, year: year) {
                let date = CivilDate(year: year, month: month, day: day)!
                #expect(date.daysSinceEpoch == days)
                #expect(CivilDate(daysSinceEpoch: days) == date)
                days += 1
            }
        }
    }

    @Test("periods end on their last day")
    func periods() {
        #expect(Period("2024")?.lastDay == CivilDate(year: 2024, month: 12, day: 31))
        #expect(Period("2024-Q1")?.lastDay == CivilDate(year: 2024, month: 3, day: 31))
        #expect(Period("2024-02")?.lastDay == CivilDate(year: 2024, month: 2, day: 29))
        #expect(Period("2025-02")?.lastDay == CivilDate(year: 2025, month: 2, day: 28))
        #expect(Period("2024-Q0") == nil)
        #expect(Period("2024-00") == nil)
    }

    @Test("verify's check of a payload in place agrees with decoding and encoding it again, intact or corrupted")
    func canonicalCheck() async {
        let events = { var g = SampleGenerator(seed: 11, employees: 12, cycle: true); return g.events(300) }()
        func keys(_ bytes: [UInt8], _ event: Event, reencoding: Bool) -> Result<[[UInt8]], Failure> {
            canonicalKeys(bytes, stream: Array(event.stream.utf8), id: event.id, reencoding: reencoding)
        }
        for event in events {
            let payload = PayloadCodec.encode(event)
            #expect(keys(payload, event, reencoding: false) == .success(event.uniqueKeys))
        }
        await propertyCheck(count: 2_000, input: Gen.int(in: 0..<300), Gen.uint64()) { index, noise in
            let event = events[index]
            var payload = PayloadCodec.encode(event)
            let position = Int(noise % UInt64(payload.count))
            // A flipped bit, a byte that is never UTF-8, a byte that starts a sequence, a varint's continuation.
            switch noise >> 60 & 3 {
            case 0: payload[position] ^= 1 << UInt8(noise >> 32 & 7)
            case 1: payload[position] = 0xFF
            case 2: payload[position] = 0xC3
            default: payload[position] |= 0x80
            }
            let truncated = Array(payload.prefix(Int(noise >> 40) % (payload.count + 1)))
            for bytes in [payload, truncated] {
                #expect(keys(bytes, event, reencoding: false) == keys(bytes, event, reencoding: true), "\(event.type) \(bytes)")
            }
        }
    }

    @Test("verify's check of a payload in place names the fault decoding names, for each schema example with any one byte made 0xFF or 0xC3")
    func canonicalCheckOfExamples() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../schemas/v1/examples/valid.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let events = try lines.enumerated().map { number, line in try WireDecoder.decode(line: line, number: number + 1).get().event }
        // Every type, and the optional strings the generator leaves out: certificates, evidence,
        // a revision's plan and indicator, access events.
        #expect(events.count == 31)
        #expect(Set(events.map(\.type)) == Set(EventType.allCases))
        func check(_ payload: [UInt8], stream: [UInt8]) -> Bool {
            stream.withUnsafeBytes { streamBytes in payload.withUnsafeBytes { (try? EventView.check(payload: $0, streamBytes: streamBytes)) != nil } }
        }
        func decodes(_ payload: [UInt8], stream: [UInt8], id: EventID) -> Bool {
            stream.withUnsafeBytes { streamBytes in payload.withUnsafeBytes { (try? PayloadCodec.decode($0, streamBytes: streamBytes, id: id)) != nil } }
        }
        for event in events {
            let payload = PayloadCodec.encode(event)
            let stream = Array(event.stream.utf8)
            #expect(canonicalKeys(payload, stream: stream, id: event.id, reencoding: false) == .success(event.uniqueKeys))
            #expect(check(payload, stream: stream))
            for position in payload.indices {
                for byte: UInt8 in [0xFF, 0xC3] where payload[position] != byte {
                    var damaged = payload
                    damaged[position] = byte
                    let expected = canonicalKeys(damaged, stream: stream, id: event.id, reencoding: true)
                    #expect(canonicalKeys(damaged, stream: stream, id: event.id, reencoding: false) == expected, "\(event.type) byte \(position) := \(byte)")
                    #expect(check(damaged, stream: stream) == decodes(damaged, stream: stream, id: event.id), "\(event.type) byte \(position) := \(byte)")
                }
            }
            // A unit's or an identity's name is checked too: it comes from the store's header.
            if !event.stream.hasPrefix("employee:") {
                let name = Array(event.stream.prefix { $0 != ":" }.utf8) + [UInt8(ascii: ":"), 0xFF]
                #expect(!check(payload, stream: name), "\(event.type) on \(name)")
                #expect(canonicalKeys(payload, stream: name, id: event.id, reencoding: false) == canonicalKeys(payload, stream: name, id: event.id, reencoding: true))
            }
        }
        #expect(events.contains { $0.stream.hasPrefix("unit:") } && events.contains { $0.stream.hasPrefix("access:") })
    }

    @Test("a corrupted payload is reported, never trapped on")
    func corruptedPayloads() async {
        let events = { var g = SampleGenerator(seed: 7, employees: 5); return g.events(60) }()
        await propertyCheck(count: 300, input: Gen.int(in: 0..<60), Gen.uint64()) { index, noise in
            let event = events[index]
            var payload = PayloadCodec.encode(event)
            let position = Int(noise % UInt64(payload.count))
            payload[position] ^= UInt8(truncatingIfNeeded: noise >> 32) | 1
            let truncated = Array(payload.prefix(Int(noise >> 40) % (payload.count + 1)))
            for bytes in [payload, truncated] {
                // Either it decodes to some event, or it throws: it must not crash.
                _ = try? bytes.withUnsafeBytes { try PayloadCodec.decode($0, stream: event.stream, id: event.id) }
            }
        }
    }
}

/// An error, compared by what it says.
struct Failure: Error, Equatable {
    let message: String
}

/// What `verify`'s check of a payload says of it (``PayloadCodec/canonicalKeys(_:streamBytes:id:)``),
/// or the same check done the long way (`reencoding`): the keys, or the error's message.
func canonicalKeys(_ payload: [UInt8], stream: [UInt8], id: EventID, reencoding: Bool) -> Result<[[UInt8]], Failure> {
    stream.withUnsafeBytes { streamBytes in
        payload.withUnsafeBytes { payload in
            Result {
                reencoding
                    ? try PayloadCodec.canonicalKeysByReencoding(payload, streamBytes: streamBytes, id: id)
                    : try PayloadCodec.canonicalKeys(payload, streamBytes: streamBytes, id: id)
            }.mapError { Failure(message: String(describing: $0)) }
        }
    }
}
