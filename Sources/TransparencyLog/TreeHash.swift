import Crypto
import Foundation

/// A SHA-256 value of the RFC 6962 tree: a leaf hash, a node hash or a root. Held inline
/// (four words), so hashing a million leaves allocates nothing.
public struct TreeHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes as four big-endian words.
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The first 32 bytes of `raw`, which must hold at least that many.
    public init(uncheckedBytes raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32, "a tree hash is 32 bytes")
        func word(_ index: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
        words = (word(0), word(1), word(2), word(3))
    }

    /// Exactly 32 bytes, else nil.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self = Array(bytes).withUnsafeBytes { TreeHash(uncheckedBytes: $0) }
    }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { TreeHash(uncheckedBytes: $0) }
    }

    /// Standard base64 (RFC 4648 §4) of exactly 32 bytes, as C2SP formats write hashes.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self.init(bytes: data)
    }

    /// Lowercase hexadecimal of exactly 32 bytes.
    public init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = Self.nibble(digits[2 * index]), let low = Self.nibble(digits[2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        self.init(bytes: bytes)
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return bytes
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (lhs: TreeHash, rhs: TreeHash) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// Feeds the 32 bytes to a running SHA-256.
    func update(_ hasher: inout SHA256) {
        var big = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        withUnsafeBytes(of: &big) { hasher.update(bufferPointer: $0) }
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
