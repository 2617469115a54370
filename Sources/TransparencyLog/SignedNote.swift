import Crypto
import Foundation

/// Why a note, a key, a checkpoint or a proof was refused: a code to match on and a sentence.
public struct TransparencyLogError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case malformed, badSignature, unknownKey, inconsistent, notIncluded, wrongOrigin
        }
        private let value: Value
        /// The text is not in the format (note, key, checkpoint, proof).
        public static let malformed = Code(value: .malformed)
        /// A signature by a known key does not verify.
        public static let badSignature = Code(value: .badSignature)
        /// No signature by the expected key.
        public static let unknownKey = Code(value: .unknownKey)
        /// A consistency proof does not verify: a fork or a rollback.
        public static let inconsistent = Code(value: .inconsistent)
        /// An inclusion proof does not verify.
        public static let notIncluded = Code(value: .notIncluded)
        /// The checkpoint names another log.
        public static let wrongOrigin = Code(value: .wrongOrigin)

        public var description: String { "\(value)" }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Signature types of C2SP signed-note.
public enum NoteSignatureType: UInt8, Sendable {
    /// Ed25519 over the note text.
    case ed25519 = 0x01
    /// Timestamped Ed25519 checkpoint cosignature (C2SP tlog-cosignature, `cosignature/v1`).
    case cosignature = 0x04
}

/// A key name of C2SP signed-note: non-empty, no Unicode space, no `+`.
func isValidKeyName(_ name: some StringProtocol) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
}

/// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`, big-endian.
func keyID(name: String, type: NoteSignatureType, publicKey: some DataProtocol) -> UInt32 {
    var hasher = SHA256()
    hasher.update(data: Array(name.utf8) + [0x0A, type.rawValue])
    hasher.update(data: publicKey)
    return hasher.finalize().withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) }
}

extension UInt32 {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
    var hex8: String {
        let text = String(self, radix: 16)
        return String(repeating: "0", count: 8 - text.count) + text
    }
}

extension UInt64 {
    var bigEndianBytes: [UInt8] { withUnsafeBytes(of: bigEndian, Array.init) }
}

/// One signature line of a note: `— <name> base64(key ID ‖ signature)`.
public struct NoteSignature: Hashable, Sendable {
    public var name: String
    public var keyID: UInt32
    /// The bytes after the key ID (for a cosignature: the timestamp, then the signature).
    public var signature: [UInt8]

    public init(name: String, keyID: UInt32, signature: [UInt8]) {
        self.name = name
        self.keyID = keyID
        self.signature = signature
    }

    /// The line, ending in a newline.
    public var line: String { "— \(name) \(Data(keyID.bigEndianBytes + signature).base64EncodedString())\n" }
}

/// A C2SP signed note: a text ending in a newline, a blank line, one or more signature lines.
public struct SignedNote: Hashable, Sendable {
    /// The signed text, including its final newline.
    public var text: String
    public var signatures: [NoteSignature]

    public init(text: String, signatures: [NoteSignature]) {
        self.text = text
        self.signatures = signatures
    }

    /// The note as it is written: text, blank line, signature lines.
    public var formatted: String { text + "\n" + signatures.map(\.line).joined() }

    /// Parses a note; the text is separated from the signatures by the last blank line.
    public init(parsing note: String) throws {
        func malformed(_ why: String) -> TransparencyLogError { TransparencyLogError(.malformed, "not a signed note: \(why)") }
        guard note.utf8.count <= 1 << 20 else { throw malformed("over 1 MiB") }
        guard !note.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" }) else { throw malformed("it contains a control character") }
        guard note.hasSuffix("\n") else { throw malformed("it does not end in a newline") }
        guard let separator = note.range(of: "\n\n", options: .backwards) else { throw malformed("no blank line before the signatures") }
        text = String(note[..<separator.lowerBound]) + "\n"
        let lines = note[separator.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard !lines.isEmpty else { throw malformed("no signature line") }
        guard lines.count <= 64 else { throw malformed("more than 64 signature lines") }
        signatures = try lines.map { line in
            guard line.hasPrefix("— ") else { throw malformed("a signature line does not start with an em dash and a space: \(line)") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, isValidKeyName(fields[0]) else { throw malformed("a signature line is not `— NAME SIGNATURE`: \(line)") }
            guard let bytes = Data(base64Encoded: String(fields[1])), bytes.count > 4 else { throw malformed("a signature is not base64 of a key ID and a signature: \(line)") }
            let id = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return NoteSignature(name: String(fields[0]), keyID: id, signature: Array(bytes.dropFirst(4)))
        }
    }
}

/// A signed-note Ed25519 signing key and its name, in the text form Go's `golang.org/x/mod/sumdb/note`
/// writes: `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ 32-byte seed)>`.
public struct NoteSigningKey: Sendable {
    public let name: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(name: String, privateKey: Curve25519.Signing.PrivateKey = .init()) throws {
        guard isValidKeyName(name) else { throw TransparencyLogError(.malformed, "\"\(name)\" is not a key name: it must be non-empty, with no space and no +") }
        self.name = name
        self.privateKey = privateKey
    }

    public var keyID: UInt32 { TransparencyLog.keyID(name: name, type: .ed25519, publicKey: privateKey.publicKey.rawRepresentation) }

    /// The private key file's text (one line, with its newline).
    public var encoded: String {
        "PRIVATE+KEY+\(name)+\(keyID.hex8)+\(Data([NoteSignatureType.ed25519.rawValue] + privateKey.rawRepresentation).base64EncodedString())\n"
    }

    public init(encoded: String) throws {
        let malformed = TransparencyLogError(.malformed, "not a signed-note private key (PRIVATE+KEY+NAME+ID+KEY)")
        let fields = encoded.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0] == "PRIVATE", fields[1] == "KEY",
            let key = Data(base64Encoded: String(fields[4])), key.count == 33, key.first == NoteSignatureType.ed25519.rawValue,
            let privateKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: key.dropFirst())
        else { throw malformed }
        try self.init(name: String(fields[2]), privateKey: privateKey)
        guard fields[3] == keyID.hex8 else { throw TransparencyLogError(.malformed, "the private key's ID \(fields[3]) is not its key's, \(keyID.hex8)") }
    }

