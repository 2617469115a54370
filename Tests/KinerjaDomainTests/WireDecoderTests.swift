import Foundation
import KinerjaDomain
import Testing

@Suite("Wire format v1: strict decoding")
struct WireDecoderTests {
    @Test("every sample line decodes", arguments: sampleLines)
    func samplesDecode(line: String) throws {
        let submission = try WireDecoder.decode(line: line, number: 1).get()
        #expect(submission.recorded == nil)
    }

    /// The server's path: a line without `actor` decodes, straight from its bytes, as the same
    /// line naming the authenticated identity; a line that names one keeps it; an identity that
    /// may not log another employee's activity is refused at `actor`, as the line naming it is.
    @Test("an absent actor is the given identity", arguments: sampleLines)
    func absentActor(line: String) throws {
        let named = try WireDecoder.decode(line: line, number: 1).get()
        let actor = named.event.actor.text
        let without = line.replacingOccurrences(of: #""actor":"\#(actor)","#, with: "")
        #expect(without != line)
        func decode(_ line: String, actor: String) -> Result<Submission, WireError> {
            var tape = JSONTape()
            var line = line
            return line.withUTF8 { WireDecoder.decode(line: UnsafeRawBufferPointer($0), number: 1, tape: &tape, actor: actor) }
        }
        #expect(try decode(without, actor: actor).get() == named)
        #expect(try decode(line, actor: "hr:other").get() == named)
        let other = decode(without, actor: "198003152005012002")
        if named.event.type == .activityLogged && actor != "198003152005012002" {
            #expect(throws: WireError.self) { try other.get() }
            if case .failure(let error) = other { #expect(error.field == "actor") }
        } else {
            #expect(try other.get().event.actor.text == "198003152005012002")
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let type: String
        let path: String
        let value: String?
        let field: String
        let rule: String
        var testDescription: String { "\(type) \(path)=\(value ?? "(removed)")" }
    }

    static let cases: [Case] = [
        // Envelope
        Case(type: "unit.rated", path: "id", value: nil, field: "id", rule: "required field is missing"),
        Case(type: "unit.rated", path: "id", value: #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0""#, field: "id", rule: "UUID"),
        Case(type: "unit.rated", path: "id", value: #""0b9f3a52x8d1e-4c36-9a51-6f1f3c2d7e0c""#, field: "id", rule: "UUID"),
        Case(type: "unit.rated", path: "type", value: #""unit.deleted""#, field: "type", rule: "unknown event type"),
        Case(type: "unit.rated", path: "type", value: nil, field: "type", rule: "required field is missing"),
        Case(type: "unit.rated", path: "colour", value: #""red""#, field: "colour", rule: "unknown field"),
        Case(type: "unit.rated", path: "data.colour", value: #""red""#, field: "data.colour", rule: "unknown field"),
        Case(type: "unit.rated", path: "employee", value: #""199005202015031003""#, field: "employee", rule: "has a unit, not an employee"),
        Case(type: "unit.rated", path: "unit", value: #""dinkes""#, field: "unit", rule: "unit code"),
        Case(type: "unit.rated", path: "unit", value: #"".DINKES""#, field: "unit", rule: "unit code"),
        Case(type: "unit.rated", path: "unit", value: nil, field: "unit", rule: "required field is missing"),
        Case(type: "score.given", path: "unit", value: #""DINKES""#, field: "unit", rule: "has an employee, not a unit"),
        Case(type: "score.given", path: "employee", value: #""19900520201503100""#, field: "employee", rule: "exactly 18 digits"),
        Case(type: "score.given", path: "employee", value: #""19900520201503100a""#, field: "employee", rule: "exactly 18 digits"),
        Case(type: "score.given", path: "employee", value: #""199013202015031003""#, field: "employee", rule: "birth date 19901320"),
        Case(type: "score.given", path: "employee", value: #""199002302015031003""#, field: "employee", rule: "birth date 19900230"),
        Case(type: "score.given", path: "employee", value: #""199005202015131003""#, field: "employee", rule: "appointment 201513"),
        Case(type: "score.given", path: "employee", value: #""199005201985031003""#, field: "employee", rule: "before the birth date"),
        Case(type: "score.given", path: "employee", value: #""199005202015033003""#, field: "employee", rule: "sex digit"),
        Case(type: "score.given", path: "actor", value: #""Pak Bambang""#, field: "actor", rule: "NIP or a system identifier"),
        Case(type: "score.given", path: "actor", value: #""survey:""#, field: "actor", rule: "NIP or a system identifier"),
        Case(type: "score.given", path: "actor", value: #""199013202015031003""#, field: "actor", rule: "birth date"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05 14:00:00+07:00""#, field: "occurred_at", rule: "RFC 3339"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T14:00:00""#, field: "occurred_at", rule: "offset"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-02-30T14:00:00+07:00""#, field: "occurred_at", rule: "real calendar date"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T24:00:00+07:00""#, field: "occurred_at", rule: "out of range"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T14:00:60+07:00""#, field: "occurred_at", rule: "leap seconds"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T14:00:00.1234567+07:00""#, field: "occurred_at", rule: "6 fractional digits"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T14:00:00-00:00""#, field: "occurred_at", rule: "unknown local offset"),
        Case(type: "score.given", path: "occurred_at", value: #""2026-04-05T14:00:00+24:00""#, field: "occurred_at", rule: "offset"),
        Case(type: "score.given", path: "expected_version", value: "-1", field: "expected_version", rule: "integer from 0"),
        Case(type: "score.given", path: "expected_version", value: "1.5", field: "expected_version", rule: "must be an integer"),
        Case(type: "score.given", path: "expected_version", value: "1e3", field: "expected_version", rule: "must be an integer"),
        Case(type: "score.given", path: "expected_version", value: #""3""#, field: "expected_version", rule: "must be an integer"),
        Case(type: "score.given", path: "expected_version", value: "99999999999999999999", field: "expected_version", rule: "integer from 0"),
        Case(type: "score.given", path: "data", value: nil, field: "data", rule: "required field is missing"),
        Case(type: "score.given", path: "data", value: "[]", field: "data", rule: "must be an object"),
        Case(type: "score.given", path: "reason", value: "\"" + String(repeating: "a", count: 4001) + "\"", field: "reason", rule: "1 to 4000 characters"),
        Case(type: "target.revised", path: "reason", value: nil, field: "reason", rule: "required field is missing"),
        Case(type: "score.corrected", path: "reason", value: nil, field: "reason", rule: "required field is missing"),
        Case(type: "score.corrected", path: "reason", value: #""   ""#, field: "reason", rule: "blank"),
        // employee.placed
        Case(type: "employee.placed", path: "data.name", value: #""""#, field: "data.name", rule: "1 to 200 characters"),
        Case(type: "employee.placed", path: "data.name", value: "\"" + String(repeating: "é", count: 201) + "\"", field: "data.name", rule: "1 to 200 characters, not 201"),
        Case(type: "employee.placed", path: "data.name", value: #""Andi\u0000""#, field: "data.name", rule: "control characters"),
        Case(type: "employee.placed", path: "data.unit", value: #""Dinkes""#, field: "data.unit", rule: "unit code"),
        Case(type: "employee.placed", path: "data.position", value: nil, field: "data.position", rule: "required field is missing"),
        Case(type: "employee.placed", path: "data.appraiser", value: nil, field: "data.appraiser", rule: "required field is missing"),
        Case(type: "employee.placed", path: "data.appraiser", value: #""12""#, field: "data.appraiser", rule: "18 digits"),
        Case(type: "employee.placed", path: "data.effective_from", value: #""2026-02-29""#, field: "data.effective_from", rule: "real date"),
        Case(type: "employee.placed", path: "data.effective_from", value: #""2026-1-01""#, field: "data.effective_from", rule: "real date"),
        // target.set
        Case(type: "target.set", path: "data.period", value: #""2026-Q1""#, field: "data.period", rule: "must be a year"),
        Case(type: "target.set", path: "data.period", value: #""26""#, field: "data.period", rule: "must be a year"),
        Case(type: "target.set", path: "data.target_id", value: #""RHK 1""#, field: "data.target_id", rule: "target id"),
        Case(type: "target.set", path: "data.target_id", value: "\"" + String(repeating: "R", count: 65) + "\"", field: "data.target_id", rule: "target id"),
        Case(type: "target.set", path: "data.kind", value: #""primary""#, field: "data.kind", rule: "is not one of main or additional"),
        Case(type: "target.set", path: "data.plan", value: "\"" + String(repeating: "p", count: 2001) + "\"", field: "data.plan", rule: "1 to 2000"),
        Case(type: "target.set", path: "data.indicator", value: nil, field: "data.indicator", rule: "required field is missing"),
        Case(type: "target.set", path: "data.target.value", value: "-1", field: "data.target.value", rule: "≥ 0"),
        Case(type: "target.set", path: "data.target.value", value: nil, field: "data.target.value", rule: "required field is missing"),
        Case(type: "target.set", path: "data.target.unit", value: "\"" + String(repeating: "u", count: 33) + "\"", field: "data.target.unit", rule: "1 to 32"),
        Case(type: "target.set", path: "data.target.extra", value: "1", field: "data.target.extra", rule: "unknown field"),
        Case(type: "target.set", path: "data.aligned_to", value: nil, field: "data.aligned_to", rule: "required field is missing"),
        Case(type: "target.set", path: "data.aligned_to", value: #"{"employee":"198003152005012002"}"#, field: "data.aligned_to.target_id", rule: "required field is missing"),
        Case(type: "target.set", path: "data.aligned_to", value: #"{"employee":"1980","target_id":"RHK-1"}"#, field: "data.aligned_to.employee", rule: "18 digits"),
        // target.revised
        Case(type: "target.revised", path: "data.target", value: nil, field: "data", rule: "at least one of plan, indicator, target, aligned_to"),
        Case(type: "target.revised", path: "data.target_id", value: nil, field: "data.target_id", rule: "required field is missing"),
        Case(type: "target.revised", path: "data.kind", value: #""main""#, field: "data.kind", rule: "unknown field"),
        // score.given
        Case(type: "score.given", path: "data.period", value: #""2026-Q5""#, field: "data.period", rule: "must be a period"),
        Case(type: "score.given", path: "data.period", value: #""2026-13""#, field: "data.period", rule: "must be a period"),
        Case(type: "score.given", path: "data.period", value: #""2026-H1""#, field: "data.period", rule: "must be a period"),
        Case(type: "score.given", path: "data.results_rating", value: #""good""#, field: "data.results_rating", rule: "is not one of above_expectation, meets_expectation or below_expectation"),
        Case(type: "score.given", path: "data.behavior_rating", value: nil, field: "data.behavior_rating", rule: "required field is missing"),
        Case(type: "score.given", path: "data.predicate", value: #""good""#, field: "data.predicate", rule: "unknown field"),
        Case(type: "score.given", path: "data.realizations", value: "{}", field: "data.realizations", rule: "must be an array"),
        Case(type: "score.given", path: "data.realizations[0].value", value: #""1""#, field: "data.realizations[0].value", rule: "must be a number"),
        Case(type: "score.given", path: "data.realizations[0].note", value: #""x""#, field: "data.realizations[0].note", rule: "unknown field"),
        // score.corrected
        Case(type: "score.corrected", path: "data.corrects", value: #""score-10""#, field: "data.corrects", rule: "UUID"),
        Case(type: "score.corrected", path: "data.basis", value: #""appeal""#, field: "data.basis", rule: "objection_upheld, clerical_error or review"),
        // feedback.given
        Case(type: "feedback.given", path: "data.relation", value: #""boss""#, field: "data.relation", rule: "is not one of"),
        Case(type: "feedback.given", path: "data.aspect", value: #""honest""#, field: "data.aspect", rule: "service_oriented"),
        Case(type: "feedback.given", path: "data.topic", value: #""RHK 1""#, field: "data.topic", rule: "target id"),
        Case(type: "feedback.given", path: "data.text", value: "\"" + String(repeating: "t", count: 4001) + "\"", field: "data.text", rule: "1 to 4000"),
        // training.completed
        Case(type: "training.completed", path: "data.hours", value: "0", field: "data.hours", rule: "greater than 0 and at most 1000"),
        Case(type: "training.completed", path: "data.hours", value: "-2", field: "data.hours", rule: "greater than 0 and at most 1000"),
        Case(type: "training.completed", path: "data.hours", value: "1000.5", field: "data.hours", rule: "greater than 0 and at most 1000"),
        Case(type: "training.completed", path: "data.hours", value: "1e400", field: "data.hours", rule: "out of range"),
        Case(type: "training.completed", path: "data.hours", value: #""24""#, field: "data.hours", rule: "must be a number"),
        Case(type: "training.completed", path: "data.completed_on", value: #""20-05-2026""#, field: "data.completed_on", rule: "real date"),
        Case(type: "training.completed", path: "data.title", value: "\"" + String(repeating: "t", count: 301) + "\"", field: "data.title", rule: "1 to 300"),
        // unit.rated
        Case(type: "unit.rated", path: "data.rating", value: #""excellent""#, field: "data.rating", rule: "outstanding, good, needs_improvement, poor or very_poor"),
        Case(type: "unit.rated", path: "data.period", value: #""2026-01""#, field: "data.period", rule: "must be a year"),
        // objection.filed
        Case(type: "objection.filed", path: "data.score", value: nil, field: "data.score", rule: "required field is missing"),
        Case(type: "objection.filed", path: "data.score", value: #""score-7""#, field: "data.score", rule: "UUID"),
        Case(type: "objection.filed", path: "data.received_on", value: #""2026-04-31""#, field: "data.received_on", rule: "real date"),
        Case(type: "objection.filed", path: "data.grounds", value: #"" ""#, field: "data.grounds", rule: "blank"),
        Case(type: "objection.filed", path: "data.grounds", value: "\"" + String(repeating: "g", count: 4001) + "\"", field: "data.grounds", rule: "1 to 4000"),
        Case(type: "objection.filed", path: "data.period", value: #""2026""#, field: "data.period", rule: "unknown field"),
        // objection.decided
        Case(type: "objection.decided", path: "reason", value: nil, field: "reason", rule: "required field is missing"),
        Case(type: "objection.decided", path: "data.objection", value: nil, field: "data.objection", rule: "required field is missing"),
        Case(type: "objection.decided", path: "data.outcome", value: #""withdrawn""#, field: "data.outcome", rule: "is not one of upheld or rejected"),
        Case(type: "objection.decided", path: "data.outcome", value: #""upheld""#, field: "data.results_rating", rule: "required field is missing"),
        Case(type: "objection.decided", path: "data.results_rating", value: #""meets_expectation""#, field: "data.results_rating", rule: "must be absent when the objection is rejected"),
        Case(type: "objection.decided", path: "data.behavior_rating", value: #""meets_expectation""#, field: "data.behavior_rating", rule: "must be absent when the objection is rejected"),
        // activity.logged
        Case(type: "activity.logged", path: "actor", value: #""198003152005012002""#, field: "actor", rule: "logged by the employee themself"),
        Case(type: "activity.logged", path: "data.date", value: #""2026-4-14""#, field: "data.date", rule: "real date"),
        Case(type: "activity.logged", path: "data.target_id", value: #""RHK 1""#, field: "data.target_id", rule: "target id"),
        Case(type: "activity.logged", path: "data.description", value: nil, field: "data.description", rule: "required field is missing"),
        Case(type: "activity.logged", path: "data.description", value: "\"" + String(repeating: "d", count: 2001) + "\"", field: "data.description", rule: "1 to 2000"),
        Case(type: "activity.logged", path: "data.output.value", value: "-1", field: "data.output.value", rule: "≥ 0"),
        Case(type: "activity.logged", path: "data.evidence", value: "\"" + String(repeating: "e", count: 501) + "\"", field: "data.evidence", rule: "1 to 500"),
        // Recorded fields
        Case(type: "unit.rated", path: "seq", value: "13", field: "stream", rule: "must carry all of seq, stream, version, recorded_at, prev_hash, hash"),
    ]

    @Test("each broken rule names its line, field and rule", arguments: cases)
    func brokenRule(_ c: Case) throws {
        let error = try #require(decodeError(line(c.type, c.path, c.value)))
        #expect(error.line == 7)
        #expect(error.field == c.field)
        #expect(error.rule.contains(c.rule), "rule was: \(error.rule)")
        #expect(error.description.hasPrefix("line 7: "))
    }

    @Test("a field of any type but its own is refused, naming the field", arguments: sampleLines)
    func wrongTypes(sampleLine: String) throws {
        let value = try JSONParser.parse(sampleLine)
        for path in value.paths() {
            let original = path.reduce(value) { value, step in
                switch (value, step) {
                case (.object(let object), .key(let key)): object[key]!
                case (.array(let elements), .index(let index)): elements[index]
                default: value
                }
            }
            // Each path's value replaced by values of every other JSON type.
            let replacements: [JSONValue] = [.bool(true), .number(JSONNumber(literal: "42", isInteger: true, value: 42)), .string("x"), .array([]), .object(JSONObject(members: []))]
                .filter { $0.typeName != original.typeName }
            for replacement in replacements {
                let mutated = value.setting(path[...], to: replacement).jsonText
                let error = try #require(decodeError(mutated), "accepted \(fieldName(path)) = \(replacement.jsonText)")
                #expect(error.field == fieldName(path) || error.field.hasPrefix(fieldName(path) + "."), "\(fieldName(path)) = \(replacement.jsonText): \(error)")
            }
        }
    }

    @Test("malformed lines are refused with the column")
    func malformed() throws {
        let cases: [(String, String)] = [
            (#"{"id":"#, "unexpected end of input"),
            ("[1,2]", "must be a JSON object, not an array"),
            (#""text""#, "must be a JSON object, not a string"),
            (#"{"id":"a","id":"b"}"#, #"duplicate member name "id""#),
            (#"{"a":1} {"b":2}"#, "unexpected text after the JSON value"),
            (#"{"a":01}"#, "leading zero"),
            (#"{"a":"\x"}"#, "invalid escape"),
            (#"{"a":"\ud800"}"#, "unpaired surrogate"),
            (#"{"a":tru}"#, "invalid literal"),
            (#"{"a":1,}"#, "expected a member name"),
            ("{\"a\":\"\u{01}\"}", "control character"),
            (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nested deeper than 5 levels"),
            (#"{"data":{"target":{"value":[[[1]]]}}}"#, "nested deeper than 5 levels"),
            ("{" + (1...65).map { #""k\#($0)":0"# }.joined(separator: ",") + "}", "an object has more than 64 members"),
        ]
        for (text, rule) in cases {
            let error = try #require(decodeError(text), "accepted \(text)")
            #expect(error.field == "")
            #expect(error.rule.contains(rule), "\(text): \(error.rule)")
        }
        let nul = Array(#"{"a":"#.utf8) + [0] + Array("}".utf8)
        let nulError = nul.withUnsafeBytes { WireDecoder.decode(line: $0, number: 1) }
        #expect(throws: WireError.self) { try nulError.get() }
        let badUTF8 = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let utf8Error = badUTF8.withUnsafeBytes { WireDecoder.decode(line: $0, number: 1) }
        #expect(throws: WireError.self) { try utf8Error.get() }
        if case .failure(let error) = utf8Error { #expect(error.rule.contains("not valid UTF-8")) }
    }

    @Test("an over-long line is refused before it is parsed")
    func overlong() {
        let text = #"{"text":""# + String(repeating: "a", count: WireDecoder.maxLineBytes) + #""}"#
        let error = decodeError(text)
        #expect(error?.rule.contains("longer than the 1048576 accepted") == true)
    }

    @Test("a 1 MiB line of 100 000 keys, and one of 100 000 small objects, are refused in linear time", .timeLimit(.minutes(1)))
    func manyKeys() throws {
        // Quadratic duplicate-key checking took minutes on the first; the bound is generous.
        var keys = "{"
        var count = 0
        while keys.utf8.count < WireDecoder.maxLineBytes - 40 {
            keys += (count == 0 ? "" : ",") + #""k\#(count)":0"#
            count += 1
        }
        keys += "}"
        #expect(count > 90_000)
        let error = try #require(decodeError(keys))
        #expect(error.code == .malformed)
        #expect(error.rule.contains("more than 64 members"), "\(error.rule)")
        let objects = #"{"id":1,"data":{"target":{"value":[["# + Array(repeating: #"{"a":0}"#, count: 100_000).joined(separator: ",") + "]]}}}"
        #expect(try #require(decodeError(objects)).code == .malformed)
        // Every member distinct or one repeated: the rule is found either way.
        let repeated = "{" + (0..<64).map { #""k\#($0 % 63)":0"# }.joined(separator: ",") + "}"
        #expect(decodeError(repeated)?.rule.contains(#"duplicate member name "k0""#) == true)
    }

    @Test("recorded fields decode as a whole")
    func recorded() throws {
        let hash = String(repeating: "ab", count: 32)
        var text = line("unit.rated", "seq", "12")
        for (path, value) in [("stream", #""unit:DINKES""#), ("version", "1"), ("recorded_at", #""2026-11-22T11:16:14.578784Z""#), ("prev_hash", "\"\(hash)\""), ("hash", "\"\(hash)\"")] {
            text = JSONValue.object(try { guard case .object(let o) = try JSONParser.parse(text) else { fatalError() }; return o }()).setting(parsePath(path)[...], to: try JSONParser.parse(value)).jsonText
        }
        let recorded = try #require(try WireDecoder.decode(line: text, number: 1).get().recorded)
        #expect(recorded.seq == 12)
        #expect(try recorded.recordedAt == Timestamp.parse("2026-11-22T11:16:14.578784Z").map(\.micros).get())
        let wrongStream = text.replacingOccurrences(of: "unit:DINKES", with: "unit:DISDIK")
        #expect(decodeError(wrongStream)?.field == "stream")
        let upper = text.replacingOccurrences(of: hash, with: hash.uppercased())
        #expect(decodeError(upper)?.rule.contains("SHA-256") == true)
    }

    /// Free text is judged by a one-pass byte scan when it is ASCII and by Unicode scalar
    /// properties otherwise: every ASCII character, alone, after a letter, and after a non-ASCII
    /// letter (which takes the scalar path), gets the rule the scalars' properties give.
    @Test("free text: the ASCII fast path and the scalar path apply the same rules to every ASCII character")
    func textRulesAgree() {
        for code in UInt32(0)..<0x80 {
            let scalar = Unicode.Scalar(code)!
            for prefix in ["", "A", "é"] {
                let text = prefix + String(Character(scalar))
                let scalars = text.unicodeScalars
                let expected: String? =
                    if scalars.allSatisfy(\.properties.isWhitespace) { "must not be blank" }
                    else if scalars.contains(where: { ($0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value)) || $0.value == 0x7F }) { "control characters" }
                    else { nil }
                let value = "\"" + text.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined() + "\""
                let error = decodeError(line("employee.placed", "data.name", value))
                if let expected {
                    #expect(error?.field == "data.name" && error?.rule.contains(expected) == true, "\(value): \(String(describing: error))")
                } else {
                    #expect(error == nil, "\(value): \(String(describing: error))")
                }
            }
        }
    }
}
