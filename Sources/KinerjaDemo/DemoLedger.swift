import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples
import LedgerStore
import Synchronization

/// Builds the demo's sample year into a fresh ledger, as an agency would have entered it:
/// each day's events in one atomic batch, recorded at the end of that day (flushed to the disk
/// once, at the end: a demo interrupted is built again).
public enum DemoLedger {
    /// The file that marks a ledger directory as made by the demo (and so safe to replace).
    public static let marker = "created-by-kinerja-demo"

    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    /// Removes a ledger the demo made before at `path`; refuses anything else there.
    public static func clear(_ path: String) throws {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: path) else { return }
        guard fileManager.fileExists(atPath: (path as NSString).appendingPathComponent(marker)) else {
            throw Refusal(description: "\(path) exists and was not created by `kinerja demo`; refusing to overwrite it (choose another --ledger)")
        }
        try fileManager.removeItem(atPath: path)
    }

    /// Creates a ledger at `path` (which must not exist) holding `sample`.
    public static func build(_ sample: DemoYear, at path: String) throws -> Ledger {
        let builder = try Builder(at: path)
        try builder.record(sample)
        try builder.ledger.sync()
        return builder.ledger
    }

    /// A demo ledger being built: one sample year after another recorded into it (a later year's
    /// days, earlier than the ledger's head, are recorded at the head's time).
    public final class Builder {
        public let ledger: Ledger
        private let clock: Clock

        /// Creates a ledger at `path` (which must not exist); its commits reach the disk at
        /// `ledger.sync()` (a demo ledger can be built again).
        public init(at path: String) throws {
            let clock = Clock()
            self.clock = clock
            ledger = try Ledger.create(at: path, options: StoreOptions(clock: { clock.now.withLock { $0 } }, syncsEachCommit: false))
            _ = FileManager.default.createFile(atPath: (path as NSString).appendingPathComponent(DemoLedger.marker), contents: Data("the demo ledger: safe to replace\n".utf8))
        }

        /// Records `sample`'s events, each day's in one atomic batch at the end of that day.
        public func record(_ sample: DemoYear) throws {
            try DemoLedger.record(sample, into: ledger, clock: clock)
        }
    }

    private static func record(_ sample: DemoYear, into ledger: Ledger, clock: Clock) throws {
        var start = 0
        while start < sample.items.count {
            let day = sample.items[start].recordAt
            var end = start
            while end < sample.items.count && sample.items[end].recordAt == day { end += 1 }
            clock.now.withLock { $0 = day }
            let batch = NumberedSubmission.numbering(sample.items[start..<end].map(\.event))
            let report = try ledger.append(batch, options: AppendOptions(batchSize: max(batch.count, 1)))
            if let rejected = report.rejected.first {
                throw Refusal(description: "the demo generator made an invalid event: \(rejected)")
            }
            start = end
        }
    }

    /// The demo's ledger clock: set to the end of each day before that day's batch.
    final class Clock: Sendable {
        let now = Mutex<Int64>(0)
    }
}
