import KinerjaDomain

/// The appraisal as the ledger records it, folded once: what every projection reads.
///
/// One reducer, ``apply(_:)``, folds each recorded event, read in place (``EventView``), into
/// state keyed by numbers: employees numbered on first sight (their NIP looked up once per
/// event), and under each employee small lists (placements as recorded, targets with their
/// revisions, the current score of each period, per year the first target, training, feedback
/// and activity logged; objections and their decisions); unit codes, target ids and actors are ``Names``. Scores, training hours,
/// accountability, the audit trail and history are layers that read this state; a new event
/// type is folded here, in one place.
///
/// Fed in `seq` order, or as a bounded replay delivers a selection (``Selection/Order``:
/// every placement first, then one stream at a time), so an employee's own events fold in `seq`
/// order and "recorded before" is "folded before" for them; another employee's placements may
/// have been folded since, and are read as recorded before the event (``Employee/placement(on:before:)``).
///
/// The next event types fold here too: an upheld `objection.decided` moves the current score of
/// the period its objection names (the objection's score id → ``scoreReference(of:)``), as a
/// correction does; an `activity.logged` counts under its employee's year and target.
public struct AppraisalState: Sendable {
    public struct Placement: Sendable {
        public var name: Int32
        public var unit: Int32
        public var position: Int32
        /// nil only for the head of the organisation.
        public var appraiser: NIP?
        public var effectiveFrom: CivilDate
        public var seq: UInt64
        public var id: EventID
    }

    public struct AlignedTo: Hashable, Sendable {
        public var employee: NIP
        public var targetID: Int32
    }

    public struct Target: Sendable {
        public var year: Int
        public var targetID: Int32
        public var kind: TargetKind
        /// In ``AppraisalState/texts``.
        public var plan: Int32
        /// In ``AppraisalState/texts``.
        public var indicator: Int32
        public var value: Double
        public var unit: Int32
        public var alignedTo: AlignedTo?
        /// The `target.set`, then each `target.revised` of it.
        public var events: [EventID]
        /// The `seq` of the latest of `events`.
        public var seq: UInt64
        /// Whether the placement in effect on the day the target was set had an appraiser.
        public var appraiserInEffect: Bool
    }

    /// Where an objection (keberatan) to a score stands.
    public enum ObjectionState: String, Hashable, Sendable {
        case pending
        case upheld
        case rejected
        /// Decided, and then replaced by a later score or correction (the decision is final).
        case overridden

        /// The state once another score or correction replaces the score.
        var afterReplacement: ObjectionState { self == .pending ? .pending : .overridden }
    }

    /// The current score of a period: the latest of its `score.given`, the corrections of them
    /// (directly or through another correction) and the upheld decisions on objections to them
    /// (PRODUCT §7).
    public struct Score: Sendable {
        public var period: Period
        public var resultsRating: Rating
        public var behaviorRating: Rating
        public var predicate: Predicate
        /// Who gave the score, or the correction that stands.
        public var actor: Int32
        /// The event that stands.
        public var event: EventID
        public var seq: UInt64
        /// The basis of the correction that stands, if the score was corrected.
        public var correction: CorrectionBasis?
        /// The type of the event that stands: `score.given`, `score.corrected` or `objection.decided`.
        public var setBy: EventType
        /// Who first scored it: the `score.given` the standing event goes back to.
        public var original: Origin
        /// The latest objection to the score, if any.
        public var objection: ObjectionState?
        /// The latest decision on an objection to the score, if any.
        public var decision: EventID?
    }

    /// The `score.given` a score, correction or decision goes back to.
    public struct Origin: Sendable {
        public var actor: Int32
        public var event: EventID
    }

    /// An objection and, once recorded, its decision.
    public struct Objection: Sendable {
        public var id: EventID
        public var employee: Int32
        public var seq: UInt64
        public var recordedAt: Int64
        public var receivedOn: CivilDate
        /// The date of its `occurred_at`.
        public var filedOn: CivilDate
        /// The score objected to, when it is known.
        public var score: ScoreReference?
        /// The score or correction objected to.
        public var scoreEvent: EventID
        public var decision: Decision?
    }

