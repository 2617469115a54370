import Foundation

/// `server-load --kinerja PATH [--clients 64] [--readers 4] [--seconds 10] [--employees 1000] [--dir D]
/// [--runs peer,group,single]`: `kinerja serve` on loopback under load
/// (PRODUCT §9, issue 14), driven by `wrk` (Debian) with Lua scripts written here.
///
/// - The HTTP ceiling (`peer`, first): this step's own `http-peer`, a Hummingbird server with
///   kinerja serve's configuration and no ledger, driven by the same write script and clients; its
///   requests/s, p99 and server CPU a request are printed beside the ledger's, and the ledger's
///   rate as a share of it. (This step's build then matters: build it optimised.)
/// - Writes: `--clients` connections, each posting one `training.completed` event per request (a
///   service token, so the policy needs no placements), for `--seconds`, with group commit and
///   again with `--no-group-commit` (one durable transaction per request). The rate is what the
///   ledger holds afterwards (durable, counted by `kinerja verify`) over the run's seconds; the
///   latency percentiles are wrk's, of every request.
/// - Reads at the same time: `--readers` connections (none with 0) asking `GET /v1/employees/{nip}/history`
///   of random employees (an auditor's token).
///
/// Prints a Markdown table and one `RESULT` line.
func serverLoad(_ options: Options) throws {
    let kinerja = options.required("--kinerja")
    let clients = options.int("--clients", 64)
    let readers = options.int("--readers", 4)
    let duration = options.int("--seconds", 10)
    let employees = options.int("--employees", 1_000)
    let directory = options.string("--dir") ?? NSTemporaryDirectory() + "kinerja-server-load-\(getpid())"
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { if options.string("--keep") == nil { try? FileManager.default.removeItem(atPath: directory) } }

    let nips: [String] = (0..<employees).map { (index: Int) -> String in
        let month: Int = 1 + index % 12
        let day: Int = 1 + (index / 12) % 28
        return String(format: "1980%02d%02d2005011%03d", month, day, index % 1000)
    }
    // `--runs`: which of the three, in this order (all by default).
    let runs = Set((options.string("--runs") ?? "peer,group,single").split(separator: ",").map(String.init))
    if let unknown = runs.subtracting(["peer", "group", "single"]).first {
        throw StepFailed(description: "--runs takes peer, group and single, not \(unknown)")
    }
    var rows: [[String: Any]] = []
    if runs.contains("peer") {
        // The HTTP ceiling: the same Hummingbird server and configuration with no ledger and no
        // token, driven by the same wrk script and clients (its readers: none, it has no history).
        let write = directory + "/peer-write.lua"
        try writeScript(nips: nips, token: "peer").write(toFile: write, atomically: true, encoding: .utf8)
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let server = try LoadProcess(me, ["http-peer"], ledger: directory, output: directory + "/peer.log")
        let url = try server.listening()
        let childrenBefore = childrenCPU()
        let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
        let writers = try LoadProcess("/usr/bin/wrk", ["-t2", "-c\(clients)", "-d\(duration)s", "--latency", "--timeout", "10s", "-s", write, url], ledger: directory, output: directory + "/wrk-peer.txt")
        writers.wait()
        let wrkCPU = childrenCPU() - childrenBefore
        let serverCPU = server.cpuSeconds()
        let threads = server.threadCPU()
        server.stop()
        print("peer CPU by thread (s): " + threads.sorted { $0.value > $1.value }.map { "\($0.key) " + String(format: "%.2f", $0.value) }.joined(separator: ", "))
        let report = WrkReport(try String(contentsOfFile: directory + "/wrk-peer.txt", encoding: .utf8))
        precondition(report.errors == 0, "non-2xx answers from the peer: \(report.text)")
        let requests = report.rate * Double(duration)
        rows.append([
            "run": "peer", "group_commit": false, "appended": 0, "events_per_s": report.rate,
            "requests_per_s": report.rate, "write_p50_ms": report.p50, "write_p99_ms": report.p99,
            "history_per_s": 0.0, "history_p50_ms": 0.0, "history_p99_ms": 0.0, "history_errors": 0, "load_average": loadAverage,
            "server_cpu_s": serverCPU, "wrk_cpu_s": wrkCPU, "server_cpu_us_per_event": serverCPU * 1e6 / max(requests, 1),
            "wrk_cpu_us_per_request": wrkCPU * 1e6 / max(requests, 1),
            "transactions": 0, "events_per_transaction": 0.0, "writer_busy_share": 0.0,
        ])
    }
    for grouped in [true, false] where runs.contains(grouped ? "group" : "single") {
        let ledger = directory + (grouped ? "/grouped" : "/single")
        let cli = LoadCLI(kinerja: kinerja, ledger: ledger)
        _ = try cli.run(["init"])
        let service = try cli.token(["access", "grant", "lms:bench", "--role", "service", "--by", "operator:bench"])
        let auditor = try cli.token(["access", "grant", "auditor:bench", "--role", "auditor", "--by", "operator:bench"])
        var placements = ""
        for (index, nip) in nips.enumerated() {
            let unit = "UNIT\(index % 20)"
            placements += #"{"id":"\#(uuid(index))","type":"employee.placed","employee":"\#(nip)","actor":"hr:bench","occurred_at":"2026-01-02T08:00:00+07:00","#
            placements += #""data":{"name":"Pegawai \#(index)","unit":"\#(unit)","position":"Analis","appraiser":null,"effective_from":"2026-01-02"}}"# + "\n"
        }
        let placementsFile = directory + "/placements.jsonl"
        try placements.write(toFile: placementsFile, atomically: true, encoding: .utf8)
        _ = try cli.run(["append", placementsFile])
        let before = try cli.events()

        let write = directory + "/write.lua"
        let read = directory + "/read.lua"
        try writeScript(nips: nips, token: service).write(toFile: write, atomically: true, encoding: .utf8)
        try readScript(nips: nips, token: auditor).write(toFile: read, atomically: true, encoding: .utf8)

        let server = try LoadProcess(
            kinerja, ["serve", "--listen", "127.0.0.1:0"] + (grouped ? [] : ["--no-group-commit"]),
            ledger: ledger, output: directory + "/serve.log")
        let url = try server.listening()
        let childrenBefore = childrenCPU()
        let writers = try LoadProcess("/usr/bin/wrk", ["-t2", "-c\(clients)", "-d\(duration)s", "--latency", "--timeout", "10s", "-s", write, url], ledger: ledger, output: directory + "/wrk-write.txt")
        let reading = readers == 0 ? nil : try LoadProcess("/usr/bin/wrk", ["-t1", "-c\(readers)", "-d\(duration)s", "--latency", "--timeout", "10s", "-s", read, url], ledger: ledger, output: directory + "/wrk-read.txt")
        let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
        writers.wait()
        reading?.wait()
        let wrkCPU = childrenCPU() - childrenBefore
        let serverCPU = server.cpuSeconds()
        let threads = server.threadCPU()
        server.stop()
        let appended = try cli.events() - before
        let writerCPU = threads["kinerja-writer"] ?? 0
        print("server CPU by thread (s): " + threads.sorted { $0.value > $1.value }.map { "\($0.key) " + String(format: "%.2f", $0.value) }.joined(separator: ", "))
        let commits = GroupCommitLine((try? String(contentsOfFile: directory + "/serve.log", encoding: .utf8)) ?? "")
        let writeReport = WrkReport(try String(contentsOfFile: directory + "/wrk-write.txt", encoding: .utf8))
        let readReport = WrkReport(reading == nil ? "" : try String(contentsOfFile: directory + "/wrk-read.txt", encoding: .utf8))
        precondition(writeReport.errors == 0, "non-2xx answers to appends: \(writeReport.text)")
        rows.append([
            "run": grouped ? "group" : "single",
            "group_commit": grouped, "appended": appended, "events_per_s": Double(appended) / Double(duration),
            "requests_per_s": writeReport.rate, "write_p50_ms": writeReport.p50, "write_p99_ms": writeReport.p99,
            "history_per_s": readReport.rate, "history_p50_ms": readReport.p50, "history_p99_ms": readReport.p99,
            "history_errors": readReport.errors, "load_average": loadAverage,
            "server_cpu_s": serverCPU, "wrk_cpu_s": wrkCPU, "server_cpu_us_per_event": serverCPU * 1e6 / Double(max(appended, 1)),
            "wrk_cpu_us_per_request": wrkCPU * 1e6 / max(writeReport.rate * Double(duration) + readReport.rate * Double(duration), 1),
            "transactions": commits.transactions, "events_per_transaction": commits.eventsPerTransaction,
            "writer_busy_share": commits.busySeconds / Double(duration),
            "writer_cpu_us_per_event": writerCPU * 1e6 / Double(max(appended, 1)),
        ])
    }

    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu); wrk and the server on the same machine, loopback")
    print("\(clients) clients posting one event per request for \(duration) s, \(readers) connections reading histories of \(employees) employees at the same time\n")
    print(
        "| run | durable events/s (peer: requests/s) | append p50 / p99 (ms) | history reads/s | history p50 / p99 (ms) | server CPU s (µs/event, the writer's) | wrk CPU s (µs/request) | events / commit | writer busy | load average at start |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows {
        let mode = ["peer": "HTTP ceiling (Hummingbird, no ledger)", "group": "group commit", "single": "one per request"][row["run"] as! String]!
        let figures = String(
            format: "%.0f | %.2f / %.2f | %.0f | %.2f / %.2f", row["events_per_s"] as! Double, row["write_p50_ms"] as! Double, row["write_p99_ms"] as! Double,
            row["history_per_s"] as! Double, row["history_p50_ms"] as! Double, row["history_p99_ms"] as! Double)
            + String(format: " | %.1f (%.0f", row["server_cpu_s"] as! Double, row["server_cpu_us_per_event"] as! Double)
            + ((row["writer_cpu_us_per_event"] as? Double).map { String(format: ", writer %.0f)", $0) } ?? ")")
            + String(format: " | %.1f (%.0f)", row["wrk_cpu_s"] as! Double, row["wrk_cpu_us_per_request"] as! Double)
            + String(format: " | %.1f | %.0f %%", row["events_per_transaction"] as! Double, 100 * (row["writer_busy_share"] as! Double))
        print("| \(mode) | \(figures) | \(row["load_average"] as! String) |")
    }
    if let peer = rows.first(where: { $0["run"] as! String == "peer" }) {
        for row in rows where row["run"] as! String != "peer" {
            print(
                String(
                    format: "%@: appends/s ÷ the HTTP ceiling %.2f; server CPU a durable event ÷ the peer's a request %.2f",
                    row["run"] as! String, (row["events_per_s"] as! Double) / (peer["requests_per_s"] as! Double),
                    (row["server_cpu_us_per_event"] as! Double) / (peer["server_cpu_us_per_event"] as! Double)))
        }
    }
    guard let grouped = rows.first(where: { $0["run"] as! String == "group" }) else {
        emit(["runs": rows])
        return
    }
    print("\nGoals (group commit):")
    for line in [
        Table.goal("durable appends ≥ 20 000 events/s", grouped["events_per_s"] as? Double, "%.0f events/s") { $0 >= 20_000 },
        Table.goal("append p99 < 50 ms", grouped["write_p99_ms"] as? Double, "%.2f ms") { $0 < 50 },
        Table.goal("history over HTTP p99 < 10 ms under that load", grouped["history_p99_ms"] as? Double, "%.2f ms") { $0 < 10 },
    ] {
        if let line { print(line) }
    }
    emit(["runs": rows])
}

