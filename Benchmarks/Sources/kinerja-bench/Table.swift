import Foundation

enum Figure: CaseIterable {
    case importRate, concurrentRate, replayRate, verifyRate, history, historyServed, accountability, accountabilityServed

    var title: String {
        switch self {
        case .importRate: "bulk import, JSON Lines to durable records (events/s)"
        case .concurrentRate: "concurrent appends, writer processes (events/s)"
        case .replayRate: "full replay into all projections (events/s)"
        case .verifyRate: "verify: chain, indexes, canonical payloads, tag index, Merkle tree (events/s)"
        case .history: "history of one employee, p50 / p99 (ms)"
        case .historyServed: "… the same, the file pre-mapped as `kinerja serve` reads it (ms)"
        case .accountability: "accountability of one unit at a past seq, p50 / p99 (ms)"
        case .accountabilityServed: "… the same, the file pre-mapped as `kinerja serve` reads it (ms)"
        }
    }

    var isLatency: Bool {
        switch self {
        case .history, .historyServed, .accountability, .accountabilityServed: true
        case .importRate, .concurrentRate, .replayRate, .verifyRate: false
        }
    }
}

enum Contender: CaseIterable {
    case kinerja, lmdb, sqlite, eventsourcing

    var title: String {
        switch self {
        case .kinerja: "kinerja"
        case .lmdb: "raw LMDB"
        case .sqlite: "SQLite"
        case .eventsourcing: "eventsourcing"
        }
    }
}

/// The figures of one size, and the table `run` prints.
struct Table {
    let events: Int
    let employees: Int
    let lineBytes: Double
    var recordBytes = 0.0
    private var cells: [Figure: [Contender: Figures]] = [:]

    init(events: Int, employees: Int, lineBytes: Double) {
        self.events = events
        self.employees = employees
        self.lineBytes = lineBytes
    }

    mutating func add(_ figure: Figure, _ contender: Contender, _ figures: Figures) {
        cells[figure, default: [:]][contender] = figures
    }

    private func rate(_ figure: Figure, _ contender: Contender) -> Double? {
        guard let cell = cells[figure]?[contender] else { return nil }
        return cell.double("events") / cell.double("seconds")
    }

    private func latency(_ figure: Figure, _ contender: Contender) -> (p50: Double, p99: Double)? {
        guard let cell = cells[figure]?[contender] else { return nil }
        return (cell.double("p50_ms"), cell.double("p99_ms"))
    }

    private func text(_ figure: Figure, _ contender: Contender) -> String {
        if figure.isLatency {
            guard let latency = latency(figure, contender) else { return "" }
            return String(format: "%.3f / %.3f", latency.p50, latency.p99)
        }
        guard let rate = rate(figure, contender) else { return "" }
        return Self.count(rate)
    }

    /// How many times the ledger does better than `peer` (higher rate, or lower p99).
    private func advantage(_ figure: Figure, over peer: Contender) -> Double? {
        if figure.isLatency {
            guard let ours = latency(figure, .kinerja), let theirs = latency(figure, peer) else { return nil }
            return theirs.p99 / ours.p99
        }
        guard let ours = rate(figure, .kinerja), let theirs = rate(figure, peer) else { return nil }
        return ours / theirs
    }

    static func count(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = " "
        formatter.maximumFractionDigits = 0
        return formatter.string(from: NSNumber(value: value.rounded())) ?? "\(value)"
    }

    /// `- HOLDS: name: value` or `- MISSED: ...`; nil when the figure was not measured.
    static func goal(_ name: String, _ value: Double?, _ format: String, holds: (Double) -> Bool) -> String? {
        guard let value, !value.isNaN else { return nil }
        return "- \(holds(value) ? "HOLDS" : "MISSED"): \(name): " + String(format: format, value)
    }

    /// A row of the import's `key` over the number of events, for each contender, and the ratio
    /// of each peer's to the ledger's.
    private func perEventRow(_ title: String, key: String, scale: Double) -> String {
        let imports = cells[.importRate] ?? [:]
        let values = Contender.allCases.map { imports[$0].map { String(format: "%.0f", $0.double(key) * scale / Double(events)) } ?? "" }
        let ratios = Contender.allCases.dropFirst().map { peer -> String in
            guard let ours = imports[.kinerja], let theirs = imports[peer] else { return "" }
            return String(format: "%.2f", theirs.double(key) / ours.double(key))
        }
        return "| \(title) | " + (values + ratios).joined(separator: " | ") + " |"
    }

