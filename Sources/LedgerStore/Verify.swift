import CLMDB

/// What ``Store/verify(keysOf:)`` found.
public enum Verification: Equatable, Sendable {
    /// Every record re-hashed to its stored hash and the head, and every index agrees with the log.
    case intact(head: Head, records: UInt64)
    /// The first `seq` at which something is wrong (nil when no record can be named, e.g. a
    /// damaged head), and what.
    case broken(seq: UInt64?, reason: String)
}

/// A part of the ledger that does not agree with its records: the first `seq` where it shows
/// (nil when no record can be named) and what.
public typealias VerificationFault = (seq: UInt64?, reason: String)

extension Store {
    /// Re-hashes the whole chain from `hash(0)` and checks the head and the indexes against the log,
    /// in one read of the records on this thread (``verifyAll(tags:tree:keysOf:)`` uses two).
    ///
    /// - Parameter keysOf: the unique keys a record claims, derived from its payload by the writer,
    ///   or a thrown error if the payload does not decode: then that record is named as broken.
    public func verify(keysOf: (borrowing RecordView) throws -> [[UInt8]]) throws -> Verification {
        let outcome = try withoutActuallyEscaping(keysOf) { keysOf in
            try runPass(keysOf: keysOf, tagRule: nil, tree: false, threads: 1)
        }
        if outcome.records { return .intact(head: outcome.head, records: outcome.head.seq) }
        return try verifySequentially(keysOf: keysOf)
    }

    /// Everything `verify` checks, in one read of the records shared by two threads: the chain,
    /// the head, each record's payload (`keysOf`), the stream, id and unique-key indexes, and
    /// with `tags` the tag index (``verifyTags()``), with `tree` the Merkle tree
    /// (``verifyTree()``). The tag index and the tree are judged only when the records are
    /// intact (else nil). A fault is named as the sequential checks name it: the first `seq`.
    public func verifyAll(
        tags: Bool, tree: Bool, keysOf: @escaping @Sendable (borrowing RecordView) throws -> [[UInt8]]
    ) throws -> (records: Verification, tags: VerificationFault?, tree: VerificationFault?) {
        let outcome = try runPass(keysOf: keysOf, tagRule: tags ? environment.tagRule : nil, tree: tree, threads: 2)
        let records = outcome.records ? Verification.intact(head: outcome.head, records: outcome.head.seq) : try verifySequentially(keysOf: keysOf)
        guard case .intact = records else { return (records, nil, nil) }
        let tagFault = tags && !outcome.tags ? try verifyTags() ?? (nil, "the tag index disagrees with the records") : nil
        let treeFault = tree && !outcome.tree ? try verifyTree() ?? (nil, "the Merkle tree disagrees with the records") : nil
        return (records, tagFault, treeFault)
    }

    /// One ``VerifyPass`` over a snapshot, on `threads` threads.
    private func runPass(keysOf: @escaping KeysOf, tagRule: TagRule?, tree: Bool, threads: Int) throws -> VerifyPass.Outcome {
        try withTransaction(readOnly: true) { access in
            let pass = try VerifyPass(access: access, keysOf: keysOf, tagRule: tagRule, tree: tree)
            let outcome = try pass.run(access, threads: threads) { work in
                // A read transaction of its own for the second thread, begun directly: this one
                // holds the resize lock shared until both threads are done, so going through
                // `withTransaction` (whose answer to MDB_MAP_RESIZED takes that lock exclusively)
                // could wait on itself. On any error the second thread just does not help.
                guard let txn = try? self.environment.begin(readOnly: true) else { return }
                defer { mdb_txn_abort(txn) }
                work(TxnAccess(txn: txn, databases: self.environment.databases))
            }
            return (outcome, commit: false)
        }
    }

