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

    /// The snapshot of the last entry, and what changed since: the years whose training,
    /// feedback or activity counts moved, or anything else (then the next snapshot is built
    /// whole). Most of an employee's events are daily logs, which change one count: their
    /// entries share the rest of the snapshot with the one before.
    private var last: EmployeeState?
    private var changedYears: [Int] = []
    private var changedOther = false

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
        switch event.type {
        case .activityLogged, .feedbackGiven, .trainingCompleted:
            if let year = event.period?.year { changedYears.append(year) } else { changedOther = true }
        default:
            changedOther = true
        }
        guard let entry else { return }
        let snapshot: EmployeeState
        if var patched = last, !changedOther {
            // Only some years' counts moved: the rest of the snapshot is the last one's.
            if let record = state.record(employee) {
                for year in changedYears { Self.setCounts(of: year, in: record, &patched) }
            }
            snapshot = patched
        } else {
            snapshot = Self.snapshot(of: employee, in: state)
        }
        last = snapshot
        changedYears.removeAll(keepingCapacity: true)
        changedOther = false
        entries.append(HistoryEntry(entry: entry, state: snapshot))
    }

    /// The training hours, feedback and activities of `year` in `snapshot`, as ``snapshot(of:in:)`` sets them.
    private static func setCounts(of year: Int, in record: AppraisalState.Employee, _ snapshot: inout EmployeeState) {
        guard let counts = record.year(year) else { return }
        // Each dictionary written only if its value moved: the snapshot shares them with the
        // entry before, and a write copies the whole dictionary (a daily log moves one count).
        let hours = counts.hasTraining ? counts.trainingHours : nil
        if snapshot.trainingHours[year] != hours { snapshot.trainingHours[year] = hours }
        let feedback = counts.feedback > 0 ? counts.feedback : nil
        if snapshot.feedback[year] != feedback { snapshot.feedback[year] = feedback }
        let activities = counts.activityCount > 0 ? counts.activityCount : nil
        if snapshot.activities[year] != activities { snapshot.activities[year] = activities }
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
        for year in record.years { setCounts(of: year.year, in: record, &snapshot) }
        return snapshot
    }
}
