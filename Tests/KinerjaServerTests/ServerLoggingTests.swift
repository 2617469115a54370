import Logging
import Synchronization
import Testing

import KinerjaServer

@Suite struct ServerLoggingTests {
    /// Lines written, kept for the test.
    final class Lines: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    /// Metadata set on the logger (as Hummingbird sets each request's id) is written with the
    /// line, sorted, beside the line's own, as `StreamLogHandler` writes it; below the level, nothing.
    @Test func metadataIsWrittenWithTheLineOnlyWhenALineIsLogged() {
        let lines = Lines()
        var logger = Logger(label: "kinerja") { DeferredMetadataLogHandler(label: $0, stream: StreamLogHandler(label: $0, stream: lines)) }
        logger[metadataKey: "hb.request.id"] = "42"
        logger[metadataKey: "a"] = "first"
        logger.debug("not written")
        #expect(lines.text.withLock { $0 }.isEmpty)
        logger.error("request failed", metadata: ["b": "own"])
        let text = lines.text.withLock { $0 }
        #expect(text.contains(" error kinerja: a=first b=own hb.request.id=42 [") && text.hasSuffix("] request failed\n"), "\(text)")
        #expect(logger[metadataKey: "hb.request.id"] == "42")
    }

    @Test func theLevelComesFromLOG_LEVEL() {
        #expect(DeferredMetadataLogHandler.logger(label: "kinerja", environment: [:]).logLevel == .info)
        #expect(DeferredMetadataLogHandler.logger(label: "kinerja", environment: ["LOG_LEVEL": "debug"]).logLevel == .debug)
    }
}
