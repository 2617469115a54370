import KinerjaLedger
import Foundation

/// `run`: every figure, for the ledger and its peers, in one run; each step in its own process
/// (so that its peak RSS is its own), on the same generated events.
struct Run {
    let options: Options
    let work: String
    let python: String
    let peers: Set<String>
    let batch: Int
    let writers: Int
    let writerBatch: Int
    let samples: Int
    let unitSamples: Int

    init(_ options: Options) {
        self.options = options
        work = options.string("--work") ?? NSTemporaryDirectory() + "kinerja-bench-\(getpid())"
        python = options.string("--python") ?? "python3"
        peers = Set((options.string("--peers") ?? "lmdb,sqlite,eventsourcing").split(separator: ",").map(String.init))
        batch = options.int("--batch", 10_000)
        writers = options.int("--writers", 8)
        writerBatch = options.int("--writer-batch", 100)
        samples = options.int("--samples", 1_000)
        unitSamples = options.int("--unit-samples", 10)
    }

    func main() throws {
        let sizes = (options.string("--events") ?? "1000000,10000000").split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
        print(machine())
        var tables: [Table] = []
        for size in sizes {
            let directory = work + "/\(size)"
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            tables.append(try measure(size: size, in: directory))
            if options.string("--keep") == nil { try? FileManager.default.removeItem(atPath: directory) }
        }
        if options.string("--keep") == nil { try? FileManager.default.removeItem(atPath: work) }
        print(Table.scaling(tables))
    }

