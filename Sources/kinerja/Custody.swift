import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
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
            let request = try failing { try AddCheckpointRequest(parsing: body) }
            let decision = try failing { try WitnessDirectory(path: state).add(request) }
            switch decision {
            case .cosigned(_, let cosignature):
                print(cosignature.line, terminator: "")
            case .conflict(let held):
                print(held)
                printError("kinerja: the witness holds a checkpoint of size \(held), not \(request.oldSize)")
                throw ExitCode(2)
            case .unknownLog(let why), .forbidden(let why), .badRequest(let why), .unprocessable(let why):
                printError("kinerja: refused (\(decision.status)): \(why)")
                throw ExitCode.failure
            }
        }
    }
}

/// `kinerja origin set NAME`: names an existing ledger once.
struct Origin: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The ledger's origin: its name in checkpoints.", subcommands: [Set.self, Show.self], defaultSubcommand: Show.self)

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Name the ledger (once; every checkpoint names it).")
        @OptionGroup var options: LedgerOption
        @Argument(help: "e.g. bkpsdm.bukittinggi.go.id/kinerja") var name: String

        func run() throws {
            let ledger = try options.open()
            try failing { try ledger.setOrigin(name) }
            print("origin: \(name)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the ledger's origin.")
        @OptionGroup var options: LedgerOption

        func run() throws {
            let ledger = try options.open()
            guard let origin = try failing({ try ledger.origin() }) else {
                printError("kinerja: the ledger has no origin yet (kinerja origin set NAME)")
                throw ExitCode.failure
            }
            print(origin)
        }
    }
}

/// Reads a signed note from a file.
func readNote(_ path: String) throws -> SignedNote {
    try failing {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CustodyError("cannot read \(path)") }
        return try SignedNote(parsing: text)
    }
}

/// Writes `text` to `path`, or to standard output when `path` is nil.
/// `bytes` (UTF-8 text) to the file `path`, written atomically, or to stdout.
func emit(_ bytes: [UInt8], to path: String?) throws {
    guard let path else {
        fflush(nil)  // anything print buffered comes first
        FileHandle.standardOutput.write(Data(bytes))
        return
    }
    try failing { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) }
}

func emit(_ text: String, to path: String?) throws {
    guard let path else {
        print(text, terminator: "")
        return
    }
    try failing { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print a signed C2SP checkpoint of the ledger's Merkle tree; publish it; add witnesses' cosignatures to it.",
        discussion: """
            The origin, the tree size, the base64 root, a blank line, and `— NAME base64(key id ‖ signature)`. \
            With --publish the checkpoint is also kept beside the ledger as the one `kinerja serve` serves \
            (GET /v1/checkpoint) and proves against (GET /v1/employees/NIP/proof). Send it to the witnesses; \
            then --cosignature FILE --witness-vkey VKEY (no --key) adds what each answered, after checking \
            it against the witness's verifier key, and prints the published checkpoint with every cosignature.
            """
    )
    @OptionGroup var options: LedgerOption
    @Option(help: "The private key file (kinerja key generate).") var key: String?
    @Option(name: .customLong("at-seq"), help: "The tree of the first N records (default: the head).") var atSeq: UInt64?
    @Flag(help: "Keep the checkpoint as the published one (the server serves it), replacing the previous and its cosignatures.")
    var publish = false
    @Option(help: ArgumentHelp("A witness's answer (its cosignature line, or the note with it) to add to the published checkpoint; repeatable.", valueName: "FILE"))
    var cosignature: [String] = []
    @Option(help: ArgumentHelp("The verifier key of a witness whose cosignatures are accepted (kinerja witness init prints it); repeatable.", valueName: "VKEY"))
    var witnessVkey: [String] = []

    func validate() throws {
        if cosignature.isEmpty {
            guard key != nil else { throw ValidationError("give --key FILE to sign a checkpoint, or --cosignature FILE --witness-vkey VKEY to add a witness's") }
            if !witnessVkey.isEmpty { throw ValidationError("--witness-vkey goes with --cosignature") }
        } else {
            if key != nil || atSeq != nil || publish { throw ValidationError("--cosignature adds to the published checkpoint: give no --key, --at-seq or --publish with it") }
            if witnessVkey.isEmpty { throw ValidationError("--cosignature needs the witnesses' verifier keys (--witness-vkey VKEY): a cosignature is never stored unchecked") }
        }
    }

    func run() throws {
        let ledger = try options.open()
        if !cosignature.isEmpty {
            let witnesses = try failing { try witnessVkey.map { try NoteVerifierKey(parsing: $0) } }
            var note: SignedNote?
            for file in cosignature {
                note = try failing {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CustodyError("cannot read \(file)") }
                    return try ledger.addCosignatures(text, witnesses: witnesses)
                }
            }
            print(note?.formatted ?? "", terminator: "")
            return
        }
        let signingKey = try failing { try NoteSigningKey(encoded: try String(contentsOfFile: key ?? "", encoding: .utf8)) }
        if publish {
            print(try failing { try ledger.publishCheckpoint(size: atSeq, key: signingKey) }.formatted, terminator: "")
        } else {
            print(try failing { try ledger.checkpoint(size: atSeq, key: signingKey) }.formatted, terminator: "")
        }
    }
}

