import AppraisalCore
import KinerjaDomain

/// Training hours (JP) per employee and year of `completed_on`: a reading of ``AppraisalState``.
public struct TrainingHours: Projection, Sendable {
    public struct Key: Hashable, Sendable {
        public var employee: NIP
        public var year: Int
    }

    public struct Total: Hashable, Sendable {
        public var hours: Double = 0
        public var events: [EventID] = []
    }

    public private(set) var state: AppraisalState

    public init() { state = AppraisalState() }

    /// The training hours of a state folded elsewhere.
    public init(state: AppraisalState) { self.state = state }

    public mutating func apply(_ recorded: RecordedEvent) {
        recorded.withView { state.apply($0) }
    }

    public mutating func apply(_ event: borrowing EventView) { state.apply(event) }

    /// Every employee and year with training.
    public var totals: [Key: Total] {
        var totals: [Key: Total] = [:]
        for employee in state.employees {
            for year in employee.years where year.hasTraining {
                totals[Key(employee: employee.nip, year: year.year)] = Total(hours: year.trainingHours, events: year.trainingEvents)
            }
        }
        return totals
    }

    public func hours(_ employee: NIP, year: Int) -> Double { total(employee, year: year).hours }

    public func total(_ employee: NIP, year: Int) -> Total {
        state.record(employee)?.year(year).map { Total(hours: $0.trainingHours, events: $0.trainingEvents) } ?? Total()
    }
}
