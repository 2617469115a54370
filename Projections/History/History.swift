import AppraisalCore
import AuditTrailProjection
import KinerjaDomain
import ScoresProjection

/// What the record of one employee says after an event.
public struct EmployeeState: Hashable, Sendable {
    public struct Target: Hashable, Sendable {
        public var year: Int
        public var targetID: String
        public var kind: TargetKind
        public var plan: String
        public var target: TargetQuantity
        public var alignedTo: Alignment?

        public init(year: Int, targetID: String, kind: TargetKind, plan: String, target: TargetQuantity, alignedTo: Alignment?) {
            self.year = year
            self.targetID = targetID
            self.kind = kind
            self.plan = plan
            self.target = target
            self.alignedTo = alignedTo
        }
    }

    public var placement: Placement?
    /// By year, then target id.
    public var targets: [Target] = []
    /// The current score of each period, by period.
    public var scores: [ScoreRow] = []
    /// JP by year of completion.
    public var trainingHours: [Int: Double] = [:]
    /// Feedback received, by year of the period it is for.
    public var feedback: [Int: Int] = [:]
    /// Daily activities logged, by year of their date.
    public var activities: [Int: Int] = [:]

    public init() {}
}

/// One step of an employee's decision history.
public struct HistoryEntry: Hashable, Sendable {
    public var entry: AuditEntry
    public var state: EmployeeState
}

/// An employee's decision history: each of their events, with what it changed and the state
/// of their record after it. Fed with the employee's stream only (the stream index gives it
/// without a scan of the ledger); events about anyone else are skipped.
public struct History: Projection, Sendable {
    public let employee: NIP
    public private(set) var entries: [HistoryEntry] = []
    public private(set) var state: AppraisalState

    public init(employee: NIP, rules: RuleBook = .standard) {
        self.employee = employee
        state = AppraisalState(rules: rules)
    }

    public mutating func apply(_ recorded: RecordedEvent) {
        recorded.withView { apply($0) }
    }

    /// Folds `event`; with `keep`, adds its entry (a filtered history folds every event but
    /// lists only those it keeps).
    public mutating func apply(_ event: borrowing EventView, keep: Bool = true) {
        guard event.employee == employee else { return }
        let entry = keep ? AuditTrail.entry(event, before: state) : nil
        state.apply(event)
        if let entry { entries.append(HistoryEntry(entry: entry, state: Self.snapshot(of: employee, in: state))) }
    }

    /// The record of `employee` in `state`, with its strings built.
    public static func snapshot(of employee: NIP, in state: AppraisalState) -> EmployeeState {
        var snapshot = EmployeeState()
        guard let record = state.record(employee) else { return snapshot }
        let names = state.names
        snapshot.placement = record.placements.last.map {
            Placement(name: names[$0.name], unit: names[$0.unit], position: names[$0.position], appraiser: $0.appraiser, effectiveFrom: $0.effectiveFrom)
        }
        snapshot.targets = record.targets.map { target in
            EmployeeState.Target(
                year: target.year, targetID: names[target.targetID], kind: target.kind, plan: state.texts[target.plan],
                target: TargetQuantity(value: target.value, unit: names[target.unit]),
                alignedTo: target.alignedTo.map { Alignment(employee: $0.employee, targetID: names[$0.targetID]) })
        }.sorted { ($0.year, $0.targetID) < ($1.year, $1.targetID) }
        snapshot.scores = record.scores.sorted { $0.period < $1.period }.map { Scores.row($0, of: employee, in: state) }
        for year in record.years {
            if year.hasTraining { snapshot.trainingHours[year.year] = year.trainingHours }
            if year.feedback > 0 { snapshot.feedback[year.year] = year.feedback }
            let activities = year.activityCount
            if activities > 0 { snapshot.activities[year.year] = activities }
        }
        return snapshot
    }
}
