import CLMDBBaseline
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore

/// `kinerja-bench import [--events N] [--batch N]`: end-to-end import of generated JSON Lines
/// (read, decode and validate, check, hash-chain, durable commits), then the same record bytes
/// appended with plain LMDB (`MDB_APPEND`, same batch size, durable commits), in the same run.

func importBenchmark() throws {
    let count = argument("--events", default: 1_000_000)
    let batch = argument("--batch", default: 10_000)
    let employees = argument("--employees", default: max(100, count / 100))
    let scratch = TemporaryDirectory("kinerja-bench")
    defer { scratch.remove() }

    // The workload (not timed).
    var generator = SampleGenerator(seed: 1, employees: employees)
    var jsonl = [UInt8]()
    jsonl.reserveCapacity(count * 400)
    for _ in 0..<count {
        jsonl.append(contentsOf: WireEncoder.encode(generator.next()).utf8)
        jsonl.append(UInt8(ascii: "\n"))
    }
    let inputPath = scratch.child("events.jsonl")
    _ = FileManager.default.createFile(atPath: inputPath, contents: Data(jsonl))
    jsonl = []
    print("workload: \(count) events, \(employees) employees, \(try! FileManager.default.attributesOfItem(atPath: inputPath)[.size] as! Int / count) bytes a line, batches of \(batch)")

    // The ledger, end to end.
    let ledgerPath = scratch.child("ledger")
    let ledger = try Ledger.create(at: ledgerPath)
    var decoded: (submissions: [NumberedSubmission], invalid: [WireError]) = ([], [])
    var report: AppendReport?
    let readAndDecode = try seconds {
        let data = try Data(contentsOf: URL(fileURLWithPath: inputPath))
        decoded = JSONLines.decode(data)
    }
    let appendTime = try seconds {
        report = try ledger.append(decoded.submissions, invalid: decoded.invalid, options: AppendOptions(batchSize: batch))
    }
    precondition(report?.appended == count && decoded.invalid.isEmpty, "the workload did not append whole")
    decoded = ([], [])
    let ledgerTotal = readAndDecode + appendTime

    // The same record bytes, read back from the ledger (not timed).
    var values: [[UInt8]] = []
    values.reserveCapacity(count)
    try ledger.store.read { txn in
        try txn.forEachRecord { record in values.append(record.hash.bytes + Array(record.canonical)) }
    }
    let recordBytes = values.reduce(0) { $0 + $1.count }

    // Plain LMDB: one database, MDB_APPEND, the same batches, durable commits.
    let rawPath = scratch.child("raw")
    try FileManager.default.createDirectory(atPath: rawPath, withIntermediateDirectories: true)
    var env: OpaquePointer?
    check(mdb_env_create(&env), "create")
    check(mdb_env_set_mapsize(env, 16 << 30), "mapsize")
    check(mdb_env_open(env, rawPath, 0, 0o644), "open")
    var dbi: MDB_dbi = 0
    let rawTime = seconds {
        for start in stride(from: 0, to: values.count, by: batch) {
            var txn: OpaquePointer?
            check(mdb_txn_begin(env, nil, 0, &txn), "begin")
            if start == 0 { check(mdb_dbi_open(txn, nil, 0, &dbi), "dbi") }
            for index in start..<min(start + batch, values.count) {
                var key = UInt64(index + 1).bigEndian
                values[index].withUnsafeMutableBytes { value in
                    withUnsafeMutableBytes(of: &key) { keyBytes in
                        var k = MDB_val(mv_size: 8, mv_data: keyBytes.baseAddress)
                        var v = MDB_val(mv_size: value.count, mv_data: value.baseAddress)
                        check(mdb_put(txn, dbi, &k, &v, UInt32(MDB_APPEND)), "put")
                    }
                }
            }
            check(mdb_txn_commit(txn), "commit")
        }
    }
    mdb_env_close(env)

    func size(_ directory: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: directory + "/data.mdb")[.size] as? Int) ?? 0
    }
    func rate(_ seconds: Double) -> String { String(format: "%.0f", Double(count) / seconds) }

    print("")
    print("figure                                   events/s    seconds")
    print("kinerja import, end to end            \(rate(ledgerTotal).leftPad(12))  \(String(format: "%9.2f", ledgerTotal))")
    print("  of which read + decode + validate   \(rate(readAndDecode).leftPad(12))  \(String(format: "%9.2f", readAndDecode))")
    print("  of which check + chain + commit     \(rate(appendTime).leftPad(12))  \(String(format: "%9.2f", appendTime))")
    print("plain LMDB MDB_APPEND, same bytes     \(rate(rawTime).leftPad(12))  \(String(format: "%9.2f", rawTime))")
    print(String(format: "ratio kinerja / plain LMDB: %.3f", rawTime / ledgerTotal))
    print(String(format: "record bytes %.1f per event; data.mdb %.1f bytes per event (plain LMDB %.1f)", Double(recordBytes) / Double(count), Double(size(ledgerPath)) / Double(count), Double(size(rawPath)) / Double(count)))
    print(String(format: "peak RSS %.0f MiB", peakRSSMiB()))
}
