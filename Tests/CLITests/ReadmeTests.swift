import Foundation
import Testing

/// The README's transcripts on the demo ledger: each `$ kinerja …` line in a code block and the
/// output printed under it, up to the next `$` line or the end of the block.
func readmeTranscripts() throws -> [(command: [String], output: String)] {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    var transcripts: [(command: [String], output: String)] = []
    var inBlock = false
    var current: (command: [String], lines: [String])?
    func close() {
        if let done = current { transcripts.append((done.command, done.lines.joined(separator: "\n"))) }
        current = nil
    }
    for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if line.hasPrefix("```") {
            close()
            inBlock.toggle()
        } else if inBlock && line.hasPrefix("$ ") {
            close()
            let words = line.dropFirst(2).split(separator: " ").map(String.init)
            if words.first == "kinerja", words.dropFirst().first == "demo" || words.contains("kinerja-demo.ledger") {
                current = (Array(words.dropFirst()), [])
            }
        } else if inBlock {
            current?.lines.append(line)
        }
    }
    return transcripts
}

@Suite("README: the transcripts are real output")
struct ReadmeTests {
    @Test("each transcript's command, run on the demo ledger, prints what the README shows")
    func transcripts() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        let ledger = cli.scratch.child("kinerja-demo.ledger")
        let transcripts = try readmeTranscripts()
        #expect(transcripts.count >= 4)
        #expect(transcripts.first?.command == ["demo"], "the demo runs first: the others read its ledger")
        for transcript in transcripts {
            var arguments = transcript.command.map { $0 == "kinerja-demo.ledger" ? ledger : $0 }
            if arguments == ["demo"] { arguments += ["--ledger", ledger] }
            let result = try cli.start(arguments, ledger: ledger).wait()
            #expect(result.status == 0, "\(transcript.command): \(result.stderr)")
            let actual = result.stdout.replacingOccurrences(of: ledger, with: "kinerja-demo.ledger")
            func trimmed(_ text: String) -> String { String(text.reversed().drop { $0 == "\n" }.reversed()) }
            #expect(trimmed(actual) == trimmed(transcript.output), "kinerja \(transcript.command.joined(separator: " "))")
        }
    }
}