/// A UUID (RFC 9562 text form) for the `index`th placement.
private func uuid(_ index: Int) -> String {
    String(format: "0b9f3a52-8d1e-4c36-9a51-%012x", index)
}

private func luaList(_ nips: [String]) -> String {
    "{" + nips.map { "\"\($0)\"" }.joined(separator: ",") + "}"
}

/// Seeds each wrk thread's generator differently (wrk runs one Lua state a thread).
private let luaSeed = """
    local counter = 0
    function setup(thread) counter = counter + 1; thread:set("id", counter) end
    function init(args) math.randomseed(os.time() * 1000 + (id or 0) * 7919 + math.floor(os.clock() * 1e6)) end
    local function hex(n) return string.format("%0" .. n .. "x", math.random(0, 16 ^ n - 1)) end

    """

/// One `training.completed` a request, a fresh id each, without `actor` (the server fills it).
private func writeScript(nips: [String], token: String) -> String {
    luaSeed + """
        local nips = \(luaList(nips))
        wrk.method = "POST"
        wrk.headers["Authorization"] = "Bearer \(token)"
        wrk.headers["Content-Type"] = "application/x-ndjson"
        request = function()
          local id = hex(4) .. hex(4) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(4) .. hex(4) .. hex(4)
          local body = '{"id":"' .. id .. '","type":"training.completed","employee":"' .. nips[math.random(#nips)]
            .. '","occurred_at":"2026-03-01T08:00:00+07:00","data":{"title":"Pelatihan","provider":"BPSDM","hours":2,"completed_on":"2026-03-01"}}'
          return wrk.format(nil, "/v1/events", nil, body)
        end

        """
}

