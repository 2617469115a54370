import KinerjaDomain
import KinerjaLedger

/// How a report is written as a page for people (PRODUCT §10): one self-contained HTML
/// document, inline CSS and SVG only — no script, font, image or stylesheet fetched from
/// anywhere (a government intranet has no internet) — readable on a phone, printable on A4.
public struct HTMLOptions: Sendable {
    /// The labels' language; Indonesian unless asked otherwise.
    public var language: Language = .id
    /// At most this many rows of a long table on one page (a unit of 10 000 employees stays light).
    public var rowLimit = 500
    /// The page of a long table, from 1.
    public var page = 1
    /// The address of an employee's dossier page, when there is one to link to.
    public var dossierLink: @Sendable (NIP) -> String? = { _ in nil }
    /// The address of another page of the same table (`page`), when pages can be linked.
    public var pageLink: (@Sendable (Int) -> String)?
    /// Links at the top of the page: (label, address).
    public var navigation: [Link] = []

    public struct Link: Sendable {
        public var label: String
        public var href: String

        public init(_ label: String, _ href: String) {
            self.label = label
            self.href = href
        }
    }

    public init(language: Language = .id) { self.language = language }

    public var labels: Labels { Labels(language) }
}

/// Text made safe for HTML: every `&`, `<`, `>`, `"` and `'` written as a character reference, so
/// a name or a reason holding markup shows as text.
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(character)
        }
    }
    return out
}

/// A table cell: text (escaped when written) or markup built by the renderers.
struct Cell: ExpressibleByStringLiteral {
    var html: String
    var numeric = false

    init(_ text: String) { html = escapeHTML(text) }
    init(stringLiteral text: String) { html = escapeHTML(text) }
    init(html: String) { self.html = html }

    static func number(_ value: Int) -> Cell {
        var cell = Cell(String(value))
        cell.numeric = true
        return cell
    }

    static func number(_ text: String) -> Cell {
        var cell = Cell(text)
        cell.numeric = true
        return cell
    }
}

/// A page under construction: sections appended in order, then ``document(title:position:options:)``.
struct HTMLPage {
    var body = ""

    mutating func raw(_ html: String) { body += html }

    mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        body += "<h\(level)\(id.map { " id=\"\(escapeHTML($0))\"" } ?? "")>\(escapeHTML(text))</h\(level)>\n"
    }

    mutating func paragraph(_ text: String, class className: String? = nil) {
        body += "<p\(className.map { " class=\"\($0)\"" } ?? "")>\(escapeHTML(text))</p>\n"
    }

    mutating func figure(_ svg: String, caption: String) {
        body += "<figure>\(svg)<figcaption>\(escapeHTML(caption))</figcaption></figure>\n"
    }

    /// A table in a scrolling box (wide tables scroll sideways on a phone); at most
    /// `options.rowLimit` rows, the page `options.page` of them, with a note of the rest.
    mutating func table(_ header: [String], _ rows: [[Cell]], options: HTMLOptions, caption: String? = nil) {
        let labels = options.labels
        let limit = max(options.rowLimit, 1)
        let pages = max((rows.count + limit - 1) / limit, 1)
        let page = min(max(options.page, 1), pages)
        let shown = rows.count > limit ? Array(rows[(page - 1) * limit..<min(page * limit, rows.count)]) : rows
        body += "<div class=\"scroll\"><table>"
        if let caption { body += "<caption>\(escapeHTML(caption))</caption>" }
        body += "<thead><tr>" + header.map { "<th scope=\"col\">\(escapeHTML($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in shown {
            body += "<tr>" + row.map { "<td\($0.numeric ? " class=\"num\"" : "")>\($0.html)</td>" }.joined() + "</tr>\n"
        }
        body += "</tbody></table></div>\n"
        if rows.count > limit {
            let first = (page - 1) * limit + 1
            var note = "\(first)–\(first + shown.count - 1) / \(rows.count) \(labels[.rowsShown]); \(rows.count - shown.count) \(labels[.rowsMore])."
            note = escapeHTML(note)
            if let link = options.pageLink {
                let links = (1...pages).map { number in
                    number == page ? "<strong>\(number)</strong>" : "<a href=\"\(escapeHTML(link(number)))\">\(number)</a>"
                }
                note += " \(escapeHTML(labels[.page])): " + links.joined(separator: " ")
            }
            body += "<p class=\"note\">\(note)</p>\n"
        }
    }

    /// The whole document: head with the inline stylesheet, the title and the ledger position.
    func document(title: String, subtitle: String? = nil, position: LedgerPosition, options: HTMLOptions) -> String {
        let labels = options.labels
        var html = "<!DOCTYPE html>\n<html lang=\"\(options.language.rawValue)\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<title>\(escapeHTML(title))</title>\n<style>\n\(Self.stylesheet)</style>\n</head>\n<body>\n<header>\n"
        if !options.navigation.isEmpty {
            html += "<nav>" + options.navigation.map { "<a href=\"\(escapeHTML($0.href))\">\(escapeHTML($0.label))</a>" }.joined(separator: " · ") + "</nav>\n"
        }
        html += "<h1>\(escapeHTML(title))</h1>\n"
        if let subtitle { html += "<p class=\"subtitle\">\(escapeHTML(subtitle))</p>\n" }
        html += "<p class=\"ledger\">\(escapeHTML(labels[.builtOn])): seq <strong>\(position.seq)</strong>, hash <code>\(position.hash.hex)</code></p>\n"
        html += "</header>\n<main>\n" + body + "</main>\n</body>\n</html>\n"
        return html
    }

    /// The one stylesheet: plain system fonts, tables that scroll on a phone, A4 in print.
    static let stylesheet = """
        :root { --ink: #1d2733; --muted: #5b6875; --line: #d5dbe1; --accent: #0b5394; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1100px; padding: 1rem; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
        h1 { font-size: 1.5rem; margin: 0.2rem 0; }
        h2 { font-size: 1.2rem; margin: 1.6rem 0 0.5rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; }
        h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
        nav { font-size: 0.9rem; margin-bottom: 0.4rem; }
        a { color: var(--accent); }
        .subtitle { margin: 0; color: var(--muted); }
        .ledger { margin: 0.3rem 0 0; font-size: 0.8rem; color: var(--muted); overflow-wrap: anywhere; }
        code { font-size: 0.85em; }
        .scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0.5rem 0; }
        table { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
        caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
        th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.45rem; text-align: left; vertical-align: top; }
        th { background: #f2f5f8; font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .note { font-size: 0.85rem; color: var(--muted); }
        .badge { display: inline-block; padding: 0 0.4rem; border-radius: 0.6rem; font-size: 0.82rem; white-space: nowrap; }
        .p-very_good { background: #d4edda; } .p-good { background: #e3f2e1; } .p-needs_improvement { background: #fff3cd; }
        .p-poor { background: #fde2c8; } .p-very_poor { background: #f8d7da; }
        .bad { color: #a61b1b; font-weight: 600; } .ok { color: #1e6b34; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.5rem 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
        figure { margin: 0.6rem 0; } figcaption { font-size: 0.8rem; color: var(--muted); }
        svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
        svg .axis { stroke: #9aa5b1; stroke-width: 1; } svg .grid { stroke: #e4e8ec; stroke-width: 1; }
        svg .bar { fill: #4a7fb5; } svg .bar.breach { fill: #c0392b; } svg .bar.zero { fill: none; }
        svg .limit { stroke: #222; stroke-width: 2; stroke-dasharray: 4 3; }
        svg .point { fill: #0b5394; } svg .replaced { fill: #fff; stroke: #8a96a3; stroke-width: 1.5; }
        svg .line { fill: none; stroke: #0b5394; stroke-width: 1.5; }
        svg .breach-mark { fill: #c0392b; font-weight: 700; }
        svg .seg-very_good { fill: #1a7f37; } svg .seg-good { fill: #6cbf72; } svg .seg-needs_improvement { fill: #f0b400; }
        svg .seg-poor { fill: #e67e22; } svg .seg-very_poor { fill: #c0392b; }
        @media (max-width: 600px) { body { padding: 0.6rem; font-size: 14px; } h1 { font-size: 1.25rem; } dl.facts { grid-template-columns: 1fr; } }
        @media print {
          @page { size: A4; margin: 14mm 12mm; }
          body { max-width: none; padding: 0; font-size: 10pt; }
          nav { display: none; }
          a { color: inherit; text-decoration: none; }
          .scroll { overflow: visible; }
          table { font-size: 8.5pt; page-break-inside: auto; }
          tr, figure { page-break-inside: avoid; }
          thead { display: table-header-group; }
          h2 { page-break-after: avoid; }
        }

        """
}

/// A predikat as a coloured badge with its label.
func predicateBadge(_ predicate: Predicate, _ labels: Labels) -> Cell {
    Cell(html: "<span class=\"badge p-\(predicate.rawValue)\">\(escapeHTML(labels[.predicate(predicate)]))</span>")
}

/// An employee's NIP, linked to their dossier when there is one.
func employeeCell(_ nip: NIP, _ options: HTMLOptions) -> Cell {
    guard let link = options.dossierLink(nip) else { return Cell(nip.text) }
    return Cell(html: "<a href=\"\(escapeHTML(link))\">\(nip.text)</a>")
}
