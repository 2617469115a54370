/// A SHA-256 value (32 bytes) of the hash chain — what `prev_hash` and `hash` carry, printed as
/// 64 lowercase hexadecimal digits — and of the Merkle tree (`TreeHash`), held inline (no
/// allocation: replay and verify read one per record). The store adds ``chain(_:_:)`` (SHA-256
/// is its dependency, not this module's).
///
/// ```swift
/// let hash = ChainHash(hex: "5a0020c8...")!   // nil unless 64 lowercase hex digits
/// print(hash.hex)
/// ```
public struct ChainHash: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes as four big-endian words.
    public let words: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = ChainHash(words: (0, 0, 0, 0))

    public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The first 32 bytes of `raw`, which must hold them.
    public init(uncheckedBytes raw: UnsafeRawBufferPointer) {
        func word(_ index: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
        words = (word(0), word(1), word(2), word(3))
    }

    /// Exactly 32 bytes, or nil.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self = Array(bytes).withUnsafeBytes { ChainHash(uncheckedBytes: $0) }
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var bigEndian = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        return withUnsafeBytes(of: &bigEndian, Array.init)
    }

    /// Parses 64 lowercase hexadecimal digits.
    public init?(hex: some StringProtocol) {
        var utf8 = hex.utf8.makeIterator()
        var parsed: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for index in 0..<4 {
            var word: UInt64 = 0
            for _ in 0..<16 {
                guard let digit = utf8.next() else { return nil }
                let nibble: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
                default: return nil
                }
                word = word << 4 | UInt64(nibble)
            }
            switch index {
            case 0: parsed.0 = word
            case 1: parsed.1 = word
            case 2: parsed.2 = word
            default: parsed.3 = word
            }
        }
        guard utf8.next() == nil else { return nil }
        words = parsed
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(digits[Int(word >> UInt64(shift) & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (a: ChainHash, b: ChainHash) -> Bool { a.words == b.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