struct Prove: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Proofs against a checkpoint, checkable with no ledger: an employee's dossier, one event, or consistency.",
        discussion: """
            --employee NIP: a dossier proof (JSON: the checkpoint and each event with its inclusion proof). \
            --event ID: a C2SP tlog-proof (extra = the event's canonical bytes). \
            --from SIZE: the consistency proof from the tree of SIZE records to the checkpoint's (base64, a line each).
            """
    )
    @OptionGroup var options: LedgerOption
    @Option(help: "An employee's NIP.") var employee: String?
    @Option(help: "An event id.") var event: String?
    @Option(help: "An earlier tree size.") var from: UInt64?
    @Option(help: "The signed checkpoint file.") var checkpoint: String
    @Option(help: "Write the proof here instead of standard output.") var out: String?

    func validate() throws {
        guard [employee != nil, event != nil, from != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --employee, --event, --from")
        }
    }

    func run() throws {
        let ledger = try options.open()
        let note = try readNote(checkpoint)
        if let employee {
            if case .failure(let invalid) = NIP.validate(employee) { throw ValidationError("--employee: \(invalid.rule)") }
            try emit(try failing { try ledger.dossierProofBytes(employee: NIP(unchecked: employee), checkpoint: note) }, to: out)
        } else if let event {
            guard let id = EventID(event) else { throw ValidationError("--event: \(event) is not a UUID") }
            try emit(try failing { try ledger.eventProof(id: id, checkpoint: note) }.formatted, to: out)
        } else if let from {
            try emit(try failing { try ledger.consistencyProof(from: from, checkpoint: note) }.map { $0.base64 + "\n" }.joined(), to: out)
        }
    }
}

struct CheckProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-proof",
        abstract: "Check a dossier proof or a tlog-proof with no ledger: exit 0 and what it proves, or 1 naming what fails."
    )
    @Argument(help: "The proof file.") var file: String
    @Option(help: "The log's verifier key.") var vkey: String

    func run() throws {
        let proven = try failing {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CustodyError("cannot read \(file)") }
            return try Ledger.checkProof(text, key: try NoteVerifierKey(parsing: vkey))
        }
        let checkpoint = proven.checkpoint
        print("ok: \(proven.events.count) event\(proven.events.count == 1 ? "" : "s") included in \(checkpoint.origin) at tree size \(checkpoint.size), root \(checkpoint.root.base64)")
        for (seq, event) in proven.events {
            let subject = event.subject.text
            print("seq \(seq)  \(event.type.rawValue)  \(subject)  \(event.id)")
        }
    }
}

extension Verify {
    /// `verify --checkpoint FILE --vkey VKEY`: the checkpoint is signed by the key, and the
    /// ledger's tree at its size has its root.
    func checkSigned(_ path: String, vkey: String, ledger: Ledger) throws {
        let note = try readNote(path)
        do {
            let checkpoint = try ledger.check(note, key: try NoteVerifierKey(parsing: vkey))
            print("checkpoint: the first \(checkpoint.size) records are those \(checkpoint.origin) signed (root \(checkpoint.root.base64))")
        } catch {
            print("FAILED: \(error)")
            throw ExitCode.failure
        }
    }
}
