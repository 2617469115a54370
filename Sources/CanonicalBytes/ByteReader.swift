/// Reads the primitives written by ``ByteWriter`` from a borrowed buffer, without copying
/// except for the strings it returns.
///
/// Every read checks the bounds and throws ``ByteReader/Malformed`` rather than trapping,
/// so a corrupted record is reported, not crashed on.
public struct ByteReader {
    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let what: String
        public var description: String { "malformed record at byte \(offset): \(what)" }

        public init(offset: Int, what: String) {
            self.offset = offset
            self.what = what
        }
    }

    public let buffer: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    public var isAtEnd: Bool { offset == buffer.count }
    public var remaining: Int { buffer.count - offset }

    /// The bytes not read yet.
    public var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[offset...]) }

    public mutating func readUInt8() throws(Malformed) -> UInt8 {
        guard offset < buffer.count else { throw Malformed(offset: offset, what: "unexpected end") }
        defer { offset += 1 }
        return buffer[offset]
    }

    public mutating func readBool() throws(Malformed) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw Malformed(offset: offset - 1, what: "flag \(other) is neither 0 nor 1")
        }
    }

    public mutating func readUInt16() throws(Malformed) -> UInt16 { try readBigEndian() }
    public mutating func readInt16() throws(Malformed) -> Int16 { Int16(bitPattern: try readBigEndian()) }
    public mutating func readUInt64() throws(Malformed) -> UInt64 { try readBigEndian() }
    public mutating func readInt64() throws(Malformed) -> Int64 { Int64(bitPattern: try readBigEndian()) }
    public mutating func readDouble() throws(Malformed) -> Double { Double(bitPattern: try readBigEndian()) }

    public mutating func readVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            let byte = try readUInt8()
            guard shift < 64 else { throw Malformed(offset: start, what: "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                // The shortest form only: a trailing zero group would give a second encoding.
                if byte == 0 && offset - start > 1 { throw Malformed(offset: start, what: "varint not in shortest form") }
                return result
            }
            shift += 7
        }
    }

    public mutating func readBytes(count: Int) throws(Malformed) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw Malformed(offset: offset, what: "length \(count) past the end") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }

    /// A `str`'s bytes, in place, not checked for UTF-8.
    public mutating func readStringBytes() throws(Malformed) -> UnsafeRawBufferPointer {
        let start = offset
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw Malformed(offset: start, what: "string length \(length) past the end") }
        return try readBytes(count: Int(length))
    }

    public mutating func readString() throws(Malformed) -> String {
        let start = offset
        guard let string = String(validatingUTF8Bytes: try readStringBytes()) else {
            throw Malformed(offset: start, what: "string is not valid UTF-8")
        }
        return string
    }

    public mutating func readOptionalString() throws(Malformed) -> String? {
        try readBool() ? try readString() : nil
    }

    private mutating func readBigEndian<T: FixedWidthInteger>() throws(Malformed) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw Malformed(offset: offset, what: "unexpected end") }
        // One unaligned load, not a copy through memmove (a call per number read on replay).
        let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }
}

extension String {
    /// The string these bytes spell, or nil if they are not valid UTF-8. ASCII, the common case,
    /// is recognised in one pass and copied; anything else goes through the standard library's
    /// validation (whose generic path costs several times more).
    public init?(validatingUTF8Bytes bytes: UnsafeRawBufferPointer) {
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        if utf8.allSatisfy({ $0 < 0x80 }) {
            self = String(decoding: utf8, as: UTF8.self)
        } else if let string = String(validating: utf8, as: UTF8.self) {
            self = string
        } else {
            return nil
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether the bytes are valid UTF-8 (ASCII recognised in one pass, without building a string).
    public var isValidUTF8: Bool {
        allSatisfy { $0 < 0x80 } || String(validating: assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
    }
}
