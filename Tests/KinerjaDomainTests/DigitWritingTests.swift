import Foundation
import KinerjaDomain
import Testing

/// The byte writers a history, an audit trail and the JSON writer share, against the plain
/// texts Swift's own formatting gives.
@Suite("Digits written as bytes against Swift's own texts")
struct DigitWritingTests {
    @Test("a number's plain text: the integer's digits when it is whole (below 2^53), else the shortest binary64 text")
    func plainText() {
        var random = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 9, 10, 99, 100, 9_999, 10_000, -10_000, 0.5, -0.25, 1e300, -1e-300,
                                9_007_199_254_740_991, -9_007_199_254_740_991, 9_007_199_254_740_992, .infinity]
        for _ in 0..<20_000 {
            values.append(Double(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &random)))
            values.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &random)))
            values.append(Double(Int.random(in: -100_000...100_000, using: &random)) / 8)
        }
        for value in values where !value.isNaN {
            let plain = value == value.rounded() && abs(value) < 9_007_199_254_740_992 ? String(Int64(value)) : value.description
            #expect(value.plainText == plain, "\(value)")
            var bytes = Array("x".utf8)
            value.appendPlainText(to: &bytes)
            #expect(bytes == Array(("x" + plain).utf8), "\(value)")
        }
    }

    @Test("a date's bytes are its description, for every day of 1900-2100 and years out of four digits")
    func dates() throws {
        let first = try #require(CivilDate(year: 1900, month: 1, day: 1)).daysSinceEpoch
        let last = try #require(CivilDate(year: 2100, month: 12, day: 31)).daysSinceEpoch
        var dates = (first...last).map { CivilDate(daysSinceEpoch: $0) }
        dates += [-800_000, -719_468, 2_932_896, 3_000_000].map { CivilDate(daysSinceEpoch: $0) }
        for date in dates {
            var bytes: [UInt8] = []
            date.appendDescription(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == date.description)
            let plain = date.year >= 0 && date.year <= 9999
                ? String(format: "%04d-%02d-%02d", date.year, date.month, date.day) : date.description
            #expect(date.description == plain)
        }
    }
}
