import CLMDB
import Glibc

/// The stream index (format 3): under the key stream ‖ 0x00, the `seq` (u64 BE) of each of the
/// stream's records, as LMDB sorted duplicates of fixed width (`MDB_DUPSORT | MDB_DUPFIXED`), in
/// two tiers of that layout: `stream-settled`, the settled entries, and `stream-recent`, the
/// newest ones, which commits add to and which each commit folds, a slice at a time, into the
/// settled tier (``fold(_:bound:)``).
///
/// A stream's versions run 1, 2, 3... in `seq` order, so the nth duplicate is version n and the
/// stream's version is its number of duplicates (`mdb_cursor_count`), counted over both tiers:
/// its settled `seq`s come first, its recent ones after. LMDB keeps a stream's `seq`s packed,
/// 8 bytes each without a node header — inside the key's node while they fit (about 250), then
/// in pages of their own — and a record's entry is appended at the end of its stream's run
/// (`MDB_APPENDDUP`), where format 1 kept a node of 35 bytes and more per record
/// (stream ‖ 0x00 ‖ version → `seq`) in pages that random inserts left two-thirds full.
/// Format 2 had the settled tier only: a commit's records, in as many streams, rewrote about
/// min(records, leaves) of its leaves, and its leaves grow with the ledger.
enum StreamIndex {
    static let name = "stream-settled"
    /// Format 2's index (the settled tier alone), rebuilt under ``name`` and dropped by the
    /// upgrade, so that a process of an older build that still holds it open fails rather than
    /// adding entries where this build does not read them.
    static let formatTwoName = "stream-index"
    static let flags = UInt32(MDB_DUPSORT | MDB_DUPFIXED)
    /// The recent tier (format 3): the same layout as the settled tier, holding each stream's
    /// newest `seq`s, those not folded into it yet (``fold(_:bound:)``).
    static let recentName = "stream-recent"

    /// The recent tier's size, in entries, past which each commit folds the excess into the
    /// settled tier (``StoreOptions/streamRecentBound``).
    package static let defaultRecentBound = 262_144

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

    /// Folds the recent tier's entries past `bound` into the settled tier, in the write
    /// transaction `access` that has just added a commit's entries to the recent tier.
    ///
    /// A commit's records land in streams all over the key space, so the leaves they touch are
    /// about min(records, leaves) of the index they are added to: adding them to a small recent
    /// tier touches few leaves, however large the ledger. The fold then moves whole streams (all
    /// of a stream's recent `seq`s, appended after its settled ones) in key order, from where
    /// the last fold stopped (`MetaKey.streamFold`), so it rewrites a contiguous run of settled
    /// leaves: each settled leaf about once per `bound` records appended, where adding straight
    /// to the settled tier rewrote most of its leaves every few commits. A stream's entries move
    /// in one transaction, so its recent `seq`s always follow its settled ones.
    static func fold(_ access: TxnAccess, bound: Int) throws {
        let databases = access.databases
        let excess = try access.entryCount(databases.recentStreams) - bound
        guard excess > 0 else { return }
        let start = try access.get(databases.meta, MetaKey.streamFold).map { Array($0.buffer) } ?? []
        var moved = IndexEntries()
        var last: [UInt8] = []
        try access.withCursor(databases.recentStreams) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = withValue(start) { probe in
                key = probe
                return mdb_cursor_get(cursor, &key, &value, start.isEmpty ? MDB_FIRST : MDB_SET_RANGE)
            }
            // From the first key there is nothing to go round to.
            var wrapped = start.isEmpty
            var folded = 0
            while folded < excess {
                if rc == MDB_NOTFOUND && !wrapped {
                    wrapped = true
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                }
                if rc == MDB_NOTFOUND { break }
                try LMDBError.check(rc)
                let stream = key.buffer
                // Past the end and round again: stop where this fold began.
                if wrapped && !start.isEmpty && compareKeys(stream, start) >= 0 { break }
                var count = 0
                try LMDBError.check(mdb_cursor_count(cursor, &count))
                try Self.forEachSeq(cursor, count: count, first: value, stream: String(decoding: stream, as: UTF8.self)) { seq in
                    moved.append(stream, seq: seq)
                }
                folded += count
                last = Array(stream)
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT_NODUP)
            }
        }
        try moved.write(access.txn, databases.streams, flags: MDB_APPENDDUP)
        try moved.deleteKeys(access.txn, databases.recentStreams)
        try Batch.put(access.txn, databases.meta, MetaKey.streamFold, last, flags: 0)
    }

    /// LMDB's default key order: the bytes, then the length.
    static func compareKeys(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        b.withUnsafeBytes { compareKeys(a, $0) }
    }

    static func compareKeys(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        let compared = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
        return compared != 0 ? Int(compared) : a.count - b.count
    }

    /// Calls `body` with each `seq` of the key the cursor stands on (`count` of them, `first`
    /// being the value it returned), in order, and leaves the cursor on the key's last one.
    static func forEachSeq(_ cursor: OpaquePointer, count: Int, first: MDB_val, stream: @autoclosure () -> String, _ body: (UInt64) throws -> Void) throws {
        guard count > 1 else {
            // A single entry is stored as a plain value: there is no page of duplicates.
            guard let seq = first.bigEndianUInt64() else { throw StoreError(.corrupt, "a stream index entry of \(stream()) is not a seq") }
            try body(seq)
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
                try body(UInt64(bigEndian: page.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
            seen += page.count / 8
            rc = mdb_cursor_get(cursor, &key, &values, MDB_NEXT_MULTIPLE)
        }
        if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        guard seen == count else { throw StoreError(.corrupt, "the stream index holds \(seen) entries of \(stream()) but counts \(count)") }
    }

    /// Puts the cursor on the stream's entries: how many there are and the first one's value,
    /// or nil for a stream with none.
    static func entries(_ cursor: OpaquePointer, of key: [UInt8]) throws -> (count: Int, first: MDB_val)? {
        var found = MDB_val()
        var value = MDB_val()
        let rc = withValue(key) { probe in
            found = probe
            return mdb_cursor_get(cursor, &found, &value, MDB_SET)
        }
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc)
        var count = 0
        try LMDBError.check(mdb_cursor_count(cursor, &count))
        return (count, value)
    }
}

