import AccountabilityProjection
import KinerjaDomain
import Testing

func findings(_ script: Script) -> [Finding] {
    var accountability = Accountability()
    for event in script.events { accountability.apply(event) }
    return accountability.findings()
}

func codes(_ script: Script, _ code: FindingCode) -> [Finding] {
    findings(script).filter { $0.code == code }
}

/// Each finding code: a case that raises it, and near misses that must not.
@Suite("Accountability: every finding code, raised and just missed")
struct FindingTests {
    /// A clean year for the staff member: no finding at all.
    static func cleanYear() -> Script {
        var script = Script()
        script.organisation()
        script.target(Script.boss, "B-1", aligned: nil, by: Script.head)
        script.target(Script.staff)
        script.feedback(Script.staff, "2026-Q4")
        script.score(Script.staff, "2026", at: "2026-12-28T10:00:00+07:00")
        script.training(Script.staff, 20)
        return script
    }

    @Test("a clean year raises nothing for the staff member")
    func clean() {
        #expect(findings(Self.cleanYear()).filter { $0.subject == .employee(Script.staff) }.isEmpty)
    }

    @Test("score_without_target")
    func scoreWithoutTarget() {
        var script = Script()
        script.organisation()
        script.target(Script.staff, year: 2025)
        let score = script.score(Script.staff, "2026-Q1")
        script.target(Script.staff)  // recorded after the score: too late
        #expect(codes(script, .scoreWithoutTarget).map(\.events) == [[score]])
        var nearMiss = Script()
        nearMiss.organisation()
        nearMiss.target(Script.staff)
        nearMiss.score(Script.staff, "2026-Q1")
        #expect(codes(nearMiss, .scoreWithoutTarget).isEmpty)
    }

    @Test("appraiser_mismatch, judged on the last day of the period by placements recorded before")
    func appraiserMismatch() {
        var script = Script()
        script.organisation()
        script.target(Script.staff)
        let wrong = script.score(Script.staff, "2026-Q1", by: Script.other.text)
        // A transfer effective 1 April: the Q1 score is still the boss's to give.
        script.place(Script.staff, appraiser: Script.other, from: "2026-04-01", at: "2026-03-25T08:00:00+07:00")
        let q1 = script.score(Script.staff, "2026-Q1", by: Script.other.text)
        let q2 = script.score(Script.staff, "2026-Q2", by: Script.other.text, at: "2026-07-05T10:00:00+07:00")
        #expect(codes(script, .appraiserMismatch).map { $0.events[0] } == [wrong, q1])
        _ = q2
        // The head of the organisation has no appraiser: anyone's score is not a mismatch.
        var head = Script()
        head.organisation()
        head.target(Script.head, aligned: nil, by: Script.head)
        head.score(Script.head, "2026", by: "kepala-daerah:walikota")
        #expect(codes(head, .appraiserMismatch).isEmpty)
    }

    @Test("no_placement")
    func noPlacement() {
        var script = Script()
        script.place(Script.staff, appraiser: Script.boss, from: "2026-04-01")
        script.target(Script.staff)
        let early = script.score(Script.staff, "2026-Q1")
        let inTime = script.score(Script.staff, "2026-Q2", at: "2026-07-02T10:00:00+07:00")
        #expect(codes(script, .noPlacement).map(\.events) == [[early]])
        #expect(!codes(script, .noPlacement).contains { $0.events.contains(inTime) })
    }

    @Test("self_assessment")
    func selfAssessment() {
        var script = Script()
        script.organisation()
        script.target(Script.staff)
        let own = script.score(Script.staff, "2026-Q1", by: Script.staff.text)
        script.score(Script.staff, "2026-Q2", by: Script.boss.text)
        #expect(codes(script, .selfAssessment).map(\.events) == [[own]])
    }

