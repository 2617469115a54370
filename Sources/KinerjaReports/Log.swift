import AppraisalCore
import AuditTrailProjection
import KinerjaDomain
import KinerjaLedger

extension Reports {
    /// `log` applies every filter.
    public static let logFilters = FilterName.allCases

    /// The recorded events from `from` through `through` that `request` selects, in `seq` order,
    /// with what the ledger recorded and, when `describing`, what each changed: the audit
    /// trail's description (``AuditTrail/change(_:before:)``), one description of an event for
    /// both. One employee's events are read through the stream index and types from each
    /// record's first byte; the filters that need the appraisal state (unit, year, period) and
    /// the descriptions fold it from the first event, so an event is judged as everywhere else.
    public static func log(
        _ ledger: Ledger, _ request: ReportRequest, from: UInt64 = 1, through: UInt64 = .max, describing: Bool = false,
        _ body: (Event, RecordedFields, _ change: String?) throws -> Void
    ) throws {
        try request.refuse("log", except: logFilters)
        let filter = LogFilter(from: from, through: through, employee: request.employee, types: request.types)
        let folds = describing || request.needsState
        guard folds || request.actor != nil || request.since != nil || request.until != nil else {
            try ledger.forEachRecorded(filter) { try body($0, $1, nil) }
            return
        }
        var state = AppraisalState(rules: request.rules)
        if folds && from > 1 {
            let before = min(from - 1, try ledger.head().seq)
            try ledger.replayInPlace(at: .seq(before), employee: request.employee) { state.apply($0) }
        }
        // With the state, every event from `from` is folded; the type filter is applied here then.
        var selected = filter
        if folds { selected.types = [] }
        var change: String?
        try ledger.forEachRecorded(selected, where: { event in
            let keep = request.matches(event, before: state)
            change = keep && describing ? AuditTrail.change(event, before: state) : nil
            if folds { state.apply(event) }
            return keep
        }) { event, recorded in try body(event, recorded, change) }
    }
}
