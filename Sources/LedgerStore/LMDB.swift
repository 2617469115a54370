import CLMDB
import Glibc

/// An LMDB return code that is not success, matchable in `catch`:
///
/// ```swift
/// catch let error as LMDBError where error == .mapFull { ... }
/// ```
public struct LMDBError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(code: Int32) { self.code = code }

    public static let notFound = LMDBError(code: MDB_NOTFOUND)
    public static let keyExists = LMDBError(code: MDB_KEYEXIST)
    public static let mapFull = LMDBError(code: MDB_MAP_FULL)
    public static let mapResized = LMDBError(code: MDB_MAP_RESIZED)
    public static let readersFull = LMDBError(code: MDB_READERS_FULL)

    public var description: String { String(cString: mdb_strerror(code)) }

    @inline(__always) static func check(_ rc: Int32) throws(LMDBError) {
        if rc != MDB_SUCCESS { throw LMDBError(code: rc) }
    }
}

/// A reader–writer lock: transactions hold it shared, a map resize holds it exclusively
/// (LMDB: `mdb_env_set_mapsize` "may be called if no transactions are active in this process").
final class ResizeLock: @unchecked Sendable {
    // @unchecked: the pthread lock is the synchronisation; it lives at a stable heap address.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// Calls `body` with an `MDB_val` pointing at `bytes` (LMDB does not write through it).
@inline(__always)
func withValue<R>(_ bytes: UnsafeRawBufferPointer, _ body: (inout MDB_val) throws -> R) rethrows -> R {
    var value = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    return try body(&value)
}

@inline(__always)
func withValue<R>(_ bytes: [UInt8], _ body: (inout MDB_val) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { try withValue($0, body) }
}

@inline(__always)
func withSeqKey<R>(_ seq: UInt64, _ body: (inout MDB_val) throws -> R) rethrows -> R {
    try withUnsafeBytes(of: seq.bigEndian) { try withValue($0, body) }
}

extension MDB_val {
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: mv_data, count: mv_size) }

    func bigEndianUInt64() -> UInt64? {
        guard mv_size == 8 else { return nil }
        return UInt64(bigEndian: mv_data.loadUnaligned(as: UInt64.self))
    }
}

extension UInt64 {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
}

/// The LMDB this process linked, read once.
enum LinkedLMDB {
    static let version: (major: Int32, minor: Int32, patch: Int32) = {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        mdb_version(&major, &minor, &patch)
        return (major, minor, patch)
    }()
    /// Whether it is LMDB 0.9, whose private `struct MDB_txn` shim.h reads (`kinerja_txn_next_page`).
    static let isVersion09 = version.major == 0 && version.minor == 9
    /// Whether its `struct MDB_txn` is the one `kinerja_txn_bound_dirty_pages` knows (0.9.14 to 0.9.31).
    static let knowsTransactionLayout = isVersion09 && (14...31).contains(version.patch)
    /// Whether it leaks a top-level transaction's list of spilled pages (before 0.9.25, ITS#9155).
    static let leaksSpillList = isVersion09 && version.patch < 25
    /// `major.minor.patch`.
    static var description: String { "\(version.major).\(version.minor).\(version.patch)" }
}
