import CLMDB

/// Lookups shared by read transactions and batches: the open transaction and its databases.
struct TxnAccess {
    let txn: OpaquePointer
    let databases: Databases
    /// The staging pass's disk reservation, which each write spends its worst case from first
    /// (nil outside a staging pass).
    var budget: PageBudget? = nil

    func get(_ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer) throws -> MDB_val? {
        var value = MDB_val()
        let rc = withValue(key) { key in mdb_get(txn, dbi, &key, &value) }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        return value
    }

    func get(_ dbi: MDB_dbi, _ key: [UInt8]) throws -> MDB_val? {
        try key.withUnsafeBytes { try get(dbi, $0) }
    }

    func head() throws -> Head {
        guard let value = try get(databases.meta, MetaKey.head) else { return .empty }
        let buffer = value.buffer
        guard buffer.count == 8 + 32 + 8 else { throw StoreError(.corrupt, "the head record has \(buffer.count) bytes, not 48") }
        let seq = UInt64(bigEndian: buffer.loadUnaligned(as: UInt64.self))
        let hash = ChainHash(uncheckedBytes: Array(buffer[8..<40]))
        let recordedAt = Int64(bigEndian: buffer.loadUnaligned(fromByteOffset: 40, as: Int64.self))
        return Head(seq: seq, hash: hash, recordedAt: recordedAt)
    }

    static func encodeHead(_ head: Head) -> [UInt8] {
        head.seq.bigEndianBytes + head.hash.bytes + UInt64(bitPattern: head.recordedAt).bigEndianBytes
    }

    func seq(of id: RecordID) throws -> UInt64? {
        // The id's 16 bytes on the stack: `id.bytes` made an array per lookup (2.5 % of an
        // import's staging thread).
        let value = try withUnsafeBytes(of: (id.high.bigEndian, id.low.bigEndian)) { try get(databases.ids, $0) }
        return value?.bigEndianUInt64()
    }

    func seq(forKey key: [UInt8]) throws -> UInt64? {
        try get(databases.keys, key)?.bigEndianUInt64()
    }

    /// `checkingStream`: see ``CanonicalRecord/view(value:checkingStream:_:)``.
    func withRecord<R>(at seq: UInt64, checkingStream: Bool = true, _ body: (borrowing RecordView) throws -> R) throws -> R? {
        var value = MDB_val()
        let rc = withSeqKey(seq) { key in mdb_get(txn, databases.events, &key, &value) }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        return try CanonicalRecord.view(value: value.buffer, checkingStream: checkingStream, body)
    }

    /// The stored value of the record at each of `seqs` (ascending), found with one cursor: a
    /// `seq` on the leaf page the cursor is at is found in that page, without a descent from the
    /// root, and one a few records past the last found is reached by stepping forward (onto the
    /// next page through the cursor's parent page, again without a descent). The buffers point
    /// into the map and are valid as long as the transaction.
    func recordValues(at seqs: [UInt64]) throws -> [UnsafeRawBufferPointer] {
        var values: [UnsafeRawBufferPointer] = []
        values.reserveCapacity(seqs.count)
        try withCursor(databases.events) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var last: UInt64?
            for seq in seqs {
                var rc = MDB_NOTFOUND
                if let at = last, seq > at, seq - at <= Self.stepLimit {
                    // Seqs are dense (every record has the next): step until there.
                    var current = at
                    while current < seq {
                        rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                        guard rc == MDB_SUCCESS, let found = key.bigEndianUInt64() else { break }
                        current = found
                    }
                    if rc == MDB_SUCCESS && current != seq { rc = MDB_NOTFOUND }
                } else {
                    rc = withSeqKey(seq) { key in mdb_cursor_get(cursor, &key, &value, MDB_SET) }
                }
                if rc == MDB_NOTFOUND { throw StoreError(.corrupt, "record \(seq) is missing") }
                try LMDBError.check(rc)
                values.append(value.buffer)
                last = seq
            }
        }
        return values
    }

    /// How far past the last record found ``recordValues(at:)`` steps rather than searches:
    /// about two leaf pages of records.
    static let stepLimit: UInt64 = 16

    /// Calls `body` with each record from `first` through `last`, in `seq` order, read in place.
    func forEachRecord(from first: UInt64, through last: UInt64, checkingStream: Bool = true, _ body: (borrowing RecordView) throws -> Void) throws {
        guard first <= last else { return }
        try withCursor(databases.events) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = withSeqKey(first) { firstKey in
                key = firstKey
                return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
            }
            var page: UInt = 0
            while rc == MDB_SUCCESS {
                guard let seq = key.bigEndianUInt64() else { throw StoreError(.corrupt, "an event key is not a seq") }
                if seq > last { break }
                // On reaching a new leaf page, prefetch all of it: its records are read next.
                if let data = value.mv_data, UInt(bitPattern: data) >> 12 != page {
                    page = UInt(bitPattern: data) >> 12
                    kinerja_prefetch_page(data)
                }
                try CanonicalRecord.view(value: value.buffer, checkingStream: checkingStream, body)
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND && rc != MDB_SUCCESS { try LMDBError.check(rc) }
        }
    }

    func withCursor<R>(_ dbi: MDB_dbi, _ body: (OpaquePointer) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(txn, dbi, &cursor))
        defer { mdb_cursor_close(cursor) }
        return try body(cursor!)
    }

    func entryCount(_ dbi: MDB_dbi) throws -> Int {
        var stat = MDB_stat()
        try LMDBError.check(mdb_stat(txn, dbi, &stat))
        return stat.ms_entries
    }
}

