import AppraisalCore
import KinerjaDomain
import KinerjaLedger

extension Reports {
    /// `log` applies every filter.
    public static let logFilters = FilterName.allCases

    /// The recorded events from `from` through `through` that `request` selects, in `seq` order,
    /// with what the ledger recorded. One employee's events are read through the stream index and
    /// types from each record's first byte; the filters that need the appraisal state (unit,
    /// year, period) fold it from the first event, so an event is judged as everywhere else.
    public static func log(_ ledger: Ledger, _ request: ReportRequest, from: UInt64 = 1, through: UInt64 = .max, _ body: (Event, RecordedFields) throws -> Void) throws {
        try request.refuse("log", except: logFilters)
        let filter = LogFilter(from: from, through: through, employee: request.employee, types: request.types)
        guard request.needsState || request.actor != nil || request.since != nil || request.until != nil else {
            try ledger.forEachRecorded(filter, body)
            return
        }
        var state = AppraisalState(rules: request.rules)
        if request.needsState && from > 1 {
            let before = min(from - 1, try ledger.head().seq)
            try ledger.replayInPlace(at: .seq(before), employee: request.employee) { state.apply($0) }
        }
        // With the state, every event from `from` is folded; the type filter is applied here then.
        var folded = filter
        if request.needsState { folded.types = [] }
        try ledger.forEachRecorded(folded, where: { event in
            let keep = request.matches(event, before: state)
            state.apply(event)
            return keep
        }, body)
    }
}
