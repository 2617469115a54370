extension Event {
    /// The keys this event claims, which no other event may claim: a `target.set` claims its
    /// employee, year and target id ("a target_id is set once per employee and year").
    public var uniqueKeys: [[UInt8]] {
        guard case .targetSet(let target) = data, case .employee(let nip) = subject else { return cycleKeys }
        return [Self.targetKey(nip, target.period, target.targetID)]
    }

    static func targetKey(_ nip: NIP, _ period: Period, _ targetID: String) -> [UInt8] {
        Array("target\u{0}\(nip.text)\u{0}\(period.year)\u{0}\(targetID)".utf8)
    }

    /// Checks the rules that depend on what is already recorded: a target is set once, a
    /// revision revises a target that exists, a correction corrects an earlier score of the
    /// same employee. Returns the broken rule with the field it concerns (line 0: the caller
    /// knows the line), or nil.
    ///
    /// - Parameters:
    ///   - recordedEvent: the stream and type of the event recorded with an id, if any (stored,
    ///     or earlier in the same batch).
    ///   - isClaimed: whether a unique key (see ``uniqueKeys``) is already claimed.
    public func checkAgainstLedger(
        recordedEvent: (EventID) throws -> (stream: String, type: EventType)?,
        isClaimed: ([UInt8]) throws -> Bool
    ) throws -> WireError? {
        switch data {
        case .targetSet(let target):
            if try uniqueKeys.contains(where: isClaimed) {
                return WireError(line: 0, field: "data.target_id", rule: "target \(target.targetID) is already set for this employee in \(target.period); change it with target.revised")
            }
        case .targetRevised(let revision):
            guard case .employee(let nip) = subject else { return nil }
            if try !isClaimed(Self.targetKey(nip, revision.period, revision.targetID)) {
                return WireError(line: 0, field: "data.target_id", rule: "no target \(revision.targetID) is set for this employee in \(revision.period): a revision needs an existing target")
            }
        case .scoreCorrected(let correction):
            let corrected = try recordedEvent(correction.corrects)
            guard let corrected else {
                return WireError(line: 0, field: "data.corrects", rule: "no event \(correction.corrects) is recorded before this correction")
            }
            guard corrected.stream == stream else {
                return WireError(line: 0, field: "data.corrects", rule: "event \(correction.corrects) belongs to \(corrected.stream), not to this employee")
            }
            guard corrected.type == .scoreGiven || corrected.type == .scoreCorrected else {
                return WireError(line: 0, field: "data.corrects", rule: "event \(correction.corrects) is a \(corrected.type.rawValue): only a score.given or score.corrected can be corrected")
            }
        default:
            break
        }
        return nil
    }
}
