import CLMDB

/// The records a writer stages in one atomic append, over a snapshot of the ledger.
///
/// Lookups see the snapshot and everything staged so far, so a batch can refer to its own
/// earlier records. Nothing reaches LMDB until ``Store/append(_:commitIf:)`` flushes the whole
/// batch and commits; a batch of a ``StagingPass`` is flushed into the staging area instead,
/// for ``Store/commit(_:through:)`` to copy later. Exists only inside those calls, and ends
/// inside its transaction: they close its cursors (``end()``) before the transaction ends.
public struct Batch: ~Copyable {
    struct Pending: Sendable {
        var position: RecordPosition
        var id: RecordID
        var keys: [[UInt8]]
        /// hash ‖ canonical bytes: the LMDB value.
        var value: [UInt8]
    }

    /// The ledger: a write transaction, or the snapshot a ``Staging`` pass reads.
    let access: TxnAccess
    /// The records staged by the earlier passes of a ``Staging`` (between the ledger's head
    /// and `base`), or nil when the batch writes to the ledger directly.
    let staged: TxnAccess?
    /// The ledger's own head, below anything staged.
    let ledgerSeq: UInt64
    /// The head before this batch.
    public let base: Head
    /// The head after the records staged so far.
    public private(set) var head: Head
    private var pending: [Pending] = []
    private var pendingIDs: [RecordID: UInt64] = [:]
    private var pendingKeys: [ClaimKey: UInt64] = [:]
    private var pendingVersions: [String: UInt64] = [:]
    private let now: Int64
    /// Cursors on the ledger's stream index, kept open for the batch's lookups of stream versions
    /// (``streamVersion(_:)``), closed by ``end()``.
    private let ledgerStreams: StreamVersionCursors

    /// The longest stream name or unique key LMDB can index (its key limit less the version suffix).
    public static let maxKeyLength = 500

    init(access: TxnAccess, now: Int64) throws {
        self.access = access
        self.staged = nil
        self.base = try access.head()
        self.ledgerSeq = base.seq
        self.head = base
        self.now = now
        ledgerStreams = StreamVersionCursors(access)
    }

    init(ledger: TxnAccess, ledgerSeq: UInt64, staged: TxnAccess, base: Head, now: Int64) {
        self.access = ledger
        self.staged = staged
        self.ledgerSeq = ledgerSeq
        self.base = base
        self.head = base
        self.now = now
        ledgerStreams = StreamVersionCursors(ledger)
    }

    /// The number of records staged.
    public var count: Int { pending.count }

    /// Makes room for `records` records in a batch that has none yet, so that its list and
    /// lookup tables are not grown and rehashed as they are staged (4 % of an import's staging
    /// thread). A no-op once records are staged (a group's appends come one after the other).
    public mutating func reserveCapacity(_ records: Int) {
        guard pending.isEmpty else { return }
        pending.reserveCapacity(records)
        pendingIDs.reserveCapacity(records)
        pendingVersions.reserveCapacity(records)
    }

    /// The `recorded_at` the next record appended gets: the ledger clock, but never before the head's.
    public var clock: Int64 { max(now, head.recordedAt) }

    public func seq(of id: RecordID) throws -> UInt64? {
        if let seq = pendingIDs[id] { return seq }
        if let seq = try staged?.seq(of: id) { return seq }
        return try access.seq(of: id)
    }

    public func seq(forKey key: [UInt8]) throws -> UInt64? {
        if let seq = pendingKeys[ClaimKey(bytes: key)] { return seq }
        if let seq = try staged?.seq(forKey: key) { return seq }
        return try access.seq(forKey: key)
    }

    public func streamVersion(_ stream: String) throws -> UInt64 {
        if let version = pendingVersions[stream] { return version }
        // A staging area keeps each stream's last staged version, which continues the ledger's
        // snapshot (fixed for the whole pass); a stream it has none of is at the ledger's version
        // (``StreamIndex``: the number of its entries).
        if let staged, let version = try Self.stagedVersion(staged, stream) { return version }
        return try ledgerStreams.version(stream)
    }

