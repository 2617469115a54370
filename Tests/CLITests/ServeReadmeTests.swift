import Foundation
import KinerjaSamples
import Testing

/// The console block after `marker` in README.md (the first ```` ```console ```` fence after it).
private func consoleBlock(after marker: String) throws -> String {
    let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let anchor = try #require(readme.range(of: marker))
    let begin = try #require(readme.range(of: "```console\n", range: anchor.upperBound..<readme.endIndex))
    let end = try #require(readme.range(of: "\n```\n", range: begin.upperBound..<readme.endIndex))
    return String(readme[begin.upperBound..<end.lowerBound]) + "\n"
}

/// A console transcript's commands (`$ …`) and the output shown after each; `# …` lines are
/// comments, and the blank lines before a comment belong to no output.
private func transcriptCommands(_ transcript: String) -> [(command: String, output: String)] {
    var result: [(String, String)] = []
    for line in transcript.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        if line.hasPrefix("$ ") {
            result.append((String(line.dropFirst(2)), ""))
        } else if line.hasPrefix("# ") {
            while let last = result.last, last.1.hasSuffix("\n\n") { result[result.count - 1].1.removeLast() }
            if let last = result.last, last.1 == "\n" { result[result.count - 1].1 = "" }
        } else if !result.isEmpty {
            result[result.count - 1].1 += line + "\n"
        }
    }
    return result
}

/// What cannot repeat from one run to the next, masked: tokens and their ids, hashes, roots,
/// keys, signatures, times and the random ids of access events.
private func normalised(_ text: String) -> String {
    maskingKeysAndSignatures(text.replacing("\r\n", with: "\n"))
        .replacing(/kt_[0-9a-f]{12}_[0-9a-f]{64}/) { _ in "kt_<token>" }
        .replacing(/[0-9a-f]{64}/) { _ in "<hash>" }
        .replacing(/token id [0-9a-f]{12}/) { _ in "token id <id>" }
        .replacing(/(\s)[0-9a-f]{12}(\s)/) { "\($0.1)<id>\($0.2)" }
        .replacing(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/) {
            $0.output.hasPrefix("0b9f3a52-") ? String($0.output) : "<uuid>"
        }
        .replacing(/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+0000)/) { _ in "<time>" }
        .replacing(/[A-Za-z0-9+\/]{43}=/) { _ in "<root>" }
}

/// `count` distinct loopback ports of four digits, like the README's, free now (bound together,
/// then released): a line `cut` to a width is then as long as the README's.
private func freePorts(_ count: Int) throws -> [Int] {
    let result = try RunningProcess(
        "/usr/bin/env",
        ["python3", "-c", "import socket\nimport random\ns=[]\nwhile len(s)<\(count):\n x=socket.socket()\n try: x.bind(('127.0.0.1',random.randint(2000,9999))); s.append(x)\n except OSError: x.close()\nprint(' '.join(str(x.getsockname()[1]) for x in s))"],
        environment: [:], stdin: nil, scratch: TemporaryDirectory("kinerja-ports")
    ).wait()
    let ports = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    try #require(ports.count == count, "\(result.stderr)")
    return ports
}

/// A shell session in a scratch directory: each command runs in its own bash, which starts
/// from the variables the previous one left (all exported), with `kinerja` on the PATH. Every
/// process started in the background is killed by `stop()`.
private final class ShellSession {
    let cli = CLI()
    var directory: String { cli.scratch.path }
    private var backgroundServers = 0

