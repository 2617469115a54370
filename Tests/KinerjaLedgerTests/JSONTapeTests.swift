import KinerjaDomain
import KinerjaSamples
import PropertyBased
import Testing

/// The import reads each line through a ``JSONTape`` (flat tokens over the line's bytes); the
/// server's bodies and the dossier proofs through ``JSONParser`` (a value tree). Both must accept
/// the same texts as the same values and refuse the same texts with the same message, and the
/// wire decoder must say the same of an event whether it reads the line or the parsed object.
@Suite("The import's JSON tape against the JSON parser")
struct JSONTapeTests {
    /// What one parser made of a text: its value, or its error.
    static func parsed(_ bytes: [UInt8], maxDepth: Int, tape: inout JSONTape) -> (tape: Result<JSONValue, JSONSyntaxError>, tree: Result<JSONValue, JSONSyntaxError>) {
        bytes.withUnsafeBytes { bytes in
            let tree = Result { () throws(JSONSyntaxError) in try JSONParser.parse(bytes, maxDepth: maxDepth) }
            let read = Result { () throws(JSONSyntaxError) in try tape.parse(bytes, maxDepth: maxDepth) }
            return (read.map { tape.value() }, tree)
        }
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

    @Test("the tape reads every text as the parser does: the same values, the same errors, at depths 5 and 32")
    func sameAsParser() async {
        var generator = SampleGenerator(seed: 11, employees: 8)
        let valid = sampleLines + generator.events(200).map { WireEncoder.encode($0) }
        var tape = JSONTape()
        for bytes in Self.edges.map({ Array($0.utf8) }) + Self.invalidUTF8() + valid.map({ Array($0.utf8) }) {
            for depth in [WireDecoder.maxDepth, JSONParser.maxDepth] {
                let (read, tree) = Self.parsed(bytes, maxDepth: depth, tape: &tape)
                #expect(read == tree, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var random = SeededRandom(seed: seed)
            var tape = JSONTape()
            for _ in 0..<50 {
                let bytes = mutate(valid.randomElement(using: &random)!, &random)
                let (read, tree) = Self.parsed(bytes, maxDepth: WireDecoder.maxDepth, tape: &tape)
                #expect(read == tree, "\(bytes)")
            }
        }
    }

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
