import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import Testing

@Suite("JSON Lines: cutting an input into chunks of lines")
struct JSONLinesTests {
    /// The chunks as a plain model cuts them: after every `lines`th newline, the rest last.
    private func model(_ bytes: [UInt8], lines: Int) -> [String] {
        var chunks: [String] = []
        var start = 0
        var line = 1
        var count = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            count += 1
            if count == lines {
                chunks.append("\(start..<index + 1) from line \(line)")
                line += count
                count = 0
                start = index + 1
            }
        }
        if start < bytes.count { chunks.append("\(start..<bytes.count) from line \(line)") }
        return chunks
    }

    @Test("chunks agree with a plain model on inputs with empty lines, carriage returns and no final newline, in chunks of -1 to 7 lines")
    func chunksMatchModel() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab{}\r\n\n".utf8)
        for _ in 0..<500 {
            let length = Int.random(in: 0...200, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let lines = Int.random(in: -1...7, using: &generator)
            #expect(JSONLines.chunks(of: Data(bytes), lines: lines).map { "\($0.bytes) from line \($0.firstLine)" } == model(bytes, lines: lines), "\(bytes) in chunks of \(lines)")
        }
    }

    /// The good lines' numbers and submissions, and the bad lines' errors.
    private typealias Lines = (lines: [Int], submissions: [Submission], invalid: [WireError])

    /// Each line decoded alone (``WireDecoder/decode(line:number:)``), numbered as in `bytes`:
    /// what ``JSONLines`` must give, in any chunks and parts.
    private func lineByLine(_ bytes: [UInt8]) -> Lines {
        var model: Lines = ([], [], [])
        var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if pieces.last?.isEmpty == true { pieces.removeLast() }
        for (offset, piece) in pieces.enumerated() {
            let line = Array(piece.last == UInt8(ascii: "\r") ? piece.dropLast() : piece)
            guard !line.isEmpty else { continue }
            switch line.withUnsafeBytes({ WireDecoder.decode(line: $0, number: offset + 1) }) {
            case .success(let submission):
                model.lines.append(offset + 1)
                model.submissions.append(submission)
            case .failure(let error): model.invalid.append(error)
            }
        }
        return model
    }

    /// `bytes` cut into chunks of `lines` lines, each decoded in `parts` parts (nil: as many as
    /// the machine's cores, when over a megabyte), against `model`.
    private func expectAsLineByLine(
        _ bytes: [UInt8], _ model: Lines, lines: Int = .max, parts: Int?, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let data = Data(bytes)
        var decoded = JSONLines.Decoded()
        for chunk in JSONLines.chunks(of: data, lines: lines) {
            let part = parts.map { JSONLines.decode(data, chunk, parts: $0) } ?? JSONLines.decode(data, chunk)
            decoded = JSONLines.Decoded(submissions: decoded.submissions + part.submissions, invalid: decoded.invalid + part.invalid)
        }
        let what = "\(comment), \(bytes.count) bytes in chunks of \(lines) lines, \(parts.map(String.init) ?? "the machine's") parts"
        #expect(decoded.submissions.map(\.line) == model.lines, "\(what)", sourceLocation: sourceLocation)
        #expect(decoded.submissions.map(\.submission) == model.submissions, "\(what)", sourceLocation: sourceLocation)
        #expect(decoded.invalid == model.invalid, "\(what)", sourceLocation: sourceLocation)
    }

    /// Valid lines (the sample's and generated ones), mutated and malformed lines, empty lines,
    /// carriage returns: a line's text without its newline.
    private func randomLine(_ valid: [String], _ random: inout SeededRandom) -> [UInt8] {
        switch Int.random(in: 0..<20, using: &random) {
        case 0: return []
        case 1: return Array("\r".utf8)
        case 2, 3: return mutate(valid.randomElement(using: &random)!, &random)
        case 4: return Array("{\"x\":\"\(String(repeating: "a", count: Int.random(in: 0...400, using: &random)))\"}".utf8)
        default: return Array(valid.randomElement(using: &random)!.utf8)
        }
    }

    private func join(_ lines: [[UInt8]], _ random: inout SeededRandom, finalNewline: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, line) in lines.enumerated() {
            bytes += line
            if index < lines.count - 1 || finalNewline { bytes += Bool.random(using: &random) ? [13, 10] : [10] }
        }
        return bytes
    }

    private static let valid: [String] = {
        var generator = SampleGenerator(seed: 21, employees: 12)
        return sampleLines + generator.events(400).map { WireEncoder.encode($0) }
    }()

    @Test("an input decoded in 1 to 8 parts, in chunks or whole, gives every line as decoding it alone does, numbered alike")
    func partsMatchLineByLine() {
        var random = SeededRandom(seed: 11)
        // Small inputs, so that the cuts fall on every kind of place: a newline, a carriage
        // return, an empty line, the last line (with or without its newline), nothing at all.
        for round in 0..<300 {
            let lines = (0..<Int.random(in: 0...24, using: &random)).map { _ in randomLine(Self.valid, &random) }
            let bytes = join(lines, &random, finalNewline: Bool.random(using: &random))
            expectAsLineByLine(bytes, lineByLine(bytes), lines: Int.random(in: 1...30, using: &random), parts: Int.random(in: 1...8, using: &random), "round \(round)")
        }
        // Over a megabyte, in several numbers of parts, in chunks, and as the machine's cores cut it.
        let lines = (0..<5_000).map { _ in randomLine(Self.valid, &random) }
        let bytes = join(lines, &random, finalNewline: true)
        #expect(bytes.count > 1 << 20)
        let model = lineByLine(bytes)
        for parts in [nil, 2, 3, 5, 8] { expectAsLineByLine(bytes, model, parts: parts, "5 000 random lines") }
        expectAsLineByLine(bytes, model, lines: 1_777, parts: 4, "5 000 random lines")
    }

    @Test("inputs whose cuts fall right after a newline, repeat, or meet a last line with no newline decode as line by line")
    func partsAtTheEdges() {
        var random = SeededRandom(seed: 12)
        let valid = Self.valid.filter { $0.utf8.count < 1_200 }
        // 840 lines of 1 260 bytes (padded with spaces), 1 058 400 bytes: 840 is a multiple of 1
        // to 8, so every target `count * p / parts` is the first byte of a line.
        let even: [UInt8] = (0..<840).flatMap { index -> [UInt8] in
            var line = index % 7 == 3 ? mutate(valid[index % valid.count], &random) : Array(valid[index % valid.count].utf8)
            line = Array(line.filter { $0 != 10 }.prefix(1_200))
            let end: [UInt8] = index % 5 == 0 ? [13, 10] : [10]
            return line + [UInt8](repeating: UInt8(ascii: " "), count: 1_260 - line.count - end.count) + end
        }
        #expect(even.count == 1_058_400)
        // One line of 1.1 MiB first (refused: longer than a line may be), then short ones: every
        // target falls in the first line, so every cut is the one after it (the parts between
        // the first and the last are empty).
        let long = Array("{\"x\":\"\(String(repeating: "a", count: 1_100 * 1_024))\"}\n".utf8)
            + join((0..<30).map { _ in randomLine(valid, &random) }, &random, finalNewline: true)
        // Valid lines to over a megabyte, the last with no newline.
        var unfinished: [UInt8] = []
        while unfinished.count < 1_100_000 { unfinished += Array(valid.randomElement(using: &random)!.utf8) + [10] }
        unfinished += Array(valid[0].utf8)
        for (bytes, name) in [(even, "840 lines of 1 260 bytes"), (long, "a 1.1 MiB line first"), (unfinished, "no final newline")] {
            let model = lineByLine(bytes)
            for parts in [nil] + Array(2...8) { expectAsLineByLine(bytes, model, parts: parts, name) }
        }
        #expect(lineByLine(even).lines.count >= 720)
        #expect(lineByLine(unfinished).lines.count == unfinished.count { $0 == 10 } + 1)
    }

    @Test("a large input of blank lines decodes its few good lines with room for no more lines than its bytes could hold")
    func blankLinesReserveLittle() {
        // 16 MiB, nearly all newlines, three good lines among them: a list reserved for one
        // decoded line (~500 bytes) a newline would be 8 GB.
        let line = Array(Self.valid[0].utf8)
        let blank = [UInt8](repeating: 10, count: 16 << 20)
        let bytes = line + [10] + blank + line + [13, 10] + blank.prefix(1_000) + line
        let data = Data(bytes)
        let numbers = [1, 2 + blank.count, 3 + blank.count + 1_000]
        let whole = JSONLines.decode(data, JSONLines.chunks(of: data, lines: .max)[0], parts: 1)
        #expect(whole.submissions.map(\.line) == numbers)
        #expect(whole.invalid.isEmpty)
        #expect(whole.submissions.capacity * MemoryLayout<NumberedSubmission>.stride <= 8 * bytes.count)
        let machine = JSONLines.decode(data)
        #expect(machine.submissions.map(\.line) == numbers)
        #expect(machine.invalid.isEmpty)
    }
}
