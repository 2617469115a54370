import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger

struct Append: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append events from JSON Lines (wire format v1).",
        discussion: """
            Every line is checked before anything is written. If any line is bad, nothing is \
            stored and the exit code is 1, unless --skip-invalid. Lines carrying the recorded \
            fields (seq, stream, version, recorded_at, prev_hash, hash), as `kinerja log` prints \
            them, restore a ledger exactly; running the same restore again resumes it.
            """
    )

    @OptionGroup var options: LedgerOption

    @Argument(help: "A JSON Lines file, or - for standard input.")
    var file: String = "-"

    @Flag(help: "Store the good lines even when some are bad.")
    var skipInvalid = false

    @Option(help: "Events per transaction for large inputs.")
    var batchSize = 10_000

    @Flag(help: "Print a line to standard error after each committed (durable) batch.")
    var progress = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let ledger = try options.open()
        let input: Data
        do {
            input = file == "-" ? try spoolStandardInput(beside: ledger.path) : try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            printError("kinerja: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        let onTerminal = !progress && isatty(STDERR_FILENO) == 1
        let report = try failing {
            try ledger.append(.jsonLines(input), options: AppendOptions(skipInvalid: skipInvalid, batchSize: batchSize)) { done in
                if progress {
                    printError("committed \(done.committed) of \(done.total) new events, head seq \(done.head.seq)")
                } else if onTerminal {
                    FileHandle.standardError.write(Data("\rappending: \(done.committed)/\(done.total)".utf8))
                }
            }
        }
        if onTerminal && report.appended > batchSize { FileHandle.standardError.write(Data("\n".utf8)) }

        print("appended \(report.appended), duplicates \(report.duplicates), rejected \(report.rejected.count)")
        for error in report.rejected {
            print("  \(error)")
        }
        if !report.rejected.isEmpty && !skipInvalid {
            print("nothing was stored: fix the lines above, or pass --skip-invalid to store the good ones")
        }
        print("head: seq \(report.head.seq) hash \(report.head.hash.hex)")
        if !report.rejected.isEmpty { throw ExitCode.failure }
    }
}

/// Standard input copied, a MiB at a time, to a file in the ledger directory and mapped from it
/// (the file is unlinked at once; the mapping keeps it): an import holds no more of a piped
/// input in memory than of a file.
func spoolStandardInput(beside ledger: String) throws -> Data {
    let path = (ledger as NSString).appendingPathComponent("stdin-\(getpid()).jsonl")
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    let spool = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
        try spool.write(contentsOf: chunk)
    }
    try spool.close()
    return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
}