    public struct Decision: Sendable {
        public var id: EventID
        public var seq: UInt64
        public var recordedAt: Int64
        public var outcome: ObjectionOutcome
    }

    /// What an employee's record holds for a year.
    public struct Year: Sendable {
        public var year: Int
        /// The first `target.set` for the year.
        public var firstTarget: (id: EventID, seq: UInt64)?
        /// JP of `training.completed` with `completed_on` in the year, and those events.
        public var trainingHours: Double = 0
        public var trainingEvents: [EventID] = []
        /// Feedback for a period of the year: how many, and whether any from the supervisor.
        public var feedback = 0
        public var supervisorFeedback = false
        /// Activities (`activity.logged`) dated in each month of the year, in place (no buffer
        /// of its own: a daily log touches one cache line less).
        var activitiesByMonth = SIMD16<Int32>()
        /// Activities (`activity.logged`) dated in each month of the year, January first.
        public var activities: [Int32] { (0..<12).map { activitiesByMonth[$0] } }
        /// Activities dated in the year.
        public var activityCount: Int { Int(activitiesByMonth.wrappedSum()) }
        /// Whether training was recorded for the year (a history lists only those years).
        public var hasTraining: Bool { !trainingEvents.isEmpty }
    }

    public struct Employee: Sendable {
        public var nip: NIP
        /// In `seq` order.
        public var placements: [Placement] = []
        /// In the order first set.
        public var targets: [Target] = []
        /// One per period scored, in the order first scored.
        public var scores: [Score] = []
        public var years: [Year] = []

        /// The placement in effect on `date` among those folded and recorded before `seq`: the
        /// latest `effective_from` ≤ `date`, ties to the higher `seq`. With `seq`, the one in
        /// effect as an event at `seq` sees it, whatever a fold that reads placements first (a
        /// bounded replay's `Selection.Order.placementsThenStreams`) has folded since.
        public func placement(on date: CivilDate, before seq: UInt64 = .max) -> Placement? {
            var best: Placement?
            for placement in placements where placement.effectiveFrom <= date && placement.seq < seq {
                if let current = best, current.effectiveFrom > placement.effectiveFrom { continue }
                best = placement
            }
            return best
        }

        public func year(_ year: Int) -> Year? { yearIndex(year).map { years[$0] } }

        func yearIndex(_ year: Int) -> Int? {
            var index = 0
            while index < years.count {
                if years[index].year == year { return index }
                index += 1
            }
            return nil
        }

        public func score(_ period: Period) -> Score? { scores.first { $0.period == period } }

        public func target(year: Int, _ targetID: Int32) -> Target? { targets.first { $0.year == year && $0.targetID == targetID } }

        fileprivate mutating func withYear(_ year: Int, _ body: (inout Year) -> Void) {
            if let index = yearIndex(year) {
                body(&years[index])
            } else {
                years.append(Year(year: year))
                body(&years[years.count - 1])
            }
        }
    }

    public struct UnitRating: Sendable {
        public var unit: Int32
        public var year: Int
        public var rating: UnitRatingCode
        public var id: EventID
        public var seq: UInt64
    }

    /// What a score or correction sets: the score, and the `score.given` it goes back to.
    struct Scored: Sendable {
        var reference: ScoreReference
        /// In ``AppraisalState/givens``.
        var origin: Int32
    }

    /// Where a score or correction's period lives: the employee and the index of the score.
    public struct ScoreReference: Hashable, Sendable {
        public var employee: Int32
        public var score: Int32
    }

