import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import Testing
import TransparencyLog

/// The log's side of C2SP tlog-witness (`kinerja serve --key K --witness URL=VKEY`): rounds run
/// one at a time against witnesses that are real servers on loopback (`--witness-state`), so
/// each exchange — 200, 409 and the retry, 422, a witness that is down — is a real HTTP one.
@Suite struct WitnessingTests {
    static let origin = CustodyRouteTests.origin

    /// A log: a ledger with an origin, a key, and the first five sample events.
    struct Log {
        let fixture: Fixture
        let key: NoteSigningKey

        init(events: Int = 5) throws {
            fixture = try Fixture()
            try fixture.ledger.setOrigin(WitnessingTests.origin)
            key = try NoteSigningKey(name: WitnessingTests.origin)
            _ = try fixture.ledger.append(jsonLines: Data(try (1...events).map { try sampleLine($0) }.joined(separator: "\n").utf8))
        }
    }

    /// A witness office: its own server with its state (`kinerja witness init`) for the log's key.
    struct Office {
        let fixture: Fixture
        let key: NoteSigningKey
        let directory: WitnessDirectory

        init(_ name: String, logKey: NoteVerifierKey) throws {
            fixture = try Fixture()
            key = try NoteSigningKey(name: name)
            let keyFile = fixture.scratch.child("witness.key")
            try key.encoded.write(toFile: keyFile, atomically: true, encoding: .utf8)
            directory = try WitnessDirectory.create(at: fixture.scratch.child("state"), origin: WitnessingTests.origin, logKey: logKey, keyFile: keyFile)
        }

        func app() -> some ApplicationProtocol {
            buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(port: 0, year: 2026, witnessState: directory.path))
        }

