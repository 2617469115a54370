import Foundation
import KinerjaDomain
import KinerjaSamples
import PropertyBased
import Testing

/// Every JSON text is read through a ``JSONTape`` (flat tokens over its bytes; ``JSONParser``
/// builds its tree from one). Its values are held to Foundation's `JSONSerialization` (an
/// independent parser) on every text both accept, its refusals to the stricter rules it adds;
/// and the wire decoder must say the same of an event whether it reads the line or the parsed
/// object.
@Suite("The JSON tape against an independent parser")
struct JSONTapeTests {
    /// Whether `value` is what Foundation made of the same text.
    static func same(_ value: JSONValue, _ other: Any) -> Bool {
        switch value {
        case .null: return other is NSNull
        case .bool(let flag): return (other as? Bool) == flag
        case .number(let number): return (other as? NSNumber).map { $0.doubleValue == number.value } ?? false
        case .string(let string): return (other as? String) == string
        case .array(let elements):
            guard let others = other as? [Any], others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let others = other as? [String: Any], others.count == object.members.count else { return false }
            return object.members.allSatisfy { member in others[member.key].map { same(member.value, $0) } ?? false }
        }
    }

    /// What the tape and Foundation made of a text: the tape's value or error; Foundation's value, or nil.
    static func parsed(_ bytes: [UInt8], maxDepth: Int, tape: inout JSONTape) -> (tape: Result<JSONValue, JSONSyntaxError>, foundation: Any?) {
        let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        let read = bytes.withUnsafeBytes { bytes in Result { () throws(JSONSyntaxError) in try tape.parse(bytes, maxDepth: maxDepth) } }
        return (read.map { tape.value() }, foundation)
    }

