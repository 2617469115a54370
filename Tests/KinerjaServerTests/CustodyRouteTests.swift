import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import Testing
import TransparencyLog

/// PRODUCT §8 over HTTP: dossier proofs, checkpoints, and the witness's add-checkpoint.
@Suite struct CustodyRouteTests {
    static let origin = "bkpsdm.example.go.id/kinerja"

    @Test func anEmployeeGetsTheirOwnDossierProofAndNoOneElses() async throws {
        let fixture = try Fixture()
        try fixture.ledger.setOrigin(Self.origin)
        let key = try NoteSigningKey(name: Self.origin)
        _ = try fixture.ledger.append(jsonLines: Data(try (1...5).map { try sampleLine($0) }.joined(separator: "\n").utf8))
        let app = buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(year: 2026, signingKey: key))
        try await app.test(.router) { client in
            let own = try await client.call("/v1/employees/\(People.analyst)/proof", as: People.analyst, fixture)
            #expect(own.status == .ok, "\(own.body)")
            let proven = try Ledger.checkProof(own.body, key: key.verifierKey)
            #expect(proven.events.map(\.seq) == [UInt64(Fixture.grants) + 3, UInt64(Fixture.grants) + 5])
            #expect(proven.checkpoint.size == UInt64(Fixture.grants) + 5)
            // The appraiser's appraiser reaches them; the analyst does not reach their superior; a
            // service reads nothing; an unknown NIP is refused the same way as a known one.
            #expect(try await client.call("/v1/employees/\(People.analyst)/proof", as: People.sekda, fixture).status == .ok)
            let superior = try await client.call("/v1/employees/\(People.kadinkes)/proof", as: People.analyst, fixture)
            let unknown = try await client.call("/v1/employees/\(People.unknown)/proof", as: People.analyst, fixture)
            #expect(superior.status == .forbidden && unknown.status == .forbidden)
            #expect(superior.body.replacingOccurrences(of: People.kadinkes, with: "") == unknown.body.replacingOccurrences(of: People.unknown, with: ""))
            #expect(try await client.call("/v1/employees/\(People.analyst)/proof", as: "survey:skm", fixture).status == .forbidden)
            #expect(try await client.call("/v1/employees/\(People.analyst)/proof", as: nil, fixture).status == .unauthorized)
            #expect(try await client.call("/v1/employees/123/proof", as: "auditor:inspektorat", fixture).status == .badRequest)
            #expect(try await client.call("/v1/employees/\(People.analyst)/proof?x=1", as: "auditor:inspektorat", fixture).status == .badRequest)
            let checkpoint = try await client.call("/v1/checkpoint", as: "auditor:inspektorat", fixture)
            #expect(checkpoint.status == .ok)
            #expect(try Checkpoint.open(SignedNote(parsing: checkpoint.body), key: key.verifierKey).size == UInt64(Fixture.grants) + 5)
        }
        // Without a key, or without an origin: 404, never a 500.
        try await fixture.app().test(.router) { client in
            let unsigned = try await client.call("/v1/employees/\(People.analyst)/proof", as: People.analyst, fixture)
            #expect(unsigned.status == .notFound)
        }
        let bare = try Fixture()
        let keyed = buildApplication(ledger: bare.ledger, access: bare.access, ServerConfiguration(year: 2026, signingKey: key))
        try await keyed.test(.router) { client in
            let noOrigin = try await client.call("/v1/checkpoint", as: "auditor:inspektorat", bare)
            #expect(noOrigin.status == .notFound, "\(noOrigin.body)")
        }
    }

    @Test func aWitnessCosignsGrowthAndRefusesTheRest() async throws {
        // The log: a ledger with an origin and a key.
        let log = try Fixture()
        try log.ledger.setOrigin(Self.origin)
        let logKey = try NoteSigningKey(name: Self.origin)
        // The witness: another office's server, with its own state.
        let witness = try Fixture()
        let witnessKey = try NoteSigningKey(name: "inspektorat.example.go.id/witness")
        let keyFile = witness.scratch.child("witness.key")
        try witnessKey.encoded.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let state = witness.scratch.child("state")
        _ = try WitnessDirectory.create(at: state, origin: Self.origin, logKey: logKey.verifierKey, keyFile: keyFile)
        let app = buildApplication(ledger: witness.ledger, access: witness.access, ServerConfiguration(year: 2026, witnessState: state))
        try await app.test(.router) { client in
            let first = try log.ledger.checkpoint(key: logKey)
            let add = AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: first)
            let cosigned = try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: add.formatted, contentType: "text/plain")
            #expect(cosigned.status == .ok, "\(cosigned.body)")
            #expect(cosigned.body.hasPrefix("— inspektorat.example.go.id/witness "))

            // The log grows; a stale `old` is 409 with the size held.
            _ = try log.ledger.append(jsonLines: Data(try (1...3).map { try sampleLine($0) }.joined(separator: "\n").utf8))
            let second = try log.ledger.checkpoint(key: logKey)
            let stale = try await client.call(
                "/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness,
                body: AddCheckpointRequest(oldSize: 1, proof: [], checkpoint: second).formatted, contentType: "text/plain")
            #expect(stale.status == .conflict)
            #expect(stale.body == "\(Fixture.grants)\n")
            let proof = try log.ledger.consistencyProof(from: UInt64(Fixture.grants), checkpoint: second)
            let grown = AddCheckpointRequest(oldSize: UInt64(Fixture.grants), proof: proof, checkpoint: second)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: grown.formatted).status == .ok)

            // A forged signature, a malformed body, a rollback: refused, never a 500.
            let other = try NoteSigningKey(name: Self.origin)
            let forged = AddCheckpointRequest(oldSize: UInt64(Fixture.grants) + 3, proof: [], checkpoint: try log.ledger.checkpoint(key: other))
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: forged.formatted).status == .forbidden)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: "old x\n\nnot a note").status == .badRequest)
            let rollback = AddCheckpointRequest(oldSize: UInt64(Fixture.grants) + 3, proof: [], checkpoint: first)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: rollback.formatted).status == .badRequest)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: nil, witness, body: grown.formatted).status == .unauthorized)
        }
        // A server that is no witness: 404.
        try await log.app().test(.router) { client in
            let noWitness = try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", log, body: "old 0\n\nx")
            #expect(noWitness.status == .notFound)
        }
    }
}
