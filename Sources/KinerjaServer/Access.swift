import Crypto
import Foundation
import KinerjaDomain
import KinerjaLedger
import Synchronization

/// What an identity may do (PRODUCT §9's role table; ``AccessPolicy`` decides). The domain's
/// code, since grants are recorded in the ledger as `access.granted` events.
public typealias Role = AccessRole

/// Who a request acts as: the identity its bearer token was granted to.
public struct Identity: Sendable, Equatable {
    /// An NIP (role `employee`) or a system identifier such as `hr:bkpsdm`.
    public var name: String
    public var role: Role
    /// The units an `hr` identity administers.
    public var units: [String]
    public var tokenID: String

    public init(name: String, role: Role, units: [String] = [], tokenID: String) {
        self.name = name
        self.role = role
        self.units = units
        self.tokenID = tokenID
    }
}

/// One token granted: never the secret, only its id and its SHA-256.
public struct Grant: Codable, Sendable, Equatable {
    public var identity: String
    public var role: Role
    public var units: [String]
    public var tokenID: String
    public var tokenHash: String
    public var grantedAt: String
    public var revokedAt: String?

    enum CodingKeys: String, CodingKey {
        case identity, role, units
        case tokenID = "token_id"
        case tokenHash = "token_hash"
        case grantedAt = "granted_at"
        case revokedAt = "revoked_at"
    }
}

