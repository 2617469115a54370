import Foundation
import KinerjaDomain
import KinerjaSamples

/// `generate --events N --dir D [--writers W --writer-events M]`: the demo generator's year
/// (seed 1) sized to about N events, written as JSON Lines (fresh events: the ledger assigns
/// `seq`, `recorded_at` and the hash chain) to `D/events.jsonl`; and the first M of them split
/// by stream among W files `D/writer-I.jsonl`, so that each stream has a single writer.
func generateWorkload(_ options: Options) throws {
    let target = options.int("--events", 1_000_000)
    let directory = options.required("--dir")
    let writers = options.int("--writers", 8)
    let writerEvents = options.int("--writer-events", 200_000)
    // The demo year records about 16.9 events per employee.
    let sample = DemoYear(seed: 1, employees: max(8, target * 10 / 169))
    var all = [UInt8]()
    all.reserveCapacity(sample.items.count * 340)
    var slices = [[UInt8]](repeating: [], count: writers)
    for (index, item) in sample.items.enumerated() {
        let line = WireEncoder.encode(item.event).utf8
        all.append(contentsOf: line)
        all.append(UInt8(ascii: "\n"))
        if index < writerEvents {
            let slice = writer(of: item.event.stream, writers: writers)
            slices[slice].append(contentsOf: line)
            slices[slice].append(UInt8(ascii: "\n"))
        }
    }
    try Data(all).write(to: URL(fileURLWithPath: directory + "/events.jsonl"))
    for (index, slice) in slices.enumerated() {
        try Data(slice).write(to: URL(fileURLWithPath: directory + "/writer-\(index).jsonl"))
    }
    let units = Set(sample.people.map(\.unit)).sorted()
    // The employees and units the latency figures sample, the same for the ledger and its peers.
    var random = SeededRandom(seed: 9)
    let employees = (0..<options.int("--samples", 1_000)).map { _ in sample.people.randomElement(using: &random)!.nip.text }
    try (employees.joined(separator: "\n") + "\n").write(toFile: directory + "/employees.txt", atomically: true, encoding: .utf8)
    try (units.joined(separator: "\n") + "\n").write(toFile: directory + "/units.txt", atomically: true, encoding: .utf8)
    emit([
        "events": sample.items.count, "employees": sample.people.count, "units": units.count,
        "bytes": all.count, "writer_events": min(writerEvents, sample.items.count),
    ])
}