    @Test("correction_authority: an upheld objection is the appraiser's appraiser's to decide")
    func correctionAuthority() {
        var script = Script()
        script.organisation()
        script.target(Script.staff)
        script.feedback(Script.staff, "2026-Q4")
        let annual = script.score(Script.staff, "2026", .belowExpectation, at: "2026-12-28T10:00:00+07:00")
        let byAppraiser = script.correct(Script.staff, annual, by: Script.boss)
        script.correct(Script.staff, byAppraiser, by: Script.head)
        script.correct(Script.staff, annual, basis: .clericalError, by: Script.boss)
        #expect(codes(script, .correctionAuthority).map(\.events) == [[byAppraiser, annual]])
    }

    @Test("low_score_without_feedback: supervisor feedback of the same year, recorded before")
    func lowScoreWithoutFeedback() {
        var script = Script()
        script.organisation()
        script.target(Script.staff)
        script.feedback(Script.staff, "2025-Q4")  // another year
        script.feedback(Script.staff, "2026-Q1", .peer, by: Script.other)  // not the supervisor
        let low = script.score(Script.staff, "2026-Q1", .belowExpectation)
        script.feedback(Script.staff, "2026-Q1")  // after the score
        let lowAgain = script.score(Script.staff, "2026-Q2", .meetsExpectation, .belowExpectation, at: "2026-07-05T10:00:00+07:00")
        let good = script.score(Script.staff, "2026-Q3", .aboveExpectation, at: "2026-10-05T10:00:00+07:00")
        let found = codes(script, .lowScoreWithoutFeedback).flatMap(\.events)
        #expect(found == [low])
        #expect(!found.contains(lowAgain) && !found.contains(good))
        // A correction to a low score needs feedback too.
        var correction = Script()
        correction.organisation()
        correction.target(Script.staff)
        let fine = correction.score(Script.staff, "2026")
        let lowered = correction.correct(Script.staff, fine, basis: .review, .belowExpectation, by: Script.boss)
        #expect(codes(correction, .lowScoreWithoutFeedback).map(\.events) == [[lowered]])
    }

    @Test("training_below_minimum: 20 JP completed in the year")
    func trainingBelowMinimum() {
        var script = Self.cleanYear()
        script.target(Script.boss, "B-2", aligned: nil, by: Script.head)
        script.training(Script.boss, 12)
        script.training(Script.boss, 7.5)
        script.training(Script.boss, 8, on: "2025-12-31")
        let found = codes(script, .trainingBelowMinimum)
        #expect(found.map(\.subject) == [.employee(Script.boss)])
        #expect(found.first?.message == "19.5 JP of training completed in 2026, below the minimum of 20")
    }

    @Test("unaligned_target: still null after its revisions, where there is an appraiser")
    func unalignedTarget() {
        var script = Script()
        script.organisation()
        let unaligned = script.target(Script.staff, "T-1", aligned: nil)
        let fixed = script.target(Script.staff, "T-2", aligned: nil)
        script.add(.employee(Script.staff), by: Script.boss.text, at: "2026-02-01T09:00:00+07:00", reason: "Selaraskan",
                   .targetRevised(TargetRevision(period: Period(year: 2026), targetID: "T-2", alignedTo: .set(Alignment(employee: Script.boss, targetID: "B-1")))))
        script.target(Script.head, "H-1", aligned: nil, by: Script.head)  // the head has no appraiser
        let found = codes(script, .unalignedTarget)
        #expect(found.map(\.events) == [[unaligned]])
        _ = fixed
    }

    @Test("missing_annual_score")
    func missingAnnualScore() {
        var script = Script()
        script.organisation()
        let target = script.target(Script.staff)
        script.score(Script.staff, "2026-Q4", at: "2026-12-28T10:00:00+07:00")
        #expect(codes(script, .missingAnnualScore).map(\.events) == [[target]])
        #expect(codes(Self.cleanYear(), .missingAnnualScore).filter { $0.subject == .employee(Script.staff) }.isEmpty)
    }

