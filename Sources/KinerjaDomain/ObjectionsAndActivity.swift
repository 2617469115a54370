// The additions of PRODUCT §7: objections (keberatan) and the daily performance log
// (kinerja harian), their wire data and the rules they are checked against at append.

extension WireDecoder {
    static func decodeCycleData(type: EventType, _ fields: Fields) throws(WireError) -> EventData {
        switch type {
        case .objectionFiled:
            let score = try fields.uuid("score")
            let receivedOn = try fields.date("received_on")
            return .objectionFiled(ObjectionFiled(score: score, receivedOn: receivedOn, grounds: try fields.text("grounds", max: 4000)!))
        case .objectionDecided:
            let objection = try fields.uuid("objection")
            let outcome: ObjectionOutcome = try fields.code("outcome")
            switch outcome {
            case .upheld:
                let results: Rating = try fields.code("results_rating")
                let behavior: Rating = try fields.code("behavior_rating")
                return .objectionDecided(ObjectionDecision(objection: objection, outcome: outcome, resultsRating: results, behaviorRating: behavior))
            case .rejected:
                for key in ["results_rating", "behavior_rating"] where fields.has(named: key) {
                    throw fields.error(key, "must be absent when the objection is rejected: a rejected objection leaves the score as it was")
                }
                return .objectionDecided(ObjectionDecision(objection: objection, outcome: outcome))
            }
        default:
            let date = try fields.date("date")
            let targetID = try fields.targetID("target_id")
            let description = try fields.text("description", max: 2000)!
            let output = try fields.quantity("output", required: false)
            let evidence = try fields.text("evidence", max: 500, required: false)
            return .activityLogged(Activity(date: date, targetID: targetID, description: description, output: output, evidence: evidence))
        }
    }
}

extension Event {
    static func objectionKey(_ score: EventID) -> [UInt8] { Array("objection\u{0}\(score)".utf8) }

    static func decisionKey(_ objection: EventID) -> [UInt8] { Array("decision\u{0}\(objection)".utf8) }

    /// The keys of §7: one objection per score, one decision per objection.
    var cycleKeys: [[UInt8]] {
        switch data {
        case .objectionFiled(let objection): [Self.objectionKey(objection.score)]
        case .objectionDecided(let decision): [Self.decisionKey(decision.objection)]
        default: []
        }
    }

    /// Checks the rules of §7 that depend on what is already recorded: an objection names an
    /// earlier score of the same employee, once, received no earlier than the score's date; a
    /// decision names an earlier objection of the same employee, once; an activity names a
    /// target of the employee for its year, set before it, and is not dated after the day it
    /// is recorded (in the offset of its `occurred_at`). Returns the broken rule with the
    /// field it concerns (line 0: the caller knows the line), or nil.
    ///
    /// - Parameters:
    ///   - recordedEvent: the event recorded with an id, if any (stored, or earlier in the batch).
    ///   - isClaimed: whether a unique key (see ``uniqueKeys``) is already claimed.
    ///   - recordedAt: the ledger clock this event is recorded at, microseconds since the epoch.
    public func checkCycleAgainstLedger(
        recordedEvent: (EventID) throws -> Event?,
        isClaimed: ([UInt8]) throws -> Bool,
        recordedAt: Int64
    ) throws -> WireError? {
        guard case .employee(let nip) = subject else { return nil }
        switch data {
        case .objectionFiled(let objection):
            guard let score = try recordedEvent(objection.score) else {
                return WireError(line: 0, field: "data.score", code: .unknownEvent, rule: "no event \(objection.score) is recorded before this objection")
            }
            guard score.subject == subject else {
                return WireError(line: 0, field: "data.score", code: .wrongEvent, rule: "event \(objection.score) belongs to \(score.stream), not to this employee")
            }
            guard score.type == .scoreGiven || score.type == .scoreCorrected else {
                return WireError(line: 0, field: "data.score", code: .wrongEvent, rule: "event \(objection.score) is a \(score.type.rawValue): only a score.given or score.corrected can be objected to")
            }
            if try isClaimed(Self.objectionKey(objection.score)) {
                return WireError(line: 0, field: "data.score", code: .alreadyObjected, rule: "score \(objection.score) already has an objection: one objection per score")
            }
            let scored = score.occurredAt.localDate
            if objection.receivedOn < scored {
                return WireError(line: 0, field: "data.received_on", code: .invalidField, rule: "\(objection.receivedOn) is before the score's date, \(scored): a result is received after it is given")
            }
        case .objectionDecided(let decision):
            guard let objection = try recordedEvent(decision.objection) else {
                return WireError(line: 0, field: "data.objection", code: .unknownEvent, rule: "no event \(decision.objection) is recorded before this decision")
            }
            guard objection.subject == subject else {
                return WireError(line: 0, field: "data.objection", code: .wrongEvent, rule: "event \(decision.objection) belongs to \(objection.stream), not to this employee")
            }
            guard objection.type == .objectionFiled else {
                return WireError(line: 0, field: "data.objection", code: .wrongEvent, rule: "event \(decision.objection) is a \(objection.type.rawValue), not an objection.filed")
            }
            if try isClaimed(Self.decisionKey(decision.objection)) {
                return WireError(line: 0, field: "data.objection", code: .alreadyDecided, rule: "objection \(decision.objection) is already decided: the decision is final")
            }
        case .activityLogged(let activity):
            let today = Timestamp(micros: recordedAt, offsetMinutes: occurredAt.offsetMinutes).localDate
            if activity.date > today {
                return WireError(line: 0, field: "data.date", code: .occurredInFuture, rule: "\(activity.date) is after the day it is recorded, \(today): an activity is logged once done")
            }
            if try !isClaimed(Self.targetKey(nip, Period(year: activity.date.year), activity.targetID)) {
                return WireError(line: 0, field: "data.target_id", code: .unknownTarget, rule: "no target \(activity.targetID) is set for this employee in \(activity.date.year) before this activity")
            }
        default:
            break
        }
        return nil
    }
}
