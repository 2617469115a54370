import Foundation
import KinerjaDomain
import LedgerStore
import TransparencyLog

/// Why a checkpoint or a proof does not hold, or cannot be made.
public struct CustodyError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// What a checked proof proves: these events, recorded at these positions, are in the log
/// `checkpoint.origin` as its signed checkpoint of `checkpoint.size` records stands.
public struct ProvenEvents: Sendable {
    public var checkpoint: Checkpoint
    public var events: [(seq: UInt64, event: Event)]
}

extension Ledger {
    /// The ledger's origin: its name in checkpoints (`kinerja init --origin`, `kinerja origin set`).
    public func origin() throws -> String? { try store.origin() }

    /// Names the ledger once; the same name again is a no-op, another is refused.
    public func setOrigin(_ origin: String) throws {
        guard !origin.isEmpty, !origin.contains("\n") else { throw CustodyError("an origin is one non-empty line, e.g. bkpsdm.bukittinggi.go.id/kinerja") }
        try store.setOrigin(origin)
    }

    /// A C2SP checkpoint of the tree of the first `size` records (the head when nil), signed by `key`.
    public func checkpoint(size: UInt64? = nil, key: NoteSigningKey) throws -> SignedNote {
        guard let origin = try origin() else { throw CustodyError("the ledger has no origin: name it once with `kinerja origin set NAME`") }
        let checkpoint = try store.read { txn in
            let size = size ?? txn.head.seq
            guard size <= txn.head.seq else { throw CustodyError("--at-seq \(size) is past the head of the ledger (seq \(txn.head.seq))") }
            return Checkpoint(origin: origin, size: size, root: try txn.treeRoot(size: size))
        }
        return SignedNote(text: checkpoint.text, signatures: [try key.sign(checkpoint.text)])
    }

    /// Opens a checkpoint of this ledger: `key`'s signature verifies (when a key is given), it
    /// names this ledger's origin, and this ledger's tree at its size has its root — so nothing
    /// recorded up to it changed, however much the ledger grew since.
    public func check(_ note: SignedNote, key: NoteVerifierKey?) throws -> Checkpoint {
        let checkpoint = try named(note, key: key)
        try store.read { txn in
            try Self.check(checkpoint, covers: txn.head.seq)
            try Self.check(checkpoint, hasRoot: try txn.treeRoot(size: checkpoint.size))
        }
        return checkpoint
    }

    /// The checkpoint in `note`, signed by `key` (when given) and naming this ledger's origin.
    private func named(_ note: SignedNote, key: NoteVerifierKey?) throws -> Checkpoint {
        let checkpoint = try key.map { try Checkpoint.open(note, key: $0) } ?? Checkpoint(text: note.text)
        if let origin = try origin(), checkpoint.origin != origin {
            throw CustodyError("the checkpoint is of \(checkpoint.origin), this ledger is \(origin)")
        }
        return checkpoint
    }

    private static func check(_ checkpoint: Checkpoint, covers head: UInt64) throws {
        guard checkpoint.size <= head else {
            throw CustodyError("the checkpoint covers \(checkpoint.size) records, the ledger only \(head): it was truncated")
        }
    }

    private static func check(_ checkpoint: Checkpoint, hasRoot root: TreeHash) throws {
        guard root == checkpoint.root else {
            throw CustodyError("the ledger's first \(checkpoint.size) records do not have the checkpoint's root (\(checkpoint.root.base64), the ledger has \(root.base64)): they were changed since it was signed")
        }
    }

    /// An employee's dossier proof: every event of theirs in the checkpoint's tree, as `log
    /// --format jsonl` prints it, with its inclusion proof. One read transaction: the tree's
    /// nodes are read once for the checkpoint's root and every proof, which share them.
    public func dossierProof(employee: NIP, checkpoint note: SignedNote) throws -> String {
        String(decoding: try dossierProofBytes(employee: employee, checkpoint: note), as: UTF8.self)
    }

