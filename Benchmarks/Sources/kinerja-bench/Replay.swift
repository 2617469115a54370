import AccountabilityProjection
import AuditTrailProjection
import Foundation
import HistoryProjection
import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import ScoresProjection
import TrainingProjection

/// `demo --employees N`: builds the demo year (generation and day-by-day durable appends).
func demoBenchmark() throws {
    let employees = argument("--employees", default: 10_000)
    let scratch = TemporaryDirectory("kinerja-bench")
    defer { scratch.remove() }
    var sample: DemoYear?
    let generate = seconds { sample = DemoYear(seed: 1, employees: employees) }
    var ledger: Ledger?
    let build = try seconds { ledger = try DemoLedger.build(sample!, at: scratch.child("demo")) }
    let events = try ledger!.head().seq
    print("demo, \(employees) employees: \(events) events; generated in \(String(format: "%.2f", generate)) s, appended day by day in \(String(format: "%.2f", build)) s (\(String(format: "%.0f", Double(events) / build)) events/s)")
    print(String(format: "peak RSS %.0f MiB", peakRSSMiB()))
}

/// `replay`: a full replay feeding every projection, and `history` of single employees,
/// on the demo ledger of `--employees N` (or an existing `--ledger PATH`).
func replayBenchmark() throws {
    let scratch = TemporaryDirectory("kinerja-bench")
    defer { scratch.remove() }
    let ledger: Ledger
    var people: [NIP] = []
    if let path = stringArgument("--ledger") {
        ledger = try Ledger.open(at: path)
    } else {
        let employees = argument("--employees", default: 60_000)
        let sample = DemoYear(seed: 1, employees: employees)
        people = sample.people.map(\.nip)
        var built: Ledger?
        let build = try seconds { built = try DemoLedger.build(sample, at: scratch.child("demo")) }
        ledger = built!
        print("built the demo ledger of \(employees) employees in \(String(format: "%.1f", build)) s")
    }
    let events = try ledger.head().seq
    if people.isEmpty {
        var seen = Set<NIP>()
        try ledger.replay { if case .employee(let nip) = $0.event.subject, seen.insert(nip).inserted { people.append(nip) } }
    }

    var decodeOnly = 0
    let decode = try seconds { try ledger.replay { _ in decodeOnly += 1 } }
    var scores = Scores()
    var training = TrainingHours()
    var accountability = Accountability()
    var trail = AuditTrail(keepsEntries: false)
    var findings = 0
    let all = try seconds {
        try ledger.replay { event in
            scores.apply(event)
            training.apply(event)
            accountability.apply(event)
            trail.apply(event)
        }
        findings = accountability.findings().count
    }
    print("ledger: \(events) events, \(people.count) employees")
    print(String(format: "replay, decode only:                %10.0f events/s  (%.2f s)", Double(events) / decode, decode))
    print(String(format: "replay + all projections + findings: %9.0f events/s  (%.2f s, %d findings)", Double(events) / all, all, findings))

    // history of one employee: open-ledger latency, through the stream index.
    var random = SeededRandom(seed: 9)
    var latencies: [Double] = []
    for _ in 0..<argument("--histories", default: 2_000) {
        let nip = people.randomElement(using: &random)!
        latencies.append(try seconds { _ = Reports.render(try Reports.history(ledger, employee: nip, ReportRequest()), .json) } * 1000)
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    print(String(format: "history of one employee (JSON): p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d", percentile(0.5), percentile(0.99), latencies.last!, latencies.count))
    print(String(format: "peak RSS %.0f MiB", peakRSSMiB()))
}
