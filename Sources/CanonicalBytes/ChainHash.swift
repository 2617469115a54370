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
        var text = String(hex)
        guard let parsed = text.withUTF8({ ChainHash(hexDigits: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Parses 64 lowercase hexadecimal digits given as UTF-8 bytes (an import reads two per line),
    /// eight digits at a time: each byte's range checked and its nibble taken in one 64-bit word
    /// (a digit at a time was 7 % of decoding an export's line).
    public init?(hexDigits digits: UnsafeRawBufferPointer) {
        guard digits.count == 64 else { return nil }
        func half(_ offset: Int) -> UInt64? {
            // Byte k of `word` is digit `offset + k` (little-endian load).
            let word = UInt64(littleEndian: digits.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high = ones &* 0x80
            // A byte under 0x80 plus at most 0x7F carries into no other byte; each sum's top bit
            // says whether the byte reached a bound: ≥ '0', > '9', ≥ 'a', > 'f'.
            guard word & high == 0 else { return nil }
            let atLeastZero = (word &+ ones &* (0x80 - 0x30)) & high
            let pastNine = (word &+ ones &* (0x80 - 0x3A)) & high
            let atLeastA = (word &+ ones &* (0x80 - 0x61)) & high
            let pastF = (word &+ ones &* (0x80 - 0x67)) & high
            let isDigit = atLeastZero & ~pastNine
            let isLetter = atLeastA & ~pastF
            guard isDigit | isLetter == high else { return nil }
            // '0'...'9' → low nibble; 'a'...'f' → low nibble (1...6) + 9.
            let nibbles = (word & (ones &* 0x0F)) &+ (isLetter >> 7) &* 9
            // Pairs of nibbles into bytes (first digit high), then the four bytes side by side.
            let pairs = ((nibbles & 0x000F_000F_000F_000F) << 4 | (nibbles >> 8) & 0x000F_000F_000F_000F)
            let quads = (pairs | pairs >> 8) & 0x0000_FFFF_0000_FFFF
            let packed = UInt32(truncatingIfNeeded: quads | quads >> 16)
            return UInt64(packed.byteSwapped)
        }
        func word(_ index: Int) -> UInt64? {
            guard let high = half(index * 16), let low = half(index * 16 + 8) else { return nil }
            return high << 32 | low
        }
        guard let a = word(0), let b = word(1), let c = word(2), let d = word(3) else { return nil }
        words = (a, b, c, d)
    }

    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { out in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            for word in [words.0, words.1, words.2, words.3] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    out[index] = digits.utf8Start[Int(word >> UInt64(shift) & 0x0f)]
                    index += 1
                }
            }
            return 64
        }
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
