import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import LedgerStore

@main
struct Kinerja: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinerja",
        abstract: "A tamper-evident, event-sourced ledger of ASN performance appraisal.",
        discussion: """
            Exit codes: 0 success, 1 rejected input or a failed check, 64 bad usage.
            The ledger is --ledger PATH, else $KINERJA_LEDGER, else ./kinerja.ledger.
            """,
        subcommands: [Init.self, Append.self, Serve.self, Access.self, Log.self, Verify.self, History.self, Report.self, Demo.self, Origin.self, Key.self, CheckpointCommand.self, Prove.self, CheckProof.self, Witness.self]
    )
}

struct LedgerOption: ParsableArguments {
    @Option(name: .long, help: "The ledger directory (default: $KINERJA_LEDGER, else ./kinerja.ledger).")
    var ledger: String?

    var path: String { Ledger.resolvePath(ledger, environment: ProcessInfo.processInfo.environment) }

    func open() throws -> Ledger {
        let options = try storeOptions()
        return try failing { try Ledger.open(at: path, options: options) }
    }

    /// `KINERJA_CLOCK=<RFC 3339>` stops the ledger clock at that instant, so that a demo or a
    /// test gives the same `recorded_at`, and so the same hashes, on every run.
    func storeOptions() throws -> StoreOptions {
        guard let text = ProcessInfo.processInfo.environment["KINERJA_CLOCK"], !text.isEmpty else { return StoreOptions() }
        guard case .success(let instant) = Timestamp.parse(text) else {
            printError("kinerja: KINERJA_CLOCK must be an RFC 3339 timestamp with offset, not \(text)")
            throw ExitCode(64)
        }
        return StoreOptions(clock: { instant.micros })
    }
}

