import KinerjaDomain
import KinerjaLedger
import LedgerStore
import Testing

/// The sample's lines by role: 7 the Q1 score (2026-04-05), 10 the annual score, 11 its
/// correction, 13 an activity, 14 an objection to the Q1 score, 15 its (rejected) decision.
private let q1Score = "0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e07"
private let annualScore = "0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0a"
private let objection = "0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0e"
private var activityLine: String { sampleLines[12] }
private var objectionLine: String { sampleLines[13] }
private var decisionLine: String { sampleLines[14] }

private func newID(_ n: Int) -> String { #""66666666-6666-4666-8666-"# + String(repeating: "0", count: 12 - String(n).count) + String(n) + #"""# }

@Suite("Objections and daily logs against the ledger (PRODUCT §7)")
struct ObjectionTests {
    @Test("each bad objection, decision or activity is refused naming its field and rule, with nothing stored")
    func refusals() throws {
        // The sample's first twelve events, and the objection; then each bad line on its own.
        let cases: [(line: String, field: String, rule: String)] = [
            (edit(objectionLine, ["id": newID(1), "data.score": #""44444444-4444-4444-8444-444444444444""#]), "data.score", "no event 44444444-4444-4444-8444-444444444444 is recorded"),
            (edit(objectionLine, ["id": newID(2), "employee": #""198003152005012002""#, "actor": #""198003152005012002""#, "data.score": #""\#(annualScore)""#]),
             "data.score", "belongs to employee:199005202015031003, not to this employee"),
            (edit(objectionLine, ["id": newID(3), "data.score": #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e06""#]), "data.score", "is a feedback.given"),
            (edit(objectionLine, ["id": newID(4)]), "data.score", "already has an objection"),
            (edit(objectionLine, ["id": newID(5), "data.score": #""\#(annualScore)""#, "data.received_on": #""2026-12-19""#]),
             "data.received_on", "2026-12-19 is before the score's date, 2026-12-20"),
            (edit(decisionLine, ["id": newID(6), "data.objection": #""44444444-4444-4444-8444-444444444444""#]), "data.objection", "no event 44444444-4444-4444-8444-444444444444 is recorded"),
            (edit(decisionLine, ["id": newID(7), "data.objection": #""\#(q1Score)""#]), "data.objection", "is a score.given, not an objection.filed"),
            (edit(decisionLine, ["id": newID(8), "employee": #""198003152005012002""#]), "data.objection", "belongs to employee:199005202015031003"),
            (edit(decisionLine, ["id": newID(9), "data.outcome": #""upheld""#, "data.results_rating": #""above_expectation""#, "data.behavior_rating": #""above_expectation""#]),
             "data.objection", "is already decided"),
            (edit(activityLine, ["id": newID(10), "data.target_id": #""RHK-9""#]), "data.target_id", "no target RHK-9 is set for this employee in 2026"),
            (edit(activityLine, ["id": newID(11), "data.date": #""2025-12-30""#]), "data.target_id", "no target RHK-1 is set for this employee in 2025"),
            (edit(activityLine, ["id": newID(12), "data.date": #""2099-01-05""#]), "data.date", "2099-01-05 is after the day it is recorded, 2027-02-01"),
            (edit(activityLine, ["id": newID(13), "data.date": #""2027-02-02""#]), "data.date", "2027-02-02 is after the day it is recorded, 2027-02-01"),
        ]
        // Recorded at noon UTC on 1 February 2027 (19:00 in Jakarta), after every event of the sample.
        let clock = Int64(CivilDate(year: 2027, month: 2, day: 1)!.daysSinceEpoch) * Timestamp.microsPerDay + 12 * 3_600_000_000
        try withLedger(options: StoreOptions(clock: { clock })) { ledger, _ in
            let setUp = try append(ledger, sampleLines)
            #expect(setUp.rejected.isEmpty)
            let head = try ledger.head()
            for (line, field, rule) in cases {
                let report = try append(ledger, [line])
                #expect(report.appended == 0)
                #expect(report.rejected.first?.line == 1)
                #expect(report.rejected.first?.field == field, "\(rule)")
                #expect(report.rejected.first?.rule.contains(rule) == true, "\(report.rejected)")
                #expect(try ledger.head() == head)
            }
            // Near misses: received on the score's own date; an activity logged a month after its date.
            let sameDay = edit(objectionLine, ["id": newID(20), "data.score": #""\#(annualScore)""#, "data.received_on": #""2026-12-20""#])
            let today = edit(activityLine, ["id": newID(21), "data.date": #""2026-12-31""#, "occurred_at": #""2027-02-01T18:00:00+07:00""#])
            #expect(try append(ledger, [sameDay, today]).appended == 2)
        }
    }

    @Test("an objection and its decision may arrive in one batch; a second decision in the same batch is refused")
    func inOneBatch() throws {
        try withLedger { ledger, _ in
            let first = try append(ledger, Array(sampleLines.prefix(12)) + [objectionLine, decisionLine])
            #expect(first.appended == 14)
            let objectAgain = edit(objectionLine, ["id": newID(30), "data.score": #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e0b""#, "data.received_on": #""2027-01-09""#])
            let upheld = edit(decisionLine, ["id": newID(31), "data.objection": newID(30), "data.outcome": #""upheld""#,
                                             "data.results_rating": #""above_expectation""#, "data.behavior_rating": #""meets_expectation""#])
            let twice = edit(upheld, ["id": newID(32)])
            let report = try append(ledger, [objectAgain, upheld, twice])
            #expect(report.appended == 0)
            #expect(report.rejected.map(\.line) == [3])
            #expect(report.rejected.first?.rule.contains("already decided") == true)
            #expect(try append(ledger, [objectAgain, upheld]).appended == 2)
        }
    }
}
