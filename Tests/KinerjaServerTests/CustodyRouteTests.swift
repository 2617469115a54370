import CLMDB
import CanonicalBytes
import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaLedger
import KinerjaSamples
import KinerjaServer
import LedgerStore
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

    /// What a custody route answers for an error of the ledger under a proof: the route's own
    /// mapping, then the error middleware's for damaged storage.
    static func answer(_ error: any Error) -> ServerError? {
        do {
            try API.custody { () throws -> Void in throw error }
        } catch let answer as ServerError {
            return answer
        } catch {
            return ServerError.damagedLedger(error)
        }
        return nil
    }

    @Test func aProofOverADamagedLedgerIsA500ThatSaysSoNotTheGenericOne() {
        // A record the tree and the stream index name is missing, or does not decode: the
        // ledger's storage is damaged (500, saying so), not the request wrong (404).
        let missing = Self.answer(StoreError(.corrupt, "record 12 is missing"))
        #expect(missing?.status == .internalServerError)
        #expect(missing?.code == "ledger_damaged")
        #expect(missing?.message == "the ledger's storage is damaged: record 12 is missing; kinerja verify names the damage")
        let malformed = Self.answer(ByteReader.Malformed(offset: 40, what: "string is not valid UTF-8"))
        #expect(malformed?.status == .internalServerError)
        #expect(malformed?.code == "ledger_damaged")
        #expect(malformed?.message.contains("malformed record at byte 40: string is not valid UTF-8") == true)
        let damaged = Self.answer(StoreError(.damaged, "the ledger's storage is damaged: page 9 is not LMDB; restore it from a copy or an export"))
        #expect(damaged?.code == "ledger_damaged")
        #expect(damaged?.message == "the ledger's storage is damaged: page 9 is not LMDB; restore it from a copy or an export")
        // What the operator fixes stays a 404; any other failure stays the generic 500.
        #expect(Self.answer(CustodyError("the ledger has no origin"))?.status == .notFound)
        #expect(Self.answer(StoreError(.storage, "LMDB failed")) == nil)
    }

    /// Damage done to a stored record behind the server's back.
    enum Damage: CaseIterable, Sendable { case removed, textNotUTF8 }

    @Test(arguments: Damage.allCases)
    func aProofThatMeetsADamagedRecordAnswersLedgerDamagedAsJSON(_ damage: Damage) async throws {
        let scratch = TemporaryDirectory("kinerja-server")
        defer { scratch.remove() }
        let path = scratch.child("ledger")
        let key = try NoteSigningKey(name: Self.origin)
        var token = ""
        var missing: UInt64 = 0
        do {
            let ledger = try Ledger.create(at: path)
            try ledger.setOrigin(Self.origin)
            token = try AccessList(ledgerPath: ledger.path).grant("auditor:inspektorat", role: .auditor, units: [], by: Fixture.operator, recordingIn: ledger).token
            _ = try ledger.append(jsonLines: Data(try (1...5).map { try sampleLine($0) }.joined(separator: "\n").utf8))
            // The analyst's first record: under a stored node, so the root needs it not, the proof does.
            missing = try #require(try ledger.readStorage { try $0.seqs(inStream: "employee:\(People.analyst)") }.first)
            _ = try ledger.publishCheckpoint(key: key)
        }
        // The ledger closed (its last reference gone): remove the record, as damage would.
        var env: OpaquePointer?
        mdb_env_create(&env)
        mdb_env_set_maxdbs(env, 16)
        #expect(mdb_env_open(env, path, 0, 0o644) == 0)
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
        var events: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, "events", 0, &events) == 0)
        var seq = missing.bigEndian
        withUnsafeMutableBytes(of: &seq) { raw in
            var key = MDB_val(mv_size: 8, mv_data: raw.baseAddress)
            switch damage {
            case .removed:
                #expect(mdb_del(txn, events, &key, nil) == 0)
            case .textNotUTF8:
                // The placement's name, "Andi Pratama", its first byte made one UTF-8 never has.
                var value = MDB_val()
                #expect(mdb_get(txn, events, &key, &value) == 0)
                var bytes = Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
                let name = Array("Andi Pratama".utf8)
                guard let at = bytes.indices.first(where: { bytes[$0...].starts(with: name) }) else {
                    Issue.record("no name in the record")
                    return
                }
                bytes[at] = 0xFF
                bytes.withUnsafeMutableBytes { changed in
                    var replacement = MDB_val(mv_size: changed.count, mv_data: changed.baseAddress)
                    #expect(mdb_put(txn, events, &key, &replacement, 0) == 0)
                }
            }
        }
        #expect(mdb_txn_commit(txn) == 0)
        mdb_env_close(env)

        let (bearer, removed) = (token, missing)
        let ledger = try Ledger.open(at: path)
        let app = buildApplication(ledger: ledger, access: AccessList(ledgerPath: ledger.path), ServerConfiguration(year: 2026, signingKey: key))
        try await app.test(.router) { client in
            let answer = try await client.execute(uri: "/v1/employees/\(People.analyst)/proof", method: .get, headers: [.authorization: "Bearer \(bearer)"]) {
                Answer(status: $0.status, body: String(buffer: $0.body))
            }
            #expect(answer.status == .internalServerError, "\(answer.body)")
            #expect(answer.errorCode == "ledger_damaged", "\(answer.body)")
            let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
            switch damage {
            case .removed:
                #expect(message == "the ledger's storage is damaged: record \(removed) is missing; kinerja verify names the damage")
            case .textNotUTF8:
                #expect(message.hasPrefix("the ledger's storage is damaged: a malformed record at byte ") && message.contains("not valid UTF-8"), "\(message)")
            }
            // Any route that meets a missing record says so the same way (the error middleware's
            // answer): a history does not leave the record out.
            guard damage == .removed else { return }
            let history = try await client.execute(uri: "/v1/employees/\(People.analyst)/history", method: .get, headers: [.authorization: "Bearer \(bearer)"]) {
                Answer(status: $0.status, body: String(buffer: $0.body))
            }
            #expect(history.status == .internalServerError && history.errorCode == "ledger_damaged", "\(history.status) \(history.body)")
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
            // The checkpoint the witness holds, posted again by anyone: cosigned, the file not rewritten.
            let held = (state as NSString).appendingPathComponent("checkpoint")
            let inode = try FileManager.default.attributesOfItem(atPath: held)[.systemFileNumber] as? Int
            let again = AddCheckpointRequest(oldSize: UInt64(Fixture.grants) + 3, proof: [], checkpoint: second)
            let recosigned = try await client.call("/v1/witness/add-checkpoint", .post, as: nil, witness, body: again.formatted)
            #expect(recosigned.status == .ok && recosigned.body.hasPrefix("— inspektorat.example.go.id/witness "), "\(recosigned.body)")
            #expect(try FileManager.default.attributesOfItem(atPath: held)[.systemFileNumber] as? Int == inode)

            // A forged signature, a malformed body, a rollback: refused, never a 500.
            let other = try NoteSigningKey(name: Self.origin)
            let forged = AddCheckpointRequest(oldSize: UInt64(Fixture.grants) + 3, proof: [], checkpoint: try log.ledger.checkpoint(key: other))
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: forged.formatted).status == .forbidden)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: "old x\n\nnot a note").status == .badRequest)
            let rollback = AddCheckpointRequest(oldSize: UInt64(Fixture.grants) + 3, proof: [], checkpoint: first)
            #expect(try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", witness, body: rollback.formatted).status == .badRequest)
            // No bearer token (C2SP tlog-witness): the log's signature is what is checked. Without
            // a token the request is judged as any other — here a stale `old`, 409 — never 401.
            let untokened = try await client.call("/v1/witness/add-checkpoint", .post, as: nil, witness, body: grown.formatted)
            #expect(untokened.status == .conflict)
            #expect(untokened.body == "\(Fixture.grants + 3)\n")
            let forgedUntokened = try await client.call("/v1/witness/add-checkpoint", .post, as: nil, witness, body: forged.formatted)
            #expect(forgedUntokened.status == .forbidden, "a checkpoint the log did not sign is refused, token or not")
        }
        // A server that is no witness: 404.
        try await log.app().test(.router) { client in
            let noWitness = try await client.call("/v1/witness/add-checkpoint", .post, as: "auditor:inspektorat", log, body: "old 0\n\nx")
            #expect(noWitness.status == .notFound)
        }
    }
}

