import ArgumentParser
import Foundation
import TransparencyLog

/// `kinerja key`: signed-note keys for checkpoints and cosignatures.
struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Signing keys (C2SP signed-note Ed25519) for checkpoints and witnesses.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new private key (mode 0600) and print its verifier key.",
            discussion: """
                The verifier key is NAME+<hex key id>+<base64(0x01 ‖ public key)>: give it to whoever \
                checks the checkpoints and proofs. A witness's key is generated the same way; \
                `kinerja witness init` prints the verifier key of its cosignatures.
                """
        )

        @Argument(help: "The key's name: the log's origin (e.g. bkpsdm.bukittinggi.go.id/kinerja), or the witness's name.")
        var name: String

        @Option(help: "Where to write the private key. An existing file is never overwritten.")
        var out: String

        func run() throws {
            let key = try failing { try NoteSigningKey(name: name) }
            let descriptor = open(out, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                printError("kinerja: cannot create \(out): \(String(cString: strerror(errno)))")
                throw ExitCode.failure
            }
            let bytes = Array(key.encoded.utf8)
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count, fsync(descriptor) == 0, close(descriptor) == 0 else {
                printError("kinerja: cannot write \(out)")
                throw ExitCode.failure
            }
            print(key.verifierKey)
        }
    }
}

/// `kinerja witness`: another office keeps the latest checkpoint it saw of a log and cosigns
/// only what is consistent with it.
struct Witness: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Witness another ledger's checkpoints (C2SP tlog-witness).",
        subcommands: [Init.self, AddCheckpoint.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a witness's state for one log; print the verifier key of its cosignatures.")

        @Option(help: "The witness's state directory.")
        var state: String

        @Option(help: "The origin of the witnessed log.")
        var origin: String

        @Option(help: "The log's verifier key.")
        var logVkey: String

        @Option(help: "The witness's private key (from `kinerja key generate`).")
        var key: String

        func run() throws {
            let directory = try failing {
                try WitnessDirectory.create(at: state, origin: origin, logKey: try NoteVerifierKey(parsing: logVkey), keyFile: key)
            }
            let (_, signingKey) = try failing { try directory.load() }
            print("witnessing \(origin) in \(state)")
            print("cosignature verifier key: \(signingKey.cosignatureVerifierKey)")
        }
    }

    struct AddCheckpoint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-checkpoint",
            abstract: "Check a new checkpoint against the one held; persist it and print the cosignature.",
            discussion: """
                Reads a C2SP tlog-witness add-checkpoint body on standard input: `old SIZE`, the \
                consistency proof (base64, a line each), a blank line, the signed checkpoint. \
                Exit 0 and the cosignature line; exit 2 and the size held when `old` is not it \
                (HTTP 409); exit 1 naming why for a bad signature, a rollback or a fork.
                """
        )

        @Option(help: "The witness's state directory.")
        var state: String

        func run() throws {
            let body = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let decision = try failing { try WitnessDirectory(path: state).add(try AddCheckpointRequest(parsing: body)) }
            switch decision {
            case .cosigned(_, let cosignature):
                print(cosignature.line, terminator: "")
            case .conflict(let held):
                print(held)
                printError("kinerja: the witness holds a checkpoint of size \(held), not \(body.prefix { $0 != "\n" }.dropFirst(4))")
                throw ExitCode(2)
            case .unknownLog(let why), .forbidden(let why), .badRequest(let why), .unprocessable(let why):
                printError("kinerja: refused (\(decision.status)): \(why)")
                throw ExitCode.failure
            }
        }
    }
}
