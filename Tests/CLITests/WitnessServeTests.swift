import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real processes on loopback: witness offices (`kinerja serve --witness-state`) and a log
/// (`kinerja serve --key --witness URL=VKEY ...`) that keeps its checkpoint witnessed.
@Suite struct WitnessServeTests {
    static let origin = "bkpsdm.example.go.id/kinerja"

    /// A witness office: its own ledger (the server needs one), its key, its state for the log.
    /// Returns its cosignature verifier key (as `kinerja witness init` prints it).
    func office(_ cli: CLI, _ name: String, logVkey: String) throws -> String {
        let short = String(name.split(separator: ".").first!)
        #expect(try cli.run("init", ledger: cli.scratch.child("\(short).ledger")).status == 0)
        #expect(try cli.run("key", "generate", name, "--out", cli.scratch.child("\(short).key")).status == 0)
        let initialized = try cli.run(
            "witness", "init", "--state", cli.scratch.child(short), "--origin", Self.origin, "--log-vkey", logVkey, "--key", cli.scratch.child("\(short).key"))
        #expect(initialized.status == 0, "\(initialized.stderr)")
        return String(initialized.stdout.split(separator: "\n").first { $0.hasPrefix("cosignature verifier key: ") }!.dropFirst("cosignature verifier key: ".count))
    }

