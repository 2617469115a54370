import Foundation
import Testing

@Suite("kinerja: golden output")
struct GoldenTests {
    @Test("init, append, log, verify on the sample, with a fixed clock")
    func sample() throws {
        let cli = CLI()
        defer { cli.remove() }
        let created = try cli.run("init")
        #expect(created.status == 0)
        #expect(created.stdout == "created an empty ledger at \(cli.ledger)\n")

        let appended = try cli.run("append", "samples/sample.jsonl")
        #expect(appended.status == 0)
        try expectGolden(appended.stdout, "append.txt")
        try expectGolden(try cli.run("log", "--format", "table").stdout, "log-table.txt")
        let log = try cli.run("log").stdout
        try expectGolden(log, "log.jsonl")
        // The events of wire format v1 before §7 keep the hashes they had before it (seq 12).
        #expect(log.split(separator: "\n")[11].hasSuffix(#""hash":"21c8b09fcd8fa0ba2649e7e48a79ad7d8daf353575afae39d0992fc69007816d"}"#))
        try expectGolden(try cli.run("log", "--employee", "199005202015031003", "--type", "score.given", "--type", "score.corrected", "--format", "table").stdout, "log-filtered.txt")
        let verified = try cli.run("verify")
        #expect(verified.status == 0)
        try expectGolden(verified.stdout, "verify.txt")

        let again = try cli.run("append", "-", stdinFile: sampleFile)
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("appended 0, duplicates 15, rejected 0\n"))
    }

    @Test("a file with bad lines: every one reported, nothing stored, exit 1")
    func badInput() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")
        let before = try cli.run("verify").stdout
        let bad = try cli.write("bad.jsonl", """
            {"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7eff","type":"training.completed","employee":"199005202015031003","actor":"lms:bpsdm-prov","occurred_at":"2026-05-20T16:00:00+07:00","data":{"title":"Kepemimpinan","provider":"BPSDM","hours":0,"completed_on":"2026-05-20"}}
            {"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7efe","type":"target.revised","employee":"199005202015031003","actor":"198003152005012002","occurred_at":"2026-06-30T11:00:00+07:00","reason":"Penyesuaian","data":{"period":"2026","target_id":"RHK-9","plan":"Rencana baru"}}
            {"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7efd","type":"unit.rated","unit":"DISDIK","actor":"system:evaluasi-sakip","occurred_at":"2027-01-15T08:00:00+07:00","data":{"period":"2026","rating":"good"}}
            {"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7efc","type":"score.given","employee":"199005202015031003","actor":"198003152005012002","occurred_at":"2026-12-20T10:00:00+07:00","data":{"period":"2026","results_rating":"good","behavior_rating":"meets_expectation"}}
            {"id":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7efb","type":"score.given"
            """)
        let result = try cli.run("append", bad)
        #expect(result.status == 1)
        try expectGolden(result.stdout, "append-rejected.txt")
        #expect(try cli.run("verify").stdout == before)

        let skipping = try cli.run("append", bad, "--skip-invalid")
        #expect(skipping.status == 1)
        #expect(skipping.stdout.hasPrefix("appended 1, duplicates 0, rejected 4\n"))
    }

    @Test("bad usage exits 64; a missing ledger or unreadable file exits 1 with a clear message")
    func exitCodes() throws {
        let cli = CLI()
        defer { cli.remove() }
        #expect(try cli.run("frobnicate").status == 64)
        #expect(try cli.run("log", "--format", "xml").status == 64)
        #expect(try cli.run("log", "--employee", "123").status == 64)
        #expect(try cli.run("append", "--batch-size", "0").status == 64)

        let missing = try cli.run("verify")
        #expect(missing.status == 1)
        #expect(missing.stderr == "kinerja: no ledger at \(cli.ledger) (create one with `kinerja init`)\n")
        try cli.run("init")
        let twice = try cli.run("init")
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("a ledger already exists at"))
        let unreadable = try cli.run("append", cli.scratch.child("no-such-file.jsonl"))
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr.contains("cannot read"))
        let notALedger = try cli.run("verify", ledger: cli.scratch.path)
        #expect(notALedger.status == 1)
        #expect(notALedger.stderr.contains("is not a ledger: it has no data.mdb"))
    }
}