/// A published checkpoint file that is no signed checkpoint any more: a JSON 500 naming the
/// file and what is wrong, on every endpoint that serves or proves against it.
@Suite struct CorruptCheckpointTests {
    @Test func aCorruptPublishedCheckpointIsAClearErrorUntilANewOneIsPublished() async throws {
        let fixture = try Fixture()
        try fixture.ledger.setOrigin(CustodyRouteTests.origin)
        let key = try NoteSigningKey(name: CustodyRouteTests.origin)
        _ = try fixture.ledger.publishCheckpoint(key: key)
        try "\u{2014} half a note\n".write(toFile: fixture.ledger.publishedCheckpointPath, atomically: true, encoding: .utf8)
        let app = buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(year: 2026, signingKey: key))
        try await app.test(.router) { client in
            for path in ["/v1/checkpoint", "/v1/employees/\(People.analyst)/proof"] {
                let answer = try await client.call(path, as: People.analyst, fixture)
                #expect(answer.status == .internalServerError, "\(path)")
                #expect(answer.errorCode == "corrupt_checkpoint", "\(path): \(answer.body)")
                let message = (answer.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("the published checkpoint \(fixture.ledger.publishedCheckpointPath) is corrupt: not a signed note"), "\(message)")
            }
            _ = try fixture.ledger.publishCheckpoint(key: key)
            #expect(try await client.call("/v1/checkpoint", as: People.analyst, fixture).status == .ok)
        }
    }
}

