import CLMDB

/// What a writer's records are tagged with: the store's secondary index, generic as the stream
/// index is. The store calls ``forEachTag`` on every record it stores and lists, for each tag,
/// the `seq`s of the records that carry it (``ReadTransaction/seqs(taggedWith:through:)``); what
/// a tag means is the writer's business.
///
/// ```swift
/// var options = StoreOptions()
/// options.tagRule = TagRule(name: "colour-1") { record in record.payload.first == 1 ? [Array("red".utf8)] : [] }
/// // The same, each tag handed over in place (no allocation per record: import and verify call it on every record).
/// let red = Array("red".utf8)
/// options.tagRule = TagRule(name: "colour-1") { record, tag in
///     if record.payload.first == 1 { red.withUnsafeBytes(tag) }
/// }
/// ```
public struct TagRule: Sendable {
    /// The rule's identity. A ledger whose index was built by a rule of another name gets it
    /// rebuilt from the records when it is opened (so a rule that changes changes its name).
    public let name: String
    /// Calls `tag` with each tag of a record, each of 1 to ``TagRule/maxTagLength`` bytes, valid
    /// during the call.
    public let forEachTag: @Sendable (borrowing RecordView, _ tag: (UnsafeRawBufferPointer) -> Void) -> Void

    public static let maxTagLength = 255

    public init(name: String, forEachTag: @escaping @Sendable (borrowing RecordView, _ tag: (UnsafeRawBufferPointer) -> Void) -> Void) {
        self.name = name
        self.forEachTag = forEachTag
    }

    /// A rule that gives a record's tags as arrays.
    public init(name: String, tags: @escaping @Sendable (borrowing RecordView) -> [[UInt8]]) {
        self.init(name: name) { record, body in
            for tag in tags(record) { tag.withUnsafeBytes(body) }
        }
    }

    /// The tags of a record, as arrays.
    public func tags(_ record: borrowing RecordView) -> [[UInt8]] {
        var tags: [[UInt8]] = []
        forEachTag(record) { tags.append(Array($0)) }
        return tags
    }
}

/// The `tags` database: the tag's length (u8) ‖ tag ‖ seq (u64 BE) → empty, kept like the Merkle tree: built over
/// every record when a ledger is first opened with a rule (or with another rule than the one it
/// was built by), then extended inside each write transaction over the records it stores. Its
/// meta entry `tags` holds how many records it covers (u64 BE) and the rule's name.
enum TagIndex {
    /// How many records the index covers, and the name of the rule that built it.
    static func coverage(_ access: TxnAccess) throws -> (size: UInt64, rule: String)? {
        guard access.databases.tags != nil, let value = try access.get(access.databases.meta, MetaKey.tags) else { return nil }
        let buffer = value.buffer
        guard buffer.count >= 8 else { throw StoreError(.corrupt, "the tag index's coverage is not a number") }
        return (UInt64(bigEndian: buffer.loadUnaligned(as: UInt64.self)), String(decoding: buffer[8...], as: UTF8.self))
    }

    static func prefix(_ tag: some Collection<UInt8>) -> [UInt8] {
        var key = [UInt8]()
        key.reserveCapacity(tag.count + 9)
        key.append(UInt8(truncatingIfNeeded: tag.count))
        key.append(contentsOf: tag)
        return key
    }

    static func key(_ tag: some Collection<UInt8>, _ seq: UInt64) -> [UInt8] {
        prefix(tag) + seq.bigEndianBytes
    }

    /// Extends the index over every record past its coverage, in the write transaction `access`.
    /// A no-op without a rule or when the index covers the head.
    static func extend(_ access: TxnAccess, _ rule: TagRule?) throws {
        guard let rule, let tags = access.databases.tags else { return }
        let head = try access.head()
        let covered = try coverage(access)
        var size = covered?.size ?? 0
        let rebuilt = covered?.rule != rule.name
        if covered != nil && rebuilt {
            // Built by another rule: start again.
            try LMDBError.check(mdb_drop(access.txn, tags, 0))
            size = 0
        }
        guard rebuilt || size < head.seq else { return }
        // Gathered, then written in key order through one cursor (``IndexEntries``), a slice of
        // records at a time (a rebuild at open covers the whole ledger).
        var entries = IndexEntries()
        var gathered = 0
        try access.forEachRecord(from: size + 1, through: head.seq) { record in
            let seq = record.seq
            var fits = true
            rule.forEachTag(record) { tag in
                guard !tag.isEmpty, tag.count <= TagRule.maxTagLength else {
                    fits = false
                    return
                }
                withUnsafeBytes(of: UInt8(tag.count)) { lengthBytes in
                    withUnsafeBytes(of: seq.bigEndian) { seqBytes in entries.append(lengthBytes, tag, seqBytes, seq: seq) }
                }
                gathered += 1
            }
            guard fits else { throw StoreError(.storage, "a tag must have 1 to \(TagRule.maxTagLength) bytes") }
            if gathered >= 1 << 16 {
                try entries.write(access.txn, tags, flags: 0, emptyValues: true)
                entries = IndexEntries()
                gathered = 0
            }
        }
        try entries.write(access.txn, tags, flags: 0, emptyValues: true)
        try Batch.put(access.txn, access.databases.meta, MetaKey.tags, head.seq.bigEndianBytes + Array(rule.name.utf8), flags: 0)
    }

