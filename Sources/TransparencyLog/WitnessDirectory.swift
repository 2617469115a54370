import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A witness's state on disk: the log it witnesses (origin and verifier key), where its own
/// signing key is, and the latest checkpoint it cosigned.
///
/// `add` holds an exclusive lock on the directory while it checks and persists, so two
/// requests cannot roll each other back (C2SP tlog-witness), and writes the new checkpoint to a
/// temporary file, syncs it and renames it over the old one: killed at any moment, the directory
/// holds the old checkpoint or the new one, never neither.
public struct WitnessDirectory: Sendable {
    public let path: String

    static let configFile = "witness.conf"
    static let checkpointFile = "checkpoint"

    public init(path: String) { self.path = path }

    /// Creates the state directory for one log. Refuses a directory that already holds a witness.
    public static func create(at path: String, origin: String, logKey: NoteVerifierKey, keyFile: String) throws -> WitnessDirectory {
        guard logKey.type == .ed25519 else { throw TransparencyLogError(.malformed, "the log's key must be an Ed25519 note key (type 0x01)") }
        guard !origin.isEmpty else { throw TransparencyLogError(.malformed, "the origin is empty") }
        _ = try signingKey(at: keyFile)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let directory = WitnessDirectory(path: path)
        guard !FileManager.default.fileExists(atPath: directory.file(configFile)) else {
            throw TransparencyLogError(.malformed, "\(path) already holds a witness's state")
        }
        let absoluteKey = URL(fileURLWithPath: keyFile).standardizedFileURL.path
        try AtomicFile.write("origin \(origin)\nlog-vkey \(logKey)\nkey \(absoluteKey)\n".utf8, to: directory.file(configFile))
        return directory
    }

    static func signingKey(at path: String) throws -> NoteSigningKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TransparencyLogError(.malformed, "cannot read the key file \(path)")
        }
        return try NoteSigningKey(encoded: text)
    }

    /// The witnessed log and the witness's key.
    public func load() throws -> (log: WitnessedLog, key: NoteSigningKey) {
        guard let config = try? String(contentsOfFile: file(Self.configFile), encoding: .utf8) else {
            throw TransparencyLogError(.malformed, "\(path) holds no witness state (run `kinerja witness init`)")
        }
        var fields: [String: String] = [:]
        for line in config.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            fields[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        guard let origin = fields["origin"], let vkey = fields["log-vkey"], let keyPath = fields["key"] else {
            throw TransparencyLogError(.malformed, "\(file(Self.configFile)) lacks origin, log-vkey or key")
        }
        var log = WitnessedLog(origin: origin, logKey: try NoteVerifierKey(parsing: vkey))
        if let text = try? String(contentsOfFile: file(Self.checkpointFile), encoding: .utf8) {
            log.latest = try SignedNote(parsing: text)
        }
        return (log, try Self.signingKey(at: keyPath))
    }

    /// Decides `request` and, when it is cosigned, persists the new checkpoint before returning.
    public func add(_ request: AddCheckpointRequest, time: UInt64 = UInt64(Date().timeIntervalSince1970)) throws -> WitnessDecision {
        try locked {
            let (log, key) = try load()
            let decision = try log.decide(request, key: key, time: time)
            // The checkpoint it already holds is cosigned again without rewriting it: anyone may
            // post one (the endpoint takes no token), and a loop of them must cost no disk writes.
            if case .cosigned(let updated, _) = decision, let latest = updated.latest, latest.text != log.latest?.text {
                try AtomicFile.write(latest.formatted.utf8, to: file(Self.checkpointFile))
            }
            return decision
        }
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    private func locked<R>(_ body: () throws -> R) throws -> R {
        let descriptor = open(file("lock"), O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw TransparencyLogError(.malformed, "cannot open \(file("lock")): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw TransparencyLogError(.malformed, "cannot lock \(path)") }
        return try body()
    }
}
