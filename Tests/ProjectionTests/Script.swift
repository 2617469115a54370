import KinerjaDomain

/// Hand-written ledgers for the projections: events with the seq and recorded_at a ledger would give.
struct Script {
    static let head = NIP(unchecked: "197001011995031001")
    static let boss = NIP(unchecked: "198003152005012002")
    static let staff = NIP(unchecked: "199005202015031003")
    static let other = NIP(unchecked: "199107142016022004")

    private(set) var events: [RecordedEvent] = []
    private var nextID: UInt64 = 1

    /// Adds an event occurring at `occurred` (RFC 3339), recorded an hour later unless `recorded` is given.
    @discardableResult
    mutating func add(_ subject: Subject, by actor: String, at occurred: String, recorded: String? = nil, reason: String? = nil, _ data: EventData) -> EventID {
        let id = EventID(high: 0x1111, low: nextID)
        nextID += 1
        let occurredAt = try! Timestamp.parse(occurred).get()
        let recordedAt = recorded.map { try! Timestamp.parse($0).get().micros } ?? occurredAt.micros + 3_600_000_000
        let event = Event(id: id, subject: subject, actor: Actor(stored: actor), occurredAt: occurredAt, reason: reason, data: data)
        events.append(RecordedEvent(event: event, seq: UInt64(events.count + 1), version: 1, recordedAt: recordedAt))
        return id
    }

    mutating func place(_ employee: NIP, unit: String = "DINKES", appraiser: NIP?, from date: String = "2026-01-01", at occurred: String = "2026-01-02T08:00:00+07:00") {
        add(.employee(employee), by: "hr:bkpsdm", at: occurred,
            .employeePlaced(Placement(name: "Pegawai \(employee.text.suffix(3))", unit: unit, position: "Analis", appraiser: appraiser, effectiveFrom: CivilDate(date)!)))
    }

    /// The usual three-level organisation: head ← boss ← staff, all in DINKES.
    mutating func organisation() {
        place(Self.head, unit: "SETDA", appraiser: nil)
        place(Self.boss, appraiser: Self.head)
        place(Self.staff, appraiser: Self.boss)
    }

    @discardableResult
    mutating func target(_ employee: NIP, _ targetID: String = "T-1", year: Int = 2026, aligned: Alignment? = Alignment(employee: Script.boss, targetID: "B-1"), by actor: NIP = Script.boss, at occurred: String = "2026-01-10T09:00:00+07:00") -> EventID {
        add(.employee(employee), by: actor.text, at: occurred,
            .targetSet(TargetSet(period: Period(year: year), targetID: targetID, kind: .main, plan: "Rencana", indicator: "Indikator", target: TargetQuantity(value: 100, unit: "persen"), alignedTo: aligned)))
    }

    @discardableResult
    mutating func score(_ employee: NIP, _ period: String, _ results: Rating = .meetsExpectation, _ behavior: Rating = .meetsExpectation, by actor: String = Script.boss.text, at occurred: String = "2026-04-05T10:00:00+07:00") -> EventID {
        add(.employee(employee), by: actor, at: occurred, .scoreGiven(ScoreGiven(period: Period(period)!, resultsRating: results, behaviorRating: behavior, realizations: nil)))
    }

    @discardableResult
    mutating func correct(_ employee: NIP, _ corrected: EventID, basis: CorrectionBasis = .objectionUpheld, _ results: Rating = .meetsExpectation, _ behavior: Rating = .meetsExpectation, by actor: NIP, at occurred: String = "2027-01-10T10:00:00+07:00") -> EventID {
        add(.employee(employee), by: actor.text, at: occurred, reason: "Keberatan",
            .scoreCorrected(ScoreCorrection(corrects: corrected, basis: basis, resultsRating: results, behaviorRating: behavior)))
    }

    mutating func feedback(_ employee: NIP, _ period: String, _ relation: FeedbackRelation = .supervisor, by actor: NIP = Script.boss, at occurred: String = "2026-03-20T10:00:00+07:00") {
        add(.employee(employee), by: actor.text, at: occurred, .feedbackGiven(Feedback(period: Period(period)!, relation: relation, aspect: nil, topic: nil, text: "Umpan balik")))
    }

    mutating func training(_ employee: NIP, _ hours: Double, on date: String = "2026-05-20") {
        add(.employee(employee), by: "lms:bpsdm", at: date + "T16:00:00+07:00",
            .trainingCompleted(Training(title: "Pelatihan", provider: "BPSDM", hours: hours, completedOn: CivilDate(date)!, certificate: nil)))
    }

    @discardableResult
    mutating func object(_ employee: NIP, _ score: EventID, received: String = "2027-01-02", at occurred: String = "2027-01-05T09:00:00+07:00", recorded: String? = nil) -> EventID {
        add(.employee(employee), by: employee.text, at: occurred, recorded: recorded,
            .objectionFiled(ObjectionFiled(score: score, receivedOn: CivilDate(received)!, grounds: "Keberatan atas penilaian")))
    }

    /// Upheld with `ratings`, or rejected without.
    @discardableResult
    mutating func decide(_ employee: NIP, _ objection: EventID, upheld ratings: (Rating, Rating)? = nil, by actor: NIP = Script.head, at occurred: String = "2027-01-12T10:00:00+07:00", recorded: String? = nil) -> EventID {
        let decision = ratings.map { ObjectionDecision(objection: objection, outcome: .upheld, resultsRating: $0.0, behaviorRating: $0.1) }
            ?? ObjectionDecision(objection: objection, outcome: .rejected)
        return add(.employee(employee), by: actor.text, at: occurred, recorded: recorded, reason: "Keputusan keberatan", .objectionDecided(decision))
    }

    @discardableResult
    mutating func activity(_ employee: NIP, _ targetID: String = "T-1", on date: String = "2026-03-02") -> EventID {
        add(.employee(employee), by: employee.text, at: date + "T16:00:00+07:00",
            .activityLogged(Activity(date: CivilDate(date)!, targetID: targetID, description: "Kegiatan harian", output: TargetQuantity(value: 1, unit: "dokumen"))))
    }

    /// The events up to `seq`: the ledger as it stood then.
    func prefix(_ seq: Int) -> Script {
        var earlier = self
        earlier.events = Array(events.prefix(seq))
        return earlier
    }

    mutating func rate(_ unit: String, _ rating: UnitRatingCode, year: Int = 2026, at occurred: String = "2027-01-15T08:00:00+07:00") -> EventID {
        add(.unit(unit), by: "system:sakip", at: occurred, .unitRated(UnitRating(period: Period(year: year), rating: rating)))
    }
}
