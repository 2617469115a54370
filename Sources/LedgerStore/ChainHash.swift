// ChainHash is declared in CanonicalBytes (the domain's recorded fields carry it too); every
// user of the store names it, so the store re-exports that module.
@_exported import CanonicalBytes
import TransparencyLog

extension ChainHash {
    /// `hash(n) = SHA-256(hash(n-1) ‖ canonical bytes of record n)`.
    public static func chain(_ previous: ChainHash, _ canonical: UnsafeRawBufferPointer) -> ChainHash {
        var words = (previous.words.0.bigEndian, previous.words.1.bigEndian, previous.words.2.bigEndian, previous.words.3.bigEndian)
        return withUnsafeBytes(of: &words) { ChainHash.sha256($0, canonical) }
    }

    init(uncheckedBytes bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { ChainHash(uncheckedBytes: $0) }
    }
}
