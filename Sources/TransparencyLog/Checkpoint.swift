import Foundation

/// A C2SP tlog-checkpoint body: the log's origin, the tree size, the base64 root, each on a
/// line, then optional extension lines. Signed, it is a note (``SignedNote``).
public struct Checkpoint: Hashable, Sendable {
    public var origin: String
    public var size: UInt64
    public var root: TreeHash
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: TreeHash, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a note text.
    public init(text: String) throws {
        func malformed(_ why: String) -> TransparencyLogError { TransparencyLogError(.malformed, "not a checkpoint: \(why)") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "" else { throw malformed("it needs an origin, a size and a root hash, each on a line") }
        guard !lines[0].isEmpty else { throw malformed("the origin is empty") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw malformed("the size \"\(lines[1])\" is not a decimal number without leading zeroes") }
        guard let root = TreeHash(base64: lines[2]) else { throw malformed("the root \"\(lines[2])\" is not base64 of 32 bytes") }
        let extensions = lines[3..<(lines.count - 1)]
        guard !extensions.contains(where: \.isEmpty) else { throw malformed("an extension line is empty") }
        self.init(origin: String(lines[0]), size: size, root: root, extensions: extensions.map(String.init))
        guard size > 0 || root == Merkle.emptyRoot else { throw malformed("a checkpoint of size 0 must have the empty tree's root") }
    }

    /// Opens a signed checkpoint: checks `key`'s signature on it and that it names `origin`
    /// (when given).
    public static func open(_ note: SignedNote, key: NoteVerifierKey, origin: String? = nil) throws -> Checkpoint {
        let checkpoint = try Checkpoint(text: try key.open(note))
        if let origin, checkpoint.origin != origin {
            throw TransparencyLogError(.wrongOrigin, "the checkpoint is of \(checkpoint.origin), not of \(origin)")
        }
        return checkpoint
    }
}

/// A C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): an entry's index, its inclusion proof, optional
/// extra data and the signed checkpoint it is proven against.
public struct TlogProof: Hashable, Sendable {
    public static let header = "c2sp.org/tlog-proof@v1"

    public var extra: [UInt8]?
    public var index: UInt64
    public var proof: [TreeHash]
    /// The signed checkpoint, verbatim.
    public var checkpoint: SignedNote

    public init(extra: [UInt8]?, index: UInt64, proof: [TreeHash], checkpoint: SignedNote) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public var formatted: String {
        var text = Self.header + "\n"
        if let extra { text += "extra \(Data(extra).base64EncodedString())\n" }
        text += "index \(index)\n"
        text += proof.map { $0.base64 + "\n" }.joined()
        return text + "\n" + checkpoint.formatted
    }

    public init(parsing text: String) throws {
        func malformed(_ why: String) -> TransparencyLogError { TransparencyLogError(.malformed, "not a tlog-proof: \(why)") }
        guard let blank = text.range(of: "\n\n") else { throw malformed("no blank line before the checkpoint") }
        var lines = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.header) else { throw malformed("the first line is not \(Self.header)") }
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let data = Data(base64Encoded: String(line.dropFirst(6))) else { throw malformed("the extra line is not base64") }
            extra = Array(data)
            lines.removeFirst()
        } else {
            extra = nil
        }
        guard let line = lines.popFirst(), line.hasPrefix("index "), let index = UInt64(line.dropFirst(6)), String(index) == line.dropFirst(6) else {
            throw malformed("no `index N` line")
        }
        self.index = index
        proof = try lines.map { line in
            guard let hash = TreeHash(base64: line) else { throw malformed("a proof line is not base64 of 32 bytes: \(line)") }
            return hash
        }
        checkpoint = try SignedNote(parsing: String(text[blank.upperBound...]))
    }
}