    /// The checks of ``verify(keysOf:)`` record by record, in `seq` order: the first fault, named.
    func verifySequentially(keysOf: (borrowing RecordView) throws -> [[UInt8]]) throws -> Verification {
        try read { txn in
            let access = txn.access
            var expectedSeq: UInt64 = 1
            var previous = Head.empty
            // Order-independent digests of the index entries the log implies, compared with
            // those the indexes hold; only on a mismatch is each record looked up.
            var implied = IndexDigest()
            var failure: Verification?

            try access.withCursor(access.databases.events) { cursor in
                var key = MDB_val()
                var value = MDB_val()
                var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                while rc == MDB_SUCCESS {
                    guard let seq = key.bigEndianUInt64() else {
                        failure = .broken(seq: expectedSeq, reason: "an event key of \(key.mv_size) bytes is not a seq")
                        return
                    }
                    guard seq == expectedSeq else {
                        failure = .broken(seq: expectedSeq, reason: seq > expectedSeq ? "record \(expectedSeq) is missing" : "record \(seq) is out of order")
                        return
                    }
                    do {
                        try CanonicalRecord.view(value: value.buffer) { record in
                            guard record.seq == seq else {
                                throw Broken("record stored under seq \(seq) says seq \(record.seq)")
                            }
                            let hash = ChainHash.chain(previous.hash, record.canonical)
                            guard hash == record.hash else {
                                let culprit = seq == 1 ? "" : ": seq \(seq) was changed, or seq \(seq - 1) was replaced with a record whose own hash was recomputed"
                                throw Broken("hash mismatch: stored \(record.hash.hex), recomputed \(hash.hex) from the previous hash and the record's bytes" + culprit)
                            }
                            guard record.recordedAt >= previous.recordedAt else {
                                throw Broken("recorded_at goes backwards")
                            }
                            let keys: [[UInt8]]
                            do { keys = try keysOf(record) } catch { throw Broken("payload does not decode: \(error)") }
                            implied.add(record: record, keys: keys)
                            previous = Head(seq: seq, hash: hash, recordedAt: record.recordedAt)
                        }
                    } catch let broken as Broken {
                        failure = .broken(seq: seq, reason: broken.reason)
                        return
                    } catch {
                        failure = .broken(seq: seq, reason: "\(error)")
                        return
                    }
                    expectedSeq += 1
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                }
                if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
            }
            if let failure { return failure }

            let head = try access.head()
            if head != previous {
                if head.seq > previous.seq {
                    return .broken(seq: previous.seq + 1, reason: "the head says seq \(head.seq) but the log ends at \(previous.seq)")
                }
                return .broken(seq: previous.seq, reason: "the head (seq \(head.seq), \(head.hash.hex)) does not match the last record")
            }
            // The stream index holds exactly the records' (stream, version, seq) when the digests
            // agree; its versions, in key order, must then run 1, 2, 3... with rising seqs.
            let stored = try IndexDigest(access: access)
            if stored != implied {
                return try locateIndexFault(access: access, keysOf: keysOf)
            }
            if !stored.versionsContinue {
                return try locateVersionFault(access: access)
            }
            return .intact(head: head, records: previous.seq)
        }
    }

    /// The slow path for versions: the first record whose version does not follow its stream's last.
    private func locateVersionFault(access: TxnAccess) throws -> Verification {
        var versions: [String: UInt64] = [:]
        var found: Verification?
        try access.forEachRecord(from: 1, through: .max) { record in
            guard found == nil else { return }
            let expected = (versions[record.stream] ?? 0) + 1
            if record.version != expected {
                found = .broken(seq: record.seq, reason: "version \(record.version) of \(record.stream), expected \(expected)")
            }
            versions[record.stream] = record.version
        }
        return found ?? .broken(seq: nil, reason: "the stream index's versions do not run 1, 2, 3... in seq order")
    }

    /// The slow path: finds the first record whose index entries are wrong or missing, or the
    /// first index entry pointing at a record that does not claim it.
    private func locateIndexFault(access: TxnAccess, keysOf: (borrowing RecordView) throws -> [[UInt8]]) throws -> Verification {
        var found: Verification?
        var firstStray: (seq: UInt64, reason: String)?
        func noteStray(_ seq: UInt64, _ reason: String) {
            if firstStray == nil || seq < firstStray!.seq { firstStray = (seq, reason) }
        }
        try access.forEachRecord(from: 1, through: .max) { record in
            guard found == nil else { return }
            let seq = record.seq
            if try !access.streamIndexHolds(record.stream, seq: seq) {
                found = .broken(seq: seq, reason: "the stream index has no entry for \(record.stream) version \(record.version) pointing here")
            } else if try access.seq(of: record.id) != seq {
                found = .broken(seq: seq, reason: "the id index does not point at this record")
            } else {
                for key in try keysOf(record) where try access.seq(forKey: key) != seq {
                    found = .broken(seq: seq, reason: "the unique-key index does not point at this record")
                    break
                }
            }
        }
        if let found { return found }
        // Every record is indexed: so some index holds an extra entry, or (the stream index) one
        // out of its place, whose version is not the record's.
        try access.forEachStreamEntry { key, version, seq, recent in
            let claims = try access.withRecord(at: seq) { record in
                record.version == version && key.count == record.streamBytes.count + 1 && key.starts(with: record.streamBytes)
            } ?? false
            let tier = recent ? "recent" : "settled"
            if !claims { noteStray(seq, "the stream index (its \(tier) tier) has an entry pointing at seq \(seq) as version \(version) of its stream that the record does not claim") }
        }
        for (name, dbi) in [("id", access.databases.ids), ("unique-key", access.databases.keys)] {
            try access.withCursor(dbi) { cursor in
                var key = MDB_val()
                var value = MDB_val()
                var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
                while rc == MDB_SUCCESS {
                    let keyBytes = Array(key.buffer)
                    if let seq = value.bigEndianUInt64() {
                        let claims = try access.withRecord(at: seq) { record -> Bool in
                            name == "id" ? keyBytes == record.id.bytes : try keysOf(record).contains(keyBytes)
                        } ?? false
                        if !claims { noteStray(seq, "the \(name) index has an entry pointing at seq \(seq) that the record does not claim") }
                    } else {
                        noteStray(0, "the \(name) index has an entry whose value is not a seq")
                    }
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
                }
            }
        }
        if let firstStray { return .broken(seq: firstStray.seq == 0 ? nil : firstStray.seq, reason: firstStray.reason) }
        return .broken(seq: nil, reason: "the indexes disagree with the log")
    }
}

