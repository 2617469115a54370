import CLMDB

/// The records a writer stages in one atomic append, over a snapshot of the ledger.
///
/// Lookups see the snapshot and everything staged so far, so a batch can refer to its own
/// earlier records. Nothing reaches LMDB until ``Store/append(_:)`` flushes the whole batch
/// and commits; a batch from ``Store/dryRun(_:)`` is only discarded. Exists only inside those calls.
public struct Batch: ~Copyable {
    struct Pending: Sendable {
        var position: RecordPosition
        var id: RecordID
        var keys: [[UInt8]]
        /// hash ‖ canonical bytes: the LMDB value.
        var value: [UInt8]
    }

    let access: TxnAccess
    /// The head before this batch.
    public let base: Head
    /// The head after the records staged so far.
    public private(set) var head: Head
    private var pending: [Pending] = []
    private var pendingIDs: [RecordID: UInt64] = [:]
    private var pendingKeys: [[UInt8]: UInt64] = [:]
    private var pendingVersions: [String: UInt64] = [:]
    private let now: Int64

    /// The longest stream name or unique key LMDB can index (its key limit less the version suffix).
    public static let maxKeyLength = 500

    init(access: TxnAccess, now: Int64) throws {
        self.access = access
        self.base = try access.head()
        self.head = base
        self.now = now
    }

    /// The `recorded_at` the next record staged by ``append(stream:id:keys:payload:)`` gets.
    public var nextRecordedAt: Int64 { max(now, head.recordedAt) }

    /// The number of records staged.
    public var count: Int { pending.count }

    public func seq(of id: RecordID) throws -> UInt64? {
        if let seq = pendingIDs[id] { return seq }
        return try access.seq(of: id)
    }

    public func seq(forKey key: [UInt8]) throws -> UInt64? {
        if let seq = pendingKeys[key] { return seq }
        return try access.seq(forKey: key)
    }

    public func streamVersion(_ stream: String) throws -> UInt64 {
        if let version = pendingVersions[stream] { return version }
        return try access.streamVersion(stream)
    }

    /// The record at `seq`, staged or stored.
    public func record(at seq: UInt64) throws -> StoredRecord? {
        if seq > base.seq {
            let index = Int(seq - base.seq - 1)
            guard index < pending.count else { return nil }
            return try pending[index].value.withUnsafeBytes { try CanonicalRecord.view(value: $0) { $0.copy() } }
        }
        return try access.withRecord(at: seq) { $0.copy() }
    }

    /// Stages a new record at the head: the store assigns its `seq`, stream `version` and
    /// `recorded_at` (the clock, but never before the head's), and chains its hash.
    ///
    /// - Parameters:
    ///   - keys: unique keys the record claims (for example "this target of this employee
    ///     and year"); staging fails if one is already claimed.
    ///   - payload: the writer's bytes, stored after the store's header.
    @discardableResult
    public mutating func append(stream: String, id: RecordID, keys: [[UInt8]] = [], payload: some Collection<UInt8>) throws -> (position: RecordPosition, hash: ChainHash) {
        let position = RecordPosition(
            seq: head.seq + 1,
            stream: stream,
            version: try streamVersion(stream) + 1,
            recordedAt: max(now, head.recordedAt)
        )
        let canonical = CanonicalRecord.encode(position: position, id: id, payload: payload)
        let hash = canonical.withUnsafeBytes { ChainHash.chain(head.hash, $0) }
        try stage(position: position, id: id, keys: keys, canonical: canonical, hash: hash)
        return (position, hash)
    }

    /// Stages a record recorded elsewhere (an export being restored, a ledger being followed).
    /// It must continue the chain exactly: the next `seq`, the stream's next `version`, a
    /// `recorded_at` not before the head's, and `hash` = SHA-256(head hash ‖ canonical bytes).
    public mutating func appendRecorded(position: RecordPosition, id: RecordID, keys: [[UInt8]] = [], payload: some Collection<UInt8>, hash: ChainHash) throws {
        guard position.seq == head.seq + 1 else {
            throw StoreError(.doesNotContinue, "seq \(position.seq) does not follow the head (seq \(head.seq))")
        }
        let version = try streamVersion(position.stream) + 1
        guard position.version == version else {
            throw StoreError(.doesNotContinue, "version \(position.version) of \(position.stream) is not the stream's next version (\(version))")
        }
        guard position.recordedAt >= head.recordedAt else {
            throw StoreError(.doesNotContinue, "recorded_at goes backwards from the head's")
        }
        let canonical = CanonicalRecord.encode(position: position, id: id, payload: payload)
        let expected = canonical.withUnsafeBytes { ChainHash.chain(head.hash, $0) }
        guard expected == hash else {
            throw StoreError(.doesNotContinue, "hash \(hash.hex) is not SHA-256(head hash ‖ record); expected \(expected.hex)")
        }
        try stage(position: position, id: id, keys: keys, canonical: canonical, hash: hash)
    }

