import ArgumentParser
import Foundation
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import KinerjaDemo

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a sample year of one regional government in a fresh ledger and print its reports.",
        discussion: """
            The ledger records each day's events at the end of that day, as an agency entering them \
            through the year would, so the demo is the same for the same --seed on every machine. \
            It never overwrites a ledger it did not create.
            """
    )

    @Option(help: "The demo ledger directory.")
    var ledger = "kinerja-demo.ledger"

    @Option(help: "The seed of the sample year.")
    var seed: UInt64 = 1

    @Option(help: "How many employees (at least 8).")
    var employees = 48

    @Option(help: "The appraisal year.")
    var year = 2026

    /// Where the pages go: beside the ledger, `kinerja-demo.ledger` → `kinerja-demo.ledger-pages`.
    static func pagesFolder(_ ledger: String) -> String {
        (ledger.hasSuffix("/") ? String(ledger.dropLast()) : ledger) + "-pages"
    }

    func validate() throws {
        guard employees >= 8 else { throw ValidationError("--employees must be at least 8") }
        guard (1971...2099).contains(year) else { throw ValidationError("--year must be from 1971 to 2099") }
    }

    func run() throws {
        try failing { try DemoLedger.clear(ledger) }
        let started = DispatchTime.now().uptimeNanoseconds
        let sample = DemoYear(seed: seed, employees: employees, year: year)
        let demoLedger = try failing { try DemoLedger.build(sample, at: ledger) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let head = try failing { try demoLedger.head() }
        print("demo ledger \(ledger): \(sample.people.count) employees of one regional government, \(head.seq) events of \(year)")
        printError(String(format: "built in %.2f s (%.0f events/s)", seconds, Double(head.seq) / seconds))
        print("head: seq \(head.seq) hash \(head.hash.hex)")
        print("")
        var request = ReportRequest()
        request.year = year
        try report { Reports.render(try Reports.units(demoLedger, request), .table) }
        print("")
        let accountability = try failing { try Reports.accountability(demoLedger, request) }
        print(Reports.render(accountability, .table), terminator: "")
        print("")
        let dossier = OrganisationPages.dossierSubject(accountability)
        let folder = Self.pagesFolder(ledger)
        let pages = try failing { try OrganisationPages.build(demoLedger, year: year, dossier: dossier) }
        try failing {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for page in pages { try Data(page.html.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(page.file))) }
        }
        print("pages for people (HTML, Bahasa Indonesia; open in a browser, print on A4):")
        for page in pages { print("  " + (folder as NSString).appendingPathComponent(page.file)) }
        print("")
        print("Next: kinerja report scores --ledger \(ledger) --year \(year)")
        print("      kinerja report units --ledger \(ledger) --year \(year) --format json")
        print("      kinerja history <NIP> --ledger \(ledger)")
        print("      kinerja report audit --ledger \(ledger) --type objection.filed --type objection.decided --type score.corrected")
    }
}
