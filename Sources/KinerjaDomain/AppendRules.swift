extension Event {
    /// The keys this event claims, which no other event may claim: a `target.set` claims its
    /// employee, year and target id ("a target_id is set once per employee and year").
    public var uniqueKeys: [[UInt8]] {
        guard case .targetSet(let target) = data, case .employee(let nip) = subject else { return cycleKeys }
        return [Self.targetKey(nip, target.period, target.targetID)]
    }

    /// "target" 0x00 NIP 0x00 year 0x00 target id, in UTF-8: written byte by byte into one
    /// array (an import checks one per activity line; through string interpolation it was 7 % of
    /// the staging thread).
    static func targetKey(_ nip: NIP, _ period: Period, _ targetID: String) -> [UInt8] {
        let prefix: StaticString = "target\u{0}"
        let year = String(period.year).utf8
        var key: [UInt8] = []
        key.reserveCapacity(prefix.utf8CodeUnitCount + 18 + 1 + year.count + 1 + targetID.utf8.count)
        key.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        let digitsStart = key.count
        key.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: 18))
        var rest = nip.number
        for index in stride(from: digitsStart + 17, through: digitsStart, by: -1) {
            key[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        key.append(0)
        key.append(contentsOf: year)
        key.append(0)
        key.append(contentsOf: targetID.utf8)
        return key
    }

    /// Checks the rules that depend on the ledger: the event has happened by the time it is
    /// recorded (within the clock skew the rules allow), a target is set once, a revision revises
    /// a target that exists, a realization or a feedback topic names a target of the employee for
    /// that year set before it, a correction corrects an earlier score of the same employee.
    /// Returns the broken rule with the field it concerns (line 0: the caller knows the line), or nil.
    ///
    /// - Parameters:
    ///   - recordedAt: the ledger clock at recording, microseconds since the Unix epoch.
    ///   - rules: the rule sets; the one in force at `recordedAt` applies.
    ///   - recordedEvent: the stream and type of the event recorded with an id, if any (stored,
    ///     or earlier in the same batch).
    ///   - isClaimed: whether a unique key (see ``uniqueKeys``) is already claimed.
    public func checkAgainstLedger(
        recordedAt: Int64,
        rules: RuleBook = .standard,
        recordedEvent: (EventID) throws -> (stream: String, type: EventType)?,
        isClaimed: ([UInt8]) throws -> Bool
    ) throws -> WireError? {
        let skew = rules.rules(at: recordedAt).clockSkewAllowanceMicros
        if occurredAt.micros > recordedAt + skew {
            let clock = Timestamp(micros: recordedAt).utcMicrosecondText
            return WireError(
                line: 0, field: "occurred_at", code: .occurredInFuture,
                rule: "is after the ledger clock at recording (\(clock)) by more than the \(skew / 60_000_000)-minute clock skew allowed: an event cannot have happened in the future")
        }
        /// A target of this employee for `period`'s year, set before this event.
        func missingTarget(_ targetID: String, _ period: Period, field: String, what: String) throws -> WireError? {
            guard case .employee(let nip) = subject else { return nil }
            if try isClaimed(Self.targetKey(nip, Period(year: period.year), targetID)) { return nil }
            return WireError(line: 0, field: field, code: .unknownTarget, rule: "no target \(targetID) is set for this employee in \(period.year) before this event: \(what) must name one")
        }
        switch data {
        case .targetSet(let target):
            if try uniqueKeys.contains(where: isClaimed) {
                return WireError(line: 0, field: "data.target_id", code: .targetAlreadySet, rule: "target \(target.targetID) is already set for this employee in \(target.period); change it with target.revised")
            }
        case .targetRevised(let revision):
            guard case .employee(let nip) = subject else { return nil }
            if try !isClaimed(Self.targetKey(nip, revision.period, revision.targetID)) {
                return WireError(line: 0, field: "data.target_id", code: .unknownTarget, rule: "no target \(revision.targetID) is set for this employee in \(revision.period): a revision needs an existing target")
            }
        case .scoreCorrected(let correction):
            let corrected = try recordedEvent(correction.corrects)
            guard let corrected else {
                return WireError(line: 0, field: "data.corrects", code: .unknownEvent, rule: "no event \(correction.corrects) is recorded before this correction")
            }
            guard corrected.stream == stream else {
                return WireError(line: 0, field: "data.corrects", code: .wrongEvent, rule: "event \(correction.corrects) belongs to \(corrected.stream), not to this employee")
            }
            guard corrected.type == .scoreGiven || corrected.type == .scoreCorrected else {
                return WireError(line: 0, field: "data.corrects", code: .wrongEvent, rule: "event \(correction.corrects) is a \(corrected.type.rawValue): only a score.given or score.corrected can be corrected")
            }
        case .scoreGiven(let score):
            for (index, realization) in (score.realizations ?? []).enumerated() {
                if let missing = try missingTarget(realization.targetID, score.period, field: "data.realizations[\(index)].target_id", what: "a realization") {
                    return missing
                }
            }
        case .feedbackGiven(let feedback):
            if let topic = feedback.topic {
                return try missingTarget(topic, feedback.period, field: "data.topic", what: "a feedback topic")
            }
        default:
            break
        }
        return nil
    }
}