/// Runs `body`, turning any error (a ledger that cannot be opened, a point in time past the
/// head...) into a message on standard error and exit code 1.
@discardableResult
func failing<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("kinerja: \(error)")
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an empty ledger.")

    @OptionGroup var options: LedgerOption

    @Option(help: "The ledger's origin: its name in checkpoints, e.g. bkpsdm.bukittinggi.go.id/kinerja (or later: kinerja origin set).")
    var origin: String?

    func run() throws {
        let storeOptions = try options.storeOptions()
        let ledger = try failing { try Ledger.create(at: options.path, options: storeOptions) }
        if let origin { try failing { try ledger.setOrigin(origin) } }
        print("created an empty ledger at \(ledger.path)")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-check the whole hash chain and the indexes.",
        discussion: """
            Exit 0 and the head hash, or 1 naming the first bad seq, or 1 when the ledger's \
            storage is damaged. A chain rewritten from some point on, consistently, verifies on \
            its own: keep a seq and its hash (--expect SEQ:HASH) or a checkpoint file \
            (--checkpoint) somewhere the ledger's writers cannot change it. The ledger may have \
            grown since: only the hash at that seq must still be the same.
            """
    )

    @OptionGroup var options: LedgerOption

    @Option(help: ArgumentHelp("Also require the chain's hash at SEQ to be HASH (saved earlier), to detect a rewrite.", valueName: "SEQ:HASH"))
    var expect: [Expectation] = []

    @Option(help: "A file of checkpoints (lines \"seq N hash H\"): each must still be in the chain; the head is added when the check passes. With --vkey: a signed C2SP checkpoint, whose root the ledger's tree at its size must have.")
    var checkpoint: String?

    /// A seq and the hash the chain must have there.
    struct Expectation: ExpressibleByArgument {
        var seq: UInt64
        var hash: String

        init?(argument: String) {
            let parts = argument.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let seq = UInt64(parts[0]), seq > 0, ChainHash(hex: String(parts[1])) != nil else { return nil }
            (self.seq, hash) = (seq, String(parts[1]))
        }
    }

    /// Set in the child process that reads the ledger.
    static let readerVariable = "KINERJA_VERIFY_READER"

    @Option(help: "The log's verifier key: --checkpoint is a signed C2SP checkpoint (kinerja checkpoint).")
    var vkey: String?

    func run() throws {
        // LMDB trusts its file: a damaged page can make it read through a wild pointer. The
        // reading is done by a child process, so that whatever the damage, this one reports it.
        guard ProcessInfo.processInfo.environment[Self.readerVariable] != nil else { return try runReader() }
        let ledger: Ledger
        let verification: Verification
        let treeFault: (seq: UInt64?, reason: String)?
        do {
            ledger = try Ledger.open(at: options.path, options: try options.storeOptions())
            (verification, treeFault) = try ledger.verifyAll()
        } catch let error as StoreError where error.code == .damaged {
            print("FAILED: \(error)")
            throw ExitCode.failure
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("kinerja: \(error)")
            throw ExitCode.failure
        }
        switch verification {
        case .intact(let head, let records):
            for expectation in expect { try check(expectation, ledger: ledger, head: head, source: "--expect \(expectation.seq):\(expectation.hash)") }
            if let failure = treeFault {
                print(failure.seq.map { "FAILED at seq \($0): \(failure.reason)" } ?? "FAILED: \(failure.reason)")
                throw ExitCode.failure
            }
            // The published checkpoint (kinerja checkpoint --publish, or the server's witnessing),
            // when there is one: readable, and the tree at its size has its root.
            do {
                if let published = try ledger.publishedCheckpoint() { _ = try ledger.check(published, key: nil) }
            } catch let error as PublishedCheckpointError {
                print("FAILED: \(error)")
                throw ExitCode.failure
            } catch {
                print("FAILED: the published checkpoint \(ledger.publishedCheckpointPath) does not hold: \(error)")
                throw ExitCode.failure
            }
            if let checkpoint, let vkey {
                try checkSigned(checkpoint, vkey: vkey, ledger: ledger)
            } else if let checkpoint {
                try check(checkpoint, ledger: ledger, head: head)
            }
            print("ok: \(records) events, chain, Merkle tree and indexes intact")
            print("head: seq \(head.seq) hash \(head.hash.hex)")
        case .broken(let seq, let reason):
            if let seq {
                print("FAILED at seq \(seq): \(reason)")
            } else {
                print("FAILED: \(reason)")
            }
            throw ExitCode.failure
        }
    }

    /// Runs this same command in a child process and reports a death by signal as damage.
    private func runReader() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = Array(CommandLine.arguments.dropFirst())
        child.environment = ProcessInfo.processInfo.environment.merging([Self.readerVariable: "1"]) { $1 }
        do {
            try child.run()
        } catch {
            printError("kinerja: cannot start the reader process: \(error)")
            throw ExitCode.failure
        }
        child.waitUntilExit()
        guard child.terminationReason == .uncaughtSignal else {
            if child.terminationStatus != 0 { throw ExitCode(child.terminationStatus) }
            return
        }
        let signal = child.terminationStatus
        let name = signal == SIGBUS ? "SIGBUS" : signal == SIGSEGV ? "SIGSEGV" : "signal \(signal)"
        print("FAILED: the ledger's storage is damaged: reading it stopped on \(name) (a page of data.mdb points outside the file or is overwritten); restore it from a copy or an export")
        throw ExitCode.failure
    }

    /// Fails unless the chain's hash at the expectation's seq is the expected one.
    private func check(_ expectation: Expectation, ledger: Ledger, head: Head, source: String) throws {
        guard let actual = try failing({ try ledger.hash(at: expectation.seq) }) else {
            print("FAILED at seq \(expectation.seq): \(source) is past the head (seq \(head.seq)): the ledger was truncated")
            throw ExitCode.failure
        }
        guard actual.hex == expectation.hash else {
            print("FAILED at seq \(expectation.seq): the chain was rewritten: \(source) says \(expectation.hash), the ledger has \(actual.hex)")
            throw ExitCode.failure
        }
    }

    private func check(_ path: String, ledger: Ledger, head: Head) throws {
        let text = FileManager.default.fileExists(atPath: path) ? try failing { try String(contentsOfFile: path, encoding: .utf8) } : ""
        var lastSeq: UInt64?
        for (number, line) in text.split(separator: "\n").enumerated() {
            let words = line.split(separator: " ")
            guard words.count == 4, words[0] == "seq", let seq = UInt64(words[1]), words[2] == "hash" else {
                printError("kinerja: \(path), line \(number + 1): expected \"seq N hash H\"")
                throw ExitCode.failure
            }
            guard let expectation = Expectation(argument: "\(seq):\(words[3])") else {
                printError("kinerja: \(path), line \(number + 1): \(words[3]) is not a SHA-256 hash")
                throw ExitCode.failure
            }
            try check(expectation, ledger: ledger, head: head, source: "the checkpoint (\(path), line \(number + 1))")
            lastSeq = seq
        }
        if lastSeq != head.seq {
            try failing {
                let handle = FileManager.default.fileExists(atPath: path) ? try FileHandle(forWritingTo: URL(fileURLWithPath: path)) : nil
                let line = Data("seq \(head.seq) hash \(head.hash.hex)\n".utf8)
                if let handle {
                    try handle.seekToEnd()
                    try handle.write(contentsOf: line)
                    try handle.close()
                } else {
                    try line.write(to: URL(fileURLWithPath: path))
                }
            }
        }
    }
}
