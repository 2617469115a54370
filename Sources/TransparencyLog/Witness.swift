/// A C2SP tlog-witness `add-checkpoint` request: the size the log believes the witness holds,
/// a consistency proof from it, and the new signed checkpoint.
public struct AddCheckpointRequest: Hashable, Sendable {
    public var oldSize: UInt64
    public var proof: [TreeHash]
    public var checkpoint: SignedNote

    public init(oldSize: UInt64, proof: [TreeHash], checkpoint: SignedNote) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// `old N`, the proof lines, a blank line, the checkpoint.
    public var formatted: String {
        "old \(oldSize)\n" + proof.map { $0.base64 + "\n" }.joined() + "\n" + checkpoint.formatted
    }

    public init(parsing body: String) throws {
        func malformed(_ why: String) -> TransparencyLogError { TransparencyLogError(.malformed, "not an add-checkpoint request: \(why)") }
        guard let blank = body.range(of: "\n\n") else { throw malformed("no blank line before the checkpoint") }
        var lines = body[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let first = lines.popFirst(), first.hasPrefix("old "), let size = UInt64(first.dropFirst(4)), String(size) == first.dropFirst(4) else {
            throw malformed("the first line is not `old SIZE`")
        }
        guard lines.count <= 63 else { throw malformed("more than 63 consistency proof lines") }
        oldSize = size
        proof = try lines.map { line in
            guard let hash = TreeHash(base64: line) else { throw malformed("a proof line is not base64 of 32 bytes: \(line)") }
            return hash
        }
        checkpoint = try SignedNote(parsing: String(body[blank.upperBound...]))
    }
}

/// What a witness holds of one log: the latest checkpoint it cosigned.
public struct WitnessedLog: Hashable, Sendable {
    public var origin: String
    public var logKey: NoteVerifierKey
    /// The latest cosigned checkpoint (its note, verbatim), nil before the first.
    public var latest: SignedNote?

    public init(origin: String, logKey: NoteVerifierKey, latest: SignedNote? = nil) {
        self.origin = origin
        self.logKey = logKey
        self.latest = latest
    }

    /// The size and root the witness holds (0 and the empty root before the first checkpoint).
    public func held() throws -> (size: UInt64, root: TreeHash) {
        guard let latest else { return (0, Merkle.emptyRoot) }
        let checkpoint = try Checkpoint(text: latest.text)
        return (checkpoint.size, checkpoint.root)
    }
}

/// The witness's answer to an add-checkpoint request, as C2SP tlog-witness defines it.
public enum WitnessDecision: Hashable, Sendable {
    /// 200: the new state to persist (before answering), and the cosignature line to answer with.
    case cosigned(WitnessedLog, NoteSignature)
    /// 409: the request's `old` is not the size the witness holds; the body is that size.
    case conflict(heldSize: UInt64)
    /// 404: a log the witness does not know.
    case unknownLog(String)
    /// 403: no valid signature of the log's key.
    case forbidden(String)
    /// 400: `old` is larger than the checkpoint's size (a rollback).
    case badRequest(String)
    /// 422: the consistency proof does not verify (a fork), or sizes agree but roots do not.
    case unprocessable(String)

    /// The HTTP status C2SP tlog-witness answers with.
    public var status: Int {
        switch self {
        case .cosigned: 200
        case .conflict: 409
        case .unknownLog: 404
        case .forbidden: 403
        case .badRequest: 400
        case .unprocessable: 422
        }
    }
}

extension WitnessedLog {
    /// Decides an add-checkpoint request in the order C2SP tlog-witness gives; cosigns with
    /// `key` at `time` (POSIX seconds) when every check passes. Pure: the caller persists the
    /// new state atomically before answering.
    public func decide(_ request: AddCheckpointRequest, key: NoteSigningKey, time: UInt64) throws -> WitnessDecision {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(text: request.checkpoint.text)
        } catch let error as TransparencyLogError {
            return .badRequest(error.message)
        }
        guard checkpoint.origin == origin else { return .unknownLog("this witness does not witness \(checkpoint.origin)") }
        switch logKey.verify(request.checkpoint) {
        case nil: return .forbidden("the checkpoint is not signed by the log's key \(logKey.name)")
        case .some((false, _)): return .forbidden("the log's signature on the checkpoint does not verify")
        case .some((true, _)): break
        }
        guard request.oldSize <= checkpoint.size else {
            return .badRequest("old size \(request.oldSize) is larger than the checkpoint's \(checkpoint.size): a rollback")
        }
        let held = try held()
        guard request.oldSize == held.size else { return .conflict(heldSize: held.size) }
        guard Merkle.verifyConsistency(oldSize: held.size, newSize: checkpoint.size, oldRoot: held.root, newRoot: checkpoint.root, proof: request.proof) else {
            return .unprocessable(
                held.size == checkpoint.size
                    ? "the checkpoint has size \(held.size), as held, but another root: a fork"
                    : "the consistency proof from size \(held.size) to \(checkpoint.size) does not verify: the log forked or rewrote its history")
        }
        let cosignature = try key.cosign(request.checkpoint.text, time: time)
        return .cosigned(WitnessedLog(origin: origin, logKey: logKey, latest: request.checkpoint), cosignature)
    }
}