    @Test("backdated_entry: more than 30 days between occurring and recording")
    func backdatedEntry() {
        var script = Script()
        let late = script.add(.employee(Script.staff), by: "hr:bkpsdm", at: "2026-01-01T08:00:00+07:00", recorded: "2026-01-31T08:00:00.000001+07:00",
                              .employeePlaced(Placement(name: "A", unit: "DINKES", position: "Analis", appraiser: Script.boss, effectiveFrom: CivilDate(year: 2026, month: 1, day: 1)!)))
        script.add(.employee(Script.boss), by: "hr:bkpsdm", at: "2026-01-01T08:00:00+07:00", recorded: "2026-01-31T08:00:00+07:00",
                   .employeePlaced(Placement(name: "B", unit: "DINKES", position: "Kepala", appraiser: Script.head, effectiveFrom: CivilDate(year: 2026, month: 1, day: 1)!)))
        #expect(codes(script, .backdatedEntry).map(\.events) == [[late]])
    }

    @Test("distribution_violation: the latest unit rating against the members' annual scores")
    func distributionViolation() {
        func unit(_ predicates: [(Rating, Rating)], ratings: [UnitRatingCode]) -> [Finding] {
            var script = Script()
            script.place(Script.head, unit: "SETDA", appraiser: nil)
            for (index, ratings) in predicates.enumerated() {
                let nip = NIP(unchecked: "19900520201503100\(index)")
                script.place(nip, unit: "DINKES", appraiser: Script.head)
                script.score(nip, "2026", ratings.0, ratings.1, by: Script.head.text, at: "2026-12-28T10:00:00+07:00")
            }
            for rating in ratings { _ = script.rate("DINKES", rating) }
            return codes(script, .distributionViolation)
        }
        let allGood = [(Rating.meetsExpectation, Rating.meetsExpectation), (.meetsExpectation, .meetsExpectation), (.meetsExpectation, .meetsExpectation)]
        let found = unit(allGood, ratings: [.good])
        #expect(found.count == 1)
        #expect(found.first?.subject == .unit("DINKES"))
        #expect(found.first?.message.contains("good at most 70%; at least one needs_improvement or poor") == true)
        // Two good and one needs_improvement: 66.7% good, one below: fits "good".
        #expect(unit([(.meetsExpectation, .meetsExpectation), (.meetsExpectation, .meetsExpectation), (.belowExpectation, .meetsExpectation)], ratings: [.good]).isEmpty)
        // Re-rated outstanding: only the latest rating counts, and all good fits it.
        #expect(unit(allGood, ratings: [.good, .outstanding]).isEmpty)
        // Members placed elsewhere on 31 December do not count.
        #expect(unit([], ratings: [.good]).isEmpty)
    }

    @Test("the unit ratings a shared report's first part hands over (ratedUnits) are the state's, field by field: each unit's latest rating of each year, its code built")
    func ratedUnits() {
        var script = Script()
        script.place(Script.head, unit: "SETDA", appraiser: nil)
        let setda = script.rate("SETDA", .poor, year: 2025, at: "2026-01-15T08:00:00+07:00")
        _ = script.rate("DINKES", .good)
        let dinkes = script.rate("DINKES", .outstanding)
        var accountability = Accountability()
        for event in script.events { accountability.apply(event) }
        let state = accountability.state
        let handed = accountability.ratedUnits
        #expect(handed.count == state.unitRatings.count)
        for (rated, kept) in zip(handed, state.unitRatings) {
            #expect(rated.unit == state.names[kept.unit])
            #expect(rated.year == kept.year)
            #expect(rated.rating == kept.rating)
            #expect(rated.id == kept.id)
            #expect(rated.seq == kept.seq)
        }
        // What they are: SETDA's of 2025, and DINKES's latest of 2026 (the re-rating replaced the first).
        #expect(handed.map(\.unit) == ["SETDA", "DINKES"])
        #expect(handed.map(\.year) == [2025, 2026])
        #expect(handed.map(\.rating) == [.poor, .outstanding])
        #expect(handed.map(\.id) == [setda, dinkes])
        #expect(handed.map(\.seq) == [2, 4])
    }
}
