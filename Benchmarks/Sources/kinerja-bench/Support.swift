import CLMDBBaseline
import Foundation
import KinerjaLedger
import LedgerStore

/// The command line of a step: `--name value` options.
struct Options {
    let arguments: [String]

    init(_ arguments: [String]) { self.arguments = arguments }

    func int(_ name: String, _ fallback: Int) -> Int {
        string(name).flatMap { Int($0.replacingOccurrences(of: "_", with: "")) } ?? fallback
    }

    func string(_ name: String) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    func required(_ name: String) -> String {
        guard let value = string(name) else {
            FileHandle.standardError.write(Data("kinerja-bench: \(name) is required\n".utf8))
            exit(64)
        }
        return value
    }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Prints a step's figures as the one `RESULT {json}` line the orchestrator reads.
func emit(_ fields: [String: Any]) {
    var fields = fields
    fields["rss_mib"] = peakRSSMiB()
    fields["anon_mib"] = anonymousRSSMiB()
    fields["written_mib"] = writtenMiB()
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print("RESULT " + String(decoding: data, as: UTF8.self))
    fflush(nil)
}

/// The process's own memory now (RssAnon): what peak RSS counts less the pages of mapped files
/// (the ledger's LMDB map, an input read with mmap), which the kernel can drop and read again.
func anonymousRSSMiB() -> Double {
    procField("/proc/self/status", "RssAnon:").map { $0 / 1024 } ?? .nan  // kB
}

/// The highest RssAnon seen, sampled every 10 ms on a thread of its own until ``stop()``: the
/// kernel keeps no peak of anonymous memory, and peak RSS also counts the mapped input and map.
final class PeakAnonymousMemory: @unchecked Sendable {
    // @unchecked: `running` and `peak` are only touched under `lock`.
    private let lock = NSLock()
    private var running = true
    private var peak = 0.0
    private let done = DispatchSemaphore(value: 0)

    init() {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let now = anonymousRSSMiB()
                lock.withLock { peak = max(peak, now) }
                usleep(10_000)
            }
            done.signal()
        }
    }

    /// Stops sampling; the peak in MiB.
    func stop() -> Double {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { max(peak, anonymousRSSMiB()) }
    }
}

/// What the process has caused to be written to storage so far (`write_bytes` of /proc/self/io):
/// with LMDB's copy-on-write B-trees, every page a commit dirties, not only the records' bytes.
func writtenMiB() -> Double {
    procField("/proc/self/io", "write_bytes:").map { $0 / 1_048_576 } ?? .nan
}

/// The number after `name` in a `name value` line of a /proc file.
private func procField(_ path: String, _ name: String) -> Double? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) })
    else { return nil }
    return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
}

func check(_ rc: Int32, _ what: String) {
    if rc != 0 { fatalError("\(what): \(String(cString: mdb_strerror(rc)))") }
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// p50 and p99 of latencies in milliseconds.
func percentiles(_ latencies: [Double]) -> (p50: Double, p99: Double) {
    let sorted = latencies.sorted()
    func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    return (at(0.5), at(0.99))
}

/// Which of `writers` processes appends the events of `stream` (FNV-1a: stable across runs).
func writer(of stream: String, writers: Int) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in stream.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Int(hash % UInt64(writers))
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPad(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// Opens the ledger a read step measures, in the state `--premap` and `--advise` ask for, and
/// the figures of that opening (merged into the step's RESULT):
/// - `--premap yes`: as `kinerja serve` opens it (``StoreOptions/premapsFile``): the page tables
///   of the whole used file populated at open, so the step measures a long-running server's
///   reads; without it (the default), a fresh process's, which maps each page on first touch
///   (a one-off command such as `kinerja history`).
/// - `--advise random|willneed|sequential`: `madvise` with that advice over the ledger's map
///   (found in /proc/self/maps) after opening, for comparison with pre-mapping: LMDB's
///   `MDB_NORDAHEAD` is `MADV_RANDOM`, which also turns off the kernel's fault-around.
func openForReads(_ options: Options) throws -> (Ledger, [String: Any]) {
    let path = options.required("--ledger")
    var storeOptions = StoreOptions()
    storeOptions.premapsFile = options.string("--premap") == "yes"
    let faultsBefore = faultCounts()
    var opened: Ledger?
    let openSeconds = try seconds { opened = try Ledger.open(at: path, options: storeOptions) }
    let ledger = opened!
    var figures: [String: Any] = ["open_seconds": openSeconds, "open_minor_faults": faultCounts().minor - faultsBefore.minor]
    if let premap = ledger.premap {
        figures["premap_seconds"] = premap.seconds
        figures["premap_mib"] = Double(premap.bytes) / 1_048_576
        if let failure = premap.failure { figures["premap_failure"] = failure }
    }
    if let advice = options.string("--advise") {
        let code: Int32 =
            switch advice {
            case "random": MADV_RANDOM
            case "willneed": MADV_WILLNEED
            case "sequential": MADV_SEQUENTIAL
            default: fatalError("--advise random|willneed|sequential")
            }
        let map = ledgerMapping(path)
        precondition(map != nil, "the ledger's map is not in /proc/self/maps")
        precondition(madvise(map!.start, map!.length, code) == 0, "madvise: \(String(cString: strerror(errno)))")
        figures["advice"] = advice
    }
    figures["rss_after_open_mib"] = procField("/proc/self/status", "VmRSS:").map { $0 / 1024 } ?? .nan
    return (ledger, figures)
}

/// The mapping of the ledger's data.mdb in this process: its start and length.
private func ledgerMapping(_ ledger: String) -> (start: UnsafeMutableRawPointer, length: Int)? {
    let file = URL(fileURLWithPath: ledger + "/data.mdb").resolvingSymlinksInPath().path
    // Read to its end: `String(contentsOfFile:)` stops at a proc file's first page.
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
    defer { try? handle.close() }
    let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    for line in maps.split(separator: "\n") where line.hasSuffix(file) {
        let range = line.prefix { $0 != " " }.split(separator: "-")
        guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16) else { continue }
        return (UnsafeMutableRawPointer(bitPattern: start)!, Int(end - start))
    }
    return nil
}
