import CanonicalBytes
import Crypto
import Foundation

/// A SHA-256 value of the RFC 6962 tree: a leaf hash, a node hash or a root. The same 32-byte
/// inline value as the hash chain's (no allocation when hashing a million leaves).
public typealias TreeHash = ChainHash

extension ChainHash {
    /// Standard base64 (RFC 4648 §4) of exactly 32 bytes, as C2SP formats write hashes.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self.init(bytes: data)
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    /// Appends the standard base64 of the 32 bytes (44 characters, one `=`) to `output`: what
    /// `base64` spells, without the two allocations per hash that made Foundation's encoder a
    /// fifth of a dossier proof's time.
    public func appendBase64(to output: inout [UInt8]) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let digits = alphabet.utf8Start
        var big = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        withUnsafeBytes(of: &big) { raw in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 44) { text in
                // Ten groups of 3 bytes make 40 digits; the last 2 bytes make 3 digits and a `=`.
                for group in 0..<11 {
                    let i = group * 3
                    let bits = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8 | (i + 2 < 32 ? UInt32(raw[i + 2]) : 0)
                    for digit in 0..<4 { text[group * 4 + digit] = digits[Int(bits >> UInt32(18 - 6 * digit) & 63)] }
                }
                text[43] = UInt8(ascii: "=")
                output.append(contentsOf: text)
            }
        }
    }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { ChainHash(uncheckedBytes: $0) }
    }
}
