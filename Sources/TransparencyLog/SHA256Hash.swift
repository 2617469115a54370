import CLibCrypto
import CanonicalBytes

extension ChainHash {
    /// SHA-256 of `prefix ‖ data`: the shape of every hash the chain and the tree compute
    /// (`hash(n-1) ‖ record`, `0x00 ‖ entry`, `0x01 ‖ left ‖ right`).
    ///
    /// From the system's OpenSSL, in a context on the stack: swift-crypto's `SHA256` allocates a
    /// context object per hash on Linux (and checks exclusivity on it), which for a record of
    /// ~200 bytes cost as much as hashing its blocks.
    package static func sha256(_ prefix: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) -> ChainHash {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { digest in
            kinerja_sha256(prefix.baseAddress, prefix.count, data.baseAddress, data.count, digest.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return ChainHash(uncheckedBytes: UnsafeRawBufferPointer(digest))
        }
    }
}
