import Foundation
import Testing

@Suite("kinerja demo and the reports: golden output")
struct DemoTests {
    @Test("the demo's reports, and every report format, are the same on every run")
    func golden() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        let demoLedger = cli.scratch.child("demo.ledger")
        let demo = try cli.run("demo", "--ledger", demoLedger, "--seed", "7")
        #expect(demo.status == 0, "\(demo.stderr)")
        try expectGolden(demo.stdout.replacingOccurrences(of: demoLedger, with: "DEMO"), "demo.txt")

        // The people the demo's special cases happen to, found in its output: the objection upheld,
        // then overridden by the appraiser's correction.
        let objection = try cli.run("report", "audit", "--ledger", demoLedger, "--type", "objection.filed", "--type", "objection.decided", "--type", "score.corrected", "--format", "csv")
        try expectGolden(objection.stdout, "audit-objections.csv")
        let overridden = try #require(objection.stdout.split(separator: "\r\n").first { $0.contains("(review)") })
        let nip = overridden.split(separator: ",")[4].dropFirst("employee:".count)
        try expectGolden(try cli.run("history", String(nip), "--ledger", demoLedger).stdout, "history.txt")
        try expectGolden(try cli.run("history", String(nip), "--ledger", demoLedger, "--format", "json").stdout, "history.json")
        try expectGolden(try cli.run("report", "scores", "--ledger", demoLedger, "--unit", "DINKES", "--period", "2026").stdout, "scores-dinkes.txt")
        try expectGolden(try cli.run("report", "scores", "--ledger", demoLedger, "--employee", String(nip), "--format", "json").stdout, "scores.json")
        try expectGolden(try cli.run("report", "accountability", "--ledger", demoLedger, "--year", "2026", "--format", "json").stdout, "accountability.json")
        try expectGolden(try cli.run("report", "accountability", "--ledger", demoLedger, "--as-of", "2026-06-30T23:59:59+07:00", "--format", "csv").stdout, "accountability-midyear.csv")

        // Every JSON report is what its schema in schemas/v1/reports describes.
        let validator = repositoryRoot.appendingPathComponent("schemas/validate.py").path
        for (name, arguments) in [("scores", ["report", "scores"]), ("accountability", ["report", "accountability"]), ("audit", ["report", "audit"]), ("history", ["history", String(nip)]), ("units", ["report", "units"]), ("dossier", ["report", "dossier", String(nip)])] {
            let output = try cli.write("\(name).json", try cli.start(arguments + ["--ledger", demoLedger, "--format", "json"]).wait().stdout)
            let checked = try RunningProcess("/usr/bin/env", ["python3", validator, "--report", name, output], environment: [:], stdin: nil, scratch: cli.scratch).wait()
            #expect(checked.stdout == "1 ok\n", "\(name): \(checked.stdout) \(checked.stderr)")
        }

        // Run again: the same ledger, byte for byte the same reports.
        let again = try cli.run("demo", "--ledger", demoLedger, "--seed", "7")
        #expect(again.stdout == demo.stdout)
        #expect(try cli.run("verify", ledger: demoLedger).status == 0)
    }

    @Test("the demo never overwrites a ledger it did not create")
    func refusesOthers() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        let refused = try cli.run("demo", "--ledger", cli.ledger)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was not created by `kinerja demo`; refusing to overwrite it"))
        #expect(try cli.run("verify").status == 0)
    }

    @Test("report options: exclusive points in time, bad values, a seq past the head")
    func reportUsage() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")
        #expect(try cli.run("report", "scores", "--at-seq", "3", "--as-of", "2026-01-01T00:00:00Z").status == 64)
        #expect(try cli.run("report", "scores", "--as-of", "yesterday").status == 64)
        #expect(try cli.run("report", "scores", "--period", "2026-Q5").status == 64)
        #expect(try cli.run("report", "audit", "--since", "2026-02-30").status == 64)
        #expect(try cli.run("history", "12345").status == 64)
        // A filter a command cannot apply is refused, never ignored.
        #expect(try cli.run("report", "scores", "--type", "score.given").status == 64)
        #expect(try cli.run("report", "accountability", "--actor", "197001011995031001").status == 64)
        #expect(try cli.run("report", "units", "--employee", "197001011995031001").status == 64)
        #expect(try cli.run("history", "197001011995031001", "--employee", "197001011995031001").status == 64)
        let past = try cli.run("report", "accountability", "--at-seq", "16")
        #expect(past.status == 1)
        #expect(past.stderr == "kinerja: --at-seq 16 is past the head of the ledger (seq 15)\n")
        let sample = try cli.run("report", "scores", "--format", "json")
        #expect(sample.stdout.hasPrefix(#"{"ledger":{"seq":15,"hash":""#))
        #expect(sample.stdout.contains(#""period":"2026","results_rating":"meets_expectation","behavior_rating":"meets_expectation","predicate":"good","actor":"197001011995031001","event":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0b","corrected":"objection_upheld","set_by":"score.corrected","original_actor":"198003152005012002","original_event":"0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0a","objection":null}"#))
    }
}
