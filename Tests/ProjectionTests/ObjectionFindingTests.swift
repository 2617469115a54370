import AccountabilityProjection
import KinerjaDomain
import ScoresProjection
import Testing

/// The findings of PRODUCT §7, each raised and just missed, at the head and at an earlier point.
@Suite("Accountability: objections and alignment (PRODUCT §7)")
struct ObjectionFindingTests {
    /// The clean year with the annual score objected to on `received` and filed at `filed`.
    static func objected(received: String = "2027-01-02", filed: String = "2027-01-05T09:00:00+07:00") -> (Script, score: EventID, objection: EventID) {
        var script = FindingTests.cleanYear()
        let score = script.events.first { if case .scoreGiven = $0.event.data { true } else { false } }!.event.id
        let objection = script.object(Script.staff, score, received: received, at: filed)
        return (script, score, objection)
    }

    @Test("objection_out_of_time: an upheld decision on an objection filed more than 14 days after the result was received")
    func outOfTime() {
        // Received 2 January, filed 17 January: 15 days.
        var (late, _, lateObjection) = Self.objected(received: "2027-01-02", filed: "2027-01-17T09:00:00+07:00")
        let decision = late.decide(Script.staff, lateObjection, upheld: (.aboveExpectation, .meetsExpectation), at: "2027-01-20T10:00:00+07:00")
        #expect(codes(late, .objectionOutOfTime).map(\.events) == [[decision, lateObjection]])
        #expect(codes(late.prefix(late.events.count - 1), .objectionOutOfTime).isEmpty)  // before the decision
        // Near misses: filed on day 14; or filed late but rejected.
        var inTime = Self.objected(received: "2027-01-02", filed: "2027-01-16T09:00:00+07:00")
        inTime.0.decide(Script.staff, inTime.objection, upheld: (.aboveExpectation, .meetsExpectation), at: "2027-01-20T10:00:00+07:00")
        #expect(codes(inTime.0, .objectionOutOfTime).isEmpty)
        var rejected = Self.objected(received: "2027-01-02", filed: "2027-01-17T09:00:00+07:00")
        rejected.0.decide(Script.staff, rejected.objection, at: "2027-01-20T10:00:00+07:00")
        #expect(codes(rejected.0, .objectionOutOfTime).isEmpty)
    }

    @Test("objection_decider: a decision not by the appraiser's appraiser on the decision's date")
    func decider() {
        var (script, _, objection) = Self.objected()
        let byAppraiser = script.decide(Script.staff, objection, by: Script.boss)
        #expect(codes(script, .objectionDecider).map(\.events) == [[byAppraiser, objection]])
        #expect(codes(script.prefix(script.events.count - 1), .objectionDecider).isEmpty)
        var (right, _, rightObjection) = Self.objected()
        right.decide(Script.staff, rightObjection, upheld: (.aboveExpectation, .aboveExpectation), by: Script.head)
        #expect(codes(right, .objectionDecider).isEmpty)
    }

    @Test("objection_undecided: no decision recorded within 14 days of the objection's recording, at the report's point in time")
    func undecided() {
        // The objection is recorded 5 January 03:00 UTC; an event 14 days and an hour later makes it overdue.
        var (script, _, objection) = Self.objected()
        script.feedback(Script.boss, "2027-Q1", by: Script.head, at: "2027-01-19T09:00:00+07:00")  // recorded 14 days after: not yet
        let atDay14 = script.events.count
        script.feedback(Script.boss, "2027-Q1", by: Script.head, at: "2027-01-19T11:00:00+07:00")  // 14 days and 2 hours
        #expect(codes(script.prefix(atDay14), .objectionUndecided).isEmpty)
        #expect(codes(script, .objectionUndecided).map(\.events) == [[objection]])
        #expect(codes(script, .objectionUndecided).first?.period == Period("2026"))
        // Decided later still: the finding stays, naming the decision too.
        let late = script.decide(Script.staff, objection, at: "2027-01-25T10:00:00+07:00")
        #expect(codes(script, .objectionUndecided).map(\.events) == [[objection, late]])
        // Near miss: decided within the 14 days, judged long after.
        var inTime = Self.objected()
        inTime.0.decide(Script.staff, inTime.objection, at: "2027-01-15T10:00:00+07:00")
        inTime.0.feedback(Script.boss, "2027-Q2", by: Script.head, at: "2027-06-19T09:00:00+07:00")
        #expect(codes(inTime.0, .objectionUndecided).isEmpty)
    }