/// Cursors on one transaction's stream index (both tiers), opened at the first lookup and kept
/// for the others (a ``Batch``'s lookups of stream versions: a cursor opened and closed on each
/// tier per lookup was an allocation in LMDB each), and the one reader of a stream's version,
/// which adds the two tiers (``TxnAccess/streamVersion(_:)`` reads through it too).
///
/// Must be closed (``close()``) inside its transaction: LMDB frees a write transaction's cursors
/// when it commits or aborts, so closing them after would free them twice; a read-only
/// transaction's cursors outlive it and must be closed by their owner. `deinit` closes any still
/// open, a backstop that is safe because every owner (a ``Batch``, a lookup's local) ends inside
/// its transaction, and does nothing once ``close()`` has run.
final class StreamVersionCursors {
    private let access: TxnAccess
    private var settled: OpaquePointer?
    private var recent: OpaquePointer?

    init(_ access: TxnAccess) {
        self.access = access
    }

    deinit { close() }

    /// Closes the cursors opened so far; a later lookup opens them again.
    func close() {
        if let settled { mdb_cursor_close(settled) }
        if let recent { mdb_cursor_close(recent) }
        settled = nil
        recent = nil
    }

    /// The stream's last version: the number of its entries in both tiers (0 for a stream with
    /// none), its key (stream ‖ 0x00) built on the stack.
    func version(_ stream: String) throws -> UInt64 {
        var stream = stream
        let length = stream.utf8.count
        return try withUnsafeTemporaryAllocation(byteCount: length + 1, alignment: 1) { buffer in
            stream.withUTF8 { buffer.copyMemory(from: UnsafeRawBufferPointer($0)) }
            buffer[length] = 0
            let key = UnsafeRawBufferPointer(buffer)
            let settledCount = try Self.count(&settled, access.txn, access.databases.streams, key)
            return UInt64(settledCount + (try Self.count(&recent, access.txn, access.databases.recentStreams, key)))
        }
    }

