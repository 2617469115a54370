import KinerjaDomain

/// Who may append what, and read whose records: PRODUCT §9's role table, in one place. Every
/// endpoint asks it; no handler decides on its own.
///
/// An employee's reach follows the placements recorded: they appraise an employee when one of
/// that employee's placements in effect at any time in the current or previous year names them
/// as appraiser, and they also reach the employees of those they appraise.
public struct AccessPolicy: Sendable {
    /// The placements recorded for an employee, in `seq` order (empty for an unknown employee).
    public typealias Placements = (NIP) throws -> [Placement]

    /// The current year: the window of placements that give an appraiser reach.
    public var year: Int

    public init(year: Int) {
        self.year = year
    }

    /// Whether `identity` may append `event`. Its actor is already the identity (the actor rule).
    public func mayAppend(_ identity: Identity, _ event: Event, placements: Placements) throws -> Bool {
        switch identity.role {
        case .auditor:
            return false
        case .service:
            if case .feedbackGiven(let feedback) = event.data { return feedback.relation == .public }
            return event.type == .trainingCompleted
        case .hr:
            switch event.data {
            case .employeePlaced(let placement): return identity.units.contains(placement.unit)
            case .unitRated: if case .unit(let code) = event.subject { return identity.units.contains(code) } else { return false }
            case .trainingCompleted: return try inUnits(identity, event.subject, placements)
            default: return false
            }
        case .employee:
            guard case .employee(let subject) = event.subject, let me = NIP(identity.name) else { return false }
            switch event.data {
            case .feedbackGiven(let feedback):
                switch feedback.relation {
                case .self: return subject == me
                case .peer: return try subject != me && !Set(units(me, placements)).isDisjoint(with: units(subject, placements))
                case .subordinate: return try appraisers(of: me, placements).contains(subject)
                case .supervisor: return try reaches(me, subject, placements)
                case .public: return false
                }
            case .activityLogged, .objectionFiled:
                // Their own daily log and their own objection (keberatan), nobody else's.
                return subject == me
            case .targetSet, .targetRevised, .scoreGiven, .scoreCorrected, .objectionDecided:
                // Decisions about those they appraise or whose appraiser they appraise; §7's
                // objection_decider finding still flags a decision by the direct appraiser.
                return try reaches(me, subject, placements)
            case .employeePlaced, .trainingCompleted, .unitRated, .accessGranted, .accessRevoked:
                return false
            }
        }
    }

    /// Whether `identity` may read the records of `employee`. Decided without saying whether the
    /// employee exists: an unknown employee has no placements, so only an auditor reaches them.
    public func mayRead(_ identity: Identity, employee: NIP, placements: Placements) throws -> Bool {
        switch identity.role {
        case .auditor: return true
        case .service: return false
        case .hr: return try inUnits(identity, .employee(employee), placements)
        case .employee:
            guard let me = NIP(identity.name) else { return false }
            return try me == employee || reaches(me, employee, placements)
        }
    }

    /// Whether `identity` may read everything (the whole log, every report).
    public func mayReadAll(_ identity: Identity) -> Bool { identity.role == .auditor }

    private func inUnits(_ identity: Identity, _ subject: Subject, _ placements: Placements) throws -> Bool {
        guard case .employee(let nip) = subject else { return false }
        return try !Set(units(nip, placements)).isDisjoint(with: identity.units)
    }

    /// The placements of `employee` in effect at some time of the current or previous year.
    private func recent(_ employee: NIP, _ placements: Placements) throws -> [Placement] {
        let all = try placements(employee).sorted { $0.effectiveFrom < $1.effectiveFrom }
        let start = CivilDate(year: year - 1, month: 1, day: 1)!
        let end = CivilDate(year: year, month: 12, day: 31)!
        return all.indices.filter { index in
            all[index].effectiveFrom <= end && (index + 1 == all.count || all[index + 1].effectiveFrom > start)
        }.map { all[$0] }
    }

    private func units(_ employee: NIP, _ placements: Placements) throws -> [String] {
        try recent(employee, placements).map(\.unit)
    }

    private func appraisers(of employee: NIP, _ placements: Placements) throws -> [NIP] {
        try recent(employee, placements).compactMap(\.appraiser)
    }

    /// `me` appraises `employee`, or appraises their appraiser.
    private func reaches(_ me: NIP, _ employee: NIP, _ placements: Placements) throws -> Bool {
        let direct = try appraisers(of: employee, placements)
        if direct.contains(me) { return true }
        for appraiser in direct where appraiser != employee {
            if try appraisers(of: appraiser, placements).contains(me) { return true }
        }
        return false
    }
}

extension NIP {
    init?(_ text: String) {
        guard case .success(let nip) = NIP.validate(text) else { return nil }
        self = nip
    }
}