    private func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        return "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB; "
            + "batches of \(batch); \(writers) writers in batches of \(writerBatch); peers: \(peers.sorted().joined(separator: ", "))"
    }

    private func measure(size: Int, in directory: String) throws -> Table {
        log("generating about \(size) events with the demo generator (seed 1)")
        let workload = try step(["generate", "--events", "\(size)", "--dir", directory, "--writers", "\(writers)",
                                 "--writer-events", "\(options.int("--writer-events", min(size, 200_000)))", "--samples", "\(samples)"])
        let events = workload.int("events")
        let input = directory + "/events.jsonl"
        let ledger = directory + "/ledger"
        var table = Table(events: events, employees: workload.int("employees"), lineBytes: workload.double("bytes") / Double(events))

        log("bulk import")
        let imported = try step(["ledger-import", "--input", input, "--ledger", ledger, "--batch", "\(batch)"])
        table.add(.importRate, .kinerja, imported)
        table.recordBytes = imported.double("record_bytes") / Double(events)
        if peers.contains("lmdb") {
            table.add(.importRate, .lmdb, try step(["lmdb-import", "--ledger", ledger, "--raw", directory + "/raw", "--batch", "\(batch)"]))
        }
        if peers.contains("sqlite") {
            table.add(.importRate, .sqlite, try step(["sqlite-import", "--input", input, "--db", directory + "/events.sqlite", "--batch", "\(batch)"]))
        }
        if peers.contains("eventsourcing") {
            table.add(.importRate, .eventsourcing, try python(["import", input, directory + "/eventsourcing.sqlite", "--batch", "\(batch)"]))
        }

        log("replay")
        table.add(.replayRate, .kinerja, try step(["ledger-replay", "--ledger", ledger]))
        if peers.contains("lmdb") { table.add(.replayRate, .lmdb, try step(["lmdb-scan", "--raw", directory + "/raw"])) }
        if peers.contains("sqlite") { table.add(.replayRate, .sqlite, try step(["sqlite-replay", "--db", directory + "/events.sqlite"])) }
        if peers.contains("eventsourcing") { table.add(.replayRate, .eventsourcing, try python(["replay", directory + "/eventsourcing.sqlite"])) }

        log("verify")
        table.add(.verifyRate, .kinerja, try step(["ledger-verify", "--ledger", ledger]))
        if peers.contains("lmdb") { table.add(.verifyRate, .lmdb, try step(["lmdb-verify", "--raw", directory + "/raw"])) }

        log("Merkle tree, checkpoints and dossier proofs")
        let custody = try step(["ledger-custody", "--ledger", ledger, "--dir", directory])

        log("history and accountability latencies")
        table.add(.history, .kinerja, try step(["ledger-history", "--ledger", ledger, "--dir", directory]))
        if peers.contains("sqlite") { table.add(.history, .sqlite, try step(["sqlite-history", "--db", directory + "/events.sqlite", "--dir", directory])) }
        table.add(.accountability, .kinerja, try step(["ledger-accountability", "--ledger", ledger, "--dir", directory, "--samples", "\(unitSamples)"]))
        // A long-running reader (`kinerja serve`) pre-maps the file at open: the same reads
        // without a fresh process's first-touch page faults.
        table.add(.historyServed, .kinerja, try step(["ledger-history", "--ledger", ledger, "--dir", directory, "--premap", "yes"]))
        table.add(.accountabilityServed, .kinerja, try step(["ledger-accountability", "--ledger", ledger, "--dir", directory, "--samples", "\(unitSamples)", "--premap", "yes"]))

        log("\(writers) concurrent writers")
        let slices = (0..<writers).map { directory + "/writer-\($0).jsonl" }
        let writerEvents = workload.int("writer_events")
        let fresh = directory + "/concurrent"
        try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        _ = try Ledger.create(at: fresh + "/ledger")
        table.add(.concurrentRate, .kinerja, try concurrently(writerEvents, slices.map { ["ledger-writer", "--input", $0, "--ledger", fresh + "/ledger", "--batch", "\(writerBatch)"] }))
        if peers.contains("lmdb") {
            table.add(.concurrentRate, .lmdb, try concurrently(writerEvents, slices.map { ["lmdb-writer", "--input", $0, "--raw", fresh + "/raw", "--batch", "\(writerBatch)"] }))
        }
        if peers.contains("sqlite") {
            _ = SQLiteTable(fresh + "/events.sqlite")
            table.add(.concurrentRate, .sqlite, try concurrently(writerEvents, slices.map { ["sqlite-writer", "--input", $0, "--db", fresh + "/events.sqlite", "--batch", "\(writerBatch)"] }))
        }
        if peers.contains("eventsourcing") {
            table.add(.concurrentRate, .eventsourcing, try concurrently(writerEvents, slices.map { ["writer", $0, fresh + "/eventsourcing.sqlite", "--batch", "\(writerBatch)"] }, python: true))
        }
        print(table.render())
        print(renderCustody(custody, importSeconds: imported.double("seconds"), importCPUSeconds: imported.double("cpu_seconds")))
        fflush(nil)
        return table
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("[\(Date())] \(message)\n".utf8))
    }

    private func step(_ arguments: [String]) throws -> Figures {
        try collect(launch(CommandLine.arguments[0], arguments))
    }

    /// `Benchmarks/peers/eventsourcing_peer.py`, found from this source file.
    private static let peerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("peers/eventsourcing_peer.py").path

    private func python(_ arguments: [String]) throws -> Figures {
        try collect(launch(python, [Self.peerScript] + arguments))
    }

    /// Starts every writer at once; the rate is all their events over the wall time until the last ends.
    private func concurrently(_ events: Int, _ commands: [[String]], python: Bool = false) throws -> Figures {
        var processes: [(Process, Pipe)] = []
        var results: [Figures] = []
        let time = try seconds {
            processes = try commands.map { python ? try launch(self.python, [Self.peerScript] + $0) : try launch(CommandLine.arguments[0], $0) }
            results = try processes.map(collect)
        }
        let appended = results.reduce(0) { $0 + $1.int("events") }
        precondition(appended == events, "the writers appended \(appended) of \(events) events")
        return Figures(values: ["events": events, "seconds": time, "rss_mib": results.map { $0.double("rss_mib") }.max() ?? 0])
    }

    private func launch(_ executable: String, _ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
        process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return (process, pipe)
    }

    private func collect(_ launched: (Process, Pipe)) throws -> Figures {
        let output = launched.1.fileHandleForReading.readDataToEndOfFile()
        launched.0.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard launched.0.terminationStatus == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }),
            let values = try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any]
        else { throw StepFailed(description: "\(launched.0.arguments ?? []) exited \(launched.0.terminationStatus): \(text)") }
        return Figures(values: values)
    }
}

struct StepFailed: Error, CustomStringConvertible {
    let description: String
}

struct Figures {
    var values: [String: Any]
    func double(_ key: String) -> Double { (values[key] as? NSNumber)?.doubleValue ?? .nan }
    func int(_ key: String) -> Int { (values[key] as? NSNumber)?.intValue ?? 0 }
}