/// The log in one office, witnesses in others: the operator publishes a checkpoint, each witness
/// cosigns it, the operator adds the cosignatures (each checked against the witness's key), and
/// the server serves the checkpoint and proves dossiers against it, cosignatures and all.
@Suite struct CosignedCheckpointTests {
    static let origin = CustodyRouteTests.origin

    /// A witness's state directory for the log, and its key.
    static func witness(_ name: String, in fixture: Fixture, logKey: NoteSigningKey) throws -> (WitnessDirectory, NoteSigningKey) {
        let key = try NoteSigningKey(name: name)
        let keyFile = fixture.scratch.child("\(name.split(separator: ".").first!).key")
        try key.encoded.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let state = fixture.scratch.child("\(name.split(separator: ".").first!)-state")
        return (try WitnessDirectory.create(at: state, origin: origin, logKey: logKey.verifierKey, keyFile: keyFile), key)
    }

    @Test func theServedCheckpointCarriesTheWitnessesCosignaturesAndSoDoProofs() async throws {
        let fixture = try Fixture()
        try fixture.ledger.setOrigin(Self.origin)
        let logKey = try NoteSigningKey(name: Self.origin)
        _ = try fixture.ledger.append(jsonLines: Data(try (1...5).map { try sampleLine($0) }.joined(separator: "\n").utf8))
        let (inspektorat, inspektoratKey) = try Self.witness("inspektorat.example.go.id/witness", in: fixture, logKey: logKey)
        let (bkn, bknKey) = try Self.witness("bkn.example.go.id/witness", in: fixture, logKey: logKey)

        // The operator publishes; each witness answers the add-checkpoint with its cosignature line.
        #expect(try fixture.ledger.publishedCheckpoint() == nil)
        let published = try fixture.ledger.publishCheckpoint(key: logKey)
        var lines: [String] = []
        for witness in [inspektorat, bkn] {
            guard case .cosigned(_, let cosignature) = try witness.add(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: published)) else {
                Issue.record("not cosigned")
                return
            }
            lines.append(cosignature.line)
        }
        // The operator names the witnesses' keys: as `kinerja key generate` printed one, as `witness init` the other.
        let witnesses = [inspektoratKey.verifierKey, bknKey.cosignatureVerifierKey]
        let cosigners = [inspektoratKey.cosignatureVerifierKey, bknKey.cosignatureVerifierKey]
        // Never stored blind: a witness whose key the operator did not give, or a forged line, is refused and nothing stored.
        #expect(throws: CustodyError.self) { try fixture.ledger.addCosignatures(lines[0], witnesses: [bknKey.cosignatureVerifierKey]) }
        let forged = try NoteSigningKey(name: "inspektorat.example.go.id/witness").cosign(published.text, time: 1_700_000_000).line
        #expect(throws: CustodyError.self) { try fixture.ledger.addCosignatures(forged, witnesses: witnesses) }
        let otherCheckpoint = try inspektoratKey.cosign(try fixture.ledger.checkpoint(size: 3, key: logKey).text, time: 1_700_000_000).line
        #expect(throws: CustodyError.self) { try fixture.ledger.addCosignatures(otherCheckpoint, witnesses: witnesses) }
        #expect(throws: (any Error).self) { try fixture.ledger.addCosignatures("not a signature\n", witnesses: witnesses) }
        #expect(try fixture.ledger.publishedCheckpoint() == published)