/// A consistent snapshot of the ledger, for reading. Valid only inside the ``Store/read(_:)``
/// call that provides it, which lends it (`borrowing`): it cannot be copied out (`~Copyable`),
/// and the transaction ends when that call returns.
public struct ReadTransaction: ~Copyable {
    let access: TxnAccess

    /// The head of the snapshot.
    public let head: Head

    /// The store's upper Merkle nodes kept across read-only transactions (``TreeNodeCache``).
    let treeCache: TreeNodeCache?

    init(access: TxnAccess, treeCache: TreeNodeCache? = nil) throws {
        self.access = access
        self.head = try access.head()
        self.treeCache = treeCache
    }

    /// Calls `body` with each record from `first` through `last` (clamped to the head), in `seq` order.
    /// The record's buffers are valid only during the call. The stream's name is not checked for
    /// UTF-8 here (records were checked on append, the chain covers them, and `verify` checks
    /// them again): ``RecordView/stream`` repairs what it cannot decode.
    public func forEachRecord(from first: UInt64 = 1, through last: UInt64 = .max, _ body: (borrowing RecordView) throws -> Void) throws {
        try access.forEachRecord(from: max(first, 1), through: min(last, head.seq), checkingStream: false, body)
    }

    public func record(at seq: UInt64) throws -> StoredRecord? {
        try access.withRecord(at: seq) { $0.copy() }
    }

    /// Record `seq`, read in place (its stream not checked for UTF-8, as in ``forEachRecord(from:through:_:)``).
    public func withRecord<R>(at seq: UInt64, _ body: (borrowing RecordView) throws -> R) throws -> R? {
        try access.withRecord(at: seq, checkingStream: false, body)
    }

    /// ``withRecord(at:_:)`` for a `seq` an index names (a stream's, a tag's): its record must be
    /// in the log, and one that is not is damage to report, never an answer with a record left out.
    public func withIndexedRecord<R>(at seq: UInt64, _ body: (borrowing RecordView) throws -> R) throws -> R {
        guard let result = try withRecord(at: seq, body) else { throw StoreError(.corrupt, "record \(seq) is missing") }
        return result
    }

    /// The records at `seqs` (ascending, each named by an index: a missing one is damage), each
    /// looked up once, for `body` to read in place as often and in whatever order it needs while
    /// the call lasts. Lookups in ascending order with one cursor cost less than as many
    /// ``withIndexedRecord(at:_:)``: one on the leaf page of the one before needs no descent.
    public func withIndexedRecords<R>(at seqs: [UInt64], _ body: (borrowing IndexedRecords) throws -> R) throws -> R {
        // Indexes name each seq once: a repeated one (a seq in both stream tiers, a doubled tag)
        // is damage, said as such rather than trapped on.
        for (seq, next) in zip(seqs, seqs.dropFirst()) where seq >= next {
            throw StoreError(.corrupt, seq == next ? "record \(seq) is named twice by the indexes" : "the indexes name records out of order (\(seq) before \(next))")
        }
        let records = IndexedRecords(seqs: seqs, values: try access.recordValues(at: seqs))
        return try body(records)
    }

    public func seq(of id: RecordID) throws -> UInt64? { try access.seq(of: id) }

    public func streamVersion(_ stream: String) throws -> UInt64 { try access.streamVersion(stream) }

    /// The `seq`s of one stream's records, in version order, through the stream index.
    public func seqs(inStream stream: String) throws -> [UInt64] { try access.seqs(inStream: stream) }

    public func seq(forKey key: [UInt8]) throws -> UInt64? { try access.seq(forKey: key) }
}

/// Records read by number, as many times and in whatever order: the records themselves
/// (``IndexedRecords``) or copies of them (``RecordArena``).
package protocol NumberedRecords: ~Copyable {
    var count: Int { get }
    /// Record number `index`, read in place.
    func withRecord<R>(_ index: Int, _ body: (borrowing RecordView) throws -> R) throws -> R
    /// Asks the CPU to bring record `index`'s first bytes into its caches (nothing if there is
    /// no such record).
    func prefetch(_ index: Int)
}

/// Records looked up by ``ReadTransaction/withIndexedRecords(at:_:)``, valid only during its call.
public struct IndexedRecords: ~Copyable, NumberedRecords {
    /// Their `seq`s, ascending.
    public let seqs: [UInt64]
    let values: [UnsafeRawBufferPointer]

    public var count: Int { seqs.count }

    /// Record number `index` (of ``seqs``), read in place (its stream not checked for UTF-8, as
    /// in ``ReadTransaction/forEachRecord(from:through:_:)``).
    public func withRecord<R>(_ index: Int, _ body: (borrowing RecordView) throws -> R) throws -> R {
        try CanonicalRecord.view(value: values[index], checkingStream: false, body)
    }