    /// ``dossierProof(employee:checkpoint:)`` as the UTF-8 bytes its callers write out (a file,
    /// stdout, an HTTP body): a String of them would validate every byte again, a tenth of the
    /// proof's time for an employee with a few hundred events.
    public func dossierProofBytes(employee: NIP, checkpoint note: SignedNote) throws -> [UInt8] {
        let checkpoint = try named(note, key: nil)
        var json = JSONWriter()
        json.raw("{\"checkpoint\":")
        json.string(note.formatted)
        json.raw(",\"events\":[")
        try store.read { txn in
            try Self.check(checkpoint, covers: txn.head.seq)
            let seqs = try txn.seqs(inStream: Subject.employee(employee).stream).filter { $0 <= checkpoint.size }
            // About 1 kB an event with its proof: one allocation, not a doubling every few events.
            json.reserveCapacity(seqs.count * 1536)
            var number = 0
            // Each record with its predecessor's hash and its proof, in about one B-tree descent
            // of the records and a few of the node table each. The event's JSON is transcoded
            // from its canonical bytes straight into the answer: no Event, no String of its own.
            try txn.forEachProvenRecord(seqs: seqs, size: checkpoint.size, root: { try Self.check(checkpoint, hasRoot: $0) }) { record, previous, proof in
                let event = try EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt)
                json.raw(number > 0 ? ",{\"event\":" : "{\"event\":")
                number += 1
                try WireEncoder.encode(event, stream: record.streamBytes, version: record.version, prevHash: previous, hash: record.hash, into: &json)
                json.raw(",\"proof\":[")
                for (index, hash) in proof.enumerated() {
                    json.raw(index == 0 ? "\"" : ",\"")
                    json.raw { hash.appendBase64(to: &$0) }
                    json.raw("\"")
                }
                json.raw("]}")
            }
        }
        json.raw("]}\n")
        return json.bytes
    }

    /// A C2SP tlog-proof of one event: its canonical bytes as `extra`, its index (`seq − 1`),
    /// its inclusion proof, and the checkpoint.
    public func eventProof(id: EventID, checkpoint note: SignedNote) throws -> TlogProof {
        let checkpoint = try check(note, key: nil)
        return try store.read { txn in
            guard let seq = try txn.seq(of: RecordID(id)), seq <= checkpoint.size,
                let canonical = try txn.withRecord(at: seq, { Array($0.canonical) })
            else { throw CustodyError("event \(id) is not in the checkpoint's \(checkpoint.size) records") }
            return TlogProof(extra: canonical, index: seq - 1, proof: try txn.inclusionProof(seq: seq, size: checkpoint.size), checkpoint: note)
        }
    }

    /// The consistency proof from the tree of `oldSize` records to the checkpoint's.
    public func consistencyProof(from oldSize: UInt64, checkpoint note: SignedNote) throws -> [TreeHash] {
        let checkpoint = try check(note, key: nil)
        guard oldSize <= checkpoint.size else { throw CustodyError("--from \(oldSize) is past the checkpoint's size \(checkpoint.size)") }
        return try store.read { try $0.consistencyProof(from: oldSize, to: checkpoint.size) }
    }

    /// Checks a dossier proof or a tlog-proof with no ledger: the checkpoint signed by `key`,
    /// each event's canonical bytes rebuilt from what the proof carries, and each included in
    /// the checkpoint's tree.
    public static func checkProof(_ text: String, key: NoteVerifierKey) throws -> ProvenEvents {
        if text.hasPrefix(TlogProof.header) {
            let proof = try TlogProof(parsing: text)
            let checkpoint = try Checkpoint.open(proof.checkpoint, key: key)
            guard let extra = proof.extra else { throw CustodyError("the tlog-proof has no extra line: the event's canonical bytes are needed to check it") }
            guard Merkle.verifyInclusion(leaf: Merkle.leafHash(extra), index: proof.index, size: checkpoint.size, proof: proof.proof, root: checkpoint.root) else {
                throw CustodyError("the event is not included at index \(proof.index) in the checkpoint's tree: the event or the proof was changed, or the proof is for another checkpoint")
            }
            let event = try CanonicalRecordDecoding.event(extra)
            guard event.seq == proof.index + 1 else { throw CustodyError("the event's seq \(event.seq) is not at index \(proof.index)") }
            return ProvenEvents(checkpoint: checkpoint, events: [event])
        }
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw CustodyError("neither a tlog-proof nor a dossier proof (JSON): \(error)") }
        guard case .object(let dossier) = value, case .string(let noteText)? = dossier["checkpoint"], case .array(let items)? = dossier["events"] else {
            throw CustodyError("a dossier proof is {\"checkpoint\": \"…\", \"events\": […]}")
        }
        let checkpoint = try Checkpoint.open(try SignedNote(parsing: noteText), key: key)
        var events: [(UInt64, Event)] = []
        for (index, item) in items.enumerated() {
            let number = index + 1
            guard case .object(let entry) = item, case .object(let object)? = entry["event"], case .array(let hashes)? = entry["proof"] else {
                throw CustodyError("event \(number): not {\"event\": {…}, \"proof\": […]}")
            }
            let submission: Submission
            switch WireDecoder.decode(object: object, number: number) {
            case .success(let decoded): submission = decoded
            case .failure(let error): throw CustodyError("event \(number): \(error.field): \(error.rule)")
            }
            guard let recorded = submission.recorded else { throw CustodyError("event \(number): it lacks the recorded fields (seq, hash …)") }
            let proof = try hashes.map { hash -> TreeHash in
                guard case .string(let text) = hash, let parsed = TreeHash(base64: text) else { throw CustodyError("event \(number): a proof hash is not base64 of 32 bytes") }
                return parsed
            }
            let canonical = CanonicalRecord.encode(
                position: RecordPosition(seq: recorded.seq, stream: recorded.stream, version: recorded.version, recordedAt: recorded.recordedAt),
                id: RecordID(submission.event.id), payload: PayloadCodec.encode(submission.event))
            let chained = canonical.withUnsafeBytes { ChainHash.chain(recorded.prevHash, $0) }
            guard chained == recorded.hash else {
                throw CustodyError("event \(number) (seq \(recorded.seq)): its hash is not SHA-256(prev_hash ‖ canonical bytes): the event was changed")
            }
            guard recorded.seq >= 1,
                Merkle.verifyInclusion(leaf: Merkle.leafHash(canonical), index: recorded.seq - 1, size: checkpoint.size, proof: proof, root: checkpoint.root)
            else {
                throw CustodyError("event \(number) (seq \(recorded.seq)) is not included in the checkpoint's tree: the event or its proof was changed, or the proof is for another checkpoint")
            }
            events.append((recorded.seq, submission.event))
        }
        return ProvenEvents(checkpoint: checkpoint, events: events)
    }
}

/// Reads an event back from its canonical record bytes (a tlog-proof's `extra`).
enum CanonicalRecordDecoding {
    static func event(_ canonical: [UInt8]) throws -> (seq: UInt64, event: Event) {
        var value = [UInt8](repeating: 0, count: 32) + canonical
        return try value.withUnsafeMutableBytes { raw in
            try CanonicalRecord.view(value: UnsafeRawBufferPointer(raw)) { record in
                (record.seq, try PayloadCodec.decode(record.payload, streamBytes: record.streamBytes, id: EventID(record.id)))
            }
        }
    }
}

extension Ledger {
    /// Recomputes the Merkle tree from the records: nil when it agrees, else where it does not.
    public func verifyTree() throws -> (seq: UInt64?, reason: String)? { try store.verifyTree() }
}
