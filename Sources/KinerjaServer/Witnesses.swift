import AsyncHTTPClient
import Foundation
import KinerjaLedger
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TransparencyLog

// PRODUCT §8–§9: the server, given witnesses (`kinerja serve --key FILE --witness URL=VKEY ...`),
// keeps its published checkpoint witnessed. When the tree has grown it signs a checkpoint of the
// head, asks each witness to cosign it (C2SP tlog-witness add-checkpoint), keeps each answer that
// verifies against that witness's key, and publishes the checkpoint with them — the one
// `GET /v1/checkpoint` serves and the dossier proofs prove against. It runs beside the server:
// appends and reads never wait for a witness.

/// A witness the log asks for cosignatures: `URL=VKEY` on the command line.
public struct WitnessEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The witness's submission prefix: the log posts to `url/add-checkpoint`.
    public var url: String
    /// Its key, as `kinerja witness init` prints it (a cosignature key) or as `kinerja key generate` does.
    public var key: NoteVerifierKey

    public init(url: String, key: NoteVerifierKey) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.key = key
    }

    /// `URL=VKEY`, e.g. `http://witness.inspektorat.example:8080/v1/witness=inspektorat.example/witness+1a2b3c4d+BAsd...`.
    public init(parsing argument: String) throws {
        // A verifier key's base64 may end in `=`: the URL ends at the first `=` after which a key parses.
        for index in argument.indices where argument[index] == "=" {
            let url = String(argument[..<index])
            guard let key = try? NoteVerifierKey(parsing: String(argument[argument.index(after: index)...])) else { continue }
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                throw TransparencyLogError(.malformed, "the witness's URL must be http:// or https://, not \(url)")
            }
            self.init(url: url, key: key)
            return
        }
        throw TransparencyLogError(.malformed, "a witness is URL=VKEY (its verifier key from kinerja witness init), not \(argument)")
    }

    /// The key its cosignatures verify with.
    var cosignatureKey: NoteVerifierKey { key.type == .ed25519 ? key.cosignatureKey : key }

    public var description: String { "\(key.name) (\(url))" }
}

/// What one witness answered in a round.
public enum WitnessOutcome: Sendable, Hashable {
    /// It cosigned the checkpoint of `size` records; its cosignature verified and is kept.
    case cosigned(size: UInt64)
    /// It refused (C2SP tlog-witness status: 403, 404, 422, 400...) and said why.
    case refused(status: Int, message: String)
    /// It holds a checkpoint of more records than the log has: the log cannot prove consistency to it.
    case ahead(size: UInt64)
    /// Its answer did not verify against its key, or was no cosignature: nothing kept.
    case badAnswer(String)
    /// No answer: down, unreachable, or slower than the timeout.
    case unreachable(String)
}

