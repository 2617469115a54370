import Dispatch
import Foundation
import KinerjaLedger
import Synchronization

/// The server's one writer: a dedicated thread (LMDB's write lock and fsync never block Swift's
/// cooperative pool) that takes every append waiting and commits them in one durable LMDB
/// transaction (``Ledger/append(group:)``), each all-or-nothing, each answered only once that
/// transaction is durable. While one transaction commits, the next requests queue up: under
/// load a group grows, and one fsync serves all of it.
public final class GroupCommitter: Sendable {
    /// The most events one transaction carries (the requests beyond wait for the next).
    public static let maxEvents = 20_000

    private struct Job: Sendable {
        var input: JSONLines.Decoded
        var continuation: CheckedContinuation<AppendReport, any Error>
    }

    /// What the writer thread shares with the requests (the thread holds it, not the committer,
    /// so that the committer's deinit can stop it).
    private final class Shared: Sendable {
        struct State {
            var queue: [Job] = []
            var stopped = false
        }

        let state = Mutex(State())
        let wakeUp = DispatchSemaphore(value: 0)
        /// What the writer did: for tests and the benchmark.
        let counters = Mutex(GroupCommitStatistics())
        /// The writer thread's nice value, once it runs.
        let nice = Mutex<Int32?>(nil)
    }

    private let shared = Shared()

    /// `groups` false commits each request on its own (the benchmark's comparison).
    public init(ledger: Ledger, groups: Bool = true) {
        let thread = Thread { [shared] in
            #if os(Linux)
            // Named from within: Foundation's `Thread.name`, set below before `start()`, left the
            // thread with its creator's name on Linux (a Swift pool thread's,
            // `com.apple.root.default-qos`), which hid the writer among the handlers in profiles.
            try? "kinerja-writer".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            #endif
            shared.nice.withLock { $0 = Self.prioritizeCurrentThread() }
            while true {
                shared.wakeUp.wait()
                let (jobs, stopped) = shared.state.withLock { state -> ([Job], Bool) in
                    var events = 0
                    var taken = 0
                    for job in state.queue {
                        events += job.input.count
                        if taken > 0 && (!groups || events > Self.maxEvents) { break }
                        taken += 1
                    }
                    let jobs = Array(state.queue.prefix(taken))
                    state.queue.removeFirst(taken)
                    return (jobs, state.stopped)
                }
                if !jobs.isEmpty {
                    let start = ContinuousClock.now
                    do {
                        let results = try ledger.append(group: jobs.map(\.input))
                        let busy = ContinuousClock.now - start
                        let events = jobs.reduce(0) { $0 + $1.input.count }
                        shared.counters.withLock {
                            $0.transactions += 1
                            $0.requests += jobs.count
                            $0.events += events
                            $0.busy += busy
                        }
                        for (job, result) in zip(jobs, results) { job.continuation.resume(with: result) }
                    } catch {
                        for job in jobs { job.continuation.resume(throwing: error) }
                    }
                    // Requests left in the queue (beyond the group's size) are served next.
                    if shared.state.withLock({ !$0.queue.isEmpty }) { shared.wakeUp.signal() }
                }
                if stopped && jobs.isEmpty { return }
            }
        }
        thread.name = "kinerja-writer"
        thread.start()
    }

    /// How far the writer lowers its thread's nice value below the one it started with (Linux;
    /// a lower nice value runs first; -20 is the lowest).
    public static let writerBoost: Int32 = 10

    /// Asks the scheduler to run the writer thread before the server's other threads (and, where
    /// the scheduler compares them, other processes): every append waits for it, and beside
    /// readers or other work it was kept waiting for a core after each sync (on 2 busy cores, a
    /// commit of ~30 events took 14 ms of wall time for ~1 ms of CPU). The boost is relative to
    /// the nice value the server was started with, so `nice -n 5 kinerja serve` stays 5 below the
    /// rest of the machine's default. Lowering a nice value needs `CAP_SYS_NICE` or a
    /// `RLIMIT_NICE` (systemd: `LimitNICE=`): without either the request is refused and the
    /// thread keeps the process's priority.
    /// Returns the nice value the thread runs at (nil where it is not known).
    private static func prioritizeCurrentThread() -> Int32? {
        #if os(Linux)
        // Who 0: on Linux, the nice value is the calling thread's, not the whole process's.
        errno = 0
        let started = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        guard errno == 0 else { return nil }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, max(-20, started - writerBoost))
        errno = 0
        let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? nice : nil
        #else
        return nil
        #endif
    }

    /// The nice value the writer thread runs at: ``writerBoost`` below the process's when the
    /// system allowed it, else the process's (nil before the thread has started, or where it is not known).
    public var writerThreadNice: Int32? { shared.nice.withLock { $0 } }

    deinit {
        shared.state.withLock { $0.stopped = true }
        shared.wakeUp.signal()
    }

    /// Appends one request's events; returns once they are durable (or refused, with nothing stored).
    public func append(_ input: JSONLines.Decoded) async throws -> AppendReport {
        try await withCheckedThrowingContinuation { continuation in
            shared.state.withLock { $0.queue.append(Job(input: input, continuation: continuation)) }
            shared.wakeUp.signal()
        }
    }

    public var statistics: GroupCommitStatistics { shared.counters.withLock { $0 } }
}

/// What a ``GroupCommitter`` has committed since it started.
public struct GroupCommitStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Durable transactions committed.
    public var transactions = 0
    /// Requests they carried, and the events of those requests (stored, duplicate or refused).
    public var requests = 0
    public var events = 0
    /// Time the writer spent in its transactions (checks, writes and syncs), not waiting for requests.
    public var busy = Duration.zero

    public var eventsPerTransaction: Double { transactions == 0 ? 0 : Double(events) / Double(transactions) }

    /// `group commit: 120 transactions, 4800 requests, 4800 events (40.0 a transaction), writer busy 0.91 s`
    public var description: String {
        let seconds = Double(busy.components.seconds) + Double(busy.components.attoseconds) / 1e18
        return "group commit: \(transactions) transactions, \(requests) requests, \(events) events ("
            + String(format: "%.1f", eventsPerTransaction) + " a transaction), writer busy " + String(format: "%.2f", seconds) + " s"
    }
}
