import CLMDB

/// The stream index (format 2): under the key stream ‖ 0x00, the `seq` (u64 BE) of each of the
/// stream's records, as LMDB sorted duplicates of fixed width (`MDB_DUPSORT | MDB_DUPFIXED`).
///
/// A stream's versions run 1, 2, 3... in `seq` order, so the nth duplicate is version n and the
/// stream's version is its number of duplicates (`mdb_cursor_count`). LMDB keeps a stream's
/// `seq`s packed, 8 bytes each without a node header — inside the key's node while they fit
/// (about 250), then in pages of their own — and a record's entry is appended at the end of its
/// stream's run (`MDB_APPENDDUP`), where format 1 kept a node of 35 bytes and more per record
/// (stream ‖ 0x00 ‖ version → `seq`) in pages that random inserts left two-thirds full.
enum StreamIndex {
    static let name = "stream-index"
    static let flags = UInt32(MDB_DUPSORT | MDB_DUPFIXED)

    /// stream ‖ 0x00: the terminator keeps the empty stream a valid key.
    static func key(_ stream: String) -> [UInt8] { Array(stream.utf8) + [0] }

    /// Builds the index from every record, in the write transaction `access` (the index empty):
    /// the entries gathered and written in key order a slice of records at a time, so memory
    /// stays bounded whatever the ledger's size.
    static func rebuild(_ access: TxnAccess) throws {
        var entries = IndexEntries()
        var gathered = 0
        try access.forEachRecord(from: 1, through: .max, checkingStream: false) { record in
            entries.appendStreamKey(record.streamBytes, seq: record.seq)
            gathered += 1
            if gathered >= 1 << 16 {
                try entries.write(access.txn, access.databases.streams, flags: MDB_APPENDDUP)
                entries = IndexEntries()
                gathered = 0
            }
        }
        try entries.write(access.txn, access.databases.streams, flags: MDB_APPENDDUP)
    }
}

extension TxnAccess {
    /// The stream's last version: the number of its entries (0 for a stream with none).
    func streamVersion(_ stream: String) throws -> UInt64 {
        try withCursor(databases.streams) { cursor in
            guard let (count, _) = try Self.entries(cursor, of: stream) else { return 0 }
            return UInt64(count)
        }
    }

    /// The `seq`s of a stream's records, in version order: a page of them at a time
    /// (`MDB_GET_MULTIPLE`, `MDB_NEXT_MULTIPLE`).
    func seqs(inStream stream: String) throws -> [UInt64] {
        try withCursor(databases.streams) { cursor in
            guard let (count, value) = try Self.entries(cursor, of: stream) else { return [] }
            var result: [UInt64] = []
            result.reserveCapacity(count)
            try Self.forEachSeq(cursor, count: count, first: value, stream: stream) { result.append($0) }
            return result
        }
    }

    /// Puts the cursor on the stream's entries: how many there are and the first one's value,
    /// or nil for a stream with none.
    private static func entries(_ cursor: OpaquePointer, of stream: String) throws -> (count: Int, first: MDB_val)? {
        var found = MDB_val()
        var value = MDB_val()
        let rc = withValue(StreamIndex.key(stream)) { probe in
            found = probe
            return mdb_cursor_get(cursor, &found, &value, MDB_SET)
        }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        var count = 0
        try LMDBError.check(mdb_cursor_count(cursor, &count))
        return (count, value)
    }

    /// Calls `body` with each `seq` of the key the cursor stands on (`count` of them, `first`
    /// being the value it returned), in order, and leaves the cursor on the key's last one.
    private static func forEachSeq(_ cursor: OpaquePointer, count: Int, first: MDB_val, stream: @autoclosure () -> String, _ body: (UInt64) -> Void) throws {
        guard count > 1 else {
            // A single entry is stored as a plain value: there is no page of duplicates.
            guard let seq = first.bigEndianUInt64() else { throw StoreError(.corrupt, "a stream index entry of \(stream()) is not a seq") }
            body(seq)
            return
        }
        var key = MDB_val()
        var values = MDB_val()
        var seen = 0
        var rc = mdb_cursor_get(cursor, &key, &values, MDB_GET_MULTIPLE)
        while rc == MDB_SUCCESS {
            guard values.mv_size % 8 == 0 else { throw StoreError(.corrupt, "a stream index entry of \(stream()) is not a seq") }
            let page = values.buffer
            for offset in stride(from: 0, to: page.count, by: 8) {
                body(UInt64(bigEndian: page.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
            seen += page.count / 8
            rc = mdb_cursor_get(cursor, &key, &values, MDB_NEXT_MULTIPLE)
        }
        if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        guard seen == count else { throw StoreError(.corrupt, "the stream index holds \(seen) entries of \(stream()) but counts \(count)") }
    }

    /// Calls `body` with every entry of the stream index, in key order: the key (stream ‖ 0x00),
    /// the version (the entry's place in its stream) and the `seq`.
    func forEachStreamEntry(_ body: (_ key: UnsafeRawBufferPointer, _ version: UInt64, _ seq: UInt64) throws -> Void) throws {
        try withCursor(databases.streams) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while rc == MDB_SUCCESS {
                let stream = key.buffer
                var count = 0
                try LMDBError.check(mdb_cursor_count(cursor, &count))
                var version: UInt64 = 0
                var failure: (any Error)?
                try Self.forEachSeq(cursor, count: count, first: value, stream: String(decoding: stream, as: UTF8.self)) { seq in
                    guard failure == nil else { return }
                    version += 1
                    do { try body(stream, version, seq) } catch { failure = error }
                }
                if let failure { throw failure }
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT_NODUP)
            }
            if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        }
    }

    /// Whether the stream index holds `seq` under `stream` (`MDB_GET_BOTH`).
    func streamIndexHolds(_ stream: String, seq: UInt64) throws -> Bool {
        try withCursor(databases.streams) { cursor in
            var seqValue = seq.bigEndian
            return try withUnsafeMutableBytes(of: &seqValue) { seqBytes in
                try withValue(StreamIndex.key(stream)) { key in
                    var value = MDB_val(mv_size: 8, mv_data: seqBytes.baseAddress)
                    let rc = mdb_cursor_get(cursor, &key, &value, MDB_GET_BOTH)
                    if rc == MDB_NOTFOUND { return false }
                    try LMDBError.check(rc)
                    return true
                }
            }
        }
    }
}
