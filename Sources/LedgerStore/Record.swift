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
/// received it, which borrows it: it cannot be copied out (`~Copyable`); copy what must outlive
/// it (``copy()``).
public struct RecordView: ~Copyable {
    public let seq: UInt64
    public let version: UInt64
    /// Microseconds since 1970-01-01T00:00:00Z, UTC.
    public let recordedAt: Int64
    public let id: RecordID
    public let hash: ChainHash
    /// The stream's name, UTF-8, in place: a replay that needs no `String` of it builds none.
    public let streamBytes: UnsafeRawBufferPointer
    /// All of the canonical bytes (the header and the payload): what the chain hashes.
    public let canonical: UnsafeRawBufferPointer
    /// The writer's bytes after the store's header.
    public let payload: UnsafeRawBufferPointer

    public var stream: String { String(decoding: streamBytes, as: UTF8.self) }

    public var position: RecordPosition {
        RecordPosition(seq: seq, stream: stream, version: version, recordedAt: recordedAt)
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
public enum CanonicalRecord {
    static let format: UInt8 = 1
    static let hashSize = 32

    /// The canonical bytes of a record: what the chain hashes and the Merkle tree's leaf covers.
    public static func encode(position: RecordPosition, id: RecordID, payload: some Collection<UInt8>) -> [UInt8] {
        encode(reservingHash: false, position: position, id: id, payload: payload)
    }

    /// The LMDB value of a record: 32 zero bytes (where its chain hash goes, once computed over
    /// the rest), then its canonical bytes; one allocation for both.
    static func encodeValue(position: RecordPosition, id: RecordID, payload: some Collection<UInt8>) -> [UInt8] {
        encode(reservingHash: true, position: position, id: id, payload: payload)
    }

    /// Writes `hash` (its 32 bytes, big-endian words) into the hash slot of a record's LMDB
    /// value (``encodeValue(position:id:payload:)``).
    static func writeHash(_ hash: ChainHash, into value: inout [UInt8]) {
        let hashWords = (hash.words.0.bigEndian, hash.words.1.bigEndian, hash.words.2.bigEndian, hash.words.3.bigEndian)
        withUnsafeBytes(of: hashWords) { hashBytes in
            value.withUnsafeMutableBytes { $0.copyMemory(from: hashBytes) }
        }
    }

    private static func encode(reservingHash: Bool, position: RecordPosition, id: RecordID, payload: some Collection<UInt8>) -> [UInt8] {
        let reserved = reservingHash ? hashSize : 0
        var writer = ByteWriter(capacity: reserved + 64 + position.stream.utf8.count + payload.count)
        writer.writeBytes(repeatElement(0, count: reserved))
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

    /// Reads an LMDB value (chain hash ‖ canonical bytes) in place: its hash and a view of the record.
    ///
    /// - Parameter checkingStream: whether the stream's name is checked for UTF-8. `verify`
    ///   checks it; a replay reads records that were checked on append and are covered by the
    ///   chain, and builds a stream's `String` (if ever) by repairing, so it skips the check.
    public static func view<R>(value: UnsafeRawBufferPointer, checkingStream: Bool = true, _ body: (borrowing RecordView) throws -> R) throws -> R {
        guard value.count > hashSize else { throw ByteReader.Malformed(offset: 0, what: "value shorter than a hash") }
        let canonical = UnsafeRawBufferPointer(rebasing: value[hashSize...])
        var reader = ByteReader(canonical)
        let format = try reader.readUInt8()
        guard format == Self.format else {
            throw ByteReader.Malformed(offset: 0, what: "record format \(format), this build reads \(Self.format)")
        }
        let seq = try reader.readUInt64()
        let streamOffset = reader.offset
        let streamBytes = try reader.readStringBytes()
        guard !checkingStream || streamBytes.isValidUTF8 else {
            throw ByteReader.Malformed(offset: streamOffset, what: "stream is not valid UTF-8")
        }
        let version = try reader.readUInt64()
        let recordedAt = try reader.readInt64()
        let id = RecordID(high: try reader.readUInt64(), low: try reader.readUInt64())
        let view = RecordView(
            seq: seq, version: version, recordedAt: recordedAt, id: id, hash: ChainHash(uncheckedBytes: value),
            streamBytes: streamBytes, canonical: canonical,
            payload: UnsafeRawBufferPointer(rebasing: canonical[reader.offset...]))
        return try body(view)
    }
}