    public let rules: RuleBook
    /// Each rule set's start and predikat matrix, flat: a score's predikat without copying a rule set.
    private let matrices: [(from: CivilDate, predicates: [Predicate])]
    public private(set) var names = Names()
    public private(set) var texts = Texts()
    public private(set) var employees: [Employee] = []
    private var numbers = NumberTable()
    /// The employee of the last event folded: NIP (as a number; `UInt64.max`, which no NIP is,
    /// before any) and number.
    private var lastEmployee: (nip: UInt64, number: Int32) = (.max, 0)
    /// Every score and correction → the score it sets and the `score.given` it goes back to
    /// (one table, one lookup, slots of 32 bytes: two tables were 80 bytes an entry).
    private var scoredBy = IDTable<Scored>()
    /// Every `score.given`, as an origin (``Scored/origin`` is an index here).
    private var givens: [Origin] = []
    /// Every objection, in the order folded (a bounded replay's delivery order: an employee's in `seq` order).
    public private(set) var objections: [Objection] = []
    /// Every objection → its place in ``objections``.
    private var objectionIndex = IDTable<Int32>()
    /// The latest `unit.rated` of each unit and year, in the order first rated.
    public private(set) var unitRatings: [UnitRating] = []
    private var unitRatingIndex: [UInt64: Int32] = [:]
    /// The last event folded.
    public private(set) var seq: UInt64 = 0
    public private(set) var recordedAt = Int64.min

    public init(rules: RuleBook = .standard) {
        self.rules = rules
        matrices = rules.sets.map { set in
            (set.effectiveFrom, Rating.allCases.flatMap { results in Rating.allCases.map { set.predicate(results: results, behavior: $0) } })
        }
    }

    // MARK: The reducer