/// The log's side of C2SP tlog-witness: a service of `kinerja serve`, and one `round()` at a time for tests.
public actor CheckpointWitnessing: Service {
    let ledger: Ledger
    let key: NoteSigningKey
    public let witnesses: [WitnessEndpoint]
    let client: HTTPClient
    let interval: Duration
    let retryInterval: Duration
    let timeout: Duration
    let logger: Logger
    /// What the log knows of each witness (by verifier key): the size it holds, the checkpoint it last cosigned.
    var known: [String: WitnessRecord] = [:]
    /// The checkpoint last offered, and when: a witness that did not cosign it is asked again only after `retryInterval`.
    var lastOffer: (text: String, at: ContinuousClock.Instant)?
    /// When each witness that did not cosign (no answer, a refusal) last failed to.
    var failedAt: [String: ContinuousClock.Instant] = [:]

    struct WitnessRecord: Codable, Sendable {
        var key: String
        var url: String
        var size: UInt64
        /// The checkpoint it last cosigned, with the log's signature and its cosignature.
        var cosigned: String?
    }

    struct State: Codable {
        var witnesses: [WitnessRecord]
    }

    public init(
        ledger: Ledger, key: NoteSigningKey, witnesses: [WitnessEndpoint], client: HTTPClient = .shared, interval: Duration = .seconds(2),
        retryInterval: Duration = .seconds(15), timeout: Duration = .seconds(5), logger: Logger = Logger(label: "kinerja.witness")
    ) {
        self.ledger = ledger
        self.key = key
        self.witnesses = witnesses
        self.client = client
        self.interval = interval
        self.retryInterval = retryInterval
        self.timeout = timeout
        self.logger = logger
        if let data = ledger.witnessState(), let state = try? JSONDecoder().decode(State.self, from: data) {
            for record in state.witnesses { known[record.key] = record }
        } else if ledger.witnessState() != nil {
            logger.warning("\(ledger.witnessStatePath) is not the witnesses' state: starting from nothing (each witness says the size it holds)")
        }
    }

    /// The size the log believes `witness` holds (0 before it first heard of it).
    public func size(of witness: WitnessEndpoint) -> UInt64 { known[witness.key.description]?.size ?? 0 }

    /// A round at start, then one every `interval` when the tree has grown (or a witness has
    /// not cosigned the newest checkpoint and `retryInterval` has passed), until shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.round()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// Signs a checkpoint of the head when it is newer than the published one, asks every
    /// witness that has not cosigned it, and publishes it with the cosignatures that verify.
    /// Returns what each witness asked answered (empty when nothing was to be done).
    @discardableResult
    public func round(force: Bool = false) async -> [WitnessEndpoint: WitnessOutcome] {
        let ledger = self.ledger
        let key = self.key
        let note: SignedNote
        let isPublished: Bool
        do {
            (note, isPublished) = try await NIOThreadPool.singleton.runIfActive {
                let fresh = try ledger.checkpoint(key: key)
                if let published = try? ledger.publishedCheckpoint(), published.text == fresh.text { return (published, true) }
                return (fresh, false)
            }
        } catch {
            logger.error("cannot sign a checkpoint to witness: \(error)")
            return [:]
        }
        var missing = witnesses.filter { $0.cosignatureKey.verify(note)?.valid != true }
        if isPublished {
            if missing.isEmpty { return [:] }
            if !force, let last = lastOffer, last.text == note.text, ContinuousClock.now - last.at < retryInterval { return [:] }
        }
        // A witness that did not answer or refused lately is asked again only after
        // `retryInterval`, however fast the tree grows: the others' cosignatures do not wait on its
        // timeout, and a refusing witness is not sent a request every round.
        if !force { missing.removeAll { witness in failedAt[witness.key.description].map { ContinuousClock.now - $0 < retryInterval } ?? false } }
        if missing.isEmpty && isPublished { return [:] }
        lastOffer = (note.text, .now)
        // The checkpoint as the log signed it: the witnesses' cosignatures are theirs to give.
        let offered = SignedNote(text: note.text, signatures: note.signatures.filter { $0.name == key.name && $0.keyID == key.keyID })
        let sizes = Dictionary(uniqueKeysWithValues: missing.map { ($0, size(of: $0)) })
        var outcomes: [WitnessEndpoint: WitnessOutcome] = [:]
        var published = false
        await withTaskGroup(of: (WitnessEndpoint, WitnessOutcome, UInt64?, [NoteSignature]).self) { group in
            for witness in missing {
                group.addTask { await self.ask(witness, offered, believedSize: sizes[witness] ?? 0) }
            }
            // Each answer is kept as it comes: a slow witness does not hold back the others' cosignatures.
            for await (witness, outcome, learned, cosignatures) in group {
                outcomes[witness] = outcome
                record(witness, outcome, learned: learned, cosignatures: cosignatures, on: offered)
                if !cosignatures.isEmpty {
                    await publish(SignedNote(text: offered.text, signatures: offered.signatures + cosignatures))
                    published = true
                }
            }
        }
        if !published { await publish(note) }
        return outcomes
    }

    /// Keeps what `witness` answered: the size it holds, its cosignature, when it last failed to cosign.
    private func record(_ witness: WitnessEndpoint, _ outcome: WitnessOutcome, learned: UInt64?, cosignatures: [NoteSignature], on offered: SignedNote) {
        var record = known[witness.key.description] ?? WitnessRecord(key: witness.key.description, url: witness.url, size: 0)
        record.url = witness.url
        if let learned { record.size = learned }
        if !cosignatures.isEmpty { record.cosigned = SignedNote(text: offered.text, signatures: offered.signatures + cosignatures).formatted }
        known[witness.key.description] = record
        failedAt[witness.key.description] = .now
        switch outcome {
        case .cosigned(let size):
            logger.info("\(witness) cosigned the checkpoint of \(size) records")
            failedAt[witness.key.description] = nil
        case .refused(let status, let message): logger.warning("\(witness) refused the checkpoint (\(status)): \(message)")
        case .ahead(let size): logger.error("\(witness) holds a checkpoint of \(size) records, more than this log's: it cannot be brought forward")
        case .badAnswer(let why): logger.error("\(witness) answered no cosignature that verifies: \(why)")
        case .unreachable(let why): logger.warning("\(witness) did not answer: \(why)")
        }
    }

    /// Publishes `note` (merged with what is published when it is the same checkpoint) and the
    /// witnesses' state, each file whole or not at all.
    private func publish(_ note: SignedNote) async {
        let ledger = self.ledger
        let state = State(witnesses: known.values.sorted { $0.key < $1.key })
        do {
            try await NIOThreadPool.singleton.runIfActive {
                _ = try ledger.publishWitnessed(note)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try ledger.writeWitnessState(try encoder.encode(state))
            }
        } catch {
            logger.error("cannot publish the witnessed checkpoint: \(error)")
        }
    }

    /// One witness's add-checkpoint exchange: from the size the log believes it holds; on 409,
    /// again from the size it says it holds (at most twice). Returns the outcome, the size the
    /// witness is now known to hold, and the cosignatures that verified.
    nonisolated func ask(_ witness: WitnessEndpoint, _ note: SignedNote, believedSize: UInt64) async -> (WitnessEndpoint, WitnessOutcome, UInt64?, [NoteSignature]) {
        let size: UInt64
        do {
            size = try Checkpoint(text: note.text).size
        } catch {
            return (witness, .badAnswer("\(error)"), nil, [])
        }
        var old = believedSize
        var learned: UInt64?
        for _ in 0..<3 {
            guard old <= size else { return (witness, .ahead(size: old), learned, []) }
            let ledger = self.ledger
            let from = old
            let proof: [TreeHash]
            do {
                proof = from == 0 ? [] : try await NIOThreadPool.singleton.runIfActive { try ledger.consistencyProof(from: from, checkpoint: note) }
            } catch {
                return (witness, .refused(status: 0, message: "no consistency proof from \(from) records: \(error)"), learned, [])
            }
            var request = HTTPClientRequest(url: witness.url + "/add-checkpoint")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            request.body = .bytes(ByteBuffer(string: AddCheckpointRequest(oldSize: from, proof: proof, checkpoint: note).formatted))
            let status: Int
            let contentType: String?
            let body: String
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
                status = Int(response.status.code)
                contentType = response.headers.first(name: "Content-Type")
                body = String(buffer: try await response.body.collect(upTo: 64 << 10))
            } catch {
                return (witness, .unreachable("\(error)"), learned, [])
            }
            switch status {
            case 200:
                return Self.cosignatures(body, by: witness, on: note, size: size, learned: learned)
            case 409:
                guard contentType?.hasPrefix("text/x.tlog.size") == true, let held = UInt64(body.trimmingCharacters(in: .newlines)) else {
                    return (witness, .refused(status: 409, message: body), learned, [])
                }
                learned = held
                if held == from { return (witness, .refused(status: 409, message: "it says it holds \(held) records, the size it was sent"), learned, []) }
                old = held
            default:
                let message = body.trimmingCharacters(in: .whitespacesAndNewlines)
                return (witness, .refused(status: status, message: String(message.prefix(500))), learned, [])
            }
        }
        return (witness, .refused(status: 409, message: "the size it holds kept changing"), learned, [])
    }

    /// The cosignature lines of a 200 answer that are `witness`'s and verify over the checkpoint.
    static func cosignatures(_ body: String, by witness: WitnessEndpoint, on note: SignedNote, size: UInt64, learned: UInt64?)
        -> (WitnessEndpoint, WitnessOutcome, UInt64?, [NoteSignature])
    {
        let answered: SignedNote
        do {
            answered = try SignedNote(parsing: note.text + "\n" + body)
        } catch {
            return (witness, .badAnswer("the answer is not signature lines: \(error)"), learned, [])
        }
        let key = witness.cosignatureKey
        let valid = answered.signatures.filter { signature in
            signature.name == key.name && signature.keyID == key.keyID && key.verify(SignedNote(text: note.text, signatures: [signature]))?.valid == true
        }
        guard !valid.isEmpty else { return (witness, .badAnswer("no line by \(key.name) (key ID \(String(key.keyID, radix: 16))) verifies over the checkpoint"), learned, []) }
        // It holds the checkpoint now, whatever was believed before.
        return (witness, .cosigned(size: size), size, valid)
    }
}
