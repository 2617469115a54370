import Foundation
import KinerjaDomain
import KinerjaLedger

/// A request's body as submissions: JSON Lines, or one JSON object. An event without `actor`
/// gets the authenticated identity; every line then goes through the wire decoder, so the
/// rules are the CLI's.
enum EventBody {
    static func decode(_ data: Data, oneObject: Bool, actor: String) -> JSONLines.Decoded {
        var submissions: [NumberedSubmission] = []
        var invalid: [WireError] = []
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var number = 0
            var start = 0
            while start < bytes.count {
                number += 1
                var end = oneObject ? bytes.count : bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                let next = end + 1
                if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                start = next
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
                switch submission(line, number: number, actor: actor) {
                case .success(let submission): submissions.append(NumberedSubmission(line: number, submission: submission))
                case .failure(let error): invalid.append(error)
                }
            }
        }
        return JSONLines.Decoded(submissions: submissions, invalid: invalid)
    }

    private static func submission(_ line: UnsafeRawBufferPointer, number: Int, actor: String) -> Result<Submission, WireError> {
        guard line.count <= WireDecoder.maxLineBytes, case .object(var object)? = try? JSONParser.parse(line, maxDepth: WireDecoder.maxDepth) else {
            // The decoder says what is wrong, as it does for the CLI.
            return WireDecoder.decode(line: line, number: number)
        }
        if object["actor"] == nil { object.members.append((key: "actor", value: .string(actor))) }
        return WireDecoder.decode(object: object, number: number)
    }
}