    /// The last version of `stream` staged in the staging area `staged`, if any (written by
    /// ``write(_:head:access:intoStagingArea:)``).
    private static func stagedVersion(_ staged: TxnAccess, _ stream: String) throws -> UInt64? {
        var stream = stream
        let suffix = MetaKey.stagedVersionSuffix
        let streamLength = stream.utf8.count
        return try withUnsafeTemporaryAllocation(byteCount: streamLength + suffix.count, alignment: 1) { buffer in
            stream.withUTF8 { buffer.copyMemory(from: UnsafeRawBufferPointer($0)) }
            suffix.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[streamLength...]).copyMemory(from: $0) }
            guard let value = try staged.get(staged.databases.meta, UnsafeRawBufferPointer(buffer)) else { return nil }
            guard let version = value.bigEndianUInt64() else { throw StoreError(.corrupt, "a staged stream version is not a u64") }
            return version
        }
    }

    /// The record at `seq`, staged or stored.
    public func record(at seq: UInt64) throws -> StoredRecord? {
        if seq > base.seq {
            let index = Int(seq - base.seq - 1)
            guard index < pending.count else { return nil }
            return try pending[index].value.withUnsafeBytes { try CanonicalRecord.view(value: $0) { $0.copy() } }
        }
        if let staged, seq > ledgerSeq { return try staged.withRecord(at: seq) { $0.copy() } }
        return try access.withRecord(at: seq) { $0.copy() }
    }

    /// Stages a new record at the head: the store assigns its `seq`, stream `version` and
    /// `recorded_at` (``clock``), and chains its hash.
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
            recordedAt: clock
        )
        let value = CanonicalRecord.encodeValue(position: position, id: id, payload: payload)
        let hash = value.withUnsafeBytes { ChainHash.chain(head.hash, UnsafeRawBufferPointer(rebasing: $0[CanonicalRecord.hashSize...])) }
        try stage(position: position, id: id, keys: keys, value: value, hash: hash)
        return (position, hash)
    }

    /// Stages a record recorded elsewhere (an export being restored, a ledger being followed).
    /// It must continue the chain exactly: the next `seq`, the stream's next `version`, a
    /// `recorded_at` not before the head's, and `hash` = SHA-256(head hash ‖ canonical bytes).
    public mutating func appendRecorded(position: RecordPosition, id: RecordID, keys: [[UInt8]] = [], payload: some Collection<UInt8>, hash: ChainHash) throws {
        try checkContinues(position)
        let value = CanonicalRecord.encodeValue(position: position, id: id, payload: payload)
        let expected = value.withUnsafeBytes { ChainHash.chain(head.hash, UnsafeRawBufferPointer(rebasing: $0[CanonicalRecord.hashSize...])) }
        guard expected == hash else {
            throw StoreError(.doesNotContinue, "hash \(hash.hex) is not SHA-256(head hash ‖ record); expected \(expected.hex)")
        }
        try stage(position: position, id: id, keys: keys, value: value, hash: hash)
    }

    /// That a record recorded elsewhere continues the chain where this batch stands: the next
    /// `seq`, its stream's next `version`, a `recorded_at` not before the head's.
    private func checkContinues(_ position: RecordPosition) throws {
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
    }

    /// ``appendRecorded(position:id:keys:payload:hash:)`` of a record whose value and chain hash
    /// were built ahead, off the staging thread (``PreparedRecord``): the same checks, the same
    /// errors.
    public mutating func appendRecorded(_ prepared: PreparedRecord, keys: [[UInt8]] = [], hash: ChainHash) throws {
        let position = prepared.position
        try checkContinues(position)
        let value = prepared.value
        // The hash was chained over the previous hash the line claims; over any other head, again.
        let expected = prepared.previous == head.hash
            ? prepared.chained
            : value.withUnsafeBytes { ChainHash.chain(head.hash, UnsafeRawBufferPointer(rebasing: $0[CanonicalRecord.hashSize...])) }
        guard expected == hash else {
            throw StoreError(.doesNotContinue, "hash \(hash.hex) is not SHA-256(head hash ‖ record); expected \(expected.hex)")
        }
        try stage(position: position, id: prepared.id, keys: keys, value: value, hash: hash)
    }

    /// Whether the record stored at `position.seq` is exactly this one: the same canonical bytes,
    /// the same hash, and the same previous hash.
    public func isStored(position: RecordPosition, id: RecordID, payload: some Collection<UInt8>, previous: ChainHash, hash: ChainHash) throws -> Bool {
        guard position.seq >= 1, let stored = try record(at: position.seq) else { return false }
        let before = position.seq == 1 ? ChainHash.zero : try record(at: position.seq - 1)?.hash
        return stored.hash == hash && before == previous && stored.position == position && stored.id == id
            && stored.payload.elementsEqual(payload)
    }

    /// Stages a record whose LMDB value (``CanonicalRecord/encodeValue(position:id:payload:)``)
    /// is `value`: its first 32 bytes become `hash` (written only if they are not `hash` already,
    /// as in a ``PreparedRecord`` made with the hash its line claims: then the value's bytes are
    /// shared, not copied).
    private mutating func stage(position: RecordPosition, id: RecordID, keys: [[UInt8]], value: [UInt8], hash: ChainHash) throws {
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
        guard keys.count < 2 || Set(keys).count == keys.count else { throw StoreError(.duplicateKey, "a record claims the same key twice") }
        var value = value
        if value.withUnsafeBytes({ ChainHash(uncheckedBytes: UnsafeRawBufferPointer(rebasing: $0[..<CanonicalRecord.hashSize])) }) != hash {
            CanonicalRecord.writeHash(hash, into: &value)
        }
        pending.append(Pending(position: position, id: id, keys: keys, value: value))
        pendingIDs[id] = position.seq
        for key in keys { pendingKeys[ClaimKey(bytes: key)] = position.seq }
        pendingVersions[position.stream] = position.version
        head = Head(seq: position.seq, hash: hash, recordedAt: position.recordedAt)
    }

    /// Where the batch stands: what ``rollback(to:)`` returns it to.
    public struct Mark: Sendable {
        let count: Int
        let head: Head
    }

    public var mark: Mark { Mark(count: pending.count, head: head) }

    /// Forgets the records staged since `mark`, so that one batch can carry several appends
    /// (group commit) and drop one that turned out bad without failing the others.
    public mutating func rollback(to mark: Mark) {
        guard mark.count < pending.count else { return }
        for record in pending[mark.count...] {
            pendingIDs[record.id] = nil
            for key in record.keys { pendingKeys[ClaimKey(bytes: key)] = nil }
        }
        pending.removeSubrange(mark.count...)
        pendingVersions = [:]
        for record in pending { pendingVersions[record.position.stream] = record.position.version }
        head = mark.head
    }

    /// Writes the staged records and the new head: into the ledger's write transaction, or into
    /// the staging transaction, with each record's keys kept beside it and each stream's last
    /// version in place of its index entries, for ``Store/commit(_:through:)``. The batch's use
    /// ends with it (``end()``).
    func flush() throws(LMDBError) {
        end()
        try Self.write(pending[...], head: head, access: staged ?? access, intoStagingArea: staged != nil)
    }

    /// Closes the batch's cursors, inside its transaction: LMDB frees a write transaction's
    /// cursors when it commits or aborts (closing them after would free them twice), and a
    /// read-only one's must be closed by their owner. ``Store/append(_:commitIf:)`` and
    /// ``StagingPass/stage(_:commitIf:)`` call it (or ``flush()``) on every path; a lookup after
    /// it opens them again.
    func end() {
        ledgerStreams.close()
    }

    /// Writes `records` (which continue the head) and then `head` into the write transaction:
    /// the records appended in `seq` order, each index's entries in key order through one cursor
    /// (``IndexEntries``).
    static func write(_ records: ArraySlice<Pending>, head: Head, access: TxnAccess, intoStagingArea: Bool = false) throws(LMDBError) {
        guard !records.isEmpty else { return }
        let txn = access.txn
        let databases = access.databases
        var streams = IndexEntries()
        var ids = IndexEntries()
        var keys = IndexEntries()
        streams.reserve(records.count, keyBytes: records.count * 48)
        ids.reserve(records.count, keyBytes: records.count * 16)
        // A staging pass's writes each spend their worst case in pages first (``PageBudget``).
        let budget = access.budget
        var cursorPointer: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(txn, databases.events, &cursorPointer))
        defer { mdb_cursor_close(cursorPointer) }
        // Through the list's buffer: iterating it copied each record (retaining its fields).
        try records.withUnsafeBufferPointer { (records) throws(LMDBError) in
            for index in records.indices {
                let seq = records[index].position.seq
                var seqKey = seq.bigEndian
                if let budget { try LMDBError.check(budget.spend(budget.pages(forValue: records[index].value.count))) }
                let rc = withUnsafeMutableBytes(of: &seqKey) { seqBytes in
                    records[index].value.withUnsafeBytes { valueBytes in
                        var key = MDB_val(mv_size: 8, mv_data: seqBytes.baseAddress)
                        var value = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                        return mdb_cursor_put(cursorPointer, &key, &value, UInt32(MDB_APPEND))
                    }
                }
                try LMDBError.check(rc)
                var stream = records[index].position.stream
                if intoStagingArea {
                    let version = records[index].position.version
                    stream.withUTF8 { name in
                        MetaKey.stagedVersionSuffix.withUnsafeBytes { streams.append(UnsafeRawBufferPointer(name), $0, seq: version) }
                    }
                } else {
                    stream.withUTF8 { streams.appendStreamKey(UnsafeRawBufferPointer($0), seq: seq) }
                }
                ids.append(records[index].id, seq: seq)
                for key in records[index].keys {
                    key.withUnsafeBytes { keys.append($0, seq: seq) }
                }
                if intoStagingArea && !records[index].keys.isEmpty {
                    if let budget {
                        try LMDBError.check(budget.spend(budget.pages(forValue: 8 * records[index].keys.count + records[index].keys.reduce(0) { $0 + $1.count })))
                    }
                    try put(txn, databases.meta, MetaKey.claims(seq), Claims.encode(records[index].keys), flags: 0)
                }
            }
        }
        if intoStagingArea {
            // A staging area: each stream's last version (its entries in key order, then version
            // order, so the last one written under a key is the stream's last), where the ledger's
            // stream index appends a `seq` per record to the stream's run of duplicates. Staging
            // needs only the version, and growing each stream's run was most of a staged batch's
            // index writes.
            try streams.write(txn, databases.meta, flags: 0, budget: budget)
        } else {
            try streams.write(txn, databases.recentStreams, flags: MDB_APPENDDUP, budget: budget)
        }
        try ids.write(txn, databases.ids, flags: MDB_NOOVERWRITE, budget: budget)
        try keys.write(txn, databases.keys, flags: MDB_NOOVERWRITE, budget: budget)
        if let budget { try LMDBError.check(budget.spend(PageBudget.pagesPerPut)) }
        try put(txn, databases.meta, MetaKey.head, TxnAccess.encodeHead(head), flags: 0)
    }

    static func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8], flags: Int32) throws(LMDBError) {
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

/// A unique key as a dictionary key: hashed as one run of bytes (an array of bytes is hashed a
/// byte at a time).
struct ClaimKey: Hashable {
    let bytes: [UInt8]

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// A recorded record (an export's line being restored) made ready for ``Batch/appendRecorded(_:keys:hash:)``
/// on another thread than the one staging: its LMDB value (room for the hash, then the canonical
/// bytes) and the chain hash over the previous hash the line claims. Staging then only checks
/// that it continues the head.
public struct PreparedRecord: Sendable {
    public let position: RecordPosition
    public let id: RecordID
    /// The previous hash `chained` was computed over.
    public let previous: ChainHash
    /// SHA-256(previous ‖ canonical bytes).
    public let chained: ChainHash
    let value: [UInt8]

    /// - Parameter claimed: the hash the line claims, written into the value's hash slot now, so
    ///   that staging a record whose hash is that one keeps the value as it is (no copy).
    public init(position: RecordPosition, id: RecordID, payload: some Collection<UInt8>, previous: ChainHash, claimed: ChainHash? = nil) {
        self.position = position
        self.id = id
        self.previous = previous
        var value = CanonicalRecord.encodeValue(position: position, id: id, payload: payload)
        chained = value.withUnsafeBytes { ChainHash.chain(previous, UnsafeRawBufferPointer(rebasing: $0[CanonicalRecord.hashSize...])) }
        if let claimed { CanonicalRecord.writeHash(claimed, into: &value) }
        self.value = value
    }
}

/// The unique keys of a staged record, kept in the staging area's `meta` beside it: each key
/// as a u16 length (big-endian) and its bytes.
enum Claims {
    static func encode(_ keys: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for key in keys {
            bytes.append(UInt8(key.count >> 8))
            bytes.append(UInt8(key.count & 0xFF))
            bytes.append(contentsOf: key)
        }
        return bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
        var keys: [UnsafeRawBufferPointer] = []
        var offset = 0
        while offset + 2 <= bytes.count {
            let count = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            let end = min(offset + 2 + count, bytes.count)
            keys.append(UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<end]))
            offset = end
        }
        return keys
    }
}
