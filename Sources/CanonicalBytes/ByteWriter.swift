/// Appends the primitive values of the canonical record encoding to a byte buffer.
///
/// Every multi-byte integer is big-endian; lengths and counts are unsigned LEB128
/// varints; strings are their UTF-8 bytes after their byte length. The encoding of a
/// value is unique, which is what makes the bytes canonical: the same event always
/// gives the same bytes and so the same hash.
///
/// ```swift
/// var writer = ByteWriter()
/// writer.writeUInt64(42)
/// writer.writeString("employee:198503302010121002")
/// ```
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func writeUInt16(_ value: UInt16) { writeBigEndian(value) }

    public mutating func writeInt16(_ value: Int16) { writeBigEndian(UInt16(bitPattern: value)) }

    public mutating func writeUInt64(_ value: UInt64) { writeBigEndian(value) }

    public mutating func writeInt64(_ value: Int64) { writeBigEndian(UInt64(bitPattern: value)) }

    /// IEEE 754 binary64, big-endian.
    public mutating func writeDouble(_ value: Double) { writeBigEndian(value.bitPattern) }

    /// Unsigned LEB128: seven bits a byte, low group first, high bit set on all but the last.
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A varint byte length, then the UTF-8 bytes.
    public mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// `0` when absent; `1` and the string when present.
    public mutating func writeOptionalString(_ value: String?) {
        if let value {
            bytes.append(1)
            writeString(value)
        } else {
            bytes.append(0)
        }
    }

    public mutating func writeBytes(_ raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    private mutating func writeBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
