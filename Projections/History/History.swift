import AuditTrailProjection
import KinerjaDomain
import ScoresProjection
import TrainingProjection

/// What the record of one employee says after an event.
public struct EmployeeState: Hashable, Sendable {
    public struct Target: Hashable, Sendable {
        public var year: Int
        public var targetID: String
        public var kind: TargetKind
        public var plan: String
        public var target: TargetQuantity
        public var alignedTo: Alignment?
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
}

/// One step of an employee's decision history.
public struct HistoryEntry: Hashable, Sendable {
    public var entry: AuditEntry
    public var state: EmployeeState
}

/// An employee's decision history: each of their events, with what it changed and the state
/// of their record after it. Fed with the employee's stream only (the stream index gives it
/// without a scan of the ledger).
public struct History: Projection, Sendable {
    public let employee: NIP
    public private(set) var entries: [HistoryEntry] = []
    private var trail: AuditTrail
    private var scores: Scores
    private var training = TrainingHours()
    private var state = EmployeeState()

    public init(employee: NIP, rules: RuleBook = .standard) {
        self.employee = employee
        trail = AuditTrail(rules: rules, keepsEntries: false)
        scores = Scores(rules: rules)
    }

    public mutating func apply(_ recorded: RecordedEvent) {
        guard recorded.event.subject == .employee(employee) else { return }
        trail.apply(recorded)
        scores.apply(recorded)
        training.apply(recorded)
        switch recorded.event.data {
        case .employeePlaced(let placement):
            state.placement = placement
        case .targetSet(let target):
            state.targets.append(EmployeeState.Target(
                year: target.period.year, targetID: target.targetID, kind: target.kind, plan: target.plan, target: target.target, alignedTo: target.alignedTo))
            state.targets.sort { ($0.year, $0.targetID) < ($1.year, $1.targetID) }
        case .targetRevised(let revision):
            if let index = state.targets.firstIndex(where: { $0.year == revision.period.year && $0.targetID == revision.targetID }) {
                if let plan = revision.plan { state.targets[index].plan = plan }
                if let quantity = revision.target { state.targets[index].target = quantity }
                if case .set(let alignment) = revision.alignedTo { state.targets[index].alignedTo = alignment }
            }
        case .scoreGiven, .scoreCorrected, .objectionFiled, .objectionDecided:
            state.scores = scores.rows
        case .trainingCompleted(let completed):
            state.trainingHours[completed.completedOn.year] = training.hours(employee, year: completed.completedOn.year)
        case .feedbackGiven(let feedback):
            state.feedback[feedback.period.year, default: 0] += 1
        case .activityLogged(let activity):
            state.activities[activity.date.year, default: 0] += 1
        case .unitRated:
            break
        }
        entries.append(HistoryEntry(entry: trail.last!, state: state))
    }
}