/// `GET /v1/employees/{nip}/history` of a random employee.
private func readScript(nips: [String], token: String) -> String {
    luaSeed + """
        local nips = \(luaList(nips))
        wrk.headers["Authorization"] = "Bearer \(token)"
        request = function()
          return wrk.format("GET", "/v1/employees/" .. nips[math.random(#nips)] .. "/history", nil, nil)
        end

        """
}

/// What `wrk --latency` printed: requests a second, the 50th and 99th percentiles, non-2xx answers.
private struct WrkReport {
    let text: String
    var rate = Double.nan
    var p50 = Double.nan
    var p99 = Double.nan
    var errors = 0

    /// Empty text (no run): zeros, which JSON can carry.
    init(_ text: String) {
        self.text = text
        if text.isEmpty { (rate, p50, p99) = (0, 0, 0) }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "Requests/sec:", fields.count == 2 { rate = Double(fields[1]) ?? .nan }
            if fields.count == 2, fields[0] == "50%" { p50 = Self.milliseconds(fields[1]) }
            if fields.count == 2, fields[0] == "99%" { p99 = Self.milliseconds(fields[1]) }
            if line.contains("Non-2xx or 3xx responses:"), let count = fields.last.flatMap({ Int($0) }) { errors += count }
            if line.contains("Socket errors:") { errors += line.split(separator: ",").compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +) }
        }
    }

    /// `812.00us`, `3.21ms`, `1.02s` in milliseconds.
    static func milliseconds(_ text: Substring) -> Double {
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return (Double(text.dropLast(unit.count)) ?? .nan) * scale
        }
        return .nan
    }
}

