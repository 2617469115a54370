import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaReports

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print recorded events.",
        discussion: "The jsonl format re-imports into an empty ledger unchanged: same bytes, same head hash."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, table
    }

    @OptionGroup var options: LedgerOption

    @Option(help: "The first seq to print.")
    var from: UInt64 = 1

    @Option(help: "The last seq to print.")
    var to: UInt64 = .max

    @OptionGroup var filters: ReportFilters

    @Option(help: "jsonl or table.")
    var format: Format = .jsonl

    func validate() throws {
        guard from <= to else { throw ValidationError("--from must not be after --to") }
    }

    func run() throws {
        let ledger = try options.open()
        var output = BufferedOutput()
        if format == .table {
            output.write(LogTable.header)
        }
        try failing {
            try Reports.log(ledger, filters.request(), from: from, through: to, describing: format == .table) { event, recorded, change in
                switch format {
                case .jsonl: output.write(WireEncoder.encode(event, recorded: recorded))
                case .table: output.write(LogTable.row(event, recorded, change: change ?? ""))
                }
            }
        }
        output.flush()
    }
}

/// Collects output lines and writes them to standard output in large pieces.
struct BufferedOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The human-readable log: one aligned line per event, its detail what the audit trail says it changed.
enum LogTable {
    static let header = row("SEQ", "RECORDED_AT", "TYPE", "SUBJECT", "ACTOR", "CHANGE")

    static func row(_ event: Event, _ recorded: RecordedFields, change: String) -> String {
        let subject = event.subject.text
        return row(String(recorded.seq), String(Timestamp(micros: recorded.recordedAt).utcMicrosecondText.prefix(19)) + "Z", event.type.rawValue, subject, event.actor.text, change)
    }

    private static func row(_ seq: String, _ recordedAt: String, _ type: String, _ subject: String, _ actor: String, _ detail: String) -> String {
        [pad(seq, 7, right: true), pad(recordedAt, 20), pad(type, 18), pad(subject, 18), pad(actor, 22), detail].joined(separator: "  ")
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }
}
