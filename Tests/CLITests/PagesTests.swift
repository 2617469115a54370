import Foundation
import Testing

/// Renders an HTML page with Debian's Chromium, headless, and reads it back: a strict WHATWG
/// parse (html5lib) of the file, a screenshot at a phone's width and at a desktop's, the DOM
/// Chromium built (`--dump-dom`) with its SVG marks counted per chart, and every console
/// message (`--enable-logging=stderr --v=0` prints them as `:CONSOLE:` lines).
let pageProbe = #"""
    import json, os, subprocess, sys, tempfile
    import html5lib

    page, shots = sys.argv[1], sys.argv[2]
    result = {"parse_errors": [], "console": [], "screenshots": [], "charts": []}
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(open(page, "rb").read())
    except Exception as error:
        result["parse_errors"].append(str(error))
    result["parse_errors"] += [str(e) for e in parser.errors]

    profile = tempfile.mkdtemp(prefix="kinerja-chromium-")
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
            "--enable-logging=stderr", "--v=0"]
    url = "file://" + os.path.abspath(page)
    for name, size in [("phone", "390,844"), ("desktop", "1280,2400")]:
        shot = os.path.join(shots, os.path.basename(page) + "." + name + ".png")
        run = subprocess.run(base + ["--window-size=" + size, "--screenshot=" + shot, url], capture_output=True, text=True, timeout=120)
        result["console"] += [l for l in run.stderr.splitlines() if ":CONSOLE" in l]
        if os.path.exists(shot) and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n":
            result["screenshots"].append(os.path.getsize(shot))
    dump = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    result["console"] += [l for l in dump.stderr.splitlines() if ":CONSOLE" in l]
    dom = html5lib.parse(dump.stdout, namespaceHTMLElements=False)
    SVG = "{http://www.w3.org/2000/svg}"
    for svg in dom.iter(SVG + "svg"):
        counts = {}
        bars = []
        for element in svg.iter():
            tag = element.tag.split("}")[-1]
            for cls in (element.get("class") or "").split():
                key = tag + "." + cls
                counts[key] = counts.get(key, 0) + 1
            if tag == "rect" and "bar" in (element.get("class") or "").split():
                title = element.find(SVG + "title")
                bars.append(title.text if title is not None else "")
        result["charts"].append({"title": svg.find(SVG + "title").text, "counts": counts, "bars": bars})
    result["scripts"] = len(list(dom.iter("script")))
    print(json.dumps(result))
    """#

struct PageProbe: Decodable {
    struct Chart: Decodable {
        var title: String
        var counts: [String: Int]
        var bars: [String]
        func count(_ key: String) -> Int { counts[key] ?? 0 }
    }

    var parse_errors: [String]
    var console: [String]
    var screenshots: [Int]
    var charts: [Chart]
    var scripts: Int
}

func probe(_ page: String, in cli: CLI) throws -> PageProbe {
    let shots = ProcessInfo.processInfo.environment["KINERJA_SCREENSHOTS"] ?? cli.scratch.path
    try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
    let result = try python(pageProbe, [page, shots], in: cli)
    #expect(result.status == 0, "\(result.stderr)")
    return try JSONDecoder().decode(PageProbe.self, from: Data(result.stdout.utf8))
}

/// The JSON a command prints.
func json(_ cli: CLI, _ arguments: [String]) throws -> [String: Any] {
    let result = try cli.start(arguments).wait()
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
}

@Suite("The HTML pages, rendered by Chromium")
struct PagesTests {
    @Test("kinerja demo writes the organisation's pages: golden HTML, a strict parse, Chromium's screenshots, no console message, the charts' marks counted against the data")
    func demoPages() throws {
        let cli = CLI(clock: nil)
        defer { cli.remove() }
        let ledger = cli.scratch.child("kinerja-demo.ledger")
        let demo = try cli.run("demo", "--ledger", ledger)
        #expect(demo.status == 0, "\(demo.stderr)")
        let folder = ledger + "-pages"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        let dossierFile = try #require(files.first { $0.hasPrefix("dossier-") })
        #expect(files == ["accountability.html", dossierFile, "units.html"])
        for file in files {
            #expect(demo.stdout.contains("  \(folder)/\(file)\n"))
            // Golden: KINERJA_RECORD_GOLDEN=1 swift test --filter PagesTests rewrites them.
            try expectGolden(try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8), "pages/\(file)")
        }
        let nip = String(dossierFile.dropFirst("dossier-".count).dropLast(".html".count))
        var probes: [String: PageProbe] = [:]
        for file in files {
            let page = try probe("\(folder)/\(file)", in: cli)
            #expect(page.parse_errors.isEmpty, "\(file): \(page.parse_errors)")
            #expect(page.console.isEmpty, "\(file): \(page.console)")
            #expect(page.screenshots.count == 2 && page.screenshots.allSatisfy { $0 > 10_000 }, "\(file): \(page.screenshots)")
            #expect(page.scripts == 0)
            probes[file] = page
        }

        // Units: per unit judged, five predikat segments and one bar and bound per curve rule; the breaches in red.
        let units = try json(cli, ["report", "units", "--ledger", ledger, "--year", "2026", "--format", "json"])["units"] as! [[String: Any]]
        let judged = units.filter { $0["unit"] is String && !($0["curve"] as! [[String: Any]]).isEmpty }
        let checks = judged.flatMap { $0["curve"] as! [[String: Any]] }
        let curve = try #require(probes["units.html"]?.charts.first)
        #expect(curve.count("rect.seg") == 5 * judged.count)
        #expect(curve.count("rect.bar") == checks.count && curve.count("line.limit") == checks.count)
        #expect(curve.count("rect.breach") == checks.filter { $0["holds"] as! Bool == false }.count)
        #expect(curve.count("rect.breach") >= 1, "the demo's inflated unit breaks its curve")

        // Accountability: one bar per finding code, and bars by unit adding up to every finding.
        let findings = try json(cli, ["report", "accountability", "--ledger", ledger, "--year", "2026", "--format", "json"])["findings"] as! [[String: Any]]
        let charts = try #require(probes["accountability.html"]?.charts)
        #expect(charts.count == 2)
        #expect(charts[0].count("rect.bar") == Set(findings.map { $0["code"] as! String }).count)
        let byUnit = charts[1].bars.map { Int($0.split(separator: " ").last!)! }
        #expect(byUnit.reduce(0, +) == findings.count)

        // The dossier: a point per period scored and an open circle per predikat replaced; twelve
        // months of activity; a bar per training and the total, against the minimum.
        let dossier = try json(cli, ["report", "dossier", nip, "--ledger", ledger, "--format", "json"])
        let scores = dossier["scores"] as! [[String: Any]]
        let training = dossier["training"] as! [String: Any]
        let pages = try #require(probes[dossierFile]?.charts)
        #expect(pages.count == 3)
        #expect(pages[0].count("circle.point") == scores.count)
        #expect(pages[0].count("circle.replaced") == scores.map { ($0["steps"] as! [Any]).count - 1 }.reduce(0, +))
        #expect(pages[0].count("circle.replaced") >= 2, "the demo's dossier has an upheld objection and a correction after it")
        #expect(pages[1].count("rect.bar") == 12)
        let months = (dossier["activity"] as! [String: Any])["months"] as! [Int]
        #expect(pages[1].count("rect.zero") == months.filter { $0 == 0 }.count)
        #expect(pages[2].count("rect.bar") == (training["completed"] as! [Any]).count + 1)
        #expect(pages[2].count("line.limit") == 1)
        #expect(pages[2].count("rect.breach") == (training["meets_minimum"] as! Bool ? 0 : 1))
    }

    @Test("the probe hears a page's console and sees a parse error (so silence above means something)")
    func probeWorks() throws {
        let cli = CLI()
        defer { cli.remove() }
        let bad = try cli.write("bad.html", "<!DOCTYPE html><html><head><title>x</title></head><body><p><b>unclosed</p><script>console.error('boom')</script></body></html>")
        let page = try probe(bad, in: cli)
        #expect(!page.parse_errors.isEmpty)
        #expect(page.console.contains { $0.contains("boom") })
        #expect(page.scripts == 1)
    }

    @Test("every report and history as html, with --lang en; --lang refused where it cannot apply")
    func everyReport() throws {
        let cli = CLI()
        defer { cli.remove() }
        try cli.run("init")
        try cli.run("append", "samples/sample.jsonl")
        let employee = "199005202015031003"
        for arguments in [["report", "scores"], ["report", "audit"], ["report", "accountability"], ["report", "units"], ["history", employee], ["report", "dossier", employee]] {
            let indonesian = try cli.start(arguments + ["--format", "html"]).wait()
            #expect(indonesian.status == 0, "\(arguments): \(indonesian.stderr)")
            #expect(indonesian.stdout.hasPrefix("<!DOCTYPE html>\n<html lang=\"id\">"))
            #expect(indonesian.stdout.contains("Disusun dari ledger pada: seq <strong>15</strong>, hash <code>"))
            let english = try cli.start(arguments + ["--format", "html", "--lang", "en"]).wait()
            #expect(english.stdout.contains("<html lang=\"en\">") && english.stdout.contains("Built on the ledger at: seq <strong>15</strong>"))
            let page = try probe(try cli.write("page.html", indonesian.stdout), in: cli)
            #expect(page.parse_errors.isEmpty, "\(arguments): \(page.parse_errors)")
            #expect(page.console.isEmpty)
            #expect(try cli.start(arguments + ["--format", "json", "--lang", "id"]).wait().status == 64)
        }
        #expect(try cli.run("report", "scores", "--lang", "id").status == 64)
        #expect(try cli.run("report", "dossier", employee, "--format", "csv").status == 64)
        #expect(try cli.run("report", "dossier", employee, "--employee", employee).status == 64)
        #expect(try cli.run("report", "dossier", "12345").status == 64)
        // A year no calendar date has is bad usage, not a trap.
        for year in ["0", "-1", "10000"] {
            let refused = try cli.run("report", "dossier", employee, "--year=\(year)")
            #expect(refused.status == 64, "--year \(year): \(refused.stderr)")
            #expect(refused.stderr.contains("--year must be a year from 1 to 9999"), "\(refused.stderr)")
            #expect(try cli.run("report", "units", "--year=\(year)").status == 64)
        }
        let table = try cli.run("report", "dossier", employee, "--lang", "id")
        #expect(table.status == 0 && table.stdout.contains("Dosir Kinerja 2026: \(employee)"))
        // At any point in time, as the other reports.
        let early = try cli.run("report", "dossier", employee, "--at-seq", "5", "--format", "json")
        #expect(early.stdout.hasPrefix(#"{"ledger":{"seq":5,"hash":""#))
    }
}
