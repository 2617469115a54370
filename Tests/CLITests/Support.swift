import Foundation
import KinerjaDomain
import KinerjaSamples
import Testing

/// The repository's root, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `kinerja` binary SwiftPM built beside this test bundle.
let kinerjaBinary: String = {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kinerja").path,
        Bundle.main.bundleURL.appendingPathComponent("kinerja").path,
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("kinerja").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

/// A fixed ledger clock, so recorded_at and every hash are the same on every run.
let fixedClock = "2027-01-31T10:00:00+07:00"

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Starts `executable` with its output going to files (so a large output cannot block it).
final class RunningProcess: @unchecked Sendable {
    // @unchecked: used from one test at a time; Process itself is thread-safe for these calls.
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: FileHandle?, stdout: FileHandle? = nil, scratch: TemporaryDirectory) throws {
        let tag = UUID().uuidString
        stdoutPath = scratch.child("out-\(tag)")
        stderrPath = scratch.child("err-\(tag)")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "KINERJA_LEDGER")
        env.removeValue(forKey: "KINERJA_CLOCK")
        process.environment = env.merging(environment) { $1 }
        process.currentDirectoryURL = repositoryRoot
        process.standardInput = stdin ?? FileHandle.nullDevice
        process.standardOutput = try stdout ?? FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    func wait() -> ProcessResult {
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
    }
}

/// A scratch directory with a ledger path in it, and a way to run `kinerja` on that ledger.
struct CLI {
    let scratch = TemporaryDirectory("kinerja-cli")
    var ledger: String { scratch.child("ledger") }
    var clock: String? = fixedClock

    /// Starts `kinerja serve` with `arguments` on a port the system picks, and waits until it
    /// listens; returns the process and the base URL.
    func serve(_ arguments: [String] = [], ledger: String? = nil) throws -> (RunningProcess, String) {
        let server = try start(["serve", "--listen", "127.0.0.1:0"] + arguments, ledger: ledger)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let output = (try? String(contentsOfFile: server.stdoutPath, encoding: .utf8)) ?? ""
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return (server, "http://" + line.dropFirst("listening on ".count))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        server.process.terminate()
        throw CocoaError(.fileReadUnknown)
    }

    func start(_ arguments: [String], stdinFile: String? = nil, stdout: FileHandle? = nil, ledger: String? = nil) throws -> RunningProcess {
        var environment = ["KINERJA_LEDGER": ledger ?? self.ledger]
        if let clock { environment["KINERJA_CLOCK"] = clock }
        let stdin = try stdinFile.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) }
        return try RunningProcess(kinerjaBinary, arguments, environment: environment, stdin: stdin, stdout: stdout, scratch: scratch)
    }

    @discardableResult
    func run(_ arguments: String..., stdinFile: String? = nil, ledger: String? = nil) throws -> ProcessResult {
        try start(arguments, stdinFile: stdinFile, ledger: ledger).wait()
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = scratch.child(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func remove() { scratch.remove() }
}

/// Runs a Python 3 script (text) with arguments; the scratch directory holds the script.
func python(_ script: String, _ arguments: [String], in cli: CLI) throws -> ProcessResult {
    let path = try cli.write("script-\(UUID().uuidString).py", script)
    return try RunningProcess("/usr/bin/env", ["python3", path] + arguments, environment: [:], stdin: nil, scratch: cli.scratch).wait()
}

/// Compares `actual` with the golden file `name`; `KINERJA_RECORD_GOLDEN=1` rewrites the file instead.
func expectGolden(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = repositoryRoot.appendingPathComponent("Tests/CLITests/Golden/\(name)")
    if ProcessInfo.processInfo.environment["KINERJA_RECORD_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(actual == expected, "golden \(name) differs", sourceLocation: sourceLocation)
}

let sampleFile = repositoryRoot.appendingPathComponent("samples/sample.jsonl").path

/// The size of the large generated inputs: a million lines, or 100 000 in a debug build (which
/// parses about 7 000 lines a second).
#if DEBUG
let largeInputLines = 100_000
#else
let largeInputLines = 1_000_000
#endif

/// Writes `count` generated events as JSON Lines to `path` (10 000 lines at a time), then
/// `trailer`; the first `prefix.count` lines go to `prefix.path` as well.
func writeGeneratedLines(_ generator: inout SampleGenerator, count: Int, to path: String, prefix: (path: String, count: Int)? = nil, trailer: String = "") throws {
    var handles = [try FileHandle(forWritingTo: URL(fileURLWithPath: path), creating: true)]
    if let prefix { handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: prefix.path), creating: true)) }
    var chunk = ""
    for index in 0..<count {
        chunk += WireEncoder.encode(generator.next()) + "\n"
        if index % 10_000 == 9_999 || index == count - 1 {
            try handles[0].write(contentsOf: Data(chunk.utf8))
            if let prefix, index < prefix.count { try handles[1].write(contentsOf: Data(chunk.utf8)) }
            chunk = ""
        }
    }
    try handles[0].write(contentsOf: Data(trailer.utf8))
    for handle in handles { try handle.close() }
}

extension FileHandle {
    convenience init(forWritingTo url: URL, creating: Bool) throws {
        if creating { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        try self.init(forWritingTo: url)
    }
}
