import Foundation
import KinerjaLedger
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

    @Test("chunks agree with a plain model on inputs with empty lines, carriage returns and no final newline")
    func chunksMatchModel() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab{}\r\n\n".utf8)
        for _ in 0..<500 {
            let length = Int.random(in: 0...200, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            let lines = Int.random(in: 1...7, using: &generator)
            #expect(JSONLines.chunks(of: Data(bytes), lines: lines).map { "\($0.bytes) from line \($0.firstLine)" } == model(bytes, lines: lines), "\(bytes) in chunks of \(lines)")
        }
    }

    @Test("an input decoded in parts on several threads names every bad line by its number, as line by line")
    func partsNumberLines() {
        var generator = SystemRandomNumberGenerator()
        // Over a megabyte (``JSONLines`` decodes it in parts), lines of random lengths, empty
        // lines and carriage returns among them: each non-empty line is refused, with its number.
        for _ in 0..<3 {
            var text = ""
            var expected: [Int] = []
            var number = 0
            while text.utf8.count < (1 << 20) + 200_000 {
                number += 1
                switch Int.random(in: 0..<20, using: &generator) {
                case 0: text += "\n"
                case 1: text += "\r\n"
                default:
                    text += "{\"x\":\"" + String(repeating: "a", count: Int.random(in: 0...400, using: &generator)) + "\"}"
                    text += Bool.random(using: &generator) ? "\r\n" : "\n"
                    expected.append(number)
                }
            }
            let decoded = JSONLines.decode(Data(text.utf8))
            #expect(decoded.count == 0)
            #expect(decoded.invalid.map(\.line) == expected)
        }
    }
}
