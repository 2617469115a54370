import KinerjaDomain
import KinerjaLedger

/// How a report is written: `table` for people, `json` for programs, `csv` for spreadsheets.
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, json, csv
}

/// Columns of text aligned for a terminal (the last column is not padded).
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let cell = row[column]
                if column == row.count - 1 && !rightAligned.contains(column) { return cell }
                let fill = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? fill + cell : cell + fill
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled.
struct CSV {
    var lines: [String]

    init(header: [String]) { lines = [Self.line(header)] }

    mutating func append(_ fields: [String]) { lines.append(Self.line(fields)) }

    static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }

    var text: String { lines.joined(separator: "\r\n") + "\r\n" }
}

extension JSONWriter {
    /// `"ledger":{"seq":N,"hash":"..."}` (with a leading comma unless first).
    mutating func ledger(_ position: LedgerPosition, first: Bool) {
        key("ledger", first: first)
        raw("{")
        key("seq", first: true)
        raw(String(position.seq))
        key("hash")
        string(position.hash.hex)
        raw("}")
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    /// `[a,b,...]`, each element written by `element`.
    mutating func array<Element>(_ elements: some Sequence<Element>, _ element: (inout JSONWriter, Element) -> Void) {
        raw("[")
        for (index, value) in elements.enumerated() {
            if index > 0 { raw(",") }
            element(&self, value)
        }
        raw("]")
    }

    mutating func stringArray(_ values: [String]) {
        raw("[")
        for (index, value) in values.enumerated() {
            if index > 0 { raw(",") }
            string(value)
        }
        raw("]")
    }
}

extension LedgerPosition {
    var line: String { "ledger position: seq \(seq), hash \(hash.hex)" }
}
