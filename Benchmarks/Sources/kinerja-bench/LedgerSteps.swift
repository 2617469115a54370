import AccountabilityProjection
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import LedgerStore

/// `ledger-import --input F --ledger P --batch B`: end to end, from the JSON Lines file to
/// durable records (read, strict decoding and validation, ledger rules, hash chain, indexes,
/// one durable commit per batch).
func ledgerImport(_ options: Options) throws {
    let path = options.required("--ledger")
    let batch = options.int("--batch", 10_000)
    var report: AppendReport?
    let peak = PeakAnonymousMemory()
    var total = 0.0
    do {
        let ledger = try Ledger.create(at: path)
        total = try seconds {
            let input = try Data(contentsOf: URL(fileURLWithPath: options.required("--input")), options: .alwaysMapped)
            report = try ledger.append(jsonLines: input, options: AppendOptions(batchSize: batch))
        }
    }
    let peakAnon = peak.stop()
    // The process's CPU time (user + sys, every thread) for the import, before the count below.
    let importCPU = processCPUSeconds()
    guard let report, report.rejected.isEmpty else { fatalError("refused: \(report!.rejected[0])") }
    // The ledger is closed: its store is opened on its own (an environment once per process).
    var recordBytes = 0
    try Store.open(at: path).read { txn in try txn.forEachRecord { recordBytes += $0.canonical.count + 32 } }
    emit([
        "events": report.appended, "seconds": total, "cpu_seconds": importCPU,
        "bytes": fileSize(path + "/data.mdb"), "record_bytes": recordBytes, "peak_anon_mib": peakAnon,
    ])
}

/// `ledger-writer --input F --ledger P --batch B`: one of the concurrent writers, a client that
/// appends its events B at a time (each append one durable transaction), as its work arrives.
func ledgerWriter(_ options: Options) throws {
    let ledger = try Ledger.open(at: options.required("--ledger"))
    let decoded = JSONLines.decode(try Data(contentsOf: URL(fileURLWithPath: options.required("--input"))))
    let batch = options.int("--batch", 100)
    var appended = 0
    let time = try seconds {
        for start in stride(from: 0, to: decoded.submissions.count, by: batch) {
            let report = try ledger.append(Array(decoded.submissions[start..<min(start + batch, decoded.submissions.count)]), options: AppendOptions(batchSize: batch))
            guard report.rejected.isEmpty else { fatalError("refused: \(report.rejected[0])") }
            appended += report.appended
        }
    }
    emit(["events": appended, "seconds": time])
}

/// All the projections, folded together: what a full replay feeds. They read one appraisal
/// state, folded once (``Accountability/state``): scores, training hours and the audit
/// trail's and history's descriptions are readings of it, built when a report prints them;
/// accountability judges each decision as it is folded.
struct AllProjections {
    var accountability = Accountability()

    mutating func apply(_ event: borrowing EventView) {
        accountability.apply(event)
    }

    func summary() -> [String: Any] {
        let state = accountability.state
        return [
            "employees": state.employees.count, "scores": state.employees.reduce(0) { $0 + $1.scores.count },
            "training": state.employees.reduce(0) { $0 + $1.years.filter(\.hasTraining).count },
            "findings": accountability.findings().count,
        ]
    }
}

/// `ledger-replay --ledger P`: every event, read in place from its record, into every
/// projection, then the accountability findings.
func ledgerReplay(_ options: Options) throws {
    let ledger = try Ledger.open(at: options.required("--ledger"))
    var projections = AllProjections()
    var events = 0
    var summary: [String: Any] = [:]
    // The replay's CPU time on this thread alone, which a loaded machine's scheduler does not inflate.
    let cpu = threadCPUSeconds()
    let time = try seconds {
        try ledger.replayInPlace { event in
            events += 1
            projections.apply(event)
        }
        summary = projections.summary()
    }
    summary["cpu_seconds"] = threadCPUSeconds() - cpu
    summary["events"] = events
    summary["seconds"] = time
    emit(summary)
}

/// `ledger-verify --ledger P [--tree no]`: what `kinerja verify` checks (the chain, the indexes,
/// the canonical payloads, the tag index and the Merkle tree; `--tree no` leaves the tree out,
/// as this step did before the tree was checked in the same pass). CPU time is that of the
/// process (user + sys): the pass runs on two threads.
func ledgerVerify(_ options: Options) throws {
    let ledger = try Ledger.open(at: options.required("--ledger"))
    var result: (verification: Verification, tree: (seq: UInt64?, reason: String)?)?
    let cpu = processCPUSeconds()
    let time = try seconds { result = try ledger.verifyAll(tree: options.string("--tree") != "no") }
    let cpuTime = processCPUSeconds() - cpu
    guard let result, case .intact(_, let records) = result.verification, result.tree == nil else { fatalError("verify: \(String(describing: result))") }
    emit(["events": records, "seconds": time, "cpu_seconds": cpuTime])
}

/// The process's minor and major page faults so far.
func faultCounts() -> (minor: Int, major: Int) {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (usage.ru_minflt, usage.ru_majflt)
}