    /// The `seq`s tagged `tag`, through `last`, in `seq` order; nil when the index does not
    /// cover `last`.
    static func seqs(_ access: TxnAccess, tag: some Collection<UInt8>, through last: UInt64, rule: String?) throws -> [UInt64]? {
        guard let tags = access.databases.tags, let covered = try coverage(access), covered.size >= last else { return nil }
        if let rule, covered.rule != rule { return nil }
        guard !tag.isEmpty, tag.count <= TagRule.maxTagLength else { return [] }
        var result: [UInt64] = []
        try access.forEachEntry(in: tags, prefix: prefix(tag), from: 0, through: last) { seq, _ in result.append(seq) }
        return result
    }

    /// The `seq`s tagged with any of `tagList`, through `last`, ascending and each once (a record
    /// tagged with two of them, which the tag rule never does and `verify` reports as damage, is
    /// read once); nil when the index does not cover `last`. The tags are looked up in key order through one cursor:
    /// a tag whose entries are on the leaf page of the one before needs no descent.
    static func seqs(_ access: TxnAccess, taggedWithAny tagList: [[UInt8]], through last: UInt64, rule: String?) throws -> [UInt64]? {
        guard let tags = access.databases.tags, let covered = try coverage(access), covered.size >= last else { return nil }
        if let rule, covered.rule != rule { return nil }
        let prefixes = tagList.filter { !$0.isEmpty && $0.count <= TagRule.maxTagLength }.map(prefix).sorted { $0.lexicographicallyPrecedes($1) }
        var result: [UInt64] = []
        try access.withCursor(tags) { cursor in
            var previous: [UInt8]?
            for prefix in prefixes where prefix != previous {
                previous = prefix
                try access.forEachEntry(cursor, prefix: prefix, from: 0, through: last) { seq, _ in result.append(seq) }
            }
        }
        return SeqList.ascendingUnique(result, through: last)
    }

    /// Opens the `tags` database at open time, creating or rebuilding it for `rule` and
    /// extending it to the head, in one write transaction that changes no record. Where the
    /// ledger cannot be written it opens the index as it is (readers see how far it covers and
    /// do without it past that), or none. Throws only `MDB_MAP_FULL` (with nothing written), for
    /// the caller to grow the map and open it again.
    static func open(env: OpaquePointer, databases: Databases, rule: TagRule) throws(LMDBError) -> MDB_dbi? {
        var txnPointer: OpaquePointer?
        if mdb_txn_begin(env, nil, 0, &txnPointer) == MDB_SUCCESS, let txn = txnPointer {
            var tags: MDB_dbi = 0
            var upgraded = databases
            if mdb_dbi_open(txn, "tags", UInt32(MDB_CREATE), &tags) == MDB_SUCCESS {
                upgraded.tags = tags
                var extended = false
                do {
                    try extend(TxnAccess(txn: txn, databases: upgraded), rule)
                    extended = true
                } catch let error as LMDBError where error == .mapFull {
                    mdb_txn_abort(txn)
                    throw error
                } catch {
                    mdb_txn_abort(txn)
                }
                if extended {
                    // A commit frees the transaction, whether or not it succeeds.
                    let rc = mdb_txn_commit(txn)
                    if rc == MDB_SUCCESS { return tags }
                    if rc == MDB_MAP_FULL { throw LMDBError.mapFull }
                }
            } else {
                mdb_txn_abort(txn)
            }
        }
        // Read-only: the index as it stands, if there is one.
        guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txnPointer) == MDB_SUCCESS, let txn = txnPointer else { return nil }
        var tags: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, "tags", 0, &tags)
        guard rc == MDB_SUCCESS, mdb_txn_commit(txn) == MDB_SUCCESS else {
            if rc != MDB_SUCCESS { mdb_txn_abort(txn) }
            return nil
        }
        return tags
    }
}

