import CLMDB
import Foundation
import KinerjaSamples
import Testing

/// A script of the README between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
func readmeBlock(_ name: String, fence: String) throws -> String {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let begin = try #require(readme.range(of: "<!-- \(name):begin -->\n```\(fence)\n"))
    let end = try #require(readme.range(of: "```\n<!-- \(name):end -->", range: begin.upperBound..<readme.endIndex))
    return String(readme[begin.upperBound..<end.lowerBound])
}

/// A scratch directory holding the demo's ledger and the README's two scripts, where shell
/// commands run as a reader of the README would run them.
struct CustodyScratch {
    let cli = CLI()
    var directory: String { cli.scratch.path }

    init() throws {
        try cli.write("check_chain.py", try readmeInspectorScript())
        try cli.write("check_dossier.py", try readmeBlock("dossier-script", fence: "python"))
        let demo = try bash("kinerja demo > /dev/null 2>&1; echo $?")
        #expect(demo == "0\n")
    }

    /// Names the demo's log `bkpsdm.example.go.id/kinerja` and makes its key: `log.key`, `log.vkey`.
    func nameTheLog() throws {
        let named = try bash(
            """
            kinerja origin set bkpsdm.example.go.id/kinerja > /dev/null
            kinerja key generate bkpsdm.example.go.id/kinerja --out log.key > log.vkey
            echo $?
            """)
        #expect(named == "0\n")
    }

    /// Runs `script` in one bash, in the scratch directory, `kinerja` on the PATH and the demo's
    /// ledger as KINERJA_LEDGER; stdout and stderr merged.
    func bash(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec 2>&1\n" + script]
        var environment = ProcessInfo.processInfo.environment
        environment["KINERJA_LEDGER"] = "kinerja-demo.ledger"
        environment.removeValue(forKey: "KINERJA_CLOCK")
        environment["PATH"] = URL(fileURLWithPath: kinerjaBinary).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = cli.scratch.child("bash-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try process.run()
        process.waitUntilExit()
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    func remove() { cli.remove() }
}

/// Keys and signatures are random: a transcript compares with them masked.
func maskingKeysAndSignatures(_ text: String) -> String {
    text.replacing(/(\S+)\+[0-9a-f]{8}\+[A-Za-z0-9+\/=]{44}/) { "\($0.1)+<key>" }
        .replacing(/— (\S+) [A-Za-z0-9+\/=]{20,}/) { "— \($0.1) <signature>" }
}

@Suite("Verifiable custody: checkpoints, proofs and witnesses, as the README tells")
struct CustodyTests {
    /// Splits a console transcript into its commands (`$ …`) and the output shown after each.
    static func commands(_ transcript: String) -> [(command: String, output: String)] {
        var result: [(String, String)] = []
        for line in transcript.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("$ ") {
                result.append((String(line.dropFirst(2)), ""))
            } else if !result.isEmpty {
                result[result.count - 1].1 += line + "\n"
            }
        }
        return result
    }

    @Test("the README's custody transcripts are what the commands print (KINERJA_RECORD_GOLDEN=1 rewrites them)")
    func readmeTranscripts() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        let readmeURL = repositoryRoot.appendingPathComponent("README.md")
        var readme = try String(contentsOf: readmeURL, encoding: .utf8)
        let opening = "<!-- custody-transcript:begin -->\n```console\n"
        let closing = "```\n<!-- custody-transcript:end -->"
        var searchFrom = readme.startIndex
        var blocks = 0
        while let begin = readme.range(of: opening, range: searchFrom..<readme.endIndex),
            let end = readme.range(of: closing, range: begin.upperBound..<readme.endIndex)
        {
            blocks += 1
            let commands = Self.commands(String(readme[begin.upperBound..<end.lowerBound]))
            let marker = "@@@kinerja-transcript@@@"
            let script = commands.map { "echo \(marker)\n\($0.command)" }.joined(separator: "\n")
            let outputs = try scratch.bash(script).components(separatedBy: marker + "\n").dropFirst()
            #expect(outputs.count == commands.count)
            var recorded = ""
            for (entry, actual) in zip(commands, outputs) {
                recorded += "$ \(entry.command)\n\(actual)"
                #expect(maskingKeysAndSignatures(actual) == maskingKeysAndSignatures(entry.output), "README: \(entry.command)")
            }
            let offset = readme.distance(from: readme.startIndex, to: begin.upperBound)
            readme.replaceSubrange(begin.upperBound..<end.lowerBound, with: recorded)
            searchFrom = readme.index(readme.startIndex, offsetBy: offset + recorded.count)
        }
        #expect(blocks == 4)
        if ProcessInfo.processInfo.environment["KINERJA_RECORD_GOLDEN"] == "1" {
            try readme.write(to: readmeURL, atomically: true, encoding: .utf8)
        }
    }

