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

    /// Reads every value with a cursor, touching each (its length and first byte: the page it
    /// lies on is read, nothing more is done); returns the count and a checksum of what was touched.
    func scan() -> (count: Int, sum: UInt64) {
        var txn: OpaquePointer?
        check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "begin")
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        check(mdb_cursor_open(txn, dbi, &cursor), "cursor")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var count = 0
        var sum: UInt64 = 0
        var rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
        while rc == 0 {
            sum &+= UInt64(value.mv_size) &+ UInt64(value.mv_data.load(as: UInt8.self))
            count += 1
            rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        return (count, sum)
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
    let time = seconds { result = raw.scan() }
    emit(["events": result.count, "seconds": time, "checksum": result.sum])
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
