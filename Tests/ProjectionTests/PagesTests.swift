import AccountabilityProjection
import AppraisalCore
import Foundation
import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import Testing

/// How many times `needle` occurs in `text`.
func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

@Suite("Pages for people: labels, charts, the dossier, escaping")
struct PagesTests {
    @Test("the labels of PRODUCT §2 and §10, one table per language; dates as Indonesians write them")
    func labels() {
        let id = Labels(.id), en = Labels(.en)
        #expect(Predicate.allCases.map { id[.predicate($0)] } == ["Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"])
        #expect(Rating.allCases.map { id[.rating($0)] } == ["Di Atas Ekspektasi", "Sesuai Ekspektasi", "Di Bawah Ekspektasi"])
        #expect(UnitRatingCode.allCases.map { id[.unitRating($0)] } == ["Istimewa", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"])
        #expect(id.date(CivilDate("2026-11-24")!) == "24 November 2026")
        #expect(id.date(CivilDate("2026-08-17")!) == "17 Agustus 2026")
        #expect(en.date(CivilDate("2026-08-17")!) == "17 August 2026")
        #expect(id.period(Period("2026-Q3")!) == "Triwulan III 2026")
        #expect(id.period(Period("2026-05")!) == "Mei 2026")
        #expect(id.number(12.5) == "12,5" && en.number(12.5) == "12.5")
        #expect(id.rule(CurveRule([.good], .atMost(percent: 70))) == "Baik paling banyak 70%")
        // Every finding has a title in both languages, and no two share one.
        for labels in [id, en] {
            let titles = Set(FindingCode.allCases.map { labels[.finding($0)] })
            #expect(titles.count == FindingCode.allCases.count)
            #expect(Set(Label.Text.allCases.map { labels[$0] }).allSatisfy { !$0.isEmpty })
        }
    }

    @Test("charts: one mark per value, the bound drawn, a breach marked")
    func charts() {
        let bars = Chart.bars([Chart.Bar("a", 3), Chart.Bar("b <x>", 0), Chart.Bar("total", 3, breach: true)], limit: (20, "minimum"), title: "JP")
        #expect(occurrences("<rect class=\"bar", in: bars) == 3)
        #expect(occurrences("class=\"bar breach\"", in: bars) == 1)
        #expect(occurrences("class=\"limit\"", in: bars) == 1)
        #expect(bars.contains("b &lt;x&gt;") && !bars.contains("<x>"))
        let months = Chart.columns((1...12).map { Chart.Bar("m\($0)", Double($0 % 3)) }, title: "activity")
        #expect(occurrences("<rect class=\"bar", in: months) == 12)
        let steps = [Chart.Step(period: "2026-Q1", predicate: .good), Chart.Step(period: "2026-Q2", predicate: .veryGood, replaced: [.poor, .good]),
                     Chart.Step(period: "2026", predicate: nil)]
        let predicates = Chart.predicates(steps, labels: Labels(.id), title: "predikat")
        #expect(occurrences("class=\"point\"", in: predicates) == 2)
        #expect(occurrences("class=\"replaced\"", in: predicates) == 2)
        #expect(occurrences("<polyline", in: predicates) == 1)
        let rules = RuleSet.permenPANRB6of2022
        let breached = CurveCheck.checks(rules, .good, [.good, .good, .good])
        let kept = CurveCheck.checks(rules, .outstanding, [.veryGood, .good, .good])
        let curve = Chart.distribution([Chart.UnitCurve(unit: "A", counts: [0, 3, 0, 0, 0], checks: breached), Chart.UnitCurve(unit: "B", counts: [1, 2, 0, 0, 0], checks: kept)],
                                       labels: Labels(.id), title: "curve")
        #expect(occurrences("<rect class=\"seg ", in: curve) == 10)
        #expect(occurrences("<rect class=\"bar", in: curve) == breached.count + kept.count)
        #expect(occurrences("class=\"limit\"", in: curve) == breached.count + kept.count)
        #expect(occurrences("class=\"bar breach\"", in: curve) == breached.filter { !$0.holds }.count)
        #expect(breached.contains { !$0.holds } && kept.allSatisfy(\.holds))
    }

