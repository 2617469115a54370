import CLMDBBaseline
import Foundation
import KinerjaDomain
import KinerjaLedger
import TransparencyLog

/// `ledger-custody --ledger P --dir D`: what the Merkle tree costs and what it serves.
///
/// - The tree's share of an import: the tree is dropped (as in a ledger written before it) and
///   rebuilt by opening the ledger, which reads every record, hashes it as a leaf and appends the
///   stored nodes — the work each import commit does for its own records.
/// - A signed checkpoint of the head, and an employee's dossier proof against it (the sample
///   employees of `ledger-history`), p50 / p99.
///
/// `--keep-tree yes` keeps the ledger's tree as it is (no drop, no rebuild: `tree_seconds` is
/// the open alone), for measuring and profiling the proofs again; `--rounds N` asks every
/// sample employee's proof N times (the figures are over all of them); `--trace yes` writes
/// each proof's CPU milliseconds to stderr; `--dump FILE` writes every answer's events and proofs;
/// `--premap yes` measures a server's proofs (the file pre-mapped at open, as `kinerja serve`
/// does) instead of a fresh process's (``openForReads(_:)``).
func ledgerCustody(_ options: Options) throws {
    let path = options.required("--ledger")
    let keepTree = options.string("--keep-tree") == "yes"
    if !keepTree { dropTree(path) }
    // Opening builds the tree again (unless kept), and with `--premap yes` pre-maps the file after.
    let (ledger, opening) = try openForReads(options)
    let build = (opening["open_seconds"] as! Double) - (opening["premap_seconds"] as? Double ?? 0)
    let head = try ledger.head().seq
    try ledger.setOrigin("bench.example/kinerja")
    let key = try NoteSigningKey(name: "bench.example/kinerja")
    var note: SignedNote?
    var checkpoints: [Double] = []
    for _ in 0..<200 { checkpoints.append(try seconds { note = try ledger.checkpoint(key: key) } * 1000) }
    var proofs: [Double] = []
    var proofsCPU: [Double] = []
    var faults: [Double] = []
    let sample = historySample(options)
    // `--dump FILE`: every answer's events and proofs (from its `[`: the checkpoint's signature
    // differs from run to run), to compare two builds' answers byte for byte.
    let dump = options.string("--dump").map { path -> FileHandle in
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)!
    }
    for nip in (0..<options.int("--rounds", 1)).flatMap({ _ in sample }) {
        let faultsBefore = faultCounts().minor
        let cpu = threadCPUSeconds()
        var proof: [UInt8] = []
        // The bytes the CLI and the server write out (dossierProof's String is those bytes validated again).
        proofs.append(try seconds { proof = try ledger.dossierProofBytes(employee: nip, checkpoint: note!) } * 1000)
        proofsCPU.append((threadCPUSeconds() - cpu) * 1000)
        faults.append(Double(faultCounts().minor - faultsBefore))
        // Checked outside the timed region: Foundation's search over the whole answer cost 0.6 ms.
        precondition(String(decoding: proof, as: UTF8.self).contains("\"proof\""))
        dump?.write(Data(proof[(proof.firstIndex(of: UInt8(ascii: "[")) ?? 0)...]))
    }
    try dump?.close()
    // `--trace yes`: each answer's CPU time on stderr (`proof N cpu_ms T`), in the order asked.
    if options.string("--trace") == "yes" {
        for (index, cpu) in proofsCPU.enumerated() { FileHandle.standardError.write(Data("proof \(index) cpu_ms \(cpu)\n".utf8)) }
    }
    let checkpoint = percentiles(checkpoints)
    let proof = percentiles(proofs)
    let proofCPU = percentiles(proofsCPU)
    let proofFaults = percentiles(faults)
    emit(opening.merging([
        "events": head, "tree_seconds": build,
        "checkpoint_p50_ms": checkpoint.p50, "checkpoint_p99_ms": checkpoint.p99,
        "proof_p50_ms": proof.p50, "proof_p99_ms": proof.p99, "proof_samples": proofs.count,
        "proof_cpu_p50_ms": proofCPU.p50, "proof_cpu_p99_ms": proofCPU.p99,
        "proof_minor_faults_p50": proofFaults.p50, "proof_minor_faults_p99": proofFaults.p99,
    ]) { $1 })
}

