import CLMDB
import Glibc

/// Index entries gathered for one write (a batch's ids, stream versions, claims or tags), then
/// written in key order through one cursor.
///
/// A batch's keys land all over their index (random ids, the tail of each stream): inserted in
/// arrival order, each `mdb_put` searches from the root and visits a cold leaf. In key order
/// through one cursor, LMDB finds the next key from where the cursor stands when it falls in the
/// same leaf (`mdb_cursor_set` checks the current page first), and the pages are visited once,
/// left to right. The keys are copied into one buffer: no allocation per entry.
struct IndexEntries {
    private struct Entry {
        /// The key's first 8 bytes and the next 8, big-endian, zero-padded: most comparisons end
        /// here (a stream's key begins with "employee", the same 8 bytes for every employee).
        var prefix: UInt64
        var prefix2: UInt64
        var start: Int
        var count: Int
        var seq: UInt64
    }

    private var bytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Whether `entries` are in key order already (``sort()``, done on another thread than the
    /// writer's: a commit's sorts were 9 % of the commit phase).
    private var isSorted = false

    var isEmpty: Bool { entries.isEmpty }

    mutating func reserve(_ count: Int, keyBytes: Int) {
        entries.reserveCapacity(count)
        bytes.reserveCapacity(keyBytes)
    }

    /// Adds the key made of `parts`, one after the other, with the value `seq`.
    mutating func append(_ parts: UnsafeRawBufferPointer..., seq: UInt64) {
        let start = bytes.count
        for part in parts { bytes.append(contentsOf: part) }
        added(start: start, seq: seq)
    }

    /// Puts the entries in the order ``write(_:_:flags:emptyValues:)`` writes them, once, so that
    /// the write does not sort them again.
    mutating func sort() {
        guard !isSorted, !entries.isEmpty, !bytes.isEmpty else { return }
        entries = bytes.withUnsafeBytes { sorted($0.baseAddress!) }
        isSorted = true
    }

    private mutating func added(start: Int, seq: UInt64) {
        var prefix: UInt64 = 0
        var prefix2: UInt64 = 0
        for index in start..<start + 8 { prefix = prefix << 8 | UInt64(index < bytes.count ? bytes[index] : 0) }
        for index in start + 8..<start + 16 { prefix2 = prefix2 << 8 | UInt64(index < bytes.count ? bytes[index] : 0) }
        entries.append(Entry(prefix: prefix, prefix2: prefix2, start: start, count: bytes.count - start, seq: seq))
        isSorted = false
    }

    /// Adds a stream index entry (``StreamIndex``): under stream ‖ 0x00, the record's `seq`.
    mutating func appendStreamKey(_ stream: UnsafeRawBufferPointer, seq: UInt64) {
        let start = bytes.count
        bytes.append(contentsOf: stream)
        bytes.append(0)
        added(start: start, seq: seq)
    }

    /// Adds an id's 16 bytes.
    mutating func append(_ id: RecordID, seq: UInt64) {
        withUnsafeBytes(of: (id.high.bigEndian, id.low.bigEndian)) { append($0, seq: seq) }
    }

    /// Writes every entry, in key order (LMDB's default order: bytes, then length) and, under one
    /// key, in `seq` order (a stream's entries, appended with `MDB_APPENDDUP`), through one
    /// cursor of `dbi`: the value is the `seq` (u64 BE), or empty with `emptyValues`.
    func write(_ txn: OpaquePointer, _ dbi: MDB_dbi, flags: Int32, emptyValues: Bool = false, budget: PageBudget? = nil) throws(LMDBError) {
        try forEachInOrder(txn, dbi) { cursor, entry, key, _ in
            // In a staging pass, each put spends its worst case in pages first (``PageBudget``).
            if let budget {
                let rc = budget.spend(PageBudget.pagesPerPut)
                if rc != MDB_SUCCESS { return rc }
            }
            var seq = entry.seq.bigEndian
            return withUnsafeMutableBytes(of: &seq) { seqBytes in
                var value = MDB_val(mv_size: emptyValues ? 0 : 8, mv_data: seqBytes.baseAddress)
                return mdb_cursor_put(cursor, &key, &value, UInt32(flags))
            }
        }
    }

    /// The entries in key order (LMDB's default order: bytes, then length), then `seq` order.
    private func sorted(_ base: UnsafeRawPointer) -> [Entry] {
        var order = entries
        order.sort { a, b in
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            if a.prefix2 != b.prefix2 { return a.prefix2 < b.prefix2 }
            // The first 16 bytes (zero-padded) are equal: past them, if both keys go on.
            let common = min(a.count, b.count)
            if common > 16 {
                let compared = memcmp(base + a.start + 16, base + b.start + 16, common - 16)
                if compared != 0 { return compared < 0 }
            }
            return a.count != b.count ? a.count < b.count : a.seq < b.seq
        }
        return order
    }

    /// Deletes each entry's key from `dbi` with all its values (`MDB_NODUPDATA`), in key order
    /// through one cursor; every key must be there.
    func deleteKeys(_ txn: OpaquePointer, _ dbi: MDB_dbi) throws(LMDBError) {
        var previous: Entry?
        try forEachInOrder(txn, dbi) { cursor, entry, key, base in
            defer { previous = entry }
            if let previous, previous.count == entry.count, memcmp(base + previous.start, base + entry.start, entry.count) == 0 { return MDB_SUCCESS }
            var value = MDB_val()
            let rc = mdb_cursor_get(cursor, &key, &value, MDB_SET)
            return rc == MDB_SUCCESS ? mdb_cursor_del(cursor, UInt32(MDB_NODUPDATA)) : rc
        }
    }

    /// Calls `body` with one cursor of `dbi`, each entry in key order then `seq` order, its key,
    /// and the base of the entries' bytes; stops at the first LMDB error `body` returns.
    private func forEachInOrder(
        _ txn: OpaquePointer, _ dbi: MDB_dbi, _ body: (OpaquePointer, Entry, inout MDB_val, UnsafeRawPointer) -> Int32
    ) throws(LMDBError) {
        guard !entries.isEmpty else { return }
        var cursorPointer: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(txn, dbi, &cursorPointer))
        guard let cursor = cursorPointer else { throw LMDBError(code: EINVAL) }
        defer { mdb_cursor_close(cursor) }
        let rc: Int32 = bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            for entry in isSorted ? entries : sorted(base) {
                var key = MDB_val(mv_size: entry.count, mv_data: UnsafeMutableRawPointer(mutating: base + entry.start))
                let rc = body(cursor, entry, &key, base)
                if rc != MDB_SUCCESS { return rc }
            }
            return MDB_SUCCESS
        }
        try LMDBError.check(rc)
    }
}

/// For tests: the order ``IndexEntries`` writes keys in.
package enum IndexEntriesOrder {
    /// `keys` with their `seq`s in the order ``IndexEntries/write(_:_:flags:emptyValues:)``
    /// writes them (sorted by ``IndexEntries/sort()``), to be checked against a plain byte-wise sort.
    package static func written(_ keys: [(key: [UInt8], seq: UInt64)]) -> [(key: [UInt8], seq: UInt64)] {
        var entries = IndexEntries()
        for (key, seq) in keys { key.withUnsafeBytes { entries.append($0, seq: seq) } }
        entries.sort()
        return entries.inOrder()
    }
}

extension IndexEntries {
    /// The keys and `seq`s in the order they are written.
    fileprivate func inOrder() -> [(key: [UInt8], seq: UInt64)] {
        let order = isSorted ? entries : bytes.withUnsafeBytes { $0.baseAddress.map { sorted($0) } ?? entries }
        return order.map { (Array(bytes[$0.start..<$0.start + $0.count]), $0.seq) }
    }
}
