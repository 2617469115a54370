import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension ServerConfiguration {
    /// The HTTP/1.1 server `kinerja serve` runs: its timeouts (the header timeout's handler after
    /// the HTTP decoder, one a connection; the idle timeout). Public so that the benchmark's peer
    /// (a Hummingbird server with no ledger, `kinerja-bench http-peer`) runs the same one.
    public var httpServer: HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [HeaderTimeoutHandler(timeout: .seconds(headerTimeout))],
                idleTimeout: .seconds(idleTimeout)))
    }

    /// Where it listens, and the name it gives in `Server`.
    public var application: ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname(host, port: port), serverName: "kinerja")
    }
}

extension Logger {
    /// The server's logger (``DeferredMetadataLogHandler``): the one `kinerja serve` and the
    /// benchmark's peer give Hummingbird.
    public static func server(label: String) -> Logger { DeferredMetadataLogHandler.logger(label: label) }
}