    @Test("kinerja checkpoint --cosignature keeps a witness's cosignature only when it verifies under a key the operator gives")
    func cosignaturesAreCheckedBeforeTheyAreKept() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        try scratch.nameTheLog()
        let output = try scratch.bash(
            """
            kinerja key generate inspektorat.example.go.id/witness --out witness.key > witness.vkey
            kinerja key generate bkn.example.go.id/witness --out bkn.key > bkn.vkey
            kinerja witness init --state witness --origin bkpsdm.example.go.id/kinerja --log-vkey "$(cat log.vkey)" --key witness.key > /dev/null
            kinerja checkpoint --cosignature x.txt > /dev/null; echo "no vkey $?"
            echo > x.txt
            kinerja checkpoint --cosignature x.txt --witness-vkey "$(cat witness.vkey)"; echo "nothing published $?"
            kinerja checkpoint --key log.key --publish > published.txt
            { echo "old 0"; echo; cat published.txt; } | kinerja witness add-checkpoint --state witness > cosignature.txt
            kinerja checkpoint --cosignature cosignature.txt --witness-vkey "$(cat bkn.vkey)"; echo "another witness $?"
            cmp -s published.txt kinerja-demo.ledger/checkpoint; echo "unchanged $?"
            kinerja checkpoint --cosignature cosignature.txt --witness-vkey "$(cat witness.vkey)" > cosigned.txt; echo "added $?"
            cmp -s cosigned.txt kinerja-demo.ledger/checkpoint; echo "kept $?"
            grep -c "^— " cosigned.txt
            kinerja checkpoint --key log.key --at-seq 5 --publish > /dev/null; echo "rollback $?"
            """)
        #expect(output.contains("no vkey 64"), "\(output)")
        #expect(output.contains("kinerja: no checkpoint is published: `kinerja checkpoint --key FILE --publish` first\nnothing published 1"), "\(output)")
        #expect(output.contains("kinerja: the signature by inspektorat.example.go.id/witness is by no witness key given (--witness-vkey): nothing was stored\nanother witness 1"), "\(output)")
        #expect(output.hasSuffix("unchanged 0\nadded 0\nkept 0\n2\nkinerja: the published checkpoint is of 8077 records: publishing one of 5 would roll it back\nrollback 1\n"), "\(output)")
    }

    @Test("a corrupt published checkpoint is reported by verify and checkpoint --cosignature naming the file, and a new --publish repairs it")
    func corruptPublishedCheckpoint() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        try scratch.nameTheLog()
        let output = try scratch.bash(
            """
            kinerja checkpoint --key log.key --publish > /dev/null
            kinerja verify > /dev/null; echo "published $?"
            echo "not a checkpoint" > kinerja-demo.ledger/checkpoint
            kinerja verify | grep FAILED; echo "verify $?"
            kinerja key generate inspektorat.example.go.id/witness --out witness.key > witness.vkey
            echo "— inspektorat.example.go.id/witness AAAA" > x.txt
            kinerja checkpoint --cosignature x.txt --witness-vkey "$(cat witness.vkey)"; echo "cosignature $?"
            kinerja checkpoint --key log.key --publish > /dev/null; echo "republished $?"
            kinerja verify > /dev/null; echo "repaired $?"
            """)
        let file = scratch.directory + "/kinerja-demo.ledger/checkpoint"
        #expect(output.hasPrefix("published 0\n"), "\(output)")
        let corrupt = "the published checkpoint \(file) is corrupt: not a signed note"
        #expect(output.contains("FAILED: \(corrupt)"), "\(output)")
        #expect(output.contains("verify 0\n"), "grep found the FAILED line: \(output)")
        #expect(output.contains("kinerja: \(corrupt)"), "\(output)")
        #expect(output.contains("cosignature 1\nrepublished 0\nrepaired 0\n"), "\(output)")
    }

    @Test("a ledger rewritten from one seq on and re-hashed, chain and tree, is refused by the witness and by verify --checkpoint")
    func rewrittenLedger() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        try scratch.nameTheLog()
        let setup = try scratch.bash(
            """
            kinerja key generate inspektorat.example.go.id/witness --out witness.key > /dev/null
            kinerja witness init --state witness --origin bkpsdm.example.go.id/kinerja --log-vkey "$(cat log.vkey)" --key witness.key > /dev/null
            kinerja checkpoint --key log.key > genuine.txt
            { echo "old 0"; echo; cat genuine.txt; } | kinerja witness add-checkpoint --state witness > /dev/null
            echo "witnessed $?"
            kinerja log --format jsonl > export.jsonl
            """)
        #expect(setup == "witnessed 0\n")

        // The insider's rewrite: one training's hours changed, every later hash recomputed,
        // restored into a fresh ledger under the same origin and signed with the same key.
        try scratch.cli.write(
            "rewrite.py",
            """
            import hashlib, json, sys
            from check_chain import canonical
            head, changed, out = bytes(32), None, []
            for line in open("export.jsonl", encoding="utf-8"):
                e = json.loads(line)
                if changed is None and e["type"] == "training.completed":
                    e["data"]["hours"] += 10
                    changed = e["seq"]
                e["prev_hash"] = head.hex()
                head = hashlib.sha256(head + canonical(e)).digest()
                e["hash"] = head.hex()
                out.append(json.dumps(e, ensure_ascii=False, separators=(",", ":")))
            open("forged.jsonl", "w", encoding="utf-8").write("\\n".join(out) + "\\n")
            print(changed)
            """)
        let forged = try scratch.bash(
            """
            python3 rewrite.py > changed.txt || exit 1
            export KINERJA_LEDGER=forged.ledger
            kinerja init --origin bkpsdm.example.go.id/kinerja > /dev/null
            kinerja append forged.jsonl > /dev/null; echo "restored $?"
            kinerja verify > /dev/null; echo "verify alone $?"
            kinerja checkpoint --key log.key > forged.txt
            { echo "old $(sed -n 2p genuine.txt)"; echo; cat forged.txt; } | kinerja witness add-checkpoint --state witness; echo "witness $?"
            kinerja verify --checkpoint genuine.txt --vkey "$(cat log.vkey)"; echo "verify --checkpoint $?"
            """)
        #expect(forged.contains("restored 0\n"))
        #expect(forged.contains("verify alone 0\n"), "a consistent rewrite verifies on its own: that is why checkpoints exist")
        #expect(forged.contains("refused (422): the checkpoint has size"))
        #expect(forged.contains("a fork"))
        #expect(forged.contains("witness 1\n"))
        #expect(forged.contains("FAILED: the ledger's first"))
        #expect(forged.contains("verify --checkpoint 1\n"))
        // The witness still holds the genuine checkpoint.
        let held = try String(contentsOfFile: scratch.cli.scratch.child("witness/checkpoint"), encoding: .utf8)
        #expect(held == (try String(contentsOfFile: scratch.cli.scratch.child("genuine.txt"), encoding: .utf8)))
    }

    @Test("one node of the stored Merkle tree changed behind the ledger's back: kinerja verify fails naming where, exit 1")
    func changedTreeNode() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        #expect(try scratch.bash("kinerja verify > /dev/null; echo $?") == "0\n")
        // The tree's tenth stored node (level 2 and up: 4 leaves and more) overwritten with plain LMDB.
        var env: OpaquePointer?
        #expect(mdb_env_create(&env) == 0)
        mdb_env_set_maxdbs(env, 16)
        #expect(mdb_env_open(env, scratch.directory + "/kinerja-demo.ledger", 0, 0o644) == 0)
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
        var tree: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, "tree", 0, &tree) == 0)
        var cursor: OpaquePointer?
        #expect(mdb_cursor_open(txn, tree, &cursor) == 0)
        var key = MDB_val()
        var value = MDB_val()
        #expect(mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0)
        for _ in 1..<10 { #expect(mdb_cursor_get(cursor, &key, &value, MDB_NEXT) == 0) }
        var forged = [UInt8](repeating: 0x5A, count: 32)
        forged.withUnsafeMutableBytes { raw in
            var replacement = MDB_val(mv_size: 32, mv_data: raw.baseAddress)
            #expect(mdb_cursor_put(cursor, &key, &replacement, UInt32(MDB_CURRENT)) == 0)
        }
        mdb_cursor_close(cursor)
        #expect(mdb_txn_commit(txn) == 0)
        mdb_env_close(env)

        let output = try scratch.bash("kinerja verify; echo \"exit $?\"")
        #expect(output.hasPrefix("FAILED at seq "), "\(output)")
        #expect(output.contains("the Merkle tree's node of level"), "\(output)")
        #expect(output.contains("is not the hash of the records"), "\(output)")
        #expect(output.hasSuffix("exit 1\n"), "\(output)")
    }

    @Test("check-proof refuses a dossier with one changed byte, a proof for another checkpoint, a checkpoint signed by another key — naming why")
    func refusedProofs() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        try scratch.nameTheLog()
        let made = try scratch.bash(
            """
            kinerja key generate bkpsdm.example.go.id/kinerja --out other.key > /dev/null
            kinerja checkpoint --key log.key > checkpoint.txt
            kinerja checkpoint --key log.key --at-seq 700 > checkpoint-700.txt
            kinerja checkpoint --key other.key > other.txt
            kinerja prove --employee 198404252008022003 --checkpoint checkpoint.txt --out dossier.json
            kinerja check-proof dossier.json --vkey "$(cat log.vkey)" > /dev/null; echo "genuine $?"
            python3 check_dossier.py dossier.json "$(cat log.vkey)" > /dev/null; echo "script $?"
            """)
        #expect(made == "genuine 0\nscript 0\n")
        let dossier = try String(contentsOfFile: scratch.cli.scratch.child("dossier.json"), encoding: .utf8)
        let checkpoint = try String(contentsOfFile: scratch.cli.scratch.child("checkpoint.txt"), encoding: .utf8)
        func encoded(_ note: String) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            return String(decoding: try encoder.encode(note), as: UTF8.self)
        }

        // One byte of one event changed (a realization's or a training's digit, a name's letter).
        let changedByte = try #require(dossier.range(of: #""hours":"#)).upperBound
        var oneByte = dossier
        let digit = oneByte[changedByte]
        oneByte.replaceSubrange(changedByte...changedByte, with: digit == "9" ? "8" : String(Int(String(digit))! + 1))
        // The proof of another checkpoint: the same events, the hashes of the tree at 700.
        let otherCheckpoint = dossier.replacingOccurrences(
            of: try encoded(checkpoint), with: try encoded(try String(contentsOfFile: scratch.cli.scratch.child("checkpoint-700.txt"), encoding: .utf8)))
        let otherKey = dossier.replacingOccurrences(
            of: try encoded(checkpoint), with: try encoded(try String(contentsOfFile: scratch.cli.scratch.child("other.txt"), encoding: .utf8)))
        #expect(otherCheckpoint != dossier && otherKey != dossier)

        for (name, text, why) in [
            ("one-byte.json", oneByte, "the event was changed"),
            ("other-checkpoint.json", otherCheckpoint, "is not included in the checkpoint's tree"),
            ("other-key.json", otherKey, "is not signed by bkpsdm.example.go.id/kinerja"),
        ] {
            try scratch.cli.write(name, text)
            let result = try scratch.bash(#"kinerja check-proof \#(name) --vkey "$(cat log.vkey)"; echo "exit $?"; python3 check_dossier.py \#(name) "$(cat log.vkey)" > /dev/null 2>&1; echo "script $?""#)
            #expect(result.contains(why), "\(name): \(result)")
            #expect(result.contains("exit 1\n"), "\(name): \(result)")
            #expect(!result.contains("script 0\n"), "the README's script accepted \(name)")
        }
    }

    @Test("a witness killed at any moment of add-checkpoint holds the old checkpoint or the new one, never neither")
    func witnessKilledMidWrite() throws {
        let scratch = try CustodyScratch()
        defer { scratch.remove() }
        try scratch.nameTheLog()
        _ = try scratch.bash(
            """
            kinerja key generate w.example/witness --out witness.key > /dev/null
            kinerja witness init --state witness --origin bkpsdm.example.go.id/kinerja --log-vkey "$(cat log.vkey)" --key witness.key > /dev/null
            for size in $(seq 40 40 800); do kinerja checkpoint --key log.key --at-seq $size > cp-$size.txt; done
            """)
        var held = 0
        var cosigned = 0
        for (round, size) in stride(from: 40, through: 800, by: 40).enumerated() {
            let body = try scratch.bash(
                held == 0
                    ? "echo 'old 0'; echo; cat cp-\(size).txt"
                    : "echo 'old \(held)'; kinerja prove --from \(held) --checkpoint cp-\(size).txt; echo; cat cp-\(size).txt")
            let request = try scratch.cli.write("request-\(size).txt", body)
            let process = try RunningProcess(
                kinerjaBinary, ["witness", "add-checkpoint", "--state", scratch.cli.scratch.child("witness")], environment: [:],
                stdin: try FileHandle(forReadingFrom: URL(fileURLWithPath: request)), scratch: scratch.cli.scratch)
            // From before the process has started to after it has finished: every moment between.
            usleep(UInt32((round * 7_919) % 120_000))
            kill(process.process.processIdentifier, SIGKILL)
            let result = process.wait()
            let state = ((try? String(contentsOfFile: scratch.cli.scratch.child("witness/checkpoint"), encoding: .utf8)) ?? "").split(separator: "\n")
            if held == 0 && state.isEmpty {
                #expect(result.status != 0)
                continue
            }
            let now = Int(state[1])!
            #expect(now == held || now == size, "after a kill the witness holds \(now), neither \(held) nor \(size)")
            if now == size { cosigned += 1 }
            held = now
        }
        #expect(held > 0 && cosigned > 0, "no add-checkpoint finished: the kills came too early every time")
    }
}
