import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `kinerja serve` on loopback, driven by concurrent clients while the CLI appends to
/// the same ledger.
@Suite struct ServeTests {
    static let analyst = "199005202015031003"

    func token(_ result: ProcessResult) -> String {
        String(result.stdout.split(separator: "\n").first { $0.hasPrefix("token (shown only now): ") }!.dropFirst("token (shown only now): ".count))
    }

    /// A training of the analyst; without `actor` the server records who authenticated.
    func training(_ id: UUID, actor: String? = nil) -> String {
        let actor = actor.map { #""actor":"\#($0)","# } ?? ""
        return #"{"id":"\#(id.uuidString.lowercased())","type":"training.completed","employee":"\#(Self.analyst)",\#(actor)"occurred_at":"2026-03-01T08:00:00+07:00","data":{"title":"Pelatihan","provider":"BPSDM","hours":2,"completed_on":"2026-03-01"}}"#
    }

    func post(_ base: String, token: String, _ body: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: base + "/v1/events")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    /// A new ledger (on the real clock) with an HR token, served, with the sample's three
    /// placements appended through the server by HR.
    func placedAndServed(_ cli: CLI) async throws -> (server: RunningProcess, base: String, hr: String) {
        #expect(try cli.run("init").status == 0)
        let hr = token(try cli.run("access", "grant", "hr:bkpsdm-kota", "--role", "hr", "--unit", "SETDA", "--unit", "DINKES"))
        let (server, base) = try cli.serve()
        let placements = try String(contentsOfFile: sampleFile, encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n")
        #expect(try await post(base, token: hr, placements).0 == 200)
        // Standard output carries only what serve prints for its callers; logs go to standard error.
        let printed = try String(contentsOfFile: server.stdoutPath, encoding: .utf8)
        #expect(printed.split(separator: "\n").allSatisfy { $0.hasPrefix("listening on ") }, "\(printed)")
        #expect(try String(contentsOfFile: server.stderrPath, encoding: .utf8).contains("Server started"))
        // A long-running reader: the ledger's file is pre-mapped at startup, and the log says so.
        #expect(try String(contentsOfFile: server.stderrPath, encoding: .utf8).contains("pre-mapped the ledger's file"))
        return (server, base, hr)
    }

    @Test func concurrentClientsAndTheCLILoseNothing() async throws {
        var cli = CLI()
        cli.clock = nil
        defer { cli.remove() }
        let (server, base, hr) = try await placedAndServed(cli)
        defer { server.process.terminate() }
        let auditor = token(try cli.run("access", "grant", "auditor:inspektorat", "--role", "auditor"))

        // The CLI appends 300 events while 16 clients post 25 requests each, a mix of good ones
        // and bad ones (a bad request never fails a good one).
        let file = try cli.write("cli.jsonl", (0..<300).map { _ in training(UUID(), actor: "hr:bkpsdm-kota") }.joined(separator: "\n"))
        let appender = try cli.start(["append", file])
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<16 {
                group.addTask {
                    var ids: [String] = []
                    for request in 0..<25 {
                        let id = UUID()
                        let (status, body) = try await post(base, token: hr, request % 5 == 4 ? "{\"id\":1}" : training(id))
                        if request % 5 == 4 {
                            #expect(status == 422, "\(body)")
                        } else {
                            #expect(status == 200, "\(body)")
                            if status == 200 { ids.append(id.uuidString.lowercased()) }
                        }
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(appender.wait().status == 0)
        #expect(acknowledged.count == 16 * 20)

        // Gapless, exact counts: 2 grants, 3 placements, 300 from the CLI, 320 acknowledged.
        var request = URLRequest(url: URL(string: base + "/v1/events")!)
        request.setValue("Bearer \(auditor)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let expected = 2 + 3 + 300 + 320
        #expect(lines.count == expected)
        let seqs = lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["seq"] as? Int
        }
        #expect(seqs == Array(1...expected))
        let log = String(decoding: data, as: UTF8.self)
        #expect(acknowledged.allSatisfy { log.contains($0) })

        // A revoked token stops working at once on the running server.
        #expect(try cli.run("access", "revoke", "hr:bkpsdm-kota").status == 0)
        #expect(try await post(base, token: hr, training(UUID())).0 == 401)

        server.process.terminate()
        server.process.waitUntilExit()
        let verify = try cli.run("verify")
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test func sigkillMidLoadLosesNoAcknowledgedEvent() async throws {
        var cli = CLI()
        cli.clock = nil
        defer { cli.remove() }
        let (server, base, hr) = try await placedAndServed(cli)

        // 8 clients post until the server dies; it is killed once 100 requests were acknowledged.
        let acknowledged = Acknowledged()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while true {
                        let id = UUID()
                        guard let answer = try? await post(base, token: hr, training(id)) else { return }
                        if answer.0 == 200 { acknowledged.add(id.uuidString.lowercased()) }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(120)
            while acknowledged.ids.count < 100 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            kill(server.process.processIdentifier, SIGKILL)
            try await group.waitForAll()
        }
        server.process.waitUntilExit()

        let log = try cli.run("log")
        let ids = acknowledged.ids
        #expect(ids.count >= 100)
        #expect(ids.allSatisfy { log.stdout.contains($0) })
        #expect(try cli.run("verify").status == 0)
    }
}

/// The ids the server acknowledged, from several clients.
final class Acknowledged: Sendable {
    private let state = Mutex<[String]>([])
    func add(_ id: String) { state.withLock { $0.append(id) } }
    var ids: [String] { state.withLock { $0 } }
}
