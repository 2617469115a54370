import CLMDB
import Glibc

/// An append-only, hash-chained log of records in one LMDB environment.
///
/// Records belong to streams, carry a writer-chosen 16-byte id, and are numbered by `seq`
/// (1, 2, 3... with no gap). The store indexes them by stream and by id, keeps unique keys
/// that writers claim, and chains them: `hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of n)`.
/// It knows nothing of what the payloads mean.
///
/// ```swift
/// let store = try Store.create(at: "demo.ledger")
/// try store.append { batch in
///     try batch.append(stream: "unit:DINKES", id: id, payload: bytes)
/// }
/// try store.read { txn in
///     try txn.forEachRecord { record in print(record.seq) }
/// }
/// ```
///
/// Appends from several threads and processes are serialised by LMDB's writer lock; each
/// batch is one transaction, durable when ``append(_:)`` returns.
public final class Store: Sendable {
    let environment: Environment

    /// The ledger directory.
    public var path: String { environment.path }

    private init(environment: Environment) {
        self.environment = environment
    }

    /// Creates a new, empty ledger at `path` (a directory, created if missing).
    /// Fails with ``StoreError/Code/alreadyExists`` if there is one already.
    public static func create(at path: String, options: StoreOptions = StoreOptions()) throws -> Store {
        Store(environment: try Environment.open(path: path, create: true, options: options))
    }

    /// Opens the ledger at `path`. Fails with ``StoreError/Code/notALedger`` if there is none.
    public static func open(at path: String, options: StoreOptions = StoreOptions()) throws -> Store {
        Store(environment: try Environment.open(path: path, create: false, options: options))
    }

    /// The current map size in bytes; it doubles whenever an append fills it.
    public var mapSize: Int { environment.mapSize }

    /// Runs `body` on a consistent snapshot.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try withTransaction(readOnly: true) { access in
            let transaction = try ReadTransaction(access: access)
            return (try body(transaction), commit: false)
        }
    }

    /// The head: the last `seq`, its hash and its `recorded_at`.
    public func head() throws -> Head {
        try read { $0.head }
    }

    /// Stages records with `body` and commits them as one durable transaction: all of them or,
    /// if `body` throws, none.
    ///
    /// When the map is full the transaction is rolled back, the map grown, and `body` run
    /// again from the start, so `body` must have no effects outside the batch.
    @discardableResult
    public func append<R>(_ body: (inout Batch) throws -> R) throws -> R {
        let now = environment.clock()
        return try withTransaction(readOnly: false) { access in
            var batch = try Batch(access: access, now: now)
            let result = try body(&batch)
            try batch.flush()
            return (result, commit: batch.count > 0)
        }
    }

    /// Writes `staged.records[range]`, staged by a ``dryRun(_:)``, in one durable transaction,
    /// provided the ledger's head is still the one they continue (no other writer got in since
    /// the dry run, or since the records before `range` were written). Returns the new head, or
    /// nil, having written nothing, when the head has moved: the records must then be staged again.
    public func append(_ staged: StagedRecords, _ range: Range<Int>) throws -> Head? {
        precondition(range.lowerBound >= 0 && range.upperBound <= staged.count)
        let expected = staged.head(after: range.lowerBound)
        let head = staged.head(after: range.upperBound)
        return try withTransaction(readOnly: false) { access in
            guard try access.head() == expected else { return (nil, commit: false) }
            try Batch.write(staged.records[range], head: head, access: access)
            return (head, commit: !range.isEmpty)
        }
    }

    /// Runs `body` on a batch over a snapshot and discards it: the checks of ``append(_:)``
    /// without writing, and without holding the writer lock.
    public func dryRun<R>(_ body: (inout Batch) throws -> R) throws -> R {
        let now = environment.clock()
        return try withTransaction(readOnly: true) { access in
            var batch = try Batch(access: access, now: now)
            return (try body(&batch), commit: false)
        }
    }

    /// Flushes every commit to the disk (for a store opened without `syncsEachCommit`).
    public func sync() throws {
        do { try LMDBError.check(mdb_env_sync(environment.env, 1)) } catch { throw StoreError(.storage, "cannot flush the ledger to the disk", cause: error) }
    }

    private func withTransaction<R>(readOnly: Bool, _ body: (TxnAccess) throws -> (R, commit: Bool)) throws -> R {
        while true {
            do {
                return try environment.resizeLock.shared {
                    let txn = try environment.begin(readOnly: readOnly)
                    var open = true
                    defer { if open { mdb_txn_abort(txn) } }
                    let (result, commit) = try body(TxnAccess(txn: txn, databases: environment.databases))
                    open = false
                    if commit {
                        try LMDBError.check(mdb_txn_commit(txn))
                    } else {
                        mdb_txn_abort(txn)
                    }
                    return result
                }
            } catch let error as LMDBError where error == .mapFull && !readOnly {
                try environment.grow()
            } catch let error as LMDBError where error == .mapResized {
                try environment.adoptMapSize()
            } catch let error as LMDBError where !readOnly && (error.code == EIO || error.code == ENOSPC) && environment.freeBytes() < 16 << 20 {
                // LMDB reports a short write as EIO: say what it means.
                throw StoreError(.storage, "cannot write to the ledger: no space left on the device (\(environment.freeBytes() >> 10) KiB free); nothing of this batch was stored")
            } catch let error as LMDBError {
                throw StoreError(.storage, readOnly ? "cannot read the ledger" : "cannot write to the ledger", cause: error)
            }
        }
    }
}

@available(*, unavailable, message: "a transaction lives only inside Store.read")
extension ReadTransaction: Sendable {}

@available(*, unavailable, message: "a batch lives only inside Store.append or Store.dryRun")
extension Batch: Sendable {}