private struct Broken: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A multiset digest of index entries: a count and a wrapping sum of entry hashes per index.
///
/// **What it must resist.** The digest of what the records imply is compared with the digest of
/// what the indexes hold; equal digests are taken to mean equal multisets of entries. An entry's
/// hash is the standard library's `Hasher` (SipHash-1-3) over the entry's bytes, keyed by the
/// process's random seed, so:
/// - *damage* (a flipped bit, a lost or repeated page, an entry pointing at the wrong `seq`)
///   changes an entry into another whose hash is, for every purpose here, a fresh random 64-bit
///   value: the sums then agree with probability about 2⁻⁶⁴ (and the counts must agree too);
/// - *tampering* by someone who cannot read the process's memory: without the seed the hash of
///   no entry can be computed, so no set of forged entries can be chosen to cancel the ones
///   removed or changed (a sum of unkeyed or linear hashes could be: a CRC, or swapping the
///   `seq`s of two entries under any hash that is linear in its words); a forger's only hope is a
///   guess, right once in 2⁶⁴. The seed is new in every process, so a failed guess teaches
///   nothing for the next run.
///
/// What is hashed is exactly the entry (the index's key and the `seq` it points at), fed to one
/// `Hasher` as one stream of bytes: a `Hasher` fed `a` then `b` gives what one fed `a ‖ b`
/// gives (it buffers a partial word between calls), which lets the scan of the stream index hash
/// each stream's name once and copy that state for each of its entries (``Entry/prefix(_:)``,
/// ``Entry/add(continuing:tail:seq:)``); were that ever not so, every intact ledger would fail
/// `verify`, which every test of an intact ledger would show. Every hasher
/// starts as a copy of one made at the start (``seeded``): `Hasher()` is the same state each
/// time in a process, and copying it costs less than making it.
struct IndexDigest: Equatable {
    var streams = Entry()
    var ids = Entry()
    var keys = Entry()

    /// A `Hasher` seeded as `Hasher()` is (its state is the same for every `Hasher()` of a process).
    static let seeded = Hasher()

    struct Entry: Equatable {
        var count = 0
        var sum: UInt64 = 0

        mutating func add(key: UnsafeRawBufferPointer, seq: UInt64) {
            var hasher = IndexDigest.seeded
            hasher.combine(bytes: key)
            hasher.combine(seq)
            count += 1
            sum &+= UInt64(bitPattern: Int64(hasher.finalize()))
        }

        /// A hasher that has been fed `prefix`: for entries whose keys start with it.
        static func prefix(_ prefix: UnsafeRawBufferPointer) -> Hasher {
            var hasher = IndexDigest.seeded
            hasher.combine(bytes: prefix)
            return hasher
        }

        /// Adds the entry whose key is the bytes `prefixed` was fed, then `tail`'s 8 bytes
        /// (big-endian): the hash of ``add(key:seq:)`` for that key.
        mutating func add(continuing prefixed: Hasher, tail: UInt64, seq: UInt64) {
            var hasher = prefixed
            // `tail`'s 8 bytes fed as bytes, as ``add(key:seq:)`` feeds them within the key:
            // `combine(bytes:)` calls may split one byte sequence anywhere and give the same hash.
            withUnsafeBytes(of: tail.bigEndian) { hasher.combine(bytes: $0) }
            hasher.combine(seq)
            count += 1
            sum &+= UInt64(bitPattern: Int64(hasher.finalize()))
        }

        mutating func add(key: [UInt8], seq: UInt64) {
            key.withUnsafeBytes { add(key: $0, seq: seq) }
        }

        mutating func merge(_ other: Entry) {
            count += other.count
            sum &+= other.sum
        }
    }