    /// Asks the CPU to bring record `index`'s bytes into its caches (nothing if there is no such
    /// record): a reader that calls it some records ahead of the one it reads finds them there,
    /// instead of waiting on memory for each record's first read. Only its first 256 bytes (a
    /// record's header, stream and most payloads): a long record's other lines would evict the
    /// ones asked for ahead of it.
    public func prefetch(_ index: Int) {
        guard values.indices.contains(index), let base = values[index].baseAddress else { return }
        let end = UInt(bitPattern: base) + UInt(min(values[index].count, 256))
        var line = UInt(bitPattern: base) & ~63
        while line < end {
            kinerja_prefetch(UnsafeRawPointer(bitPattern: line))
            line += 64
        }
    }

    /// The bytes of all of them (what a ``RecordArena`` holding copies of them all takes).
    package var byteCount: Int { values.reduce(0) { $0 + $1.count } }
}

/// Copies of records (their stored values, as ``IndexedRecords`` reads them), one after another
/// in one block of memory the arena owns and frees: a reader that has read records scattered
/// over the file in `seq` order, and must read them again in another order, copies each while
/// it is in the caches, and reads the copies in the second order. A selection's records are
/// scattered over the file, nearly each on a different page (a leaf page holds many records,
/// but few of one selection's), and a 4 GB file has more pages than the TLB and the caches
/// hold translations for: read again out of `seq` order, a record cost ~4 × its read in `seq`
/// order in the profiles of BENCHMARKS.md's rounds 10i and 10j (13.7 and 11.9 % of the samples
/// against 3.5 and 3.4 %, the same records), most likely a page walk that misses the caches
/// each (in `seq` order, the walks share their upper levels). The copies are together, on the
/// few pages of the block.
package struct RecordArena: ~Copyable, NumberedRecords {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    /// The bytes mapped for the block by ``kinerja_allocate_huge`` (0: it is malloc's).
    private let mapped: Int
    private var used = 0
    /// Where copy n starts in the block (and, at n + 1, where it ends).
    private var starts: [Int] = [0]

    /// An arena for copies of up to `byteCount` bytes (``IndexedRecords/byteCount``) and
    /// `records` records, on huge pages from `hugePagesFrom` bytes (only tests set another than
    /// 2 MiB); nil if its memory cannot be had (the reader then reads the records in place).
    package init?(byteCount: Int, records: Int, hugePagesFrom: Int = 2 << 20) {
        // From 2 MiB, huge pages (rounded up to whole ones): the copies are read out of order.
        // Below, or where huge pages cannot be had, malloc's.
        let huge = 2 << 20
        let size = (byteCount + huge - 1) / huge * huge
        if byteCount >= hugePagesFrom, let block = kinerja_allocate_huge(size) {
            capacity = byteCount
            mapped = size
            base = block
        } else {
            guard let block = malloc(max(byteCount, 1)) else { return nil }
            capacity = max(byteCount, 1)
            mapped = 0
            base = block
        }
        starts.reserveCapacity(records + 1)
    }

    deinit {
        if mapped > 0 { kinerja_free_huge(base, mapped) } else { free(base) }
    }

    public var count: Int { starts.count - 1 }

    /// Whether the copies are on a block of their own advised for huge pages
    /// (``kinerja_allocate_huge``), not malloc's.
    package var isOnHugePages: Bool { mapped > 0 }

    /// Copies record `index` of `records` in, as copy number ``count``.
    /// - Precondition: the arena has room for it (a programming error otherwise).
    package mutating func append(_ records: borrowing IndexedRecords, _ index: Int) {
        let value = records.values[index]
        precondition(used + value.count <= capacity, "the arena holds \(capacity) bytes")
        if let source = value.baseAddress { (base + used).copyMemory(from: source, byteCount: value.count) }
        used += value.count
        starts.append(used)
    }

    /// Copy number `index`, read in place (its stream not checked for UTF-8, as in
    /// ``IndexedRecords/withRecord(_:_:)``).
    public func withRecord<R>(_ index: Int, _ body: (borrowing RecordView) throws -> R) throws -> R {
        let start = starts[index]
        return try CanonicalRecord.view(value: UnsafeRawBufferPointer(start: base + start, count: starts[index + 1] - start), checkingStream: false, body)
    }

    /// Asks the CPU to bring copy `index`'s first 256 bytes into its caches (as
    /// ``IndexedRecords/prefetch(_:)``; nothing if there is no such copy).
    public func prefetch(_ index: Int) {
        guard index >= 0, index < count else { return }
        let start = UInt(bitPattern: base + starts[index])
        let end = UInt(bitPattern: base) + UInt(min(starts[index + 1], starts[index] + 256))
        var line = start & ~63
        while line < end {
            kinerja_prefetch(UnsafeRawPointer(bitPattern: line))
            line += 64
        }
    }
}

/// Not sendable: it holds a raw pointer to its block, and no reader needs it on another thread
/// (a replay reads its copies on the thread that made them).
@available(*, unavailable)
extension RecordArena: Sendable {}