    func request(_ url: String, token: String, body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpMethod = "POST"
            request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    /// `GET /v1/checkpoint` until it is of `size` records with `signatures` signature lines (the
    /// witnessing runs beside the server, every second here); nil if it never is.
    func checkpoint(_ base: String, token: String, size: Int, signatures: Int) async throws -> String? {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let (status, body) = try await request(base + "/v1/checkpoint", token: token)
            let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
            if status == 200, lines.count > 1, lines[1] == Substring(String(size)), lines.filter({ $0.hasPrefix("— ") }).count == signatures { return body }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Checks one cosignature (C2SP tlog-cosignature/v1) on the checkpoint with Python's `cryptography`,
    /// knowing nothing of this code: the verifier key, the line, `cosignature/v1\ntime T\n` + the text.
    static let cosignatureScript = #"""
        import base64, hashlib, struct, sys
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        note, vkey = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
        name, key_id, key = vkey.split("+", 2)
        key = base64.b64decode(key)
        assert key[0] == 4, "a cosignature/v1 key"
        assert hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() == key_id
        text, signatures = note.split("\n\n", 1)
        for line in signatures.splitlines():
            signer, blob = line[2:].split(" ")
            blob = base64.b64decode(blob)
            if signer == name and blob[:4].hex() == key_id:
                time = struct.unpack(">Q", blob[4:12])[0]
                message = b"cosignature/v1\ntime %d\n" % time + (text + "\n").encode()
                Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[12:], message)
                print("ok", name, "time", time)
                sys.exit(0)
        sys.exit("no cosignature by " + name)
        """#

    @Test func witnessesNeedAKeyAndAnOriginAndWellFormedArguments() throws {
        let cli = CLI()
        defer { cli.remove() }
        #expect(try cli.run("init").status == 0)
        let vkey = try cli.run("key", "generate", "inspektorat.example.go.id/witness", "--out", cli.scratch.child("w.key")).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try cli.run("key", "generate", Self.origin, "--out", cli.scratch.child("log.key")).status == 0)
        let noKey = try cli.run("serve", "--witness", "http://127.0.0.1:8201/v1/witness=\(vkey)")
        #expect(noKey.status == 64)
        #expect(noKey.stderr.contains("--witness needs --key FILE"), "\(noKey.stderr)")
        let noOrigin = try cli.run("serve", "--key", cli.scratch.child("log.key"), "--witness", "http://127.0.0.1:8201/v1/witness=\(vkey)")
        #expect(noOrigin.status == 64)
        #expect(noOrigin.stderr.contains("kinerja origin set"), "\(noOrigin.stderr)")
        let malformed = try cli.run("serve", "--key", cli.scratch.child("log.key"), "--witness", "127.0.0.1:8201=\(vkey)")
        #expect(malformed.status == 64)
        #expect(malformed.stderr.contains("--witness: the witness's URL must be http:// or https://"), "\(malformed.stderr)")
    }

    @Test func aServedCheckpointCarriesBothCosignaturesAForkedWitnessRefusesAndOneDownStopsNothing() async throws {
        var cli = CLI()
        cli.clock = nil
        defer { cli.remove() }
        #expect(try cli.run("init", "--origin", Self.origin).status == 0)
        let logVkey = try cli.run("key", "generate", Self.origin, "--out", cli.scratch.child("log.key")).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hr = String(
            try cli.run("access", "grant", "hr:bkpsdm-kota", "--role", "hr", "--unit", "SETDA", "--unit", "DINKES").stdout
                .split(separator: "\n").first { $0.hasPrefix("token (shown only now): ") }!.dropFirst("token (shown only now): ".count))

        // Three offices witness the log; the third has already cosigned a checkpoint of another
        // history of it (the same key, another ledger): a fork.
        let inspektorat = try office(cli, "inspektorat.example.go.id/witness", logVkey: logVkey)
        let bkn = try office(cli, "bkn.example.go.id/witness", logVkey: logVkey)
        let bpkp = try office(cli, "bpkp.example.go.id/witness", logVkey: logVkey)
        let fork = cli.scratch.child("fork.ledger")
        #expect(try cli.run("init", "--origin", Self.origin, ledger: fork).status == 0)
        let placements = try String(contentsOfFile: sampleFile, encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n")
        let appended = try cli.run("append", try cli.write("placements.jsonl", placements), ledger: fork)
        #expect(appended.status == 0, "\(appended.stderr)")
        let forked = try cli.run("checkpoint", "--key", cli.scratch.child("log.key"), "--at-seq", "2", ledger: fork).stdout
        let request = try cli.write("fork-request.txt", "old 0\n\n" + forked)
        #expect(try cli.run("witness", "add-checkpoint", "--state", cli.scratch.child("bpkp"), stdinFile: request).status == 0)

        var witnesses: [RunningProcess] = []
        defer { for witness in witnesses { witness.process.terminate() } }
        var arguments = ["--key", cli.scratch.child("log.key")]
        for (name, vkey) in [("inspektorat", inspektorat), ("bkn", bkn), ("bpkp", bpkp)] {
            let (process, base) = try cli.serve(["--witness-state", cli.scratch.child(name)], ledger: cli.scratch.child("\(name).ledger"))
            witnesses.append(process)
            arguments += ["--witness", "\(base)/v1/witness=\(vkey)"]
        }
        // A fourth office whose witness is down: nothing listens there.
        let down = try cli.run("key", "generate", "bpk.example.go.id/witness", "--out", cli.scratch.child("bpk.key")).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        arguments += ["--witness", "http://127.0.0.1:1/v1/witness=\(down)"]
        // The sample's three placements, appended before the server starts (its first round is
        // at start, of these 4 records).
        #expect(try cli.run("append", cli.scratch.child("placements.jsonl")).status == 0)
        let (log, base) = try cli.serve(arguments)
        defer { log.process.terminate() }

        // 1 grant + 3 placements; the log's signature and two cosignatures, not the forked witness's.
        let served = try #require(try await checkpoint(base, token: hr, size: 4, signatures: 3), "\((try? String(contentsOfFile: log.stderrPath, encoding: .utf8)) ?? "")")
        let file = try cli.write("checkpoint.txt", served)
        #expect(served.contains("\n— \(Self.origin) "))
        #expect(served.contains("\n— inspektorat.example.go.id/witness "))
        #expect(served.contains("\n— bkn.example.go.id/witness "))
        #expect(!served.contains("bpkp.example.go.id"))
        // Each signature checked on its own: the log's by `kinerja verify --checkpoint --vkey`,
        // each witness's by a script that knows only the C2SP formats.
        let verified = try cli.run("verify", "--checkpoint", file, "--vkey", logVkey)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        for vkey in [inspektorat, bkn] {
            let checked = try python(Self.cosignatureScript, [file, vkey], in: cli)
            #expect(checked.status == 0, "\(checked.stderr)")
            #expect(checked.stdout.hasPrefix("ok \(vkey.split(separator: "+")[0]) time "))
        }
        #expect(try python(Self.cosignatureScript, [file, bpkp], in: cli).status != 0)

        // The log grows through the server — appends are answered while the witnessing goes on,
        // and one witness never answers —: a new checkpoint, cosigned again by both from the sizes they hold.
        let training = #"{"id":"\#(UUID().uuidString.lowercased())","type":"training.completed","employee":"199005202015031003","occurred_at":"2026-03-01T08:00:00+07:00","data":{"title":"Pelatihan","provider":"BPSDM","hours":2,"completed_on":"2026-03-01"}}"#
        let (grown, grownBody) = try await self.request(base + "/v1/events", token: hr, body: training)
        #expect(grown == 200, "\(grownBody)")
        #expect(try await checkpoint(base, token: hr, size: 5, signatures: 3) != nil)

        log.process.terminate()
        let stderr = log.wait().stderr
        #expect(stderr.contains("bpkp.example.go.id/witness"), "\(stderr)")
        #expect(stderr.contains("refused the checkpoint (422)"), "\(stderr)")
        #expect(stderr.contains("bpk.example.go.id/witness (http://127.0.0.1:1/v1/witness) did not answer"), "\(stderr)")
        // What it learned is beside the published checkpoint, for a restart to continue from.
        let state = try String(contentsOfFile: cli.ledger + "/witnesses.json", encoding: .utf8)
        #expect(state.contains("\"size\" : 5"), "\(state)")
        #expect(try cli.run("verify").status == 0)
    }
}