    @Test("decision_overridden: a score or correction for the period recorded after the decision")
    func overridden() {
        var (script, score, objection) = Self.objected()
        let decision = script.decide(Script.staff, objection, upheld: (.aboveExpectation, .meetsExpectation))
        let corrected = script.correct(Script.staff, score, basis: .review, .belowExpectation, .meetsExpectation, by: Script.boss, at: "2027-01-20T10:00:00+07:00")
        let rescored = script.score(Script.staff, "2026", by: Script.boss.text, at: "2027-01-21T10:00:00+07:00")
        #expect(codes(script, .decisionOverridden).map(\.events) == [[corrected, decision], [rescored, decision]])
        #expect(codes(script.prefix(script.events.count - 2), .decisionOverridden).isEmpty)
        // Near misses: a correction before the decision; a score of another period after it.
        var (before, beforeScore, beforeObjection) = Self.objected()
        before.correct(Script.staff, beforeScore, basis: .clericalError, by: Script.boss, at: "2027-01-06T10:00:00+07:00")
        before.decide(Script.staff, beforeObjection)
        before.score(Script.staff, "2027-Q1", by: Script.boss.text, at: "2027-04-02T10:00:00+07:00")
        #expect(codes(before, .decisionOverridden).isEmpty)
    }

    @Test("alignment_broken: aligned_to names a target its employee has not set for the year, at the point in time")
    func alignmentBroken() {
        var script = Script()
        script.organisation()
        let staffTarget = script.target(Script.staff, "T-1", aligned: Alignment(employee: Script.boss, targetID: "B-9"))
        let earlier = script.events.count
        script.target(Script.boss, "B-9", aligned: nil, by: Script.head)
        // Before the boss set B-9 the alignment was broken; once set, it holds.
        #expect(codes(script.prefix(earlier), .alignmentBroken).map(\.events) == [[staffTarget]])
        #expect(codes(script, .alignmentBroken).isEmpty)
        // A revision that points elsewhere breaks it again; B-1 of 2025 does not count for 2026.
        script.target(Script.boss, "B-1", year: 2025, aligned: nil, by: Script.head)
        let revision = script.add(.employee(Script.staff), by: Script.boss.text, at: "2026-07-01T09:00:00+07:00", reason: "Penyelarasan",
                                  .targetRevised(TargetRevision(period: Period(year: 2026), targetID: "T-1", alignedTo: .set(Alignment(employee: Script.boss, targetID: "B-1")))))
        #expect(codes(script, .alignmentBroken).map(\.events) == [[staffTarget, revision]])
    }

    @Test("the current score follows an upheld decision, not a rejected one, and says who first scored it")
    func currentScore() {
        var (script, score, objection) = Self.objected()
        var scores = Scores()
        for event in script.events { scores.apply(event) }
        #expect(scores.score(Script.staff, Period("2026")!)?.objection == .pending)
        let decision = script.decide(Script.staff, objection, upheld: (.aboveExpectation, .aboveExpectation))
        scores.apply(script.events.last!)
        let row = scores.score(Script.staff, Period("2026")!)
        #expect(row?.event == decision && row?.setBy == .objectionDecided && row?.predicate == .veryGood && row?.objection == .upheld)
        #expect(row?.actor == Script.head.text && row?.originalActor == Script.boss.text && row?.originalEvent == score)
        let correction = script.correct(Script.staff, score, basis: .review, by: Script.boss, at: "2027-01-20T10:00:00+07:00")
        scores.apply(script.events.last!)
        let overridden = scores.score(Script.staff, Period("2026")!)
        #expect(overridden?.event == correction && overridden?.setBy == .scoreCorrected && overridden?.objection == .overridden && overridden?.originalEvent == score)

        var (rejected, rejectedScore, rejectedObjection) = Self.objected()
        rejected.decide(Script.staff, rejectedObjection)
        var kept = Scores()
        for event in rejected.events { kept.apply(event) }
        #expect(kept.score(Script.staff, Period("2026")!)?.event == rejectedScore)
        #expect(kept.score(Script.staff, Period("2026")!)?.objection == .rejected)
    }
}
