import AppraisalCore
import KinerjaDomain

/// A filter of PRODUCT §6, by its option's name.
public enum FilterName: String, CaseIterable, Sendable {
    case employee, unit, year, period, actor, type, since, until

    /// `--employee`, as the command line spells it.
    public var option: String { "--" + rawValue }
}

/// A filter a command cannot apply: refused (bad usage), never ignored.
public struct UnsupportedFilter: Error, CustomStringConvertible, Sendable {
    public let command: String
    public let filter: FilterName
    public let supported: [FilterName]

    public var description: String {
        "\(command) cannot apply \(filter.option)" + (supported.isEmpty ? "" : "; it takes " + supported.map(\.option).joined(separator: ", "))
    }
}

/// What each command's filters mean, in one place (PRODUCT §6):
/// - `employee`: events whose subject is that employee;
/// - `unit`: events of the employees placed in the unit — the placement in effect on the last
///   day of the period the event is about, or on the event's date when it is about none (an
///   `employee.placed` is about the unit it places in) — and the unit's own events;
/// - `year` / `period`: the appraisal period an event is about: its `data.period` (a year matches
///   `Y`, `Y-Qn` and `Y-MM`), the period of the score a correction corrects, the year of
///   `completed_on` or `effective_from`;
/// - `actor`, `type`, `since` / `until` (dates of `occurred_at`, in its own offset).
///
/// Score rows and findings are about an employee (or a unit) and a period, and read the same
/// way: the unit is the placement in effect on the period's last day.
extension ReportRequest {
    /// The filters given, in the order of ``FilterName``.
    public var filtersGiven: [FilterName] {
        FilterName.allCases.filter { name in
            switch name {
            case .employee: employee != nil
            case .unit: unit != nil
            case .year: year != nil
            case .period: period != nil
            case .actor: actor != nil
            case .type: !types.isEmpty
            case .since: since != nil
            case .until: until != nil
            }
        }
    }

    /// Throws ``UnsupportedFilter`` for the first filter given that `command` cannot apply.
    public func refuse(_ command: String, except supported: [FilterName]) throws {
        if let filter = filtersGiven.first(where: { !supported.contains($0) }) {
            throw UnsupportedFilter(command: command, filter: filter, supported: supported)
        }
    }

    /// Whether the filters need the appraisal state (the unit an employee is placed in, the
    /// period of a corrected score), not just the event.
    public var needsState: Bool { unit != nil || year != nil || period != nil }

    /// Whether `event` passes every filter given; `state` is the state before it.
    public func matches(_ event: borrowing EventView, before state: AppraisalState) -> Bool {
        if !types.isEmpty && !types.contains(event.type) { return false }
        if let employee, event.employee != employee { return false }
        if let actor, !actor.utf8.elementsEqual(event.actor.bytes) { return false }
        if since != nil || until != nil {
            let date = event.occurredAt.localDate
            if let since, date < since { return false }
            if let until, date > until { return false }
        }
        guard needsState else { return true }
        let about = state.period(about: event)
        if let year, about?.year != year { return false }
        if let period, about != period { return false }
        if let unit {
            if let own = event.unit { return unit.utf8.elementsEqual(own.bytes) }
            if case .employeePlaced(let placed) = event.data { return unit.utf8.elementsEqual(placed.unit.bytes) }
            let day = (event.dataPeriod ?? state.correctedPeriod(event))?.lastDay ?? event.occurredAt.localDate
            guard let employee = event.employee, let placement = state.placement(employee, on: day) else { return false }
            return state.names.existing(unit) == placement.unit
        }
        return true
    }

    /// Whether a score row or finding about `employee` (or a unit's, `unitCode`) for `period` passes.
    public func matches(employee subject: NIP?, unitCode: String? = nil, period about: Period, actor by: String? = nil, in state: AppraisalState) -> Bool {
        if subject == nil, by == nil, let unitCode { return matches(unitCode: unitCode, period: about) }
        if let year, about.year != year { return false }
        if let period, about != period { return false }
        if let actor, by != actor { return false }
        if let employee, subject != employee { return false }
        if let unit {
            if let unitCode { return unitCode == unit }
            guard let subject, let placement = state.placement(subject, on: about.lastDay) else { return false }
            return state.names.existing(unit) == placement.unit
        }
        return true
    }

    /// Whether a finding about the unit `unitCode` (not an employee's) for `period` passes: a
    /// unit's own finding needs no state to say.
    public func matches(unitCode: String, period about: Period) -> Bool {
        if let year, about.year != year { return false }
        if let period, about != period { return false }
        if actor != nil || employee != nil { return false }
        if let unit { return unitCode == unit }
        return true
    }
}
