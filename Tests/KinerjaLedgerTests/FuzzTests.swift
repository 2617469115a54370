import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import PropertyBased
import Testing

/// Mutations a hostile or broken sender could make to a line.
func mutate(_ line: String, _ random: inout SeededRandom) -> [UInt8] {
    var bytes = Array(line.utf8)
    for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: bytes[at] ^= UInt8.random(in: 1...255, using: &random)
        case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...20, using: &random)))
        case 3: bytes = Array(bytes.prefix(at))
        case 4: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 30)], at: at)
        case 5: if bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9") { bytes[at] = UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &random) }
        case 6: bytes.insert(contentsOf: Array(#"{"a":[[[["#.utf8), at: at)
        default: bytes[at] = [UInt8(ascii: "\""), UInt8(ascii: "\\"), 0, 0xC3, 0xFF, UInt8(ascii: "}")].randomElement(using: &random)!
        }
    }
    return bytes
}

@Suite("Fuzzing the decoder and the append path")
struct FuzzTests {
    @Test("mutated lines: the decoder never traps, the ledger stores exactly the lines it accepts, whole or not at all")
    func mutatedLines() async throws {
        var generator = SampleGenerator(seed: 77, employees: 10)
        let valid = sampleLines + generator.events(300).map { WireEncoder.encode($0) }
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var random = SeededRandom(seed: seed)
            var submissions: [NumberedSubmission] = []
            var invalid: [WireError] = []
            for line in 1...40 {
                let original = valid.randomElement(using: &random)!
                let bytes = Bool.random(using: &random) ? mutate(original, &random) : Array(original.utf8)
                switch bytes.withUnsafeBytes({ WireDecoder.decode(line: $0, number: line) }) {
                case .success(let submission): submissions.append(NumberedSubmission(line: line, submission: submission))
                case .failure(let error):
                    #expect(error.line == line)
                    invalid.append(error)
                }
            }
            try! withLedger { ledger, _ in
                _ = try append(ledger, sampleLines)
                let before = try ledger.head()
                let strict = try ledger.append(submissions, invalid: invalid, options: AppendOptions(batchSize: Int.random(in: 1...50, using: &random)))
                if strict.rejected.isEmpty {
                    #expect(try ledger.head().seq == before.seq + UInt64(strict.appended))
                } else {
                    #expect(strict.appended == 0)
                    #expect(try ledger.head() == before)
                }
                let lenient = try ledger.append(submissions, invalid: invalid, options: AppendOptions(skipInvalid: true, batchSize: Int.random(in: 1...50, using: &random)))
                let head = try ledger.head()
                #expect(lenient.appended + lenient.duplicates + lenient.rejected.count == submissions.count + invalid.count)
                #expect(head.seq == before.seq + UInt64(strict.appended + lenient.appended))
                #expect(try ledger.verify() == .intact(head: head, records: head.seq))
            }
        }
    }
}
