import CLMDBBaseline
import Foundation
import KinerjaDomain
import KinerjaLedger
import LedgerStore

/// Plain LMDB, the physical limit of the storage layer: one database keyed by a big-endian
/// `seq`, values appended with `MDB_APPEND`, one durable commit per batch. No indexes, no
/// checks, no hash chain.
struct RawLMDB: ~Copyable {
    var env: OpaquePointer?
    var dbi: MDB_dbi = 0

    init(_ path: String) {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        check(mdb_env_create(&env), "create")
        check(mdb_env_set_mapsize(env, 64 << 30), "mapsize")
        check(mdb_env_open(env, path, 0, 0o644), "open")
        var txn: OpaquePointer?
        check(mdb_txn_begin(env, nil, 0, &txn), "begin")
        check(mdb_dbi_open(txn, nil, 0, &dbi), "dbi")
        check(mdb_txn_commit(txn), "commit")
    }

    deinit { mdb_env_close(env) }

    /// Appends `values` after the last key, `batch` to a durable commit.
    func append(_ values: [[UInt8]], batch: Int) {
        for start in stride(from: 0, to: values.count, by: batch) {
            var txn: OpaquePointer?
            check(mdb_txn_begin(env, nil, 0, &txn), "begin")
            var next = lastKey(txn) + 1
            for index in start..<min(start + batch, values.count) {
                var key = next.bigEndian
                values[index].withUnsafeBytes { value in
                    withUnsafeMutableBytes(of: &key) { keyBytes in
                        var k = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                        check(mdb_put(txn, dbi, &k, &v, UInt32(MDB_APPEND)), "put")
                    }
                }
                next += 1
            }
            check(mdb_txn_commit(txn), "commit")
        }
    }

    private func lastKey(_ txn: OpaquePointer?) -> UInt64 {
        var cursor: OpaquePointer?
        check(mdb_cursor_open(txn, dbi, &cursor), "cursor")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        guard mdb_cursor_get(cursor, &key, &value, MDB_LAST) == 0 else { return 0 }
        return UInt64(bigEndian: key.mv_data.loadUnaligned(as: UInt64.self))
    }

    /// Re-chains every value, `hash(n) = SHA-256(hash(n-1) ‖ canonical)`, against its stored hash;
    /// returns the count (a mismatch stops the run).
    func rechain() -> Int {
        var count = 0
        var previous = ChainHash.zero
        forEachValue { bytes in
            let hash = ChainHash.chain(previous, UnsafeRawBufferPointer(rebasing: bytes[32...]))
            guard hash == ChainHash(uncheckedBytes: bytes) else { fatalError("hash mismatch at \(count + 1)") }
            previous = hash
            count += 1
        }
        return count
    }

    /// Reads every value with a cursor, touching each (its length and first byte: the page it
    /// lies on is read, nothing more is done); returns the count and a checksum of what was touched.
    func scan() -> (count: Int, sum: UInt64) {
        var count = 0
        var sum: UInt64 = 0
        forEachValue { bytes in
            sum &+= UInt64(bytes.count) &+ UInt64(bytes.first ?? 0)
            count += 1
        }
        return (count, sum)
    }

    /// Calls `body` with every value, in key order, in place.
    private func forEachValue(_ body: (UnsafeRawBufferPointer) -> Void) {
        var txn: OpaquePointer?
        check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "begin")
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        check(mdb_cursor_open(txn, dbi, &cursor), "cursor")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
        while rc == 0 {
            body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
    }
}

/// `lmdb-import --ledger P --raw R --batch B`: the ledger's own stored values (hash and
/// canonical record), read back untimed, then appended to plain LMDB, timed.
func lmdbImport(_ options: Options) throws {
    var values: [[UInt8]] = []
    try Store.open(at: options.required("--ledger")).read { txn in
        try txn.forEachRecord { record in values.append(record.hash.bytes + Array(record.canonical)) }
    }
    let path = options.required("--raw")
    let raw = RawLMDB(path)
    let time = seconds { raw.append(values, batch: options.int("--batch", 10_000)) }
    emit(["events": values.count, "seconds": time, "bytes": fileSize(path + "/data.mdb"), "record_bytes": values.reduce(0) { $0 + $1.count }])
}

/// `lmdb-scan --raw R`: a cursor over every value.
func lmdbScan(_ options: Options) throws {
    let raw = RawLMDB(options.required("--raw"))
    var result = (count: 0, sum: UInt64(0))
    let cpu = threadCPUSeconds()
    let time = seconds { result = raw.scan() }
    emit(["events": result.count, "seconds": time, "cpu_seconds": threadCPUSeconds() - cpu, "checksum": result.sum])
}

/// `lmdb-verify --raw R`: a cursor over every value (hash ‖ canonical record), re-chaining
/// SHA-256 over the canonical bytes and comparing each stored hash: the least a chain check does.
func lmdbVerify(_ options: Options) throws {
    let raw = RawLMDB(options.required("--raw"))
    var count = 0
    let time = seconds { count = raw.rechain() }
    emit(["events": count, "seconds": time])
}

/// `lmdb-writer --input F --raw R --batch B`: one of the concurrent writers; the canonical
/// payloads of its events, decoded untimed.
func lmdbWriter(_ options: Options) throws {
    let decoded = JSONLines.decode(try Data(contentsOf: URL(fileURLWithPath: options.required("--input"))))
    let values = decoded.submissions.map { PayloadCodec.encode($0.submission.event) }
    let raw = RawLMDB(options.required("--raw"))
    let time = seconds { raw.append(values, batch: options.int("--batch", 100)) }
    emit(["events": values.count, "seconds": time])
}
