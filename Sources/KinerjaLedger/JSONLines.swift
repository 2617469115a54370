import Foundation
import KinerjaDomain

/// Splits JSON Lines input and decodes each line. Empty lines are skipped; a final line
/// needs no newline; a carriage return before the newline is dropped.
public enum JSONLines {
    public static func decode(_ data: Data) -> (submissions: [NumberedSubmission], invalid: [WireError]) {
        var submissions: [NumberedSubmission] = []
        var invalid: [WireError] = []
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var lineNumber = 0
            var start = 0
            while start < bytes.count {
                lineNumber += 1
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                var stop = end
                if stop > start && bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
                if stop > start {
                    switch WireDecoder.decode(line: UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), number: lineNumber) {
                    case .success(let submission): submissions.append(NumberedSubmission(line: lineNumber, submission: submission))
                    case .failure(let error): invalid.append(error)
                    }
                }
                start = end + 1
            }
        }
        return (submissions, invalid)
    }
}
