import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import LedgerStore
import KinerjaServer
import TransparencyLog

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (PRODUCT §9): the actor of every event is who authenticated.",
        discussion: "Tokens come from `kinerja access grant`. TLS is terminated by a reverse proxy in front of it."
    )

    @OptionGroup var options: LedgerOption

    @Option(help: ArgumentHelp("Where to listen.", valueName: "HOST:PORT"))
    var listen = "127.0.0.1:8080"

    @Option(help: "The log's private key (kinerja key generate): with no checkpoint published (kinerja checkpoint --publish), GET /v1/checkpoint and the proofs sign one of the head with it.")
    var key: String?

    @Option(help: ArgumentHelp("A witness's state (kinerja witness init): serve POST /v1/witness/add-checkpoint.", valueName: "DIR"))
    var witnessState: String?

    @Option(
        help: ArgumentHelp(
            "A witness of this log (repeatable): its submission URL (the log posts to URL/add-checkpoint) and its verifier key (kinerja witness init prints it). Needs --key: the server signs a checkpoint when the tree grows, has it cosigned and publishes it.",
            valueName: "URL=VKEY"))
    var witness: [String] = []

    @Flag(help: "Commit each request on its own instead of grouping concurrent ones (for comparison only).")
    var noGroupCommit = false

    @Flag(help: "Leave the ledger's file unmapped at startup: each page is mapped when a read first touches it, as a one-off command does (for comparison only).")
    var noPremap = false

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT, not \(listen)")
        }
        let host = String(listen[..<colon])
        let witnesses = try witness.map { argument in
            do { return try WitnessEndpoint(parsing: argument) } catch let error as TransparencyLogError { throw ValidationError("--witness: \(error.message)") }
        }
        guard witnesses.isEmpty || key != nil else { throw ValidationError("--witness needs --key FILE: the log signs the checkpoints its witnesses cosign") }
        let signingKey = try key.map { path in try failing { try NoteSigningKey(encoded: try String(contentsOfFile: path, encoding: .utf8)) } }
        let configuration = ServerConfiguration(
            host: host, port: port, groupCommit: !noGroupCommit, signingKey: signingKey, witnessState: witnessState, witnesses: witnesses)
        // A long-running reader: the ledger's pages mapped once at startup, not on each first touch.
        var storeOptions = try options.storeOptions()
        storeOptions.premapsFile = !noPremap
        let ledger = try failing { try Ledger.open(at: options.path, options: storeOptions) }
        if !witnesses.isEmpty, try failing({ try ledger.origin() }) == nil {
            throw ValidationError("--witness needs the ledger's origin, the name its checkpoints carry: kinerja origin set NAME")
        }
        let writer = GroupCommitter(ledger: ledger, groups: configuration.groupCommit)
        let app = buildApplication(ledger: ledger, access: AccessList(ledgerPath: ledger.path), configuration, writer: writer) { port in
            FileHandle.standardOutput.write(Data("listening on \(host):\(port)\n".utf8))
        }
        try await app.runService()
        // After a graceful stop (SIGTERM, SIGINT): what the writer did, for the benchmark and the operator.
        FileHandle.standardOutput.write(Data("\(writer.statistics)\n".utf8))
    }
}

struct Access: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grant, revoke and list the identities that may use the HTTP API.",
        subcommands: [Grant.self, Revoke.self, List.self]
    )

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grant IDENTITY a role: prints its new token once (only its hash is kept).")

        @OptionGroup var options: LedgerOption

        @Argument(help: "An NIP, or a system identifier such as hr:bkpsdm.")
        var identity: String

        @Option(help: "employee, hr, auditor or service.")
        var role: Role

        @Option(help: "A unit an hr identity administers (repeatable).")
        var unit: [String] = []

        @OptionGroup var operatorOption: OperatorOption

        func run() throws {
            let actor = try operatorOption.actor()
            let ledger = try options.open()
            let access = AccessList(ledgerPath: ledger.path)
            let (token, grant) = try failing { try access.grant(identity, role: role, units: unit, by: actor, recordingIn: ledger) }
            print("granted \(grant.identity) the role \(grant.role.rawValue)\(unit.isEmpty ? "" : " in " + unit.joined(separator: ", ")), token id \(grant.tokenID)")
            print("token (shown only now): \(token)")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke every token of IDENTITY, at once, also on a running server.")

        @OptionGroup var options: LedgerOption

        @Argument var identity: String

        @OptionGroup var operatorOption: OperatorOption

        func run() throws {
            let actor = try operatorOption.actor()
            let ledger = try options.open()
            let access = AccessList(ledgerPath: ledger.path)
            let count = try failing { try access.revoke(identity, by: actor, recordingIn: ledger) }
            print("revoked \(count) token\(count == 1 ? "" : "s") of \(identity)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the grants: identity, role, units, token id, granted and revoked.")

        @OptionGroup var options: LedgerOption

        func run() throws {
            let access = AccessList(ledgerPath: try options.open().path)
            for grant in try failing({ try access.grants() }) {
                let units = grant.units.isEmpty ? "-" : grant.units.joined(separator: ",")
                print([grant.identity, grant.role.rawValue, units, grant.tokenID, grant.grantedAt, grant.revokedAt.map { "revoked " + $0 } ?? "active"].joined(separator: "  "))
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

/// Who grants or revokes: the actor of the `access.granted` / `access.revoked` events.
struct OperatorOption: ParsableArguments {
    @Option(
        name: .customLong("by"),
        help: ArgumentHelp("Who grants or revokes, as the ledger records it: an NIP or a system identifier (default operator:<login name>).", valueName: "ACTOR"))
    var by: String?

    func actor() throws -> String {
        if let by {
            guard Identifiers.isIdentity(by) else { throw ValidationError("--by must be an NIP or a system identifier such as operator:admin, not \(by)") }
            return by
        }
        let login = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown"
        let name = String(login.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }.prefix(64))
        return "operator:" + (name.isEmpty ? "unknown" : name)
    }
}