/// The CPU time this thread has used: a latency's own work, without the time the scheduler of a
/// shared machine gave other processes meanwhile.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Removes the ledger's Merkle tree with plain LMDB, as a ledger written before the tree would be.
private func dropTree(_ path: String) {
    var env: OpaquePointer?
    mdb_env_create(&env)
    mdb_env_set_maxdbs(env, 8)
    precondition(mdb_env_open(env, path, 0, 0o644) == 0, "cannot open \(path)")
    defer { mdb_env_close(env) }
    var txn: OpaquePointer?
    mdb_txn_begin(env, nil, 0, &txn)
    var tree: MDB_dbi = 0
    var meta: MDB_dbi = 0
    precondition(mdb_dbi_open(txn, "tree", 0, &tree) == 0 && mdb_dbi_open(txn, "meta", 0, &meta) == 0)
    precondition(mdb_drop(txn, tree, 1) == 0)
    var name = Array("tree".utf8)
    name.withUnsafeMutableBytes { raw in
        var key = MDB_val(mv_size: raw.count, mv_data: raw.baseAddress)
        _ = mdb_del(txn, meta, &key, nil)
    }
    precondition(mdb_txn_commit(txn) == 0)
}

/// The custody lines of a size's table: the tree's share of the import and the latencies.
///
/// The tree's share is the time of building it over every record on one thread (which reads
/// each record and hashes its leaf and the nodes above, as the import does) over the import's
/// CPU time on both of its threads: the import computes the tree's nodes on its preparing thread
/// beside the writer, so the tree takes the import's throughput in proportion to its CPU, not
/// to the import's wall time (the wall share, printed too, was the figure while the tree was
/// built on the writer's path).
func renderCustody(_ custody: Figures, importSeconds: Double, importCPUSeconds: Double) -> String {
    let wallShare = custody.double("tree_seconds") / importSeconds
    let share = custody.double("tree_seconds") / importCPUSeconds
    return [
        "",
        "Verifiable custody (kinerja; \(Table.count(custody.double("events"))) records):",
        "",
        "| figure | value |",
        "|---|---:|",
        String(format: "| building the Merkle tree over every record (s) | %.2f |", custody.double("tree_seconds")),
        String(format: "| … as a share of the import's CPU time, both threads | %.1f %% |", share * 100),
        String(format: "| … as a share of the import's wall time | %.1f %% |", wallShare * 100),
        String(format: "| signed checkpoint of the head, p50 / p99 (ms) | %.3f / %.3f |", custody.double("checkpoint_p50_ms"), custody.double("checkpoint_p99_ms")),
        String(format: "| dossier proof of one employee, p50 / p99 (ms, %d employees) | %.3f / %.3f |", custody.int("proof_samples"), custody.double("proof_p50_ms"), custody.double("proof_p99_ms")),
        String(format: "| … its CPU time alone (this thread's), p50 / p99 (ms) | %.3f / %.3f |", custody.double("proof_cpu_p50_ms"), custody.double("proof_cpu_p99_ms")),
        "",
        "Goals:",
        Table.goal("maintaining the tree ≤ 10 % of import throughput", share * 100, "%.1f %%") { $0 <= 10 } ?? "",
        Table.goal("dossier proof p99 < 5 ms", custody.double("proof_p99_ms"), "%.3f ms") { $0 < 5 } ?? "",
        Table.goal("checkpoint < 10 ms (p99)", custody.double("checkpoint_p99_ms"), "%.3f ms") { $0 < 10 } ?? "",
    ].joined(separator: "\n")
}
