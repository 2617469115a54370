import Foundation
import NIOCore
import KinerjaDomain
import KinerjaLedger

/// A request's body as submissions: JSON Lines, or one JSON object. An event without `actor`
/// gets the authenticated identity; every line goes through the wire decoder's tape, so the
/// rules are the CLI's (the line is parsed once: no `JSONValue` tree, no tape rebuilt from it).
enum EventBody {
    static func decode(_ body: ByteBuffer, oneObject: Bool, actor: String) -> JSONLines.Decoded {
        var submissions: [NumberedSubmission] = []
        var invalid: [WireError] = []
        // One tape for the body's lines: its buffers are reused from one line to the next.
        var tape = JSONTape()
        // Read in place: the body is not copied into a `Data` first.
        body.withUnsafeReadableBytes { (bytes: UnsafeRawBufferPointer) in
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
                switch WireDecoder.decode(line: line, number: number, tape: &tape, actor: actor) {
                case .success(let submission): submissions.append(NumberedSubmission(line: number, submission: submission))
                case .failure(let error): invalid.append(error)
                }
            }
        }
        return JSONLines.Decoded(submissions: submissions, invalid: invalid)
    }
}