    /// Texts at the edges of the rules: escapes, surrogates, UTF-8, duplicate keys (as bytes, and
    /// as `String`s only: canonically equivalent), the member and depth limits, numbers.
    static let edges: [String] = [
        #"{}"#, #"[]"#, #" {"a" : [1, -0, 0.5, 1e3, -2E-2, 12345678901234567890, 1e400] } "#,
        #"{"a":"\u00e9\n\t\"\\\/\b\f\r","b":"\ud83d\ude00","c":"x\u0000y"}"#,
        #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":"\ud83d\u0041"}"#, #"{"a":"\u12"}"#, #"{"a":"\uZZZZ"}"#, #"{"a":"\q"}"#,
        #"{"a":1,"a":2}"#, #"{"\u0061":1,"a":2}"#, #"{"é":1,"e\u0301":2}"#, "{\"é\":1,\"e\u{301}\":2}", #"{";":1,"\u037e":2}"#,
        #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, #"[1,]"#, #"[1 2]"#, #"{"a":[}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":01}"#,
        #"{"a":1.}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":"x"#, #"{"a":"x\"#, "{\"a\":\"\u{1}\"}", #"{"a":1} x"#, "", "   ", "\u{0}",
        "{\"a\":\"\\u00e9\u{7F}\"}", #"{"type":"training.completed","data":{"realizations":[{"target_id":"T"}]}}"#,
        "{" + (0..<64).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}",
        "{" + (0..<65).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}",
        String(repeating: "[", count: 6) + String(repeating: "]", count: 6),
        String(repeating: "{\"a\":", count: 5) + "1" + String(repeating: "}", count: 5),
        String(repeating: "{\"a\":", count: 6) + "1" + String(repeating: "}", count: 6),
    ]

    static func invalidUTF8() -> [[UInt8]] {
        [[0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D], [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],
         [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x5C, 0x6E, 0xA9, 0x22, 0x7D], [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D]]
    }

    @Test("the tape reads every text Foundation reads to the same value, and refuses only by its stricter rules")
    func sameAsFoundation() async {
        var generator = SampleGenerator(seed: 11, employees: 8)
        let valid = sampleLines + generator.events(200).map { WireEncoder.encode($0) }
        var tape = JSONTape()
        for line in valid {
            let (read, foundation) = Self.parsed(Array(line.utf8), maxDepth: WireDecoder.maxDepth, tape: &tape)
            guard case .success(let value) = read, let foundation else {
                Issue.record("a valid line refused: \(line)")
                continue
            }
            #expect(Self.same(value, foundation), "\(line)")
        }
        // Stricter than Foundation: duplicate keys (as Strings compare), over 64 members, too deep,
        // lone surrogates, trailing commas; and where Foundation refuses, so does the tape.
        let stricter: Set<String> = [
            #"{"a":1,}"#, #"[1,]"#,
            #"{"a":1,"a":2}"#, #"{"\u0061":1,"a":2}"#, #"{"é":1,"e\u0301":2}"#, "{\"é\":1,\"e\u{301}\":2}", #"{";":1,"\u037e":2}"#,
            #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":"\ud83d\u0041"}"#,
            "{" + (0..<65).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}",
            String(repeating: "[", count: 6) + String(repeating: "]", count: 6),
            String(repeating: "{\"a\":", count: 6) + "1" + String(repeating: "}", count: 6),
        ]
        for text in stricter {
            #expect(throws: JSONSyntaxError.self, "\(text)") { try Array(text.utf8).withUnsafeBytes { try tape.parse($0, maxDepth: 5) } }
        }
        for text in Self.edges {
            let (read, foundation) = Self.parsed(Array(text.utf8), maxDepth: 5, tape: &tape)
            switch read {
            case .success(let value):
                #expect(foundation.map { Self.same(value, $0) } ?? text.contains("1e400"), "\(text)")
            case .failure:
                #expect(foundation == nil || stricter.contains(text), "\(text)")
            }
        }
        for bytes in Self.invalidUTF8() {
            #expect(throws: JSONSyntaxError.self) { try bytes.withUnsafeBytes { try tape.parse($0) } }
        }
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var random = SeededRandom(seed: seed)
            var tape = JSONTape()
            for _ in 0..<50 {
                let bytes = mutate(valid.randomElement(using: &random)!, &random)
                let (read, foundation) = Self.parsed(bytes, maxDepth: WireDecoder.maxDepth, tape: &tape)
                if case .success(let value) = read, let foundation { #expect(Self.same(value, foundation), "\(bytes)") }
            }
        }
    }

    @Test("a string read eight bytes at a time stops at any quote, backslash, control or non-ASCII byte in any place, as Foundation does")
    func stringsAtAnyOffset() {
        var tape = JSONTape()
        let special: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]
        for length in 0...24 {
            for place in 0..<max(length, 1) {
                for byte in special {
                    var body = Array(repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { body[place] = byte }
                    // Also a valid two-byte character (é) and an escape after the byte.
                    for tail in [[], [0xC3, 0xA9], Array(#"\n"#.utf8)] as [[UInt8]] {
                        let text = Array(#"{"k":""#.utf8) + body + tail + Array(#""}"#.utf8)
                        let (read, foundation) = Self.parsed(text, maxDepth: 5, tape: &tape)
                        switch read {
                        case .success(let value):
                            #expect(foundation.map { Self.same(value, $0) } ?? false, "\(text)")
                        case .failure:
                            #expect(foundation == nil, "\(text)")
                        }
                    }
                }
            }
        }
    }

    /// Both routes read through a tape (``JSONParser`` builds its tree from one): this holds the
    /// tape read in place from a line's bytes to the tape rebuilt from a tree, whose text is all
    /// in its side buffer — the server's embedded events and dossier proofs take the second.
    @Test("an event decodes the same from its line and from its parsed object, valid or corrupted")
    func lineAndObject() async {
        var generator = SampleGenerator(seed: 12, employees: 8)
        let valid = sampleLines + generator.events(200).map { WireEncoder.encode($0) }
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var random = SeededRandom(seed: seed)
            var tape = JSONTape()
            for number in 1...50 {
                let original = valid.randomElement(using: &random)!
                let bytes = Bool.random(using: &random) ? mutate(original, &random) : Array(original.utf8)
                bytes.withUnsafeBytes { bytes in
                    let fromLine = WireDecoder.decode(line: bytes, number: number, tape: &tape)
                    guard case .object(let object)? = try? JSONParser.parse(bytes, maxDepth: WireDecoder.maxDepth) else {
                        guard case .failure(let error) = fromLine else {
                            Issue.record("a line the parser refuses decoded")
                            return
                        }
                        #expect(error.code == .malformed)
                        return
                    }
                    #expect(fromLine == WireDecoder.decode(object: object, number: number), "\(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
    }
}
