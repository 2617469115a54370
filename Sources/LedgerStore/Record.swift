import CanonicalBytes
import Crypto

/// A record's 16-byte identifier, chosen by the writer (for the ledger: the event's UUID).
public struct RecordID: Hashable, Sendable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] { high.bigEndianBytes + low.bigEndianBytes }

    public static func < (a: RecordID, b: RecordID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// A SHA-256 value of the hash chain.
public struct ChainHash: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// `hash(0)`: 32 zero bytes.
    public static let zero = ChainHash(uncheckedBytes: [UInt8](repeating: 0, count: 32))

    init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses 64 lowercase hexadecimal digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// `hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of record n)`.
    public static func chain(_ previous: ChainHash, _ canonical: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        hasher.update(data: previous.bytes)
        hasher.update(bufferPointer: canonical)
        return ChainHash(uncheckedBytes: Array(hasher.finalize()))
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// The ledger position: the last record's `seq`, its chain hash and its `recorded_at`.
public struct Head: Equatable, Sendable {
    public var seq: UInt64
    public var hash: ChainHash
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var recordedAt: Int64

    public static let empty = Head(seq: 0, hash: .zero, recordedAt: Int64.min)

    public init(seq: UInt64, hash: ChainHash, recordedAt: Int64) {
        self.seq = seq
        self.hash = hash
        self.recordedAt = recordedAt
    }
}

/// Where a record stands in the log: assigned by the store when it appends.
public struct RecordPosition: Equatable, Sendable {
    public var seq: UInt64
    public var stream: String
    public var version: UInt64
    /// Microseconds since 1970-01-01T00:00:00Z, UTC.
    public var recordedAt: Int64

    public init(seq: UInt64, stream: String, version: UInt64, recordedAt: Int64) {
        self.seq = seq
        self.stream = stream
        self.version = version
        self.recordedAt = recordedAt
    }
}

/// A record as stored, owning its bytes.
public struct StoredRecord: Equatable, Sendable {
    public var position: RecordPosition
    public var id: RecordID
    /// The writer's bytes after the store's header.
    public var payload: [UInt8]
    public var hash: ChainHash
}

/// A record read in place from the map. Its buffers are valid only inside the closure that
/// received it: copy what must outlive it (``copy()``).
public struct RecordView {
    public let position: RecordPosition
    public let id: RecordID
    public let hash: ChainHash
    /// All of the canonical bytes (the header and the payload): what the chain hashes.
    public let canonical: UnsafeRawBufferPointer
    /// The writer's bytes after the store's header.
    public let payload: UnsafeRawBufferPointer

    init(position: RecordPosition, id: RecordID, hash: ChainHash, canonical: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        self.position = position
        self.id = id
        self.hash = hash
        self.canonical = canonical
        self.payload = payload
    }

    public func copy() -> StoredRecord {
        StoredRecord(position: position, id: id, payload: Array(payload), hash: hash)
    }
}

/// The canonical bytes of a record: the store's header, then the writer's payload.
///
/// ```
/// u8      record format, 1
/// u64     seq
/// varint  byte length of stream, then stream (UTF-8)
/// u64     version within the stream
/// i64     recorded_at, microseconds since the Unix epoch, UTC
/// 16 B    id
/// ...     payload, to the end
/// ```
/// Integers are big-endian. In LMDB the value under key `seq` is the 32-byte chain hash
/// followed by these bytes.
enum CanonicalRecord {
    static let format: UInt8 = 1
    static let hashSize = 32

    static func encode(position: RecordPosition, id: RecordID, payload: some Collection<UInt8>) -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + position.stream.utf8.count + payload.count)
        writer.writeUInt8(format)
        writer.writeUInt64(position.seq)
        writer.writeString(position.stream)
        writer.writeUInt64(position.version)
        writer.writeInt64(position.recordedAt)
        writer.writeUInt64(id.high)
        writer.writeUInt64(id.low)
        writer.writeBytes(payload)
        return writer.bytes
    }

    struct Header {
        var position: RecordPosition
        var id: RecordID
        var payloadOffset: Int
    }

    static func decodeHeader(_ canonical: UnsafeRawBufferPointer) throws(ByteReader.Malformed) -> Header {
        var reader = ByteReader(canonical)
        let format = try reader.readUInt8()
        guard format == Self.format else {
            throw ByteReader.Malformed(offset: 0, what: "record format \(format), this build reads \(Self.format)")
        }
        let seq = try reader.readUInt64()
        let stream = try reader.readString()
        let version = try reader.readUInt64()
        let recordedAt = try reader.readInt64()
        let id = RecordID(high: try reader.readUInt64(), low: try reader.readUInt64())
        return Header(
            position: RecordPosition(seq: seq, stream: stream, version: version, recordedAt: recordedAt),
            id: id,
            payloadOffset: reader.offset
        )
    }

    /// Splits an LMDB value into its hash and a view of the record.
    static func view<R>(value: UnsafeRawBufferPointer, _ body: (RecordView) throws -> R) throws -> R {
        guard value.count > hashSize else { throw ByteReader.Malformed(offset: 0, what: "value shorter than a hash") }
        let hash = ChainHash(uncheckedBytes: Array(value[0..<hashSize]))
        let canonical = UnsafeRawBufferPointer(rebasing: value[hashSize...])
        let header = try decodeHeader(canonical)
        let view = RecordView(
            position: header.position,
            id: header.id,
            hash: hash,
            canonical: canonical,
            payload: UnsafeRawBufferPointer(rebasing: canonical[header.payloadOffset...])
        )
        return try body(view)
    }
}
