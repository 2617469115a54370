import KinerjaDomain

/// Training hours (JP) per employee and year of `completed_on`.
public struct TrainingHours: Projection, Sendable {
    public struct Key: Hashable, Sendable {
        public var employee: NIP
        public var year: Int
    }

    public struct Total: Hashable, Sendable {
        public var hours: Double = 0
        public var events: [EventID] = []
    }

    public private(set) var totals: [Key: Total] = [:]

    public init() {}

    public mutating func apply(_ recorded: RecordedEvent) {
        guard case .trainingCompleted(let training) = recorded.event.data, case .employee(let employee) = recorded.event.subject else { return }
        let key = Key(employee: employee, year: training.completedOn.year)
        totals[key, default: Total()].hours += training.hours
        totals[key, default: Total()].events.append(recorded.event.id)
    }

    public func hours(_ employee: NIP, year: Int) -> Double { totals[Key(employee: employee, year: year)]?.hours ?? 0 }

    public func total(_ employee: NIP, year: Int) -> Total { totals[Key(employee: employee, year: year)] ?? Total() }
}