        func endpoint(port: Int) -> WitnessEndpoint {
            WitnessEndpoint(url: "http://127.0.0.1:\(port)/v1/witness", key: key.cosignatureVerifierKey)
        }
    }

    /// Runs `body` with the two offices' servers listening on loopback: their endpoints.
    func withWitnesses(_ a: Office, _ b: Office, _ body: @escaping @Sendable (WitnessEndpoint, WitnessEndpoint) async throws -> Void) async throws {
        try await a.app().test(.live) { first in
            try await b.app().test(.live) { second in
                try await body(a.endpoint(port: first.port!), b.endpoint(port: second.port!))
            }
        }
    }

    @Test func bothWitnessesCosignTheServedCheckpointAndARestartContinues() async throws {
        let log = try Log()
        let inspektorat = try Office("inspektorat.example.go.id/witness", logKey: log.key.verifierKey)
        let bkn = try Office("bkn.example.go.id/witness", logKey: log.key.verifierKey)
        // The inspektorat already cosigned a checkpoint of 3 records (the log's earlier
        // operator sent it by hand): the log, knowing nothing, sends `old 0` and is told 409 and 3.
        let early = try log.fixture.ledger.checkpoint(size: 3, key: log.key)
        guard case .cosigned = try inspektorat.directory.add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: early)) else {
            Issue.record("the early checkpoint is not cosigned")
            return
        }
        let head = UInt64(Fixture.grants + 5)
        try await withWitnesses(inspektorat, bkn) { first, second in
            let witnessing = CheckpointWitnessing(ledger: log.fixture.ledger, key: log.key, witnesses: [first, second])
            let outcomes = await witnessing.round()
            #expect(outcomes == [first: .cosigned(size: head), second: .cosigned(size: head)])
            #expect(await witnessing.size(of: first) == head)

            // What the server serves: the log's signature and both cosignatures, each verifying.
            let app = buildApplication(ledger: log.fixture.ledger, access: log.fixture.access, ServerConfiguration(year: 2026))
            try await app.test(.router) { client in
                let served = try await client.call("/v1/checkpoint", as: People.analyst, log.fixture)
                #expect(served.status == .ok)
                let note = try SignedNote(parsing: served.body)
                #expect(try Checkpoint.open(note, key: log.key.verifierKey).size == head)
                #expect(note.signatures.count == 3)
                #expect(inspektorat.key.cosignatureVerifierKey.verify(note)?.valid == true)
                #expect(bkn.key.cosignatureVerifierKey.verify(note)?.valid == true)
            }
            // Nothing grew: nothing to ask.
            #expect(await witnessing.round().isEmpty)

            // The log grows; a restarted server (a new service, the state on disk) sends each
            // witness its size and a consistency proof from it, and is cosigned at once.
            _ = try log.fixture.ledger.append(jsonLines: Data(try sampleLine(6).utf8))
            let restarted = CheckpointWitnessing(ledger: log.fixture.ledger, key: log.key, witnesses: [first, second])
            #expect(await restarted.size(of: first) == head)
            #expect(await restarted.round() == [first: .cosigned(size: head + 1), second: .cosigned(size: head + 1)])
            let published = try #require(try log.fixture.ledger.publishedCheckpoint())
            #expect(try Checkpoint(text: published.text).size == head + 1)
            #expect(published.signatures.count == 3, "the older cosignatures went with the older checkpoint")
            let state = try #require(log.fixture.ledger.witnessState())
            #expect(String(decoding: state, as: UTF8.self).contains("\"size\" : \(head + 1)"))
        }
        #expect(try inspektorat.directory.load().log.held().size == head + 1)
    }

    @Test func aWitnessThatSawAForkRefusesAndOneThatIsDownIsSkipped() async throws {
        let log = try Log()
        let inspektorat = try Office("inspektorat.example.go.id/witness", logKey: log.key.verifierKey)
        let bkn = try Office("bkn.example.go.id/witness", logKey: log.key.verifierKey)
        // BKN saw another history of the same log, signed by the same key (other grants, the
        // same events): a fork. The log has grown one record past it since.
        let fork = try Log()
        let forked = try fork.fixture.ledger.checkpoint(key: log.key)
        guard case .cosigned = try bkn.directory.add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: forked)) else {
            Issue.record("the forked checkpoint is not cosigned")
            return
        }
        _ = try log.fixture.ledger.append(jsonLines: Data(try sampleLine(6).utf8))
        let head = UInt64(Fixture.grants + 6)
        // A third witness nobody runs: a port closed at once.
        let down = WitnessEndpoint(url: "http://127.0.0.1:1/v1/witness", key: try NoteSigningKey(name: "bpkp.example.go.id/witness").cosignatureVerifierKey)
        try await withWitnesses(inspektorat, bkn) { first, second in
            let witnessing = CheckpointWitnessing(ledger: log.fixture.ledger, key: log.key, witnesses: [first, second, down], timeout: .seconds(2))
            let outcomes = await witnessing.round()
            #expect(outcomes[first] == .cosigned(size: head))
            // 409 (it holds 13 records), then 422: no proof from its tree to the log's verifies.
            guard case .refused(422, let why)? = outcomes[second] else {
                Issue.record("the forked witness answered \(String(describing: outcomes[second]))")
                return
            }
            #expect(why.contains("fork"), "\(why)")
            guard case .unreachable? = outcomes[down] else {
                Issue.record("the witness that is down: \(String(describing: outcomes[down]))")
                return
            }
            let published = try #require(try log.fixture.ledger.publishedCheckpoint())
            #expect(published.signatures.count == 2, "the log's and the inspektorat's, not the refusing witness's")
            #expect(inspektorat.key.cosignatureVerifierKey.verify(published)?.valid == true)
            #expect(bkn.key.cosignatureVerifierKey.verify(published) == nil)
            // Appends never wait on a witness.
            _ = try log.fixture.ledger.append(jsonLines: Data(try sampleLine(7).utf8))
        }
    }

    @Test func aCosignatureThatDoesNotVerifyIsNotKept() async throws {
        let log = try Log()
        let inspektorat = try Office("inspektorat.example.go.id/witness", logKey: log.key.verifierKey)
        let bkn = try Office("bkn.example.go.id/witness", logKey: log.key.verifierKey)
        try await withWitnesses(inspektorat, bkn) { first, second in
            // The operator gave another key for the BKN witness than the one it signs with.
            let impostor = WitnessEndpoint(url: second.url, key: try NoteSigningKey(name: "bkn.example.go.id/witness").cosignatureVerifierKey)
            let witnessing = CheckpointWitnessing(ledger: log.fixture.ledger, key: log.key, witnesses: [first, impostor])
            let outcomes = await witnessing.round()
            #expect(outcomes[first] == .cosigned(size: UInt64(Fixture.grants + 5)))
            guard case .badAnswer? = outcomes[impostor] else {
                Issue.record("\(String(describing: outcomes[impostor]))")
                return
            }
            let published = try #require(try log.fixture.ledger.publishedCheckpoint())
            #expect(published.signatures.count == 2)
        }
    }

    @Test func aWitnessAheadOfTheLogIsLeftAndARefusingOneIsNotAskedEveryRound() async throws {
        let log = try Log()
        let inspektorat = try Office("inspektorat.example.go.id/witness", logKey: log.key.verifierKey)
        // The inspektorat cosigned a checkpoint of 14 records (another history of the log, longer
        // than this one's 13): no consistency proof can bring it to a smaller tree.
        let longer = try Log(events: 6)
        guard case .cosigned = try inspektorat.directory.add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try longer.fixture.ledger.checkpoint(key: log.key)))
        else {
            Issue.record("the longer checkpoint is not cosigned")
            return
        }
        // BKN refuses every checkpoint: it was set up with another log key.
        let stranger = try Office("bkn.example.go.id/witness", logKey: try NoteSigningKey(name: WitnessingTests.origin).verifierKey)
        try await withWitnesses(inspektorat, stranger) { first, second in
            let witnessing = CheckpointWitnessing(ledger: log.fixture.ledger, key: log.key, witnesses: [first, second])
            let outcomes = await witnessing.round()
            #expect(outcomes[first] == .ahead(size: UInt64(Fixture.grants + 6)))
            guard case .refused(403, _)? = outcomes[second] else {
                Issue.record("\(String(describing: outcomes[second]))")
                return
            }
            #expect(await witnessing.size(of: first) == UInt64(Fixture.grants + 6))
            // The tree grows: neither is sent a request before the retry interval has passed ...
            _ = try log.fixture.ledger.append(jsonLines: Data(try sampleLine(6).utf8))
            #expect(await witnessing.round().isEmpty)
            // ... but the checkpoint is published all the same, and a forced round asks them again.
            let published = try #require(try log.fixture.ledger.publishedCheckpoint())
            #expect(try Checkpoint(text: published.text).size == UInt64(Fixture.grants + 6))
            #expect(published.signatures.count == 1)
            #expect(Set(await witnessing.round(force: true).keys) == [first, second])
        }
    }

    @Test func witnessArguments() throws {
        let key = try NoteSigningKey(name: "inspektorat.example.go.id/witness").cosignatureVerifierKey
        let endpoint = try WitnessEndpoint(parsing: "https://witness.example:8443/v1/witness/=\(key)")
        #expect(endpoint.url == "https://witness.example:8443/v1/witness")
        #expect(endpoint.key == key)
        #expect(throws: TransparencyLogError.self) { try WitnessEndpoint(parsing: "https://witness.example") }
        #expect(throws: TransparencyLogError.self) { try WitnessEndpoint(parsing: "ftp://witness.example=\(key)") }
    }
}