    @Test("the dossier is a plain fold of the employee's events: activity per month, training, feedback, every score step and what it replaced")
    func dossierModel() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sample = DemoYear(seed: 21, employees: 20)
        let ledger = try DemoLedger.build(sample, at: dir.child("demo"))
        var events: [Event] = []
        try ledger.replay { events.append($0.event) }
        var request = ReportRequest()
        request.year = sample.year
        var replaced = 0, activities = 0
        defer {
            // The sample year has what the model is about: scores replaced, months of activity.
            #expect(replaced >= 2 && activities > 1000)
        }
        for person in sample.people {
            let dossier = try Reports.dossier(ledger, employee: person.nip, request)
            let own = events.filter { $0.subject == .employee(person.nip) }
            // The model: the period each score-setting event sets, found by following ids.
            var periodOf: [EventID: Period] = [:]
            var objectionScore: [EventID: EventID] = [:]
            var steps: [Period: [(id: EventID, predicate: KinerjaDomain.Predicate)]] = [:]
            var activity = [Int](repeating: 0, count: 12), hours = 0.0, feedback = 0
            for event in own {
                var set: (Period, Rating, Rating)?
                switch event.data {
                case .scoreGiven(let score):
                    periodOf[event.id] = score.period
                    set = (score.period, score.resultsRating, score.behaviorRating)
                case .scoreCorrected(let correction):
                    if let period = periodOf[correction.corrects] {
                        periodOf[event.id] = period
                        set = (period, correction.resultsRating, correction.behaviorRating)
                    }
                case .objectionFiled(let objection): objectionScore[event.id] = objection.score
                case .objectionDecided(let decision):
                    if decision.outcome == .upheld, let score = objectionScore[decision.objection], let period = periodOf[score] {
                        set = (period, decision.resultsRating!, decision.behaviorRating!)
                    }
                case .activityLogged(let logged) where logged.date.year == sample.year: activity[logged.date.month - 1] += 1
                case .trainingCompleted(let training) where training.completedOn.year == sample.year: hours += training.hours
                case .feedbackGiven(let given) where given.period.year == sample.year: feedback += 1
                default: break
                }
                if let (period, results, behavior) = set, period.year == sample.year {
                    steps[period, default: []].append((event.id, RuleBook.standard.rules(for: period).predicate(results: results, behavior: behavior)))
                }
            }
            replaced += dossier.scores.map { $0.steps.count - 1 }.reduce(0, +)
            activities += activity.reduce(0, +)
            #expect(dossier.activity == activity, "\(person.nip)")
            #expect(dossier.trainingHours == hours)
            #expect(dossier.feedback.count == feedback)
            #expect(dossier.scores.map(\.period) == steps.keys.sorted())
            for score in dossier.scores {
                let model = steps[score.period]!
                #expect(score.steps.map(\.event) == model.map(\.id))
                #expect(score.steps.map(\.predicate) == model.map(\.predicate))
                #expect(score.steps.map(\.replaces) == [nil] + model.dropLast().map(\.id))
                #expect(score.event == model.last!.id && score.predicate == model.last!.predicate)
            }
            #expect(dossier.findings.allSatisfy { $0.subject == .employee(person.nip) && $0.period.year == sample.year })
        }
    }

    @Test("every free text shows as text: a name, a reason, grounds or feedback holding markup is escaped on every page")
    func escaping() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ledger = try Ledger.create(at: dir.child("ledger"))
        let evil = "<script>alert('x')</script> & \"Budi\""
        var script = Script()
        script.place(Script.head, unit: "SETDA", appraiser: nil)
        script.place(Script.boss, appraiser: Script.head)
        script.add(.employee(Script.staff), by: "hr:bkpsdm", at: "2026-01-02T08:00:00+07:00",
                   .employeePlaced(Placement(name: evil, unit: "DINKES", position: "<b>Analis</b>", appraiser: Script.boss, effectiveFrom: CivilDate("2026-01-01")!)))
        script.add(.employee(Script.boss), by: Script.head.text, at: "2026-01-05T09:00:00+07:00",
                   .targetSet(TargetSet(period: Period(year: 2026), targetID: "B-1", kind: .main, plan: "Rencana", indicator: "Indikator", target: TargetQuantity(value: 1, unit: "dok"), alignedTo: nil)))
        script.add(.employee(Script.staff), by: Script.boss.text, at: "2026-01-10T09:00:00+07:00",
                   .targetSet(TargetSet(period: Period(year: 2026), targetID: "T-1", kind: .main, plan: "<i>plan</i>", indicator: "<u>ind</u>",
                                        target: TargetQuantity(value: 1, unit: "<dok>"), alignedTo: Alignment(employee: Script.boss, targetID: "B-1"))))
        script.add(.employee(Script.staff), by: Script.boss.text, at: "2026-03-20T10:00:00+07:00",
                   .feedbackGiven(Feedback(period: Period("2026-Q1")!, relation: .supervisor, aspect: nil, topic: nil, text: "</td><script>x()</script>")))
        let score = script.score(Script.staff, "2026-Q1", .belowExpectation, .meetsExpectation, at: "2026-04-05T10:00:00+07:00")
        let objection = script.add(.employee(Script.staff), by: Script.staff.text, at: "2026-04-07T09:00:00+07:00",
                                   .objectionFiled(ObjectionFiled(score: score, receivedOn: CivilDate("2026-04-06")!, grounds: "<script>grounds</script>")))
        script.add(.employee(Script.staff), by: Script.head.text, at: "2026-04-10T10:00:00+07:00", reason: "<img src=x onerror=alert(1)>",
                   .objectionDecided(ObjectionDecision(objection: objection, outcome: .upheld, resultsRating: .meetsExpectation, behaviorRating: .meetsExpectation)))
        script.add(.employee(Script.staff), by: "lms:bpsdm", at: "2026-05-20T16:00:00+07:00",
                   .trainingCompleted(Training(title: "<script>t</script>", provider: "<p>", hours: 4, completedOn: CivilDate("2026-05-20")!, certificate: "<c>")))
        let report = try ledger.append(NumberedSubmission.numbering(script.events.map(\.event)))
        #expect(report.rejected.isEmpty, "\(report.rejected)")

        var request = ReportRequest()
        request.year = 2026
        var pages: [String] = []
        for language in Language.allCases {
            var options = HTMLOptions(language: language)
            options.dossierLink = { "dossier?nip=\($0.text)&x=<y>" }
            pages += [
                Reports.html(try Reports.scores(ledger, request), options),
                Reports.html(try Reports.units(ledger, request), options),
                Reports.html(try Reports.accountability(ledger, request), options),
                Reports.html(try Reports.audit(ledger, ReportRequest()), options),
                Reports.html(try Reports.history(ledger, employee: Script.staff, ReportRequest()), options),
                Reports.html(try Reports.dossier(ledger, employee: Script.staff, request), options),
            ]
        }
        for page in pages {
            #expect(!page.lowercased().contains("<script"))
            #expect(!page.contains("<img") && !page.contains("<i>") && !page.contains("<u>") && !page.contains("<dok>") && !page.contains("<b>Analis"))
            #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\""))
            #expect(page.contains("seq <strong>\(script.events.count)</strong>"))
            // Nothing fetched from anywhere: no script, link, image, font or import.
            for fetch in ["<link", " src=\"", "@import", "url(", "<iframe", "<object"] { #expect(!page.contains(fetch), "\(fetch)") }
        }
        let dossier = pages[5]
        #expect(dossier.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Budi&quot;"))
        #expect(dossier.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(dossier.contains("&lt;script&gt;grounds&lt;/script&gt;"))
        #expect(pages[0].contains("href=\"dossier?nip=\(Script.staff.text)&amp;x=&lt;y&gt;\""))
    }

    @Test("a long table is cut into pages: at most rowLimit rows, the rest counted and linked")
    func longTables() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ledger = try DemoLedger.build(DemoYear(seed: 3, employees: 20), at: dir.child("demo"))
        let audit = try Reports.audit(ledger, ReportRequest())
        var options = HTMLOptions(language: .en)
        options.rowLimit = 100
        options.page = 2
        options.pageLink = { "?page=\($0)" }
        let page = Reports.html(audit, options)
        #expect(occurrences("<tr>", in: page) == 101)
        #expect(page.contains("101–200 / \(audit.entries.count) rows shown"))
        #expect(page.contains("<a href=\"?page=1\">1</a> <strong>2</strong> <a href=\"?page=3\">3</a>"))
    }
}
