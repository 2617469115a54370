import Foundation

/// A fresh directory under the system's temporary directory (or `parent`), for tests and benchmarks.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "kinerja", in parent: String? = nil) {
        let base = parent.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        path = base.appendingPathComponent("\(label)-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory (not created).
    public func child(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
