import Foundation
import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaSamples

/// `generate --events N --dir D [--writers W --writer-events M --parts K]`: the demo generator's year
/// (seed 1; with `--parts K`, seeds 1…K) sized to about N events, recorded day by day into a ledger as `kinerja demo` does
/// and exported as `kinerja log` does to `D/events.jsonl`: the bulk import restores that export
/// (each line's `seq`, `recorded_at` and chain hash checked; a fresh import would record a
/// year of events today, every one of them a backdated entry). The first M events that happened
/// a day or more before now, fresh (no recorded fields), are split by stream among W files
/// `D/writer-I.jsonl`, so that each stream has a single writer.
func generateWorkload(_ options: Options) throws {
    let target = options.int("--events", 1_000_000)
    let directory = options.required("--dir")
    let writers = options.int("--writers", 8)
    let writerEvents = options.int("--writer-events", 200_000)
    // `--parts K`: K organisations' years (seeds 1...K, no NIP shared), each of about N / K
    // events, recorded one after the other, so that only one year is held in memory (a year
    // holds about 0.75 KiB an event: 23 GiB at 30 M). One part is the one year of seed 1.
    let parts = max(1, options.int("--parts", 1))
    // The demo year records about 183 events per employee, most of them daily activity logs.
    let employeesPerPart = max(8, target / parts / 183)
    let source = directory + "/demo-ledger"
    let builder = try DemoLedger.Builder(at: source)
    var slices = [[UInt8]](repeating: [], count: writers)
    // Fresh events are checked against the clock (an `occurred_at` after it is refused): the
    // writers take the year's events that happened at least a day ago.
    let past = Int64(Date().timeIntervalSince1970 * 1_000_000) - Timestamp.microsPerDay
    var written = 0
    var people: [DemoYear.Person] = []
    var usedNIPs: Set<String> = []
    var events = 0
    for part in 0..<parts {
        let sample = DemoYear(seed: UInt64(1 + part), employees: employeesPerPart, excludingNIPs: usedNIPs)
        if part == 0 {
            for item in sample.items.lazy.filter({ $0.event.occurredAt.micros <= past }).prefix(writerEvents) {
                written += 1
                let slice = writer(of: item.event.stream, writers: writers)
                slices[slice].append(contentsOf: WireEncoder.encode(item.event).utf8)
                slices[slice].append(UInt8(ascii: "\n"))
            }
        }
        // The employees the latency figures sample come from every part (all of the seqs).
        people += sample.people
        try builder.record(sample)
        usedNIPs = sample.usedNIPs
        events += sample.items.count
    }
    let ledger = builder.ledger
    try ledger.sync()
    // Streamed to the file: at 10 M events the export is several GB.
    _ = FileManager.default.createFile(atPath: directory + "/events.jsonl", contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/events.jsonl"))
    var buffer = [UInt8]()
    var total = 0
    try ledger.forEachRecorded { event, recorded in
        buffer.append(contentsOf: WireEncoder.encode(event, recorded: recorded).utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 1 << 24 {
            try output.write(contentsOf: buffer)
            total += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
    }
    try output.write(contentsOf: buffer)
    total += buffer.count
    try output.close()
    try FileManager.default.removeItem(atPath: source)
    for (index, slice) in slices.enumerated() {
        try Data(slice).write(to: URL(fileURLWithPath: directory + "/writer-\(index).jsonl"))
    }
    let units = Set(people.map(\.unit)).sorted()
    // The employees and units the latency figures sample, the same for the ledger and its peers.
    var random = SeededRandom(seed: 9)
    let employees = (0..<options.int("--samples", 1_000)).map { _ in people.randomElement(using: &random)!.nip.text }
    try (employees.joined(separator: "\n") + "\n").write(toFile: directory + "/employees.txt", atomically: true, encoding: .utf8)
    try (units.joined(separator: "\n") + "\n").write(toFile: directory + "/units.txt", atomically: true, encoding: .utf8)
    emit([
        "events": events, "employees": people.count, "units": units.count,
        "bytes": total, "writer_events": written,
        // The writers' events depend on the day the workload is made (until the demo year is past).
        "writers_before": Timestamp(micros: past).description,
    ])
}