/// Lists of `seq`s gathered from several index entries.
package enum SeqList {
    /// `seqs` (each in `1...last`: a precondition, which the index walks that gather them keep),
    /// ascending and each once. Many seqs in a short range (as one
    /// unit's members' facts are in a ledger) are put in order through a bitmap of the range, a
    /// bit a `seq`, rather than by comparisons.
    package static func ascendingUnique(_ seqs: [UInt64], through last: UInt64) -> [UInt64] {
        let words = Int(last / 64) + 1
        guard words <= seqs.count * 4 else {
            var sorted = seqs.sorted()
            var unique = 0
            for index in sorted.indices where unique == 0 || sorted[index] != sorted[unique - 1] {
                sorted[unique] = sorted[index]
                unique += 1
            }
            sorted.removeLast(sorted.count - unique)
            return sorted
        }
        var bits = [UInt64](repeating: 0, count: words)
        for seq in seqs { bits[Int(seq / 64)] |= 1 << (seq % 64) }
        var result: [UInt64] = []
        result.reserveCapacity(seqs.count)
        for (index, word) in bits.enumerated() {
            var remaining = word
            while remaining != 0 {
                result.append(UInt64(index) * 64 + UInt64(remaining.trailingZeroBitCount))
                remaining &= remaining - 1
            }
        }
        return result
    }
}

extension ReadTransaction {
    /// The `seq`s of the records tagged `tag` (by the store's ``TagRule``), through `last`, in
    /// `seq` order; nil when the store keeps no tag index by the rule named `rule` (when given)
    /// or its index does not cover `last` (a ledger written since by a build without the rule,
    /// and not yet opened for writing by one with it): the caller then reads the records itself.
    public func seqs(taggedWith tag: some Collection<UInt8>, through last: UInt64, rule: String? = nil) throws -> [UInt64]? {
        try TagIndex.seqs(access, tag: tag, through: min(last, head.seq), rule: rule)
    }

    /// The `seq`s of the records tagged with any of `tags`, through `last`, ascending and each
    /// once (a record with two of them is listed once); nil as ``seqs(taggedWith:through:rule:)``.
    /// Cheaper than a lookup of each: they are found in key order through one cursor.
    public func seqs(taggedWithAny tags: [[UInt8]], through last: UInt64, rule: String? = nil) throws -> [UInt64]? {
        try TagIndex.seqs(access, taggedWithAny: tags, through: min(last, head.seq), rule: rule)
    }
}

extension TagIndex {
    /// Recomputes the tags of every record the index covers and compares them with the index:
    /// nil when they agree (or there is no index by `rule` to check), else the first record
    /// whose entries are missing, or a stray entry.
    static func verify(_ access: TxnAccess, _ rule: TagRule?) throws -> (seq: UInt64?, reason: String)? {
        guard let rule, let tags = access.databases.tags, let covered = try coverage(access), covered.rule == rule.name else { return nil }
        let head = try access.head()
        guard covered.size <= head.seq else { return (nil, "the tag index covers \(covered.size) records, past the head (seq \(head.seq))") }
        var expected = TagDigest()
        try access.forEachRecord(from: 1, through: covered.size) { record in
            let tags = rule.tags(record)
            for tag in tags.count > 1 ? Array(Set(tags)) : tags { key(tag, record.seq).withUnsafeBytes { expected.add(key: $0) } }
        }
        var stored = TagDigest()
        try access.withCursor(tags) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while rc == MDB_SUCCESS {
                stored.add(key: key.buffer)
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        }
        if expected == stored { return nil }
        var missing: UInt64?
        try access.forEachRecord(from: 1, through: covered.size) { record in
            guard missing == nil else { return }
            for tag in rule.tags(record) {
                if try access.get(tags, key(tag, record.seq)) == nil {
                    missing = record.seq
                    return
                }
            }
        }
        if let missing { return (missing, "the tag index lacks an entry of this record") }
        return (nil, "the tag index holds an entry that no record carries")
    }
}

extension Store {
    /// Checks the tag index (``TagRule``) against the records it covers: nil when it agrees,
    /// else the first disagreement (the `seq` where it shows, if any).
    public func verifyTags() throws -> (seq: UInt64?, reason: String)? {
        try withTransaction(readOnly: true) { access in (try TagIndex.verify(access, environment.tagRule), commit: false) }
    }
}