    init() {}

    /// Adds a record's entries, their keys built on the stack (no allocation per record).
    mutating func add(record: borrowing RecordView, keys: [[UInt8]]) {
        let seq = record.seq
        let stream = record.streamBytes
        withUnsafeTemporaryAllocation(byteCount: stream.count + 9, alignment: 1) { key in
            // stream ‖ 0x00 ‖ version (u64 BE): the stream index's key and the entry's place (``StreamIndex``).
            key.copyMemory(from: stream)
            key[stream.count] = 0
            key.storeBytes(of: record.version.bigEndian, toByteOffset: stream.count + 1, as: UInt64.self)
            streams.add(key: UnsafeRawBufferPointer(key), seq: seq)
        }
        withUnsafeBytes(of: (record.id.high.bigEndian, record.id.low.bigEndian)) { ids.add(key: $0, seq: seq) }
        for key in keys { self.keys.add(key: key, seq: seq) }
    }

    /// Adds another digest's entries (a digest of other records).
    mutating func merge(_ other: IndexDigest) {
        streams.merge(other.streams)
        ids.merge(other.ids)
        keys.merge(other.keys)
        versionsContinue = versionsContinue && other.versionsContinue
    }

    /// Whether, in the stream index read in key order, each stream's versions run 1, 2, 3...
    /// with rising seqs (only known for a digest read from the indexes).
    var versionsContinue = true

    static func == (a: IndexDigest, b: IndexDigest) -> Bool {
        a.streams == b.streams && a.ids == b.ids && a.keys == b.keys
    }

    /// The digest of what the indexes hold, read sequentially.
    init(access: TxnAccess) throws {
        let scanned = try Self.scanStreams(access)
        streams = scanned.entry
        versionsContinue = scanned.versionsContinue
        ids = try Self.scan(access, access.databases.ids)
        keys = try Self.scan(access, access.databases.keys)
    }

    /// The digest of the stream index, both tiers — each entry as stream ‖ 0x00 ‖ version (its
    /// place in its stream) and `seq`, as ``add(record:keys:)`` makes them — and whether each
    /// stream's `seq`s rise, its settled ones then its recent ones. A `seq` in both tiers is an
    /// entry too many, so the digests differ; a recent one below a settled one breaks the rise.
    static func scanStreams(_ access: TxnAccess) throws -> (entry: Entry, versionsContinue: Bool) {
        var entry = Entry()
        var last: UInt64 = 0
        var continuing = true
        // The stream's key hashed once: `forEachStreamEntry` numbers each stream's entries from
        // 1 (over both tiers, whose keys for one stream are the same bytes), so version 1 is a
        // new key.
        var stream = IndexDigest.seeded
        try access.forEachStreamEntry { key, version, seq, _ in
            // A key is the stream's name and a zero byte.
            guard key.count >= 1, key.count <= 512, key[key.count - 1] == 0 else {
                continuing = false
                return
            }
            if version == 1 {
                last = 0
                stream = Entry.prefix(key)
            }
            if seq <= last { continuing = false }
            last = seq
            entry.add(continuing: stream, tail: version, seq: seq)
        }
        return (entry, continuing)
    }

    static func scan(_ access: TxnAccess, _ dbi: MDB_dbi, each: (UnsafeRawBufferPointer, UInt64) -> Void = { _, _ in }) throws -> Entry {
        var entry = Entry()
        try access.withCursor(dbi) { cursor in
            var key = MDB_val()
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            while rc == MDB_SUCCESS {
                let seq = value.bigEndianUInt64() ?? .max
                entry.add(key: key.buffer, seq: seq)
                each(key.buffer, seq)
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try LMDBError.check(rc) }
        }
        return entry
    }
}

extension Store {
    /// For tests: the digest of the stream index as `verify` reads it, each stream's key hashed
    /// once (``IndexDigest/scanStreams(_:)``), and as each entry's whole key (stream ‖ 0x00 ‖
    /// version) hashed alone gives it (``IndexDigest/Entry/add(key:seq:)``): equal, or `verify`
    /// would fail intact ledgers.
    package func streamDigests() throws -> (onceHashed: (count: Int, sum: UInt64), fullKey: (count: Int, sum: UInt64)) {
        try withTransaction(readOnly: true) { access in
            let once = try IndexDigest.scanStreams(access).entry
            var full = IndexDigest.Entry()
            try access.forEachStreamEntry { key, version, seq, _ in
                full.add(key: Array(key) + withUnsafeBytes(of: version.bigEndian) { Array($0) }, seq: seq)
            }
            return (((once.count, once.sum), (full.count, full.sum)), commit: false)
        }
    }
}
