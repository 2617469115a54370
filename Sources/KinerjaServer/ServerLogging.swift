import Foundation
import Logging

/// The server's log handler: swift-log's `StreamLogHandler` (standard error, as swift-log's default handler: the same lines),
/// but metadata set on a logger is only kept, not formatted. Hummingbird gives every request a
/// logger with its own `hb.request.id`, and `StreamLogHandler` formats its whole metadata
/// (sorted, joined, the request id written out) whenever one key is set: on every request,
/// for a line that is almost never logged. Here the metadata is formatted only when a line is.
package struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    package var metadata: Logger.Metadata = [:]

    /// Writes through `stream` (with no metadata of its own): by default to standard error.
    package init(label: String, stream: StreamLogHandler? = nil) {
        self.stream = stream ?? StreamLogHandler.standardError(label: label)
    }

    package var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    package var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        // Handed over as the stream's own metadata, so that `StreamLogHandler` merges it with the
        // metadata provider's and the line's in its order (the line's wins, then the provider's).
        var stream = stream
        if !metadata.isEmpty { stream.metadata = metadata }
        stream.log(event: event)
    }

    /// The server's logger: level `LOG_LEVEL` when set (as Hummingbird's own default), else info.
    package static func logger(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Logger {
        var logger = Logger(label: label) { DeferredMetadataLogHandler(label: $0) }
        if let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { logger.logLevel = level }
        return logger
    }
}