    private mutating func stage(position: RecordPosition, id: RecordID, keys: [[UInt8]], canonical: [UInt8], hash: ChainHash) throws {
        guard position.stream.utf8.count <= Self.maxKeyLength else {
            throw StoreError(.storage, "stream name longer than \(Self.maxKeyLength) bytes")
        }
        if let seq = try seq(of: id) {
            throw StoreError(.duplicateID, "id already recorded at seq \(seq)")
        }
        for key in keys {
            guard !key.isEmpty, key.count <= Self.maxKeyLength else { throw StoreError(.storage, "a unique key must have 1 to \(Self.maxKeyLength) bytes") }
            if let seq = try seq(forKey: key) {
                throw StoreError(.duplicateKey, "key already claimed by seq \(seq)")
            }
        }
        // A key claimed twice by the same record would be indexed once and fail verification.
        guard Set(keys).count == keys.count else { throw StoreError(.duplicateKey, "a record claims the same key twice") }
        pending.append(Pending(position: position, id: id, keys: keys, value: hash.bytes + canonical))
        pendingIDs[id] = position.seq
        for key in keys { pendingKeys[key] = position.seq }
        pendingVersions[position.stream] = position.version
        head = Head(seq: position.seq, hash: hash, recordedAt: position.recordedAt)
    }

    /// The records staged so far, to be written later by ``Store/append(_:_:)`` as they are.
    public var staged: StagedRecords { StagedRecords(base: base, records: pending) }

    /// Writes the staged records and the new head into the write transaction.
    func flush() throws(LMDBError) {
        try Self.write(pending[...], head: head, access: access)
    }

    /// Writes `records` (which continue the ledger's head) and then `head` into the write transaction.
    static func write(_ records: ArraySlice<Pending>, head: Head, access: TxnAccess) throws(LMDBError) {
        guard !records.isEmpty else { return }
        let txn = access.txn
        let databases = access.databases
        for record in records {
            let seqBytes = record.position.seq.bigEndianBytes
            try put(txn, databases.events, seqBytes, record.value, flags: MDB_APPEND)
            try put(txn, databases.streams, TxnAccess.streamKey(record.position.stream, version: record.position.version), seqBytes, flags: MDB_NOOVERWRITE)
            try put(txn, databases.ids, record.id.bytes, seqBytes, flags: MDB_NOOVERWRITE)
            for key in record.keys {
                try put(txn, databases.keys, key, seqBytes, flags: MDB_NOOVERWRITE)
            }
        }
        try put(txn, databases.meta, MetaKey.head, TxnAccess.encodeHead(head), flags: 0)
    }

    private static func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], flags: Int32) throws(LMDBError) {
        let rc = key.withUnsafeBytes { keyBytes in
            value.withUnsafeBytes { valueBytes in
                withValue(keyBytes) { key in
                    withValue(valueBytes) { value in mdb_put(txn, dbi, &key, &value, UInt32(flags)) }
                }
            }
        }
        try LMDBError.check(rc)
    }
}

/// Records a dry run staged (``Batch/staged``): checked, numbered and chained from the head the
/// dry run saw, so that ``Store/append(_:_:)`` can write them without staging them again.
public struct StagedRecords: Sendable {
    /// The head the records continue.
    public let base: Head
    let records: [Batch.Pending]

    public var count: Int { records.count }

    /// The head once the first `count` records are written.
    public func head(after count: Int) -> Head {
        guard count > 0 else { return base }
        let record = records[count - 1]
        return Head(
            seq: record.position.seq,
            hash: ChainHash(uncheckedBytes: Array(record.value[0..<CanonicalRecord.hashSize])),
            recordedAt: record.position.recordedAt)
    }
}
