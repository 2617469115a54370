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
    /// Where the next read starts. The fixed-size reads, varints and strings are `@inlinable`
    /// (a replay calls a dozen per record, from other modules); their errors are built out of line.
    public var offset: Int { position }
    @usableFromInline var position: Int

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.position = offset
    }

    @inlinable public var isAtEnd: Bool { position == buffer.count }
    @inlinable public var remaining: Int { buffer.count - position }

    /// The bytes not read yet.
    public var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[position...]) }

    @inlinable @inline(__always)
    public mutating func readUInt8() throws(Malformed) -> UInt8 {
        guard position < buffer.count else { throw Self.unexpectedEnd(position) }
        let byte = buffer.load(fromByteOffset: position, as: UInt8.self)
        position += 1
        return byte
    }

    @inlinable @inline(__always)
    public mutating func readBool() throws(Malformed) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw Self.notAFlag(other, at: position - 1)
        }
    }

    @inlinable @inline(__always) public mutating func readUInt16() throws(Malformed) -> UInt16 { try readBigEndian() }
    @inlinable @inline(__always) public mutating func readInt16() throws(Malformed) -> Int16 { Int16(bitPattern: try readBigEndian()) }
    @inlinable @inline(__always) public mutating func readUInt64() throws(Malformed) -> UInt64 { try readBigEndian() }
    @inlinable @inline(__always) public mutating func readInt64() throws(Malformed) -> Int64 { Int64(bitPattern: try readBigEndian()) }
    @inlinable @inline(__always) public mutating func readDouble() throws(Malformed) -> Double { Double(bitPattern: try readBigEndian()) }

    @inlinable @inline(__always)
    public mutating func readVarint() throws(Malformed) -> UInt64 {
        // One byte: every length and count below 128, nearly all of them.
        if position < buffer.count {
            let byte = buffer.load(fromByteOffset: position, as: UInt8.self)
            if byte & 0x80 == 0 {
                position += 1
                return UInt64(byte)
            }
        }
        return try readLongVarint()
    }

    @usableFromInline
    mutating func readLongVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            let byte = try readUInt8()
            guard shift < 64 else { throw Malformed(offset: start, what: "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                // The shortest form only: a trailing zero group would give a second encoding.
                if byte == 0 && position - start > 1 { throw Malformed(offset: start, what: "varint not in shortest form") }
                return result
            }
            shift += 7
        }
    }

    @inlinable @inline(__always)
    public mutating func readBytes(count: Int) throws(Malformed) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw Self.pastTheEnd(count, at: position) }
        let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress.map { $0 + position }, count: count)
        position += count
        return bytes
    }

    /// A `str`'s bytes, in place, not checked for UTF-8.
    @inlinable @inline(__always)
    public mutating func readStringBytes() throws(Malformed) -> UnsafeRawBufferPointer {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw Self.stringPastTheEnd(length, at: start) }
        return try readBytes(count: Int(length))
    }

    // The errors, built out of line: the inlined reads stay small.

    @usableFromInline @inline(never)
    static func unexpectedEnd(_ offset: Int) -> Malformed { Malformed(offset: offset, what: "unexpected end") }

    @usableFromInline @inline(never)
    static func notAFlag(_ byte: UInt8, at offset: Int) -> Malformed { Malformed(offset: offset, what: "flag \(byte) is neither 0 nor 1") }

    @usableFromInline @inline(never)
    static func pastTheEnd(_ count: Int, at offset: Int) -> Malformed { Malformed(offset: offset, what: "length \(count) past the end") }

    @usableFromInline @inline(never)
    static func stringPastTheEnd(_ length: UInt64, at offset: Int) -> Malformed {
        Malformed(offset: offset, what: "string length \(length) past the end")
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

    @inlinable @inline(__always)
    mutating func readBigEndian<T: FixedWidthInteger>() throws(Malformed) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw Self.unexpectedEnd(position) }
        // One unaligned load, not a copy through memmove (a call per number read on replay).
        let value = buffer.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
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
    /// Whether the bytes are valid UTF-8 (ASCII recognised eight bytes at a time, without
    /// building a string; verify checks every string of every record).
    public var isValidUTF8: Bool {
        var offset = 0
        var high: UInt64 = 0
        while offset + 8 <= count {
            high |= loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            high |= UInt64(self[offset])
            offset += 1
        }
        return high & 0x8080_8080_8080_8080 == 0 || String(validating: assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
    }
}