    init(environment: [String: String]) throws {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "KINERJA_LEDGER")
        env.removeValue(forKey: "KINERJA_CLOCK")
        env["PATH"] = URL(fileURLWithPath: kinerjaBinary).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env.merge(environment) { $1 }
        let exports = env.filter { $0.key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }
            .map { "export \($0.key)=\(Self.quoted($0.value))" }.joined(separator: "\n")
        try cli.write(".session-env", exports + "\n")
        try FileManager.default.createDirectory(atPath: directory + "/samples", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("samples/sample.jsonl").path, toPath: directory + "/samples/sample.jsonl")
    }

    static func quoted(_ value: String) -> String { "'" + value.replacing("'", with: "'\\''") + "'" }

    func export(_ name: String, _ value: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/.session-env"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("export \(name)=\(Self.quoted(value))\n".utf8))
        try handle.close()
    }

    /// Runs one command line; stdout and stderr merged. A server started in the background
    /// (`… &`) is waited for until its output says it listens; its output is then the command's.
    func run(_ command: String) throws -> String {
        var line = command
        var serverOutput: String?
        if line.hasSuffix(" &") {
            backgroundServers += 1
            serverOutput = ".server-\(backgroundServers).out"
            line = String(line.dropLast(2)) + " > \(serverOutput!) 2>&1 &"
        } else if let redirect = line.firstMatch(of: /> (\S+) 2>&1 & [A-Z_]+=\$!$/) {
            serverOutput = String(redirect.1)
        }
        // The descriptors bash inherits beyond 0–2 (Foundation watches the child's exit through one
        // of them) are closed, or a server left in the background would hold them open.
        let script = """
            for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
            set -a
            source .session-env
            exec 2>&1
            \(line)
            [ -n "$!" ] && echo "$!" >> .session-pids
            export -p > .session-env
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = cli.scratch.child("bash-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        var text = try String(contentsOfFile: output, encoding: .utf8)
        if let serverOutput {
            let path = directory + "/" + serverOutput
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("listening on") {
                Thread.sleep(forTimeInterval: 0.05)
            }
            if command.hasSuffix(" &") { text += (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        }
        return text
    }

    /// A process that has exited and that no one reaped yet (our bash, its parent, is gone).
    static func isZombie(_ pid: pid_t) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
    }

    /// Kills every process started in the background (some may be gone already), then removes the directory.
    func stop() {
        let pids = ((try? String(contentsOfFile: directory + "/.session-pids", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { pid_t($0) }
        for pid in pids { kill(pid, SIGTERM) }
        for pid in pids {
            var status: Int32 = 0
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, kill(pid, 0) == 0, !Self.isZombie(pid) {
                _ = waitpid(pid, &status, WNOHANG)
                Thread.sleep(forTimeInterval: 0.02)
            }
            if kill(pid, 0) == 0, !Self.isZombie(pid) { kill(pid, SIGKILL) }
        }
        cli.remove()
    }
}

@Suite("The README's server transcripts are what the commands print", .serialized)
struct ServeReadmeTests {
    /// Runs `block`'s commands in `session`, README ports mapped to `ports`, and expects each
    /// output to be the README's once normalised. Commands for which `retried` holds read what the
    /// server's witnessing writes beside it: they are run again until they match or 40 s pass.
    /// After a grant, its token is kept in the variable `tokens` names for its identity.
    private func play(
        _ block: String, commandCount: Int, in session: ShellSession, ports: [Int: Int], tokens: [String: String] = [:],
        sortedOutput: (String) -> Bool = { _ in false }, retried: (String) -> Bool = { _ in false }
    ) throws {
        func mapped(_ text: String, _ forward: Bool) -> String {
            var text = text
            for (readme, real) in ports {
                text = forward ? text.replacing("127.0.0.1:\(readme)", with: "127.0.0.1:\(real)")
                    : text.replacing("127.0.0.1:\(real)", with: "127.0.0.1:\(readme)")
            }
            return text
        }
        func comparable(_ text: String, _ command: String) -> String {
            let text = normalised(text)
            guard sortedOutput(command) else { return text }
            return Set(text.split(separator: "\n")).sorted().joined(separator: "\n")
        }
        let commands = transcriptCommands(block)
        #expect(commands.count == commandCount, "the block's commands: \(commands.map(\.command))")
        for (command, expected) in commands {
            var actual = mapped(try session.run(mapped(command, true)), false)
            let deadline = Date().addingTimeInterval(40)
            while retried(command), comparable(actual, command) != comparable(expected, command), Date() < deadline {
                Thread.sleep(forTimeInterval: 0.2)
                actual = mapped(try session.run(mapped(command, true)), false)
            }
            #expect(comparable(actual, command) == comparable(expected, command), "README: $ \(command)\n--- real output:\n\(actual)")
            if let grant = command.firstMatch(of: /^kinerja access grant (\S+)/), let name = tokens[String(grant.1)],
                let token = actual.firstMatch(of: /token \(shown only now\): (kt_\S+)/)
            {
                try session.export(name, String(token.1))
            }
        }
    }

    @Test("A session with curl: every command's output is the README's")
    func curlSession() throws {
        let port = try freePorts(1)[0]
        let session = try ShellSession(environment: ["U": "http://127.0.0.1:\(port)"])
        defer { session.stop() }
        let setup = try session.run(
            "kinerja init --origin bkpsdm.example.go.id/kinerja > /dev/null && kinerja key generate bkpsdm.example.go.id/kinerja --out log.key > log.vkey; echo $?")
        #expect(setup == "0\n")
        try play(
            try consoleBlock(after: "<!-- serve-transcript:start -->"), commandCount: 33, in: session, ports: [8088: port],
            tokens: [
                "hr:bkpsdm-kota": "HR", "197001011995031001": "SEKDA", "198003152005012002": "KADINKES",
                "199005202015031003": "ANALYST", "auditor:inspektorat": "AUDITOR", "lms:bpsdm-prov": "LMS",
            ])
    }

    @Test("Dossiers, pages and the witnessed checkpoint: every command's output is the README's")
    func dossierSession() throws {
        let port = try freePorts(1)[0]
        let session = try ShellSession(environment: ["U": "http://127.0.0.1:\(port)"])
        defer { session.stop() }
        let setup = try session.run(
            """
            set -e
            kinerja init --origin bkpsdm.example.go.id/kinerja > /dev/null
            kinerja key generate bkpsdm.example.go.id/kinerja --out log.key > log.vkey
            kinerja access grant hr:bkpsdm-kota --role hr --unit SETDA --unit DINKES --by operator:admin > /dev/null
            ANALYST=$(kinerja access grant 199005202015031003 --role employee --by operator:admin | sed -n "s/^token (shown only now): //p")
            { sed -n 1,9p samples/sample.jsonl; sed -n 13,15p samples/sample.jsonl; } > events.jsonl
            kinerja append events.jsonl > /dev/null
            kinerja checkpoint --key log.key --publish > published.txt
            kinerja key generate inspektorat.example.go.id/witness --out witness.key > witness.vkey
            kinerja witness init --state witness --origin bkpsdm.example.go.id/kinerja --log-vkey "$(cat log.vkey)" --key witness.key > /dev/null
            { echo "old 0"; echo; cat published.txt; } | kinerja witness add-checkpoint --state witness > cosignature.txt
            kinerja checkpoint --cosignature cosignature.txt --witness-vkey "$(cat witness.vkey)" > /dev/null
            echo ready
            """)
        #expect(setup == "ready\n")
        let listening = try session.run("kinerja serve --listen 127.0.0.1:\(port) &")
        #expect(listening.hasSuffix("listening on 127.0.0.1:\(port)\n"), "\(listening)")
        try play(try consoleBlock(after: "### Dossiers, pages and the witnessed checkpoint (real output)"), commandCount: 9, in: session, ports: [8097: port])
    }

    @Test("Witnesses: the server keeps its checkpoint witnessed, with one witness stopped for a while, as the README shows")
    func witnessSession() throws {
        let ports = try freePorts(3)
        let session = try ShellSession(environment: ["KINERJA_LEDGER": "agency.ledger"])
        defer { session.stop() }
        let training = try session.run(#"sed -n 8p samples/sample.jsonl | sed 's/"actor":"[^"]*",//' > training.jsonl; echo $?"#)
        #expect(training == "0\n")
        try play(
            try consoleBlock(after: "### Witnesses: the server keeps its checkpoint witnessed (real output)"), commandCount: 24, in: session,
            ports: [8200: ports[0], 8201: ports[1], 8202: ports[2]],
            sortedOutput: Self.readsWitnessing, retried: Self.readsWitnessing)
    }

    /// The commands that read what the witnessing writes, as it comes: witnesses answer in any
    /// order, and a stopped one is logged again at each retry, so their lines are compared as a set.
    static func readsWitnessing(_ command: String) -> Bool {
        command.hasPrefix("grep") || command.hasPrefix("head -6") || (command.hasPrefix("curl") && command.contains("/v1/checkpoint"))
    }
}