/// Why a grant or a revocation is refused.
public struct AccessError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The grants of a ledger, kept beside it (`access.json` in the ledger's directory), written
/// whole and atomically by `kinerja access`, and read again by a running server whenever the
/// file changes, so that a revocation takes effect at the next request.
public final class AccessList: Sendable {
    public let path: String

    private struct Loaded {
        /// The file's inode, size and modification time when read.
        var stamp: [Int]
        var grants: [String: Grant]
        /// The tokens already checked against their grant's hash since the file was read, and
        /// their identity: a client's next request needs no SHA-256. Only valid tokens enter
        /// (at most one per active grant), and it is emptied whenever the file changes.
        var verified: [String: Identity] = [:]
    }

    private let loaded = Mutex<Loaded?>(nil)

    public init(ledgerPath: String) {
        path = URL(fileURLWithPath: ledgerPath).appendingPathComponent("access.json").path
    }

    /// Every grant, in the order granted.
    public func grants() throws -> [Grant] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try JSONDecoder().decode([Grant].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Grants `identity` the role with a new token, revoking the identity's earlier tokens.
    /// Returns the token: shown once, stored only as its hash.
    ///
    /// The grant (and the revocation of the earlier tokens) is first recorded in `ledger` as
    /// `access.granted` (and `access.revoked`) events whose actor is `actor`, who granted it,
    /// through the one append path; only then is the token written to the access list. So no
    /// token works that the ledger does not show.
    public func grant(
        _ identity: String, role: Role, units: [String], by actor: String, recordingIn ledger: Ledger, now: Date = Date()
    ) throws -> (token: String, grant: Grant) {
        try Self.check(identity, role: role, units: units)
        return try locked { try grantLocked(identity, role: role, units: units, by: actor, recordingIn: ledger, now: now) }
    }

    private func grantLocked(
        _ identity: String, role: Role, units: [String], by actor: String, recordingIn ledger: Ledger, now: Date
    ) throws -> (token: String, grant: Grant) {
        var all = try grants()
        let stamp = Self.timestamp(now)
        var events: [Event] = []
        for index in all.indices where all[index].identity == identity && all[index].revokedAt == nil {
            all[index].revokedAt = stamp
            events.append(try Self.event(identity, actor, now, .accessRevoked(AccessRevocation(tokenID: all[index].tokenID))))
        }
        let tokenID = Self.randomHex(bytes: 6)
        let token = "kt_\(tokenID)_\(Self.randomHex(bytes: 32))"
        let grant = Grant(identity: identity, role: role, units: units, tokenID: tokenID, tokenHash: Self.hash(token), grantedAt: stamp)
        events.append(try Self.event(identity, actor, now, .accessGranted(AccessGrant(role: role, units: units, tokenID: tokenID))))
        try Self.record(events, in: ledger)
        all.append(grant)
        try save(all)
        return (token, grant)
    }

    /// Revokes every active token of `identity`, recording an `access.revoked` event for each
    /// (actor `actor`) in `ledger` first; returns how many.
    @discardableResult
    public func revoke(_ identity: String, by actor: String, recordingIn ledger: Ledger, now: Date = Date()) throws -> Int {
        try locked { try revokeLocked(identity, by: actor, recordingIn: ledger, now: now) }
    }

    private func revokeLocked(_ identity: String, by actor: String, recordingIn ledger: Ledger, now: Date) throws -> Int {
        var all = try grants()
        var events: [Event] = []
        for index in all.indices where all[index].identity == identity && all[index].revokedAt == nil {
            all[index].revokedAt = Self.timestamp(now)
            events.append(try Self.event(identity, actor, now, .accessRevoked(AccessRevocation(tokenID: all[index].tokenID))))
        }
        guard !events.isEmpty else { throw AccessError(description: "\(identity) holds no active token") }
        try Self.record(events, in: ledger)
        try save(all)
        return events.count
    }

    /// One `kinerja access` at a time: each reads the list, records its events and writes the
    /// list back, so a grant running beside a revocation cannot write back the list it read
    /// before the revocation (and make the revoked token work again).
    private func locked<R>(_ body: () throws -> R) throws -> R {
        let lock = path + ".lock"
        let descriptor = lock.withCString { Glibc.open($0, O_CREAT | O_RDWR | O_CLOEXEC, 0o600) }
        guard descriptor >= 0 else { throw AccessError(description: "cannot open \(lock): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else { throw AccessError(description: "cannot lock \(lock): \(String(cString: strerror(errno)))") }
        return try body()
    }

    private static func event(_ identity: String, _ actor: String, _ now: Date, _ data: EventData) throws -> Event {
        let actor = try Actor.parse(actor).mapError { AccessError(description: "the granting actor \(actor) \($0.rule)") }.get()
        var generator = SystemRandomNumberGenerator()
        // A version 4 UUID (RFC 9562): random but for its version and variant bits.
        let id = EventID(
            high: generator.next() & ~0xF000 | 0x4000,
            low: generator.next() & ~(0xC000_0000_0000_0000 as UInt64) | 0x8000_0000_0000_0000)
        return Event(id: id, subject: .identity(identity), actor: actor, occurredAt: Timestamp(micros: Int64(now.timeIntervalSince1970 * 1_000_000)), data: data)
    }

    /// Appends through the one append path, with its checks; a refusal stores nothing.
    private static func record(_ events: [Event], in ledger: Ledger) throws {
        let report = try ledger.append(NumberedSubmission.numbering(events))
        if let refused = report.rejected.first {
            throw AccessError(description: "the ledger refuses the \(events[refused.line - 1].type.rawValue) event: \(refused)")
        }
    }

    /// The identity a bearer token stands for, or nil for an unknown or revoked token. Reads the
    /// file again when it changed since the last call.
    public func identity(forToken token: String) throws -> Identity? {
        let stamp = Self.stamp(path)
        let found = try loaded.withLock { loaded -> (known: Identity?, grant: Grant?) in
            if loaded == nil || loaded!.stamp != stamp {
                let byToken = try grants().filter { $0.revokedAt == nil }.map { ($0.tokenID, $0) }
                loaded = Loaded(stamp: stamp, grants: Dictionary(byToken) { $1 })
            }
            if let known = loaded!.verified[token] { return (known, nil) }
            let parts = token.split(separator: "_")
            guard parts.count == 3, parts[0] == "kt" else { return (nil, nil) }
            return (nil, loaded!.grants[String(parts[1])])
        }
        if let known = found.known { return known }
        guard let active = found.grant, active.tokenHash == Self.hash(token) else { return nil }
        let identity = Identity(name: active.identity, role: active.role, units: active.units, tokenID: active.tokenID)
        // Remembered only if the file is still the one the grant came from (a revocation since
        // then has emptied the list, and this token must be looked up again).
        loaded.withLock { loaded in
            if loaded?.stamp == stamp { loaded!.verified[token] = identity }
        }
        return identity
    }

    private func save(_ grants: [Grant]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(grants).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)
    }

    static func check(_ identity: String, role: Role, units: [String]) throws {
        if case .failure = NIP.validate(identity), role == .employee { throw AccessError(description: "an employee is an NIP (18 digits), not \(identity)") }
        if !Identifiers.isIdentity(identity) {
            throw AccessError(description: "\(identity) is neither an NIP nor a system identifier (such as hr:bkpsdm)")
        }
        if role == .hr && units.isEmpty { throw AccessError(description: "an hr identity needs at least one --unit") }
        if role != .hr && !units.isEmpty { throw AccessError(description: "only an hr identity has units") }
        for unit in units where !Identifiers.isUnitCode(unit) { throw AccessError(description: "\(unit) is not a unit code") }
    }

    /// Lowercase hex of the token's SHA-256 (every request computes it: no `String(format:)`).
    static func hash(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(token.utf8)) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func timestamp(_ date: Date) -> String {
        Timestamp(micros: Int64(date.timeIntervalSince1970 * 1_000_000)).utcMicrosecondText
    }

    /// Inode, size and modification time: an atomic rewrite changes at least the inode.
    private static func stamp(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
    }
}