/// User + system CPU time of the process so far, all threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
}

/// The employees (`--dir D`/employees.txt) whose history the latency figures read.
func historySample(_ options: Options) -> [NIP] {
    let text = try! String(contentsOfFile: options.required("--dir") + "/employees.txt", encoding: .utf8)
    return text.split(separator: "\n").map { NIP(unchecked: String($0)) }
}

/// `ledger-history --ledger P --dir D`: one employee's events through the stream index, into
/// the history projection (what `kinerja history` prints, before rendering), from an open ledger.
/// `--premap yes`: a server's reads, the file pre-mapped at open (``openForReads(_:)``).
func ledgerHistory(_ options: Options) throws {
    let (ledger, opening) = try openForReads(options)
    var latencies: [Double] = []
    // Each call's CPU time alone (this thread's clock), which a loaded machine's scheduler does not inflate.
    var cpu: [Double] = []
    // Minor page faults of each call: pages of the map touched for the first time by this
    // process (CPU time in the kernel, no I/O); major faults read from the disk.
    var faults: [Double] = []
    var majorFaults = 0
    var dump = ""
    for (index, nip) in historySample(options).enumerated() {
        let before = faultCounts()
        let start = threadCPUSeconds()
        var entries = 0
        latencies.append(try seconds {
            let history = try Reports.history(ledger, employee: nip, ReportRequest())
            precondition(!history.entries.isEmpty)
            entries = history.entries.count
        } * 1000)
        cpu.append((threadCPUSeconds() - start) * 1000)
        let after = faultCounts()
        faults.append(Double(after.minor - before.minor))
        majorFaults += after.major - before.major
        if options.string("--dump") != nil { dump += "\(index) \(latencies.last!) \(cpu.last!) \(after.minor - before.minor) \(entries)\n" }
    }
    if let path = options.string("--dump") { try dump.write(toFile: path, atomically: false, encoding: .utf8) }
    let (p50, p99) = percentiles(latencies)
    let (cpuP50, cpuP99) = percentiles(cpu)
    let (faultsP50, faultsP99) = percentiles(faults)
    emit(opening.merging([
        "samples": latencies.count, "p50_ms": p50, "p99_ms": p99, "cpu_p50_ms": cpuP50, "cpu_p99_ms": cpuP99,
        "minor_faults_p50": faultsP50, "minor_faults_p99": faultsP99, "major_faults": majorFaults,
    ]) { $1 })
}

/// `ledger-accountability --ledger P --dir D --samples N [--full yes] [--premap yes] [--dump F]`: the accountability report
/// of one unit at a past `seq` (`kinerja report accountability --unit U --at-seq S`), from an
/// open ledger: the bounded replay of the unit's streams, or with `--full yes` the whole ledger
/// up to the seq (what it was before issue 10's index). `--premap yes`: a server's reports, the
/// file pre-mapped at open (``openForReads(_:)``). `--dump F` writes each sample's unit, seq and
/// JSON report to F (to compare two builds' reports). Its CPU figures are the whole process's
/// (the report's threads).
func ledgerAccountability(_ options: Options) throws {
    let (ledger, opening) = try openForReads(options)
    let bounded = options.string("--full") != "yes"
    let units = try String(contentsOfFile: options.required("--dir") + "/units.txt", encoding: .utf8).split(separator: "\n").map(String.init)
    let head = try ledger.head().seq
    var random = SeededRandom(seed: 11)
    var latencies: [Double] = []
    var cpu: [Double] = []
    var dump = ""
    for _ in 0..<options.int("--samples", 10) {
        var request = ReportRequest()
        request.unit = units.randomElement(using: &random)!
        request.point = .seq(UInt64.random(in: head / 2...head, using: &random))
        // The process's CPU: the report is folded on two threads (a unit's members shared out).
        let start = processCPUSeconds()
        var report: Reports.AccountabilityReport?
        latencies.append(try seconds { report = try Reports.accountability(ledger, request, bounded: bounded) } * 1000)
        cpu.append((processCPUSeconds() - start) * 1000)
        if options.string("--dump") != nil { dump += "\(request.unit!) \(report!.position.seq)\n" + Reports.render(report!, .json) + "\n" }
    }
    if let path = options.string("--dump") { try dump.write(toFile: path, atomically: false, encoding: .utf8) }
    let (p50, p99) = percentiles(latencies)
    let (cpuP50, cpuP99) = percentiles(cpu)
    emit(opening.merging(["samples": latencies.count, "p50_ms": p50, "p99_ms": p99, "cpu_p50_ms": cpuP50, "cpu_p99_ms": cpuP99]) { $1 })
}

/// `decode --input F`: the strict wire decoder alone, on one thread (lines per second).
func decodeOnly(_ options: Options) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: options.required("--input")))
    var count = 0
    let time = seconds {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = 0
            var number = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                number += 1
                if case .success = WireDecoder.decode(line: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), number: number) { count += 1 }
                start = end + 1
            }
        }
    }
    emit(["events": count, "seconds": time, "per_second": Double(count) / time])
}