    /// Folds one recorded event.
    public mutating func apply(_ event: borrowing EventView) {
        seq = event.seq
        recordedAt = event.recordedAt
        // The type first: matching `event.data` copies the whole view's data (a memmove).
        if event.type == .unitRated, case .unitRated(let rating) = event.data {
            let unit = names.number(event.unit!)
            let fact = UnitRating(unit: unit, year: rating.period.year, rating: rating.rating, id: event.id, seq: event.seq)
            let key = UInt64(UInt32(bitPattern: unit)) << 32 | UInt64(UInt32(truncatingIfNeeded: rating.period.year))
            if let index = unitRatingIndex[key] {
                unitRatings[Int(index)] = fact
            } else {
                unitRatingIndex[key] = Int32(unitRatings.count)
                unitRatings.append(fact)
            }
            return
        }
        guard let nip = event.employee else { return }
        let number = self.number(nip)
        let index = Int(number)
        switch event.data {
        case .employeePlaced(let placed):
            let placement = Placement(
                name: names.number(placed.name), unit: names.number(placed.unit), position: names.number(placed.position),
                appraiser: placed.appraiser, effectiveFrom: placed.effectiveFrom, seq: event.seq, id: event.id)
            employees[index].placements.append(placement)
        case .targetSet(let set):
            let target = Target(
                year: set.period.year, targetID: names.number(set.targetID), kind: set.kind, plan: texts.append(set.plan),
                indicator: texts.append(set.indicator), value: set.value, unit: names.number(set.unit),
                alignedTo: set.alignedTo.map { AlignedTo(employee: $0.employee, targetID: names.number($0.targetID)) },
                events: [event.id], seq: event.seq,
                appraiserInEffect: employees[index].placement(on: event.occurredAt.localDate, before: event.seq)?.appraiser != nil)
            if let existing = employees[index].targets.firstIndex(where: { $0.year == target.year && $0.targetID == target.targetID }) {
                employees[index].targets[existing] = target
            } else {
                employees[index].targets.append(target)
            }
            let first = (id: event.id, seq: event.seq)
            employees[index].withYear(set.period.year) { year in
                if year.firstTarget == nil { year.firstTarget = first }
            }
        case .targetRevised(let revision):
            guard let targetID = names.existing(revision.targetID.bytes),
                let target = employees[index].targets.firstIndex(where: { $0.year == revision.period.year && $0.targetID == targetID })
            else { return }
            let plan = revision.plan.map { texts.append($0) }
            let indicator = revision.indicator.map { texts.append($0) }
            let quantity = revision.target.map { ($0.value, names.number($0.unit)) }
            let alignedTo = revision.alignedTo.map { $0.map { AlignedTo(employee: $0.employee, targetID: names.number($0.targetID)) } }
            if let plan { employees[index].targets[target].plan = plan }
            if let indicator { employees[index].targets[target].indicator = indicator }
            if let quantity { (employees[index].targets[target].value, employees[index].targets[target].unit) = quantity }
            if let alignedTo { employees[index].targets[target].alignedTo = alignedTo }
            employees[index].targets[target].events.append(event.id)
            employees[index].targets[target].seq = event.seq
        case .scoreGiven(let given):
            let actor = names.number(event.actor)
            let origin = Origin(actor: actor, event: event.id)
            var score = Score(
                period: given.period, resultsRating: given.resultsRating, behaviorRating: given.behaviorRating,
                predicate: predicate(given.period, given.resultsRating, given.behaviorRating), actor: actor,
                event: event.id, seq: event.seq, correction: nil, setBy: .scoreGiven, original: origin)
            let slot: Int
            if let existing = employees[index].scores.firstIndex(where: { $0.period == given.period }) {
                score.objection = employees[index].scores[existing].objection?.afterReplacement
                score.decision = employees[index].scores[existing].decision
                employees[index].scores[existing] = score
                slot = existing
            } else {
                employees[index].scores.append(score)
                slot = employees[index].scores.count - 1
            }
            givens.append(origin)
            scoredBy[event.id] = Scored(reference: ScoreReference(employee: number, score: Int32(slot)), origin: Int32(givens.count - 1))
        case .scoreCorrected(let correction):
            guard let scored = scoredBy[correction.corrects] else { return }
            scoredBy[event.id] = scored
            rescore(scored.reference, correction.resultsRating, correction.behaviorRating, event, origin: givens[Int(scored.origin)]) { score in
                score.correction = correction.basis
                score.objection = score.objection?.afterReplacement
            }
        case .objectionFiled(let filed):
            let reference = scoredBy[filed.score]?.reference
            objectionIndex[event.id] = Int32(objections.count)
            objections.append(Objection(
                id: event.id, employee: number, seq: event.seq, recordedAt: event.recordedAt, receivedOn: filed.receivedOn,
                filedOn: event.occurredAt.localDate, score: reference, scoreEvent: filed.score))
            if let reference { employees[Int(reference.employee)].scores[Int(reference.score)].objection = .pending }
        case .objectionDecided(let decision):
            guard let place = objectionIndex[decision.objection] else { return }
            objections[Int(place)].decision = Decision(id: event.id, seq: event.seq, recordedAt: event.recordedAt, outcome: decision.outcome)
            let objection = objections[Int(place)]
            guard let reference = objection.score, let origin = scoredBy[objection.scoreEvent].map({ givens[Int($0.origin)] }) else { return }
            employees[Int(reference.employee)].scores[Int(reference.score)].decision = event.id
            if let ratings = decision.ratings {
                rescore(reference, ratings.results, ratings.behavior, event, origin: origin) { $0.objection = .upheld }
            } else {
                employees[Int(reference.employee)].scores[Int(reference.score)].objection = .rejected
            }
        case .activityLogged(let activity):
            let month = activity.date.month - 1
            employees[index].withYear(activity.date.year) { year in year.activitiesByMonth[month] &+= 1 }
        case .feedbackGiven(let feedback):
            employees[index].withYear(feedback.period.year) { year in
                year.feedback += 1
                if feedback.relation == .supervisor { year.supervisorFeedback = true }
            }
        case .trainingCompleted(let training):
            let id = event.id
            employees[index].withYear(training.completedOn.year) { year in
                year.trainingHours += training.hours
                year.trainingEvents.append(id)
            }
        case .unitRated, .accessGranted, .accessRevoked:
            // A unit's or an identity's event: no employee's state changes (returned above).
            break
        }
    }

