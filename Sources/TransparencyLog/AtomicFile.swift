import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)`, named apart from ``AtomicFile/write(_:to:)``.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int { write(descriptor, bytes, count) }

/// A file written whole or not at all, for the state a witness or a log keeps beside its data
/// (the checkpoint it holds, the published checkpoint and its witnesses): a temporary file beside
/// it, written and synced, renamed over the old one, then the directory synced. A crash at any
/// point leaves the old file or the new one, never a part of either.
public enum AtomicFile {
    /// Why a write did not happen; the old file, if any, is untouched.
    public struct WriteError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws(WriteError) {
        let temporary = path + ".tmp"
        func failure(_ what: String) -> WriteError { WriteError(description: "\(what) \(temporary): \(String(cString: strerror(errno)))") }
        let descriptor = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create") }
        let bytes = Array(bytes)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                let error = failure("cannot write")
                close(descriptor)
                throw error
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot sync")
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw failure("cannot close") }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename") }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}
