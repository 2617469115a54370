import Foundation
import KinerjaDomain
import KinerjaSamples
import Testing

/// The Python script of the README, between its markers: the recipe as documented is what is tested.
func readmeInspectorScript() throws -> String {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let begin = try #require(readme.range(of: "<!-- inspector-script:begin -->\n```python\n"))
    let end = try #require(readme.range(of: "```\n<!-- inspector-script:end -->"))
    return String(readme[begin.upperBound..<end.lowerBound])
}

@Suite("What an inspector and a schema reader can check without this program")
struct InspectorTests {
    @Test("the README's script re-checks the chain of an export with every kind of event")
    func readmeRecipe() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        // The schema examples cover the optional and tri-state fields; the generator, volume.
        let examples = repositoryRoot.appendingPathComponent("schemas/v1/examples/valid.jsonl").path
        #expect(try cli.run("append", examples, "--skip-invalid").stdout.hasPrefix("appended 29,"))
        var generator = SampleGenerator(seed: 3, employees: 15, cycle: true)
        let generated = try cli.write("generated.jsonl", generator.events(800).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        #expect(try cli.run("append", generated).status == 0)

        let export = try cli.write("export.jsonl", try cli.run("log").stdout)
        let script = try readmeInspectorScript()
        let checked = try python(script, [export], in: cli)
        #expect(checked.status == 0, "\(checked.stderr)")
        let verify = try cli.run("verify").stdout
        #expect(verify.hasSuffix("hash \(checked.stdout)"), "script: \(checked.stdout) verify: \(verify)")

        // And it notices a change the export's hashes do not cover.
        let lines = try String(contentsOfFile: export, encoding: .utf8)
        let forged = try cli.write("forged.jsonl", lines.replacingOccurrences(of: #""hours":24"#, with: #""hours":42"#))
        #expect(lines.contains(#""hours":24"#))
        let refused = try python(script, [forged], in: cli)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("hash mismatch"))
    }

    @Test("the schemas accept the valid examples and the encoder's output, and refuse the invalid examples, as the decoder does")
    func schemas() throws {
        let cli = CLI()
        defer { cli.remove() }
        let validator = repositoryRoot.appendingPathComponent("schemas/validate.py").path
        let valid = repositoryRoot.appendingPathComponent("schemas/v1/examples/valid.jsonl").path
        let invalid = repositoryRoot.appendingPathComponent("schemas/v1/examples/invalid.jsonl").path

        func schemaVerdicts(_ file: String) throws -> [Bool] {
            let result = try RunningProcess("/usr/bin/env", ["python3", validator, file], environment: [:], stdin: nil, scratch: cli.scratch).wait()
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map { $0.hasSuffix(" ok") }
        }
        func decoderVerdicts(_ file: String) throws -> [Bool] {
            try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").enumerated().map { index, line in
                (try? WireDecoder.decode(line: String(line), number: index + 1).get()) != nil
            }
        }
        let validLines = try schemaVerdicts(valid)
        #expect(validLines.count == 31 && validLines.allSatisfy { $0 })
        #expect(try decoderVerdicts(valid).allSatisfy { $0 })
        let invalidLines = try schemaVerdicts(invalid)
        #expect(invalidLines.count == 54 && invalidLines.allSatisfy { !$0 })
        #expect(try decoderVerdicts(invalid).allSatisfy { !$0 })

        // What the encoder writes, fresh and recorded, is what the schemas describe.
        try cli.run("init")
        var generator = SampleGenerator(seed: 11, employees: 20, cycle: true)
        let fresh = try cli.write("fresh.jsonl", generator.events(1_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        #expect(try schemaVerdicts(fresh).allSatisfy { $0 })
        try cli.run("append", fresh)
        try cli.run("append", valid, "--skip-invalid")
        let recorded = try cli.write("recorded.jsonl", try cli.run("log").stdout)
        let verdicts = try schemaVerdicts(recorded)
        #expect(verdicts.count == 1_029 && verdicts.allSatisfy { $0 })
    }
}