    private static func count(_ cursor: inout OpaquePointer?, _ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer) throws -> Int {
        if cursor == nil { try LMDBError.check(mdb_cursor_open(txn, dbi, &cursor)) }
        var probe = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var value = MDB_val()
        let rc = mdb_cursor_get(cursor, &probe, &value, MDB_SET)
        if rc == MDB_NOTFOUND { return 0 }
        try LMDBError.check(rc)
        var count = 0
        try LMDBError.check(mdb_cursor_count(cursor, &count))
        return count
    }
}

/// The reads of the stream index, the one place that adds its two tiers (with
/// ``StreamVersionCursors``): a stream's `seq`s are its settled ones (`stream-settled`) then its
/// recent ones (`stream-recent`), which are all greater, so its version is the sum of its two counts.
extension TxnAccess {
    /// The stream's last version: the number of its entries in both tiers (0 for a stream with none).
    func streamVersion(_ stream: String) throws -> UInt64 {
        let cursors = StreamVersionCursors(self)
        defer { cursors.close() }
        return try cursors.version(stream)
    }

    /// The `seq`s of a stream's records, in version order: a page of them at a time
    /// (`MDB_GET_MULTIPLE`, `MDB_NEXT_MULTIPLE`), the settled tier's then the recent tier's.
    func seqs(inStream stream: String) throws -> [UInt64] {
        let key = StreamIndex.key(stream)
        var result: [UInt64] = []
        for tier in [databases.streams, databases.recentStreams] {
            try withCursor(tier) { cursor in
                guard let (count, value) = try StreamIndex.entries(cursor, of: key) else { return }
                result.reserveCapacity(result.count + count)
                try StreamIndex.forEachSeq(cursor, count: count, first: value, stream: stream) { result.append($0) }
            }
        }
        return result
    }

    /// Calls `body` with every entry of the stream index, in key order, a stream's settled
    /// entries then its recent ones: the key (stream ‖ 0x00), the version (the entry's place in
    /// its stream, counted over both tiers), the `seq`, and whether it is in the recent tier.
    func forEachStreamEntry(_ body: (_ key: UnsafeRawBufferPointer, _ version: UInt64, _ seq: UInt64, _ recent: Bool) throws -> Void) throws {
        try withCursor(databases.streams) { settled in
            try withCursor(databases.recentStreams) { recent in
                var settledKey = MDB_val()
                var settledValue = MDB_val()
                var recentKey = MDB_val()
                var recentValue = MDB_val()
                var settledRC = mdb_cursor_get(settled, &settledKey, &settledValue, MDB_FIRST)
                var recentRC = mdb_cursor_get(recent, &recentKey, &recentValue, MDB_FIRST)
                while settledRC == MDB_SUCCESS || recentRC == MDB_SUCCESS {
                    // The next key of either tier; both when they hold the same stream.
                    let order =
                        settledRC != MDB_SUCCESS ? 1 : recentRC != MDB_SUCCESS ? -1 : StreamIndex.compareKeys(settledKey.buffer, recentKey.buffer)
                    var version: UInt64 = 0
                    for (cursor, value, isRecent) in [(settled, settledValue, false), (recent, recentValue, true)] where isRecent ? order >= 0 : order <= 0 {
                        let stream = isRecent ? recentKey.buffer : settledKey.buffer
                        var count = 0
                        try LMDBError.check(mdb_cursor_count(cursor, &count))
                        try StreamIndex.forEachSeq(cursor, count: count, first: value, stream: String(decoding: stream, as: UTF8.self)) { seq in
                            version += 1
                            try body(stream, version, seq, isRecent)
                        }
                    }
                    if order <= 0 { settledRC = mdb_cursor_get(settled, &settledKey, &settledValue, MDB_NEXT_NODUP) }
                    if order >= 0 { recentRC = mdb_cursor_get(recent, &recentKey, &recentValue, MDB_NEXT_NODUP) }
                }
                if settledRC != MDB_NOTFOUND { try LMDBError.check(settledRC) }
                if recentRC != MDB_NOTFOUND { try LMDBError.check(recentRC) }
            }
        }
    }

    /// Whether the stream index holds `seq` under `stream`, in either tier (`MDB_GET_BOTH`).
    func streamIndexHolds(_ stream: String, seq: UInt64) throws -> Bool {
        for tier in [databases.streams, databases.recentStreams] {
            let holds = try withCursor(tier) { cursor in
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
            if holds { return true }
        }
        return false
    }
}