        _ = try fixture.ledger.addCosignatures(lines[0], witnesses: witnesses)
        // The whole note a witness returned is taken too; the same witness again replaces its line.
        let held = try fixture.ledger.addCosignatures(published.formatted + lines[1], witnesses: witnesses)
        #expect(try fixture.ledger.addCosignatures(lines[1], witnesses: witnesses).signatures.count == 3)
        #expect(held.signatures.count == 3)

        // The ledger grows after: the server still serves what was published and witnessed, with no --key at all.
        _ = try fixture.ledger.append(jsonLines: Data(try sampleLine(7).utf8))
        let app = buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(year: 2026))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/checkpoint", method: .get, headers: fixture.headers(People.analyst)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                let note = try SignedNote(parsing: String(buffer: response.body))
                #expect(note == held)
                #expect(note.signatures.first?.name == Self.origin, "the log's own signature first")
                #expect(try Checkpoint.open(note, key: logKey.verifierKey).size == UInt64(Fixture.grants) + 5)
                for key in cosigners { #expect(key.verify(note)?.valid == true) }
            }
            let proof = try await client.call("/v1/employees/\(People.analyst)/proof", as: People.analyst, fixture)
            #expect(proof.status == .ok, "\(proof.body)")
            let proven = try Ledger.checkProof(proof.body, key: logKey.verifierKey)
            #expect(proven.checkpoint.size == UInt64(Fixture.grants) + 5)
            #expect(proven.events.map(\.seq) == [UInt64(Fixture.grants) + 3, UInt64(Fixture.grants) + 5], "the score after the checkpoint is not in it")
            let carried = try SignedNote(parsing: (proof.json["checkpoint"] as? String) ?? "")
            for key in cosigners { #expect(key.verify(carried)?.valid == true, "the proof carries \(key.name)'s cosignature") }
            #expect(try await client.call("/v1/checkpoint?size=3", as: People.analyst, fixture).status == .badRequest)
            #expect(try await client.call("/v1/checkpoint", as: nil, fixture).status == .unauthorized)
        }

        // A new checkpoint replaces the published one and its cosignatures; never one of fewer records.
        let next = try fixture.ledger.publishCheckpoint(key: logKey)
        #expect(try fixture.ledger.publishedCheckpoint() == next)
        #expect(next.signatures.count == 1)
        #expect(throws: CustodyError.self) { try fixture.ledger.publishCheckpoint(size: 3, key: logKey) }
        #expect(throws: CustodyError.self) { try fixture.ledger.addCosignatures(lines[0], witnesses: witnesses) }
    }

    @Test func addingACosignatureWithNothingPublishedIsRefused() throws {
        let fixture = try Fixture()
        try fixture.ledger.setOrigin(Self.origin)
        let key = try NoteSigningKey(name: "inspektorat.example.go.id/witness")
        #expect(throws: CustodyError.self) {
            try fixture.ledger.addCosignatures(try key.cosign("x\n", time: 1).line, witnesses: [key.cosignatureVerifierKey])
        }
    }
}
