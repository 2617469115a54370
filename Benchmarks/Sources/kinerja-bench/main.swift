import Foundation

// kinerja-bench: the ledger's figures beside raw LMDB, SQLite and the Python eventsourcing
// library. From the repository root (BENCHMARKS.md):
//   scripts/bench                      # 1 M and 10 M events, all peers
//   scripts/bench --events 100000      # one size
// `run` starts every other subcommand as a child process, one per measured step.

let commands: [String: (Options) throws -> Void] = [
    "run": { try Run($0).main() },
    "generate": generateWorkload,
    "ledger-import": ledgerImport, "ledger-writer": ledgerWriter, "ledger-replay": ledgerReplay,
    "ledger-verify": ledgerVerify, "ledger-history": ledgerHistory, "ledger-accountability": ledgerAccountability,
    "ledger-custody": ledgerCustody, "server-load": serverLoad, "http-peer": httpPeer,
    "lmdb-import": lmdbImport, "lmdb-scan": lmdbScan, "lmdb-verify": lmdbVerify, "lmdb-writer": lmdbWriter,
    "decode": decodeOnly,
    "sqlite-import": sqliteImport, "sqlite-writer": sqliteWriter, "sqlite-replay": sqliteReplay, "sqlite-history": sqliteHistory,
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let command = commands[name] else {
    print("usage: kinerja-bench run [--events 1000000,10000000] [--peers lmdb,sqlite,eventsourcing] [--batch 10000]")
    print("                         [--writers 8] [--writer-events N] [--writer-batch 100] [--samples 1000] [--unit-samples 10]")
    print("                         [--work DIR] [--keep yes] [--python python3]")
    print("       kinerja-bench STEP ...   (one measured step; run starts them: \(commands.keys.sorted().joined(separator: ", ")))")
    exit(2)
}
try command(Options(Array(arguments.dropFirst())))
