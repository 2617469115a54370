import KinerjaDomain
import LedgerStore

/// The appraisal ledger: validated domain events appended to, and replayed from, the store.
///
/// ```swift
/// let ledger = try Ledger.open(at: "kinerja.ledger")
/// let report = try ledger.append(lines.enumerated().map { ... })
/// try ledger.forEachRecorded { event, recorded in print(recorded.seq, event.type) }
/// ```
public final class Ledger: Sendable {
    /// Internal: every append goes through the checks of ``append(_:options:progress:)``.
    let store: Store

    init(store: Store) { self.store = store }

    /// The ledger directory.
    public var path: String { store.path }

    /// The current LMDB map size in bytes; it doubles whenever an append fills it.
    public var mapSize: Int { store.mapSize }

    /// What pre-mapping the ledger's file did when it opened (``StoreOptions/premapsFile``, for
    /// a long-running reader); nil when it was opened without.
    public var premap: Premap? { store.premap }

    /// Where commands find the ledger: `--ledger`, else `KINERJA_LEDGER`, else `./kinerja.ledger`.
    public static func resolvePath(_ explicit: String?, environment: [String: String]) -> String {
        explicit ?? environment["KINERJA_LEDGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "kinerja.ledger"
    }

    public static func create(at path: String, options: StoreOptions = StoreOptions()) throws -> Ledger {
        Ledger(store: try Store.create(at: path, options: withTags(options)))
    }

    /// Opens the ledger at `path`; one written before the membership index (``tagRule``) gets
    /// it built here, as the Merkle tree is.
    public static func open(at path: String, options: StoreOptions = StoreOptions()) throws -> Ledger {
        Ledger(store: try Store.open(at: path, options: withTags(options)))
    }

    private static func withTags(_ options: StoreOptions) -> StoreOptions {
        var options = options
        options.tagRule = tagRule
        return options
    }

    public func head() throws -> Head { try store.head() }

    /// Flushes every commit to the disk (for a ledger opened without `syncsEachCommit`).
    public func sync() throws { try store.sync() }

    /// A read transaction over the stored records as they lie, for this package's tests, which
    /// compare a fast path's output with one built from the records: it can only read (every
    /// append goes through the ledger's checks, and the store itself is not handed out).
    package func readStorage<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        try store.read(body)
    }

    /// Whether every write transaction so far kept to the store's bound on dirty pages
    /// (``StoreOptions/dirtyPageBound``), and how many spilled pages to keep to it: for the tests
    /// that write through LMDB's spill path.
    package var boundsDirtyPages: Bool { store.environment.boundsDirtyPages }
    package var spilledTransactions: Int { store.environment.spilledTransactions }
}

extension EventID {
    package init(_ id: RecordID) { self.init(high: id.high, low: id.low) }
}

extension RecordID {
    init(_ id: EventID) { self.init(high: id.high, low: id.low) }
}

extension RecordedFields {
    package init(_ record: borrowing RecordView, previous: ChainHash) {
        self.init(
            seq: record.seq, stream: record.stream, version: record.version,
            recordedAt: record.recordedAt, prevHash: previous, hash: record.hash)
    }
}