    /// Replaces the ratings of a score with those of `event` (a correction or an upheld decision).
    private mutating func rescore(
        _ reference: ScoreReference, _ results: Rating, _ behavior: Rating, _ event: borrowing EventView, origin: Origin, _ body: (inout Score) -> Void
    ) {
        var score = self.score(reference)
        score.resultsRating = results
        score.behaviorRating = behavior
        score.predicate = predicate(score.period, results, behavior)
        score.actor = names.number(event.actor)
        score.event = event.id
        score.seq = event.seq
        score.correction = nil
        score.setBy = event.type
        score.original = origin
        body(&score)
        employees[Int(reference.employee)].scores[Int(reference.score)] = score
    }

    /// Moves the state's position to `seq`, recorded at `recordedAt`, past events a bounded
    /// replay did not fold (``seq`` and ``recordedAt`` are then those of a full replay to there).
    public mutating func advance(to seq: UInt64, recordedAt: Int64) {
        self.seq = seq
        self.recordedAt = recordedAt
    }

    private mutating func number(_ nip: NIP) -> Int32 {
        // A bounded replay delivers one stream's events together: most events are the last one's
        // employee, whose slot in the number table need not be read again (a cache miss each).
        if nip.number == lastEmployee.nip { return lastEmployee.number }
        let number = numbers.number(nip.number, next: Int32(employees.count))
        if Int(number) == employees.count { employees.append(Employee(nip: nip)) }
        lastEmployee = (nip.number, number)
        return number
    }

    // MARK: Reading

    /// The predikat of `results` and `behavior` by the rules in force at the end of `period`.
    public func predicate(_ period: Period, _ results: Rating, _ behavior: Rating) -> Predicate {
        let end = period.lastDay
        let matrix = matrices.last { $0.from <= end } ?? matrices[0]
        return matrix.predicates[Self.index(results) * 3 + Self.index(behavior)]
    }

    private static func index(_ rating: Rating) -> Int {
        switch rating {
        case .aboveExpectation: 0
        case .meetsExpectation: 1
        case .belowExpectation: 2
        }
    }

    /// The number of `nip`, if any event about them was folded.
    public func employee(_ nip: NIP) -> Int32? { numbers.existing(nip.number) }

    public func employee(number: Int32) -> Employee { employees[Int(number)] }

    /// The record of `nip`, if any event about them was folded.
    public func record(_ nip: NIP) -> Employee? { numbers.existing(nip.number).map { employees[Int($0)] } }

    /// The placement of `nip` in effect on `date`, among those folded and recorded before `seq`
    /// (``Employee/placement(on:before:)``).
    public func placement(_ nip: NIP, on date: CivilDate, before seq: UInt64 = .max) -> Placement? {
        guard let number = numbers.existing(nip.number) else { return nil }
        return employees[Int(number)].placement(on: date, before: seq)
    }

    // Lookups by employee number that copy no record (a record's lists would be retained).

    /// The first `target.set` of `employee` for `year`.
    public func firstTarget(_ employee: Int32, year: Int) -> (id: EventID, seq: UInt64)? {
        guard let index = employees[Int(employee)].yearIndex(year) else { return nil }
        return employees[Int(employee)].years[index].firstTarget
    }

    /// The current score of `employee` for `period`.
    public func score(of employee: Int32, _ period: Period) -> Score? {
        employees[Int(employee)].scores.first { $0.period == period }
    }

    /// Whether `employee` (a number) has set the target `targetID` for `year`.
    public func hasTarget(_ employee: Int32, year: Int, _ targetID: Int32) -> Bool {
        employees[Int(employee)].targets.contains { $0.year == year && $0.targetID == targetID }
    }

