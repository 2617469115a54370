import Foundation
import Hummingbird
import HummingbirdTesting
import KinerjaServer
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client on a real socket: what a slow or hostile one can and cannot do.
@Suite struct TimeoutTests {
    /// A TCP connection to 127.0.0.1:`port`, blocking, with a receive timeout.
    final class Connection: @unchecked Sendable {
        // @unchecked: used by one thread at a time (the session's).
        let descriptor: Int32

        init(port: Int) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var wait = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(descriptor) }

        /// Sends `text`; false once the peer has closed the connection.
        func send(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
        }

        /// What arrived within the receive timeout; nil once the peer has closed the connection.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { return nil }
            return count < 0 ? "" : String(decoding: buffer.prefix(count), as: UTF8.self)
        }
    }

    @Test func aClientTricklingHeadersIsClosedAfterTheHeaderTimeout() async throws {
        let fixture = try Fixture()
        // Idle timeout 30 s: a byte every 100 ms never lets it fire. Header timeout 1 s.
        let app = buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(port: 0, year: 2026, idleTimeout: 30, headerTimeout: 1))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Blocking sockets, on a thread of their own: never on Swift's cooperative pool.
            let outcome = try await onThread { try Self.session(port: port) }
            #expect(outcome.trickleClosed, "the trickling client was not closed")
            #expect(outcome.trickleTime < .seconds(5), "closed after \(outcome.trickleTime)")
            #expect(outcome.answers.count == 2 && outcome.answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(outcome.answers)")
            #expect(outcome.silentClosed)
        }
    }

    /// The connection's one timer is not moved for each request: one that fires while the next
    /// head is not yet due waits for it. A client asking every second (header timeout 3 s) for
    /// 4 s is never closed; silent afterwards, it is closed. (A second of slack on each side: a
    /// round trip on two busy cores can take a good part of one.)
    @Test func aClientAskingMoreOftenThanTheHeaderTimeoutStaysOpenThenIsClosedWhenSilent() async throws {
        let fixture = try Fixture()
        let app = buildApplication(ledger: fixture.ledger, access: fixture.access, ServerConfiguration(port: 0, year: 2026, idleTimeout: 30, headerTimeout: 3))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let (answers, closedAfter) = try await onThread { () throws -> ([String], Duration?) in
                let connection = try Connection(port: port)
                var answers: [String] = []
                for request in 0..<5 {
                    if request > 0 { Thread.sleep(forTimeInterval: 1) }
                    guard connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") else { break }
                    var answer = ""
                    var closed = false
                    for _ in 0..<300 where !answer.contains("ok\n") && !closed {
                        if let part = connection.receive() { answer += part } else { closed = true }
                    }
                    answers.append(answer)
                    if closed { break }
                }
                let silent = ContinuousClock.now
                for _ in 0..<300 {
                    if connection.receive() == nil { return (answers, ContinuousClock.now - silent) }
                }
                return (answers, nil)
            }
            #expect(answers.count == 5 && answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(answers)")
            let closed = try #require(closedAfter, "the silent client was not closed")
            #expect(closed > .milliseconds(500) && closed < .seconds(15), "closed \(closed) after its last answer")
        }
    }

    struct Outcome: Sendable {
        var trickleClosed = false
        var trickleTime = Duration.zero
        var answers: [String] = []
        var silentClosed = false
    }

    static func session(port: Int) throws -> Outcome {
        var outcome = Outcome()
        let slow = try Connection(port: port)
        _ = slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        let start = ContinuousClock.now
        for index in 0..<100 {
            // A header line, one byte every 100 ms, never finished.
            _ = slow.send(index % 2 == 0 ? "X" : "y")
            if slow.receive() == nil {
                outcome.trickleClosed = true
                break
            }
        }
        outcome.trickleTime = ContinuousClock.now - start

        // A client that sends its request in time is answered, and may send another on the
        // same connection after the response; then silent, it is closed after the timeout too.
        let prompt = try Connection(port: port)
        for _ in 0..<2 {
            _ = prompt.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            var answer = ""
            // Up to 30 s for the answer (it comes at once on a quiet machine; the whole suite
            // runs in parallel on two cores, where 5 s was once not enough).
            for _ in 0..<300 where !answer.contains("ok\n") { answer += prompt.receive() ?? "" }
            outcome.answers.append(answer)
        }
        for _ in 0..<300 where !outcome.silentClosed { outcome.silentClosed = prompt.receive() == nil }
        return outcome
    }
}

/// Runs blocking work on a new thread and awaits its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