    func render() -> String {
        var lines: [String] = []
        lines.append("")
        lines.append("## \(Self.count(Double(events))) events, \(Self.count(Double(employees))) employees (\(String(format: "%.0f", lineBytes)) bytes a JSON line)")
        lines.append("")
        let peers = Contender.allCases.dropFirst()
        lines.append("| figure | " + Contender.allCases.map(\.title).joined(separator: " | ") + " | " + peers.map { "× \($0.title)" }.joined(separator: " | ") + " |")
        lines.append("|---|" + String(repeating: "---:|", count: Contender.allCases.count + peers.count))
        for figure in Figure.allCases where cells[figure] != nil {
            let values = Contender.allCases.map { text(figure, $0) }
            let ratios = peers.map { peer in advantage(figure, over: peer).map { String(format: "%.2f", $0) } ?? "" }
            lines.append("| \(figure.title) | " + values.joined(separator: " | ") + " | " + ratios.joined(separator: " | ") + " |")
        }
        lines.append(perEventRow("bytes on disk per event (record: \(String(format: "%.0f", recordBytes)))", key: "bytes", scale: 1))
        lines.append(perEventRow("bytes written to storage per event by the import", key: "written_mib", scale: 1_048_576))
        lines.append("")
        lines.append("× peer: how many times the ledger's figure beats the peer's (rate ÷ rate; p99 ÷ p99; bytes ÷ bytes).")
        lines.append("raw LMDB's replay is a cursor scan touching each value (its length and first byte; no decoding, no projections); its verify re-chains SHA-256 over the values.")
        lines.append("")
        lines.append("Peak RSS of each step (MiB):")
        lines.append("")
        lines.append("| step | " + Contender.allCases.map(\.title).joined(separator: " | ") + " |")
        lines.append("|---|" + String(repeating: "---:|", count: Contender.allCases.count))
        for figure in Figure.allCases where cells[figure] != nil {
            let values = Contender.allCases.map { contender in cells[figure]?[contender].map { String(format: "%.0f", $0.double("rss_mib")) } ?? "" }
            lines.append("| \(figure.title.split(separator: "(").first!.trimmingCharacters(in: .whitespaces)) | " + values.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("Goals:")
        func goal(_ name: String, _ value: Double?, _ format: String, holds: (Double) -> Bool) {
            if let line = Self.goal(name, value, format, holds: holds) { lines.append(line) }
        }
        goal("import ≥ 0.25 × raw LMDB (below 0.1 × not resolved)", advantage(.importRate, over: .lmdb), "%.3f ×") { $0 >= 0.25 }
        goal("verify ≥ 0.7 × raw LMDB re-chaining SHA-256", advantage(.verifyRate, over: .lmdb), "%.2f ×") { $0 >= 0.7 }
        if let peak = cells[.importRate]?[.kinerja]?.double("peak_anon_mib"), !peak.isNaN {
            goal("import's peak anonymous memory < 1 GiB", peak, "%.0f MiB") { $0 < 1024 }
        }
        goal("replay + all projections ≥ 3 M events/s", rate(.replayRate, .kinerja), "%.0f events/s") { $0 >= 3_000_000 }
        goal("verify ≥ 2 M events/s", rate(.verifyRate, .kinerja), "%.0f events/s") { $0 >= 2_000_000 }
        goal("import ≥ 20 × eventsourcing", advantage(.importRate, over: .eventsourcing), "%.1f ×") { $0 >= 20 }
        goal("import ≥ 5 × SQLite", advantage(.importRate, over: .sqlite), "%.2f ×") { $0 >= 5 }
        goal("replay ≥ 10 × eventsourcing", advantage(.replayRate, over: .eventsourcing), "%.1f ×") { $0 >= 10 }
        goal("replay ≥ 10 × SQLite", advantage(.replayRate, over: .sqlite), "%.2f ×") { $0 >= 10 }
        goal("history p99 < 1 ms, a fresh process", latency(.history, .kinerja)?.p99, "%.3f ms") { $0 < 1 }
        goal("history p99 < 1 ms, pre-mapped (a server's reads)", latency(.historyServed, .kinerja)?.p99, "%.3f ms") { $0 < 1 }
        if events >= 10_000_000 {
            goal("one unit's accountability at a past seq p99 < 100 ms, a fresh process", latency(.accountability, .kinerja)?.p99, "%.1f ms") { $0 < 100 }
            goal("one unit's accountability at a past seq p99 < 100 ms, pre-mapped", latency(.accountabilityServed, .kinerja)?.p99, "%.1f ms") { $0 < 100 }
        }
        if let ledger = cells[.importRate]?[.kinerja] {
            goal("bytes on disk ≤ 1.5 × record size", ledger.double("bytes") / ledger.double("record_bytes"), "%.2f ×") { $0 <= 1.5 }
        }
        return lines.joined(separator: "\n")
    }

    /// How the ledger's own figures move from the smallest size to the largest: rates should hold,
    /// replay's and verify's memory should not follow the number of events.
    static func scaling(_ tables: [Table]) -> String {
        guard let small = tables.first, let large = tables.last, tables.count > 1 else { return "" }
        var lines = ["", "## Scaling: the ledger from \(count(Double(small.events))) to \(count(Double(large.events))) events", ""]
        lines.append("| figure | " + tables.map { count(Double($0.events)) }.joined(separator: " | ") + " | largest ÷ smallest |")
        lines.append("|---|" + String(repeating: "---:|", count: tables.count + 1))
        func row(_ title: String, _ value: (Table) -> Double?, _ format: String = "%.0f") {
            let values = tables.map { value($0) }
            let ratio = values.last!.flatMap { last in values.first!.map { last / $0 } }
            lines.append("| \(title) | " + values.map { $0.map { String(format: format, $0) } ?? "" }.joined(separator: " | ")
                + " | " + (ratio.map { String(format: "%.2f", $0) } ?? "") + " |")
        }
        for figure in [Figure.importRate, .replayRate, .verifyRate] {
            row(figure.title, { $0.rate(figure, .kinerja) })
        }
        row("history of one employee, p99 (ms)", { $0.latency(.history, .kinerja)?.p99 }, "%.3f")
        row("history of one employee, pre-mapped, p99 (ms)", { $0.latency(.historyServed, .kinerja)?.p99 }, "%.3f")
        row("one unit's accountability at a past seq, p99 (ms)", { $0.latency(.accountability, .kinerja)?.p99 }, "%.1f")
        row("one unit's accountability at a past seq, pre-mapped, p99 (ms)", { $0.latency(.accountabilityServed, .kinerja)?.p99 }, "%.1f")
        for figure in [Figure.importRate, .replayRate, .verifyRate] {
            row("peak RSS, \(figure.title.split(separator: "(").first!.trimmingCharacters(in: .whitespaces)) (MiB)", { $0.cells[figure]?[.kinerja]?.double("rss_mib") })
        }
        row("replay: anonymous memory at the end, projections' state (MiB)", { $0.cells[.replayRate]?[.kinerja]?.double("anon_mib") })
        row("replay: anonymous memory per employee (KiB)", { table in
            table.cells[.replayRate]?[.kinerja].map { $0.double("anon_mib") * 1024 / Double(table.employees) }
        }, "%.1f")
        row("verify: anonymous memory at the end (MiB)", { $0.cells[.verifyRate]?[.kinerja]?.double("anon_mib") })
        row("import: peak anonymous memory (MiB)", { $0.cells[.importRate]?[.kinerja]?.double("peak_anon_mib") })
        lines.append("")
        lines.append("Peak RSS counts the pages of the LMDB map a step has read (the kernel drops and rereads them at will);")
        lines.append("anonymous memory (RssAnon) is the process's own. The workload has one employee per 183 events.")
        lines.append("")
        lines.append("Goals:")
        func goal(_ name: String, _ value: Double) {
            if let line = Self.goal(name, value, "%.2f ×", holds: { $0 <= 1.5 }) { lines.append(line) }
        }
        let growth = Double(large.events) / Double(small.events)
        func anon(_ table: Table, _ figure: Figure) -> Double? { table.cells[figure]?[.kinerja]?.double("anon_mib") }
        if let a = small.cells[.importRate]?[.kinerja]?.double("peak_anon_mib"), let b = large.cells[.importRate]?[.kinerja]?.double("peak_anon_mib") {
            if let line = Self.goal("import's peak anonymous memory within 1.25 × (× for \(String(format: "%.0f", growth)) × the events)", b / a, "%.2f ×", holds: { $0 <= 1.25 }) { lines.append(line) }
        }
        if let a = small.rate(.importRate, .kinerja), let b = large.rate(.importRate, .kinerja) {
            if let line = Self.goal("import rate at the largest size ≥ 0.8 × the smallest's", b / a, "%.2f ×", holds: { $0 >= 0.8 }) { lines.append(line) }
        }
        if let a = anon(small, .verifyRate), let b = anon(large, .verifyRate) {
            goal("verify's memory flat in the number of events (× for \(String(format: "%.0f", growth)) × the events)", b / a)
        }
        if let a = anon(small, .replayRate), let b = anon(large, .replayRate) {
            let employees = Double(large.employees) / Double(small.employees)
            goal("replay's memory in proportion to employees, not events (memory per employee, largest ÷ smallest)", (b / employees) / a)
        }
        return lines.joined(separator: "\n")
    }
}