    /// Whether `employee` received supervisor feedback for a period of `year`.
    public func hasSupervisorFeedback(_ employee: Int32, year: Int) -> Bool {
        guard let index = employees[Int(employee)].yearIndex(year) else { return false }
        return employees[Int(employee)].years[index].supervisorFeedback
    }

    /// The placement of `employee` (a number) in effect on `date` among those folded and
    /// recorded before `seq` (``Employee/placement(on:before:)``).
    public func placement(of employee: Int32, on date: CivilDate, before seq: UInt64 = .max) -> Placement? {
        employees[Int(employee)].placement(on: date, before: seq)
    }

    /// The score a score or correction sets (unknown: a correction of no score).
    public func scoreReference(of id: EventID) -> ScoreReference? { scoredBy[id]?.reference }

    public func score(_ reference: ScoreReference) -> Score { employees[Int(reference.employee)].scores[Int(reference.score)] }

    /// The period of the score a score or correction sets.
    public func period(of id: EventID) -> Period? { scoredBy[id].map { score($0.reference).period } }

    /// The objection `id`, if it was folded.
    public func objection(_ id: EventID) -> Objection? { objectionIndex[id].map { objections[Int($0)] } }

    /// The period of the score a correction corrects, an objection objects to or a decision
    /// decides on, if that score is known.
    public func correctedPeriod(_ event: borrowing EventView) -> Period? {
        switch event.data {
        case .scoreCorrected(let correction): period(of: correction.corrects)
        case .objectionFiled(let objection): period(of: objection.score)
        case .objectionDecided(let decision): objection(decision.objection).flatMap { $0.score }.map { score($0).period }
        default: nil
        }
    }

    /// The appraisal period `event` is about (PRODUCT §6): ``EventView/period``, or for a
    /// correction, an objection or a decision the period of the score it concerns.
    public func period(about event: borrowing EventView) -> Period? {
        event.period ?? correctedPeriod(event)
    }

    /// Each unit's members with an annual score for `year`: the employees whose placement in
    /// effect on 31 December is in the unit (what the distribution curve is judged on).
    public func members(year: Int) -> [Int32: [(employee: NIP, score: Score)]] {
        let period = Period(year: year)
        var byUnit: [Int32: [(employee: NIP, score: Score)]] = [:]
        for employee in employees {
            guard let unit = employee.placement(on: period.lastDay)?.unit, let score = employee.score(period) else { continue }
            byUnit[unit, default: []].append((employee.nip, score))
        }
        return byUnit
    }

    /// The target `targetID` (in place) of `employee` for `year`.
    public func target(of employee: Int32, year: Int, _ targetID: TextView) -> Target? {
        guard let name = names.existing(targetID.bytes) else { return nil }
        return employees[Int(employee)].target(year: year, name)
    }

    /// The latest rating of `unit` for `year`.
    public func unitRating(_ unit: Int32, year: Int) -> UnitRating? {
        unitRatingIndex[UInt64(UInt32(bitPattern: unit)) << 32 | UInt64(UInt32(truncatingIfNeeded: year))].map { unitRatings[Int($0)] }
    }

    /// The latest rating of the unit `code` for `year`.
    public func unitRating(_ code: String, year: Int) -> UnitRating? {
        names.existing(code).flatMap { unitRating($0, year: year) }
    }
}

extension RecordedEvent {
    /// Calls `body` with a view of this event's canonical bytes: how a decoded event (a test's,
    /// a peer's) is folded by the same reducer as a stored one.
    public func withView<R>(_ body: (borrowing EventView) throws -> R) rethrows -> R {
        let payload = PayloadCodec.encode(event)
        var stream = event.stream
        return try payload.withUnsafeBytes { payload in
            try stream.withUTF8 { streamBytes in
                let view = try! EventView(payload: payload, streamBytes: UnsafeRawBufferPointer(streamBytes), id: event.id, seq: seq, recordedAt: recordedAt)
                return try body(view)
            }
        }
    }
}
