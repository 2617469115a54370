import Testing
import TransparencyLog

@Suite("C2SP signed notes, checkpoints, tlog-proofs and the witness")
struct NoteTests {
    @Test("the signed-note spec's own example verifies with its vkey, and fails once a byte changes")
    func specExample() throws {
        let key = try NoteVerifierKey(parsing: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let text = "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
        let note = try SignedNote(parsing: text)
        #expect(note.formatted == text)
        #expect(try key.open(note) == "This is an example message.\n")
        #expect(key.description == "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let changed = try SignedNote(parsing: text.replacingOccurrences(of: "example message", with: "example massage"))
        #expect(throws: TransparencyLogError.self) { try key.open(changed) }
        #expect(key.verify(changed)?.valid == false)
    }

    @Test("malformed notes and keys are refused with a reason")
    func malformed() {
        for text in ["no blank line\n— a b\n", "text\n\nnot a signature\n", "text\n\n— name !!!\n", "text\n\n— a+b AAAAAAA=\n", "text\n\n", "te\u{7}xt\n\n— a AAAAAAA=\n"] {
            #expect(throws: TransparencyLogError.self, "\(text)") { try SignedNote(parsing: text) }
        }
        for vkey in ["", "name+00000000", "name+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "a b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"] {
            #expect(throws: TransparencyLogError.self, "\(vkey)") { try NoteVerifierKey(parsing: vkey) }
        }
    }

    @Test("a generated key round-trips its files, signs checkpoints its vkey opens and another key's does not")
    func keysAndCheckpoints() throws {
        let key = try NoteSigningKey(name: "bkpsdm.example.go.id/kinerja")
        let reread = try NoteSigningKey(encoded: key.encoded)
        #expect(reread.verifierKey == key.verifierKey)
        #expect(try NoteVerifierKey(parsing: key.verifierKey.description) == key.verifierKey)
        let checkpoint = Checkpoint(origin: "bkpsdm.example.go.id/kinerja", size: 8, root: Merkle.emptyRoot)
        let note = SignedNote(text: checkpoint.text, signatures: [try key.sign(checkpoint.text)])
        let parsed = try SignedNote(parsing: note.formatted)
        #expect(try Checkpoint.open(parsed, key: key.verifierKey, origin: "bkpsdm.example.go.id/kinerja") == checkpoint)
        #expect(throws: TransparencyLogError.self) { try Checkpoint.open(parsed, key: key.verifierKey, origin: "other.example/log") }
        let other = try NoteSigningKey(name: "bkpsdm.example.go.id/kinerja")
        #expect(throws: TransparencyLogError.self) { try Checkpoint.open(parsed, key: other.verifierKey) }
        #expect(throws: TransparencyLogError.self) { try Checkpoint(text: "origin\n01\n\(Merkle.emptyRoot.base64)\n") }
        #expect(throws: TransparencyLogError.self) { try Checkpoint(text: "origin\n0\n\(Merkle.leafHash([1]).base64)\n") }
    }

    @Test("a tlog-proof formats and parses back, and its inclusion proof verifies against its checkpoint")
    func tlogProof() throws {
        let key = try NoteSigningKey(name: "log.example/kinerja")
        let entries: [[UInt8]] = (0..<11).map { [UInt8($0), 1, 2] }
        let tree = MemoryTree(leaves: entries.map { Merkle.leafHash($0) })
        let checkpoint = Checkpoint(origin: "log.example/kinerja", size: 11, root: try tree.root(size: 11))
        let note = SignedNote(text: checkpoint.text, signatures: [try key.sign(checkpoint.text)])
        let proof = TlogProof(extra: entries[6], index: 6, proof: try tree.inclusionProof(index: 6, size: 11), checkpoint: note)
        let parsed = try TlogProof(parsing: proof.formatted)
        #expect(parsed == proof)
        #expect(proof.formatted.hasPrefix("c2sp.org/tlog-proof@v1\nextra BgEC\nindex 6\n"))
        let opened = try Checkpoint.open(parsed.checkpoint, key: key.verifierKey)
        #expect(Merkle.verifyInclusion(leaf: Merkle.leafHash(parsed.extra!), index: parsed.index, size: opened.size, proof: parsed.proof, root: opened.root))
    }

    @Test("the witness cosigns a consistent checkpoint, answers a stale old with its size, and refuses a rollback, a fork and a bad signature")
    func witness() throws {
        let logKey = try NoteSigningKey(name: "log.example/kinerja")
        let witnessKey = try NoteSigningKey(name: "inspektorat.example/witness")
        var leaves = (0..<20).map { Merkle.leafHash([UInt8($0)]) }
        let tree = MemoryTree(leaves: leaves)
        func signed(_ tree: MemoryTree, _ size: UInt64, by key: NoteSigningKey = logKey) throws -> SignedNote {
            let checkpoint = Checkpoint(origin: "log.example/kinerja", size: size, root: try tree.root(size: size))
            return SignedNote(text: checkpoint.text, signatures: [try key.sign(checkpoint.text)])
        }
        var state = WitnessedLog(origin: "log.example/kinerja", logKey: logKey.verifierKey)

        // First checkpoint: old 0, no proof.
        let first = AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: try signed(tree, 10))
        guard case .cosigned(let after, let cosignature) = try state.decide(try AddCheckpointRequest(parsing: first.formatted), key: witnessKey, time: 1_790_000_000) else {
            Issue.record("the first checkpoint was not cosigned")
            return
        }
        state = after
        var cosigned = first.checkpoint
        cosigned.signatures.append(cosignature)
        #expect(witnessKey.cosignatureVerifierKey.verify(try SignedNote(parsing: cosigned.formatted))! == (true, 1_790_000_000))
        #expect(logKey.verifierKey.verify(cosigned)?.valid == true)

        // Stale old size: 409 with the size held.
        let stale = AddCheckpointRequest(oldSize: 5, proof: try tree.consistencyProof(oldSize: 5, newSize: 15), checkpoint: try signed(tree, 15))
        #expect(try state.decide(stale, key: witnessKey, time: 1) == .conflict(heldSize: 10))

        // A consistent growth is cosigned.
        let growth = AddCheckpointRequest(oldSize: 10, proof: try tree.consistencyProof(oldSize: 10, newSize: 15), checkpoint: try signed(tree, 15))
        guard case .cosigned(let grown, _) = try state.decide(growth, key: witnessKey, time: 2) else {
            Issue.record("a consistent checkpoint was refused")
            return
        }
        state = grown

        // A rollback: a smaller checkpoint.
        let rollback = AddCheckpointRequest(oldSize: 15, proof: [], checkpoint: try signed(tree, 12))
        #expect(try state.decide(rollback, key: witnessKey, time: 3).status == 400)

        // A fork: leaf 3 rewritten, the tree re-hashed, a proof from that tree.
        leaves[3] = Merkle.leafHash([0xaa])
        let forked = MemoryTree(leaves: leaves)
        let fork = AddCheckpointRequest(oldSize: 15, proof: try forked.consistencyProof(oldSize: 15, newSize: 20), checkpoint: try signed(forked, 20))
        #expect(try state.decide(fork, key: witnessKey, time: 4).status == 422)
        let sameSizeFork = AddCheckpointRequest(oldSize: 15, proof: [], checkpoint: try signed(forked, 15))
        #expect(try state.decide(sameSizeFork, key: witnessKey, time: 4).status == 422)

        // Signed by another key under the log's name: 403.
        let impostor = try NoteSigningKey(name: "log.example/kinerja")
        let forged = AddCheckpointRequest(oldSize: 15, proof: try tree.consistencyProof(oldSize: 15, newSize: 20), checkpoint: try signed(tree, 20, by: impostor))
        #expect(try state.decide(forged, key: witnessKey, time: 5).status == 403)

        // The honest growth still passes after all that.
        let honest = AddCheckpointRequest(oldSize: 15, proof: try tree.consistencyProof(oldSize: 15, newSize: 20), checkpoint: try signed(tree, 20))
        #expect(try state.decide(honest, key: witnessKey, time: 6).status == 200)
    }
}