    /// The verifier key of this key's note signatures.
    public var verifierKey: NoteVerifierKey {
        NoteVerifierKey(name: name, type: .ed25519, publicKey: privateKey.publicKey)
    }

    /// The verifier key of this key's checkpoint cosignatures (a witness's key).
    public var cosignatureVerifierKey: NoteVerifierKey {
        NoteVerifierKey(name: name, type: .cosignature, publicKey: privateKey.publicKey)
    }

    /// Signs `text` (a note text ending in a newline).
    public func sign(_ text: String) throws -> NoteSignature {
        NoteSignature(name: name, keyID: keyID, signature: Array(try privateKey.signature(for: Array(text.utf8))))
    }

    /// A C2SP tlog-cosignature/v1 of `checkpoint` (a checkpoint's note text) at `time`
    /// (POSIX seconds): the key ID of type 0x04, the timestamp, the Ed25519 signature over
    /// `cosignature/v1\ntime T\n` followed by the checkpoint text.
    public func cosign(_ checkpoint: String, time: UInt64) throws -> NoteSignature {
        let message = "cosignature/v1\ntime \(time)\n" + checkpoint
        let signature = try privateKey.signature(for: Array(message.utf8))
        return NoteSignature(name: name, keyID: cosignatureVerifierKey.keyID, signature: time.bigEndianBytes + Array(signature))
    }
}

/// A signed-note verifier key: `<name>+<hex key ID>+<base64(type ‖ public key)>`.
public struct NoteVerifierKey: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let type: NoteSignatureType
    public let publicKey: Curve25519.Signing.PublicKey

    init(name: String, type: NoteSignatureType, publicKey: Curve25519.Signing.PublicKey) {
        self.name = name
        self.type = type
        self.publicKey = publicKey
    }

    public var keyID: UInt32 { TransparencyLog.keyID(name: name, type: type, publicKey: publicKey.rawRepresentation) }

    /// The same name and public key as a C2SP tlog-cosignature/v1 key (type 0x04): what a
    /// witness's cosignatures are checked with when its Ed25519 verifier key is given.
    public var cosignatureKey: NoteVerifierKey { NoteVerifierKey(name: name, type: .cosignature, publicKey: publicKey) }

    public var description: String {
        "\(name)+\(keyID.hex8)+\(Data([type.rawValue] + publicKey.rawRepresentation).base64EncodedString())"
    }

    public init(parsing vkey: String) throws {
        let fields = vkey.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, isValidKeyName(fields[0]), fields[1].count == 8, let id = UInt32(fields[1], radix: 16),
            let key = Data(base64Encoded: String(fields[2])), key.count == 33,
            let type = NoteSignatureType(rawValue: key[key.startIndex]),
            let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.dropFirst())
        else { throw TransparencyLogError(.malformed, "not a signed-note Ed25519 verifier key (NAME+ID+KEY): \(vkey)") }
        self.init(name: String(fields[0]), type: type, publicKey: publicKey)
        guard keyID == id else { throw TransparencyLogError(.malformed, "the verifier key's ID \(fields[1]) is not its key's, \(keyID.hex8)") }
    }

    public static func == (lhs: NoteVerifierKey, rhs: NoteVerifierKey) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(publicKey.rawRepresentation)
    }

    /// Checks this key's signatures on `note`: nil when the note has none by this key (same
    /// name and key ID), else whether every one of them verifies. For a cosignature, also the
    /// time it carries.
    public func verify(_ note: SignedNote) -> (valid: Bool, time: UInt64?)? {
        let mine = note.signatures.filter { $0.name == name && $0.keyID == keyID }
        guard !mine.isEmpty else { return nil }
        var time: UInt64?
        for signature in mine {
            switch type {
            case .ed25519:
                guard publicKey.isValidSignature(signature.signature, for: Array(note.text.utf8)) else { return (false, nil) }
            case .cosignature:
                guard signature.signature.count == 8 + 64 else { return (false, nil) }
                let stamp = signature.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let message = "cosignature/v1\ntime \(stamp)\n" + note.text
                guard publicKey.isValidSignature(signature.signature.dropFirst(8), for: Array(message.utf8)) else { return (false, nil) }
                time = stamp
            }
        }
        return (true, time)
    }

    /// The note's text, if this key signed it and every signature by this key verifies.
    public func open(_ note: SignedNote) throws -> String {
        switch verify(note) {
        case nil: throw TransparencyLogError(.unknownKey, "the note is not signed by \(name) (key ID \(keyID.hex8))")
        case .some((false, _)): throw TransparencyLogError(.badSignature, "the signature by \(name) does not verify: the note was changed or signed by another key")
        case .some((true, _)): return note.text
        }
    }
}
