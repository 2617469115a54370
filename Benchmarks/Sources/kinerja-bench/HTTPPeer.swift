import Foundation
import Hummingbird
import KinerjaServer
import Logging

/// `http-peer [--port 0]`: the HTTP ceiling of `server-load`, a Hummingbird server with
/// `kinerja serve`'s version and configuration (its HTTP/1.1 server and timeouts, its logger,
/// NIO's two event loops, the handlers on Swift's cooperative pool) and nothing else: no ledger,
/// no token. `POST /v1/events` reads the body (up to the same 16 MiB) and answers 201 with a small
/// JSON document. Prints `listening on HOST:PORT`; stops on SIGTERM or SIGINT.
func httpPeer(_ options: Options) throws {
    let configuration = ServerConfiguration(port: options.int("--port", 0))
    let router = Router()
    router.post("v1/events") { request, _ -> Response in
        var request = request
        let body = try await request.collectBody(upTo: Limits.bodyBytes)
        return Response(
            status: .created, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"received\":\(body.readableBytes)}\n")))
    }
    let app = Application(
        router: router, server: configuration.httpServer, configuration: configuration.application,
        onServerRunning: { channel in
            FileHandle.standardOutput.write(Data("listening on \(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)\n".utf8))
        },
        logger: Logger.server(label: "http-peer"))
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await app.runService() } catch { FileHandle.standardError.write(Data("http-peer: \(error)\n".utf8)) }
        done.signal()
    }
    done.wait()
}
