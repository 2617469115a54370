import CanonicalBytes
import Crypto
import Foundation

/// A SHA-256 value of the RFC 6962 tree: a leaf hash, a node hash or a root. The same 32-byte
/// inline value as the hash chain's (no allocation when hashing a million leaves).
public typealias TreeHash = ChainHash

extension ChainHash {
    /// Standard base64 (RFC 4648 §4) of exactly 32 bytes, as C2SP formats write hashes.
    public init?(base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        self.init(bytes: data)
    }

    public var base64: String { Data(bytes).base64EncodedString() }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { ChainHash(uncheckedBytes: $0) }
    }

    /// Feeds the 32 bytes to a running SHA-256.
    func update(_ hasher: inout SHA256) {
        var big = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        withUnsafeBytes(of: &big) { hasher.update(bufferPointer: $0) }
    }
}
