import Foundation
import TransparencyLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// open(2), out of reach of `Ledger.open`.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { open(path, flags, mode) }

// The checkpoint the log publishes (PRODUCT §8–§9): the operator signs one
// (`kinerja checkpoint --key K --publish`), sends it to the witnesses of other offices, and adds
// the cosignature each returns (`kinerja checkpoint --cosignature FILE --witness-vkey VKEY`), each
// verified against a witness key the operator names, never stored blind. `GET /v1/checkpoint`
// serves it with every cosignature held, and the dossier proofs of the server prove against it.

/// The published checkpoint's file is there but is no signed checkpoint (damaged, or edited
/// by hand): the server answers 500 naming it, `verify` and `checkpoint` report it.
public struct PublishedCheckpointError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String

    public var description: String {
        "the published checkpoint \(path) is corrupt: \(problem); publish a new one (kinerja checkpoint --key FILE --publish)"
    }
}

extension Ledger {
    /// The file beside the ledger's that holds the published checkpoint, as a signed note: the
    /// log's signature line, then the witnesses' cosignature lines.
    public var publishedCheckpointPath: String { URL(fileURLWithPath: path).appendingPathComponent("checkpoint").path }

    /// The published checkpoint with every cosignature held for it; nil before the first `publish`.
    /// A file that is there but unreadable, or not a signed checkpoint, is a ``PublishedCheckpointError``
    /// naming the file and what is wrong with it: never taken for "nothing published".
    public func publishedCheckpoint() throws -> SignedNote? {
        let path = publishedCheckpointPath
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw PublishedCheckpointError(path: path, problem: "it cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw PublishedCheckpointError(path: path, problem: "it is not UTF-8 text") }
        do {
            let note = try SignedNote(parsing: text)
            _ = try Checkpoint(text: note.text)
            return note
        } catch let error as TransparencyLogError {
            throw PublishedCheckpointError(path: path, problem: error.message)
        }
    }

    /// Signs a checkpoint of the first `size` records (the head when nil) and publishes it,
    /// replacing the one published before, whose cosignatures (of another text) go with it.
    public func publishCheckpoint(size: UInt64? = nil, key: NoteSigningKey) throws -> SignedNote {
        try lockingPublished {
            let note = try checkpoint(size: size, key: key)
            // A corrupt published file is replaced: publishing a new checkpoint is how it is repaired.
            if let published = try? publishedCheckpoint(), let old = try? Checkpoint(text: published.text), let new = try? Checkpoint(text: note.text),
                old.size > new.size
            {
                throw CustodyError("the published checkpoint is of \(old.size) records: publishing one of \(new.size) would roll it back")
            }
            try writePublished(note)
            return note
        }
    }

    /// Adds witnesses' cosignatures to the published checkpoint. `text` is what a witness
    /// answered: its cosignature line(s) (C2SP tlog-witness) or the whole note with them. Each
    /// signature must be by one of `witnesses` (matched by name and key ID) and verify over the
    /// published checkpoint's text; otherwise nothing is stored. A witness's newer cosignature
    /// replaces its older one; the log's own signature is kept as it is. A witness's key may be
    /// given as its cosignature verifier key (`kinerja witness init`) or its Ed25519 one (`kinerja key generate`).
    public func addCosignatures(_ text: String, witnesses: [NoteVerifierKey]) throws -> SignedNote {
        try lockingPublished {
            guard let published = try publishedCheckpoint() else {
                throw CustodyError("no checkpoint is published: `kinerja checkpoint --key FILE --publish` first")
            }
            let given: SignedNote
            if text.contains("\n\n") {
                given = try SignedNote(parsing: text)
                guard given.text == published.text else { throw CustodyError("the note is not the published checkpoint: the witness cosigned another one") }
            } else {
                given = try SignedNote(parsing: published.text + "\n" + text)
            }
            let logSignature = published.signatures.first
            // A witness's key as `kinerja witness init` prints it (cosignature/v1), or as `kinerja key generate` does.
            let keys = witnesses + witnesses.filter { $0.type == .ed25519 }.map(\.cosignatureKey)
            var held = published
            var added = 0
            for signature in given.signatures where signature != logSignature {
                guard let key = keys.first(where: { $0.name == signature.name && $0.keyID == signature.keyID }) else {
                    if signature.name == logSignature?.name && signature.keyID == logSignature?.keyID { continue }
                    throw CustodyError("the signature by \(signature.name) is by no witness key given (--witness-vkey): nothing was stored")
                }
                guard key.verify(SignedNote(text: published.text, signatures: [signature]))?.valid == true else {
                    throw CustodyError("the cosignature by \(signature.name) does not verify over the published checkpoint: nothing was stored")
                }
                held.signatures.removeAll { $0.name == signature.name && $0.keyID == signature.keyID }
                held.signatures.append(signature)
                added += 1
            }
            guard added > 0 else { throw CustodyError("no cosignature found: give the line the witness answered, `— NAME BASE64`") }
            try writePublished(held)
            return held
        }
    }

    /// Publishes `note`, a checkpoint of this ledger signed by its key, with the cosignatures
    /// gathered for it (the server's witnessing): when it is the published checkpoint's text the
    /// signatures are merged (a witness's newer line replaces its older one), else it replaces
    /// the published checkpoint — never by one of fewer records. Returns what is published.
    public func publishWitnessed(_ note: SignedNote) throws -> SignedNote {
        try lockingPublished {
            let new = try Checkpoint(text: note.text)
            var held = note
            if let published = try? publishedCheckpoint(), let old = try? Checkpoint(text: published.text) {
                guard old.size <= new.size else {
                    throw CustodyError("the published checkpoint is of \(old.size) records: publishing one of \(new.size) would roll it back")
                }
                if published.text == note.text {
                    held = published
                    for signature in note.signatures where !held.signatures.contains(signature) {
                        held.signatures.removeAll { $0.name == signature.name && $0.keyID == signature.keyID }
                        held.signatures.append(signature)
                    }
                }
            }
            try writePublished(held)
            return held
        }
    }

    /// The file beside the published checkpoint where the server keeps what it learned of its
    /// witnesses (the size each holds, the checkpoint each last cosigned).
    public var witnessStatePath: String { URL(fileURLWithPath: path).appendingPathComponent("witnesses.json").path }

    /// The witnesses' state as last written, nil when there is none.
    public func witnessState() -> Data? { FileManager.default.contents(atPath: witnessStatePath) }

    /// Writes the witnesses' state whole or not at all.
    public func writeWitnessState(_ data: Data) throws { try AtomicFile.write(data, to: witnessStatePath) }

    private func writePublished(_ note: SignedNote) throws { try AtomicFile.write(note.formatted.utf8, to: publishedCheckpointPath) }

    /// One publisher at a time: a cosignature added while another is being added is not lost.
    private func lockingPublished<R>(_ body: () throws -> R) throws -> R {
        let lock = publishedCheckpointPath + ".lock"
        let descriptor = openFile(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CustodyError("cannot open \(lock): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw CustodyError("cannot lock \(lock)") }
        return try body()
    }
}