/// The line `kinerja serve` prints when it stops: `group commit: T transactions, R requests, E
/// events (X a transaction), writer busy S s` (zeros from a server that printed none).
private struct GroupCommitLine {
    var transactions = 0
    var eventsPerTransaction = 0.0
    var busySeconds = 0.0

    init(_ log: String) {
        guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("group commit: ") }) else { return }
        let words = line.split(separator: " ")
        transactions = Int(words[2]) ?? 0
        if let events = words.firstIndex(of: "events").flatMap({ Int(words[$0 - 1]) }), transactions > 0 {
            eventsPerTransaction = Double(events) / Double(transactions)
        }
        if let busy = words.firstIndex(of: "busy").map({ words[$0 + 1] }) { busySeconds = Double(busy) ?? 0 }
    }
}

/// The `kinerja` command line on one ledger.
private struct LoadCLI {
    let kinerja: String
    let ledger: String

    func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kinerja)
        process.arguments = arguments + ["--ledger", ledger]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw StepFailed(description: "kinerja \(arguments) exited \(process.terminationStatus): \(output)") }
        return output
    }

    func token(_ arguments: [String]) throws -> String {
        let output = try run(arguments)
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("token (shown only now): ") }) else {
            throw StepFailed(description: "no token in \(output)")
        }
        return String(line.dropFirst("token (shown only now): ".count))
    }

    /// The events the ledger holds, as `kinerja verify` counts them (and checks them).
    func events() throws -> Int {
        let output = try run(["verify"])
        guard let count = output.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { throw StepFailed(description: output) }
        return count
    }
}

/// A child process whose output goes to a file.
private final class LoadProcess {
    let process = Process()
    let output: String

    init(_ executable: String, _ arguments: [String], ledger: String, output: String) throws {
        self.output = output
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["KINERJA_LEDGER"] = ledger
        process.environment = environment
        let handle = FileHandle(forWritingAtPath: output)!
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// The server's base URL, once it prints `listening on HOST:PORT`.
    func listening() throws -> String {
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return "http://" + line.dropFirst("listening on ".count)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw StepFailed(description: "the server did not start: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
    }

    func wait() { process.waitUntilExit() }

    /// The process's CPU time so far, user and system (`/proc/PID/stat`), in seconds.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return .nan }
        // Fields after the command's name: state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds (user + sys) of the process's threads by name (`/proc/PID/task/*/stat`):
    /// `kinerja-writer`, NIO's event loops and thread pools, Swift's pool.
    func threadCPU() -> [String: Double] {
        let tasks = "/proc/\(process.processIdentifier)/task"
        var seconds: [String: Double] = [:]
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
            guard let text = try? String(contentsOfFile: "\(tasks)/\(tid)/stat", encoding: .utf8),
                let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
            else { continue }
            let name = String(text[text.index(after: open)..<close])
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            // Threads of one kind together: NIO-SGLTN-0-#1 and NIO-SGLTN-0-#0 are the event loops.
            let kind = name.hasPrefix("NIO-SGLTN-") ? String(name.prefix(while: { $0 != "#" })) : name
            seconds[kind, default: 0] += (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return seconds
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// The CPU time, user and system, of the child processes waited for so far, in seconds.
private func childrenCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
