import AccountabilityProjection
import KinerjaDemo
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import KinerjaSamples
import LedgerStore
import PropertyBased
import Testing

@Suite("Bounded replay: one unit's or employee's findings at a past point read only their streams")
struct BoundedReplayTests {
    /// The demo year (a transfer between units, appraisers and aligned-to targets in other
    /// units, objections, corrections), then daily logs recorded late: two days (no finding,
    /// but outside what a timely log is) and forty (a backdated entry).
    static func ledger(_ dir: TemporaryDirectory) throws -> (Ledger, DemoYear) {
        let sample = DemoYear(seed: 17, employees: 40)
        let ledger = try DemoLedger.build(sample, at: dir.child("demo"))
        let head = try ledger.head()
        let recordedDay = Timestamp(micros: head.recordedAt, offsetMinutes: 420).localDate
        var events: [Event] = []
        for (index, person) in sample.people.enumerated() where index % 9 == 4 && !person.targets.isEmpty {
            for late in [2, 40] {
                let day = CivilDate(daysSinceEpoch: recordedDay.daysSinceEpoch - late)
                guard day.year == sample.year else { continue }
                events.append(Event(
                    id: EventID(high: 0xB0B0, low: UInt64(index * 100 + late)), subject: .employee(person.nip), actor: .employee(person.nip),
                    occurredAt: try Timestamp.parse("\(day)T09:00:00+07:00").get(), reason: nil,
                    data: .activityLogged(Activity(date: day, targetID: person.targets[0], description: "Laporan", output: nil, evidence: nil))))
            }
        }
        let report = try ledger.append(NumberedSubmission.numbering(events))
        #expect(report.rejected.isEmpty && report.appended == events.count && !events.isEmpty)
        return (ledger, sample)
    }

    @Test("for random units, employees and past seqs, the bounded replay's findings are the full replay's, filtered")
    func model() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (ledger, sample) = try Self.ledger(dir)
        let head = try ledger.head().seq
        let units = Set(sample.people.map(\.unit)).sorted() + ["NOWHERE"]
        let full = try Reports.accountability(ledger, ReportRequest(), bounded: false)
        #expect(full.findings.contains { $0.code == .backdatedEntry && $0.message.hasPrefix("activity.logged") })
        var nonEmpty = 0
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(head)), Gen.int(in: 0..<(units.count + sample.people.count)), Gen.int(in: 0...3)) { seq, pick, extra in
            var request = ReportRequest()
            request.point = seq == Int(head) && extra == 0 ? .head : .seq(UInt64(seq))
            if pick < units.count { request.unit = units[pick] } else { request.employee = sample.people[pick - units.count].nip }
            if extra == 1 { request.year = sample.year }
            if extra == 2 && request.unit != nil { request.employee = sample.people[pick % sample.people.count].nip }
            let bounded = try! Reports.accountability(ledger, request, bounded: true)
            let replayed = try! Reports.accountability(ledger, request, bounded: false)
            #expect(bounded.position == replayed.position)
            #expect(bounded.findings == replayed.findings, "\(request.unit ?? request.employee!.text) at \(request.point)")
            if request.unit != nil {
                // The unit's members shared out among several replays, whatever the cores.
                for parts in [1, 2, 3] {
                    let shared = try! Reports.sharedAccountability(ledger, request, parts: parts)
                    #expect(shared?.position == replayed.position)
                    #expect(shared?.findings == replayed.findings, "\(request.unit!) at \(request.point) in \(parts) parts")
                    #expect(shared?.units == replayed.units)
                }
            }
            if !replayed.findings.isEmpty { nonEmpty += 1 }
        }
        #expect(nonEmpty >= 10, "most checks compare some findings")
        // Every unit at the head, rendered: the same bytes.
        for unit in units {
            var request = ReportRequest()
            request.unit = unit
            #expect(Reports.render(try Reports.accountability(ledger, request), .json) == Reports.render(try Reports.accountability(ledger, request, bounded: false), .json))
        }
    }

    /// The bytes from which a replay's copies of its records are on huge pages: the default, and
    /// 0 (the demo's selections are all below 2 MiB, so only then are they).
    static let hugePagesFrom = [2 << 20, 0]

    @Test("every unit's findings shared out among 1, 2 and 3 replays are the full replay's, at the head, after the unit ratings and before them, under each filter (the demo's transfer moves one employee between two of them); the copies on malloc's block and on huge pages", arguments: hugePagesFrom)
    func sharedEveryUnit(hugePagesFrom: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (ledger, sample) = try Self.ledger(dir)
        let head = try ledger.head().seq
        var ratings: [UInt64] = []
        try ledger.replayInPlace { event in
            if event.type == .unitRated { ratings.append(event.seq) }
        }
        #expect(!ratings.isEmpty, "the demo rates its units")
        // The head, just after the last unit rating (what the curve is judged on), just before the
        // first one, and halfway.
        let points: [PointInTime] = [.head, .seq(ratings.max()!), .seq(ratings.min()! - 1), .seq(head / 2)]
        var codes = Set<FindingCode>()
        for unit in Set(sample.people.map(\.unit)).sorted() {
            let member = sample.people.first { $0.unit == unit }!.nip
            for point in points {
                for filter in 0..<4 {
                    var request = ReportRequest()
                    request.unit = unit
                    request.point = point
                    switch filter {
                    case 1: request.year = sample.year
                    case 2: request.period = Period(year: sample.year, span: .quarter(4))
                    case 3: request.employee = member
                    default: break
                    }
                    let replayed = try Reports.accountability(ledger, request, bounded: false)
                    for parts in 1...3 {
                        let shared = try Reports.sharedAccountability(ledger, request, parts: parts, hugePagesFrom: hugePagesFrom)
                        #expect(shared?.position == replayed.position)
                        #expect(shared?.findings == replayed.findings, "\(unit) at \(point), filter \(filter), \(parts) parts")
                        #expect(shared?.units == replayed.units)
                    }
                    codes.formUnion(replayed.findings.map(\.code))
                }
            }
        }
        #expect(codes.contains(.distributionViolation), "the curve's findings are among those compared: \(codes)")
        #expect(codes.count >= 5, "\(codes)")
    }

    @Test("placements then streams: the events of the seq-order replay, every placement first in seq order, then each stream's other events together in seq order; Accountability folded either way finds the same, for a unit's selection, a share of it and an employee's; the copies on malloc's block and on huge pages", arguments: hugePagesFrom)
    func placementsThenStreams(hugePagesFrom: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (ledger, sample) = try Self.ledger(dir)
        let head = try ledger.head().seq
        var checkedPlacements = 0
        var comparedFindings = 0
        var selections: [Selection] = []
        for unit in Set(sample.people.map(\.unit)).sorted() {
            for share: (part: UInt64, of: UInt64)? in [nil, (0, 2), (1, 2)] {
                selections.append(Selection(unit: unit, skipsTimelyActivity: true, share: share))
            }
        }
        for (index, person) in sample.people.enumerated() where index % 5 == 0 {
            selections.append(Selection(employees: [person.nip], skipsTimelyActivity: true))
        }
        selections.append(Selection(employees: sample.people.prefix(7).map(\.nip), skipsTimelyActivity: true))
        for selection in selections {
            for point: PointInTime in [.head, .seq(head / 2)] {
                var inSeq: [UInt64] = []
                var seqFold = Accountability()
                let first = try ledger.replayInPlace(at: point, selecting: selection, related: Accountability.related) { event in
                    inSeq.append(event.seq)
                    seqFold.apply(event)
                }
                var grouped = selection
                grouped.order = .placementsThenStreams
                grouped.hugePagesFrom = hugePagesFrom
                var delivered: [(seq: UInt64, stream: String, placed: Bool)] = []
                var groupedFold = Accountability()
                let second = try ledger.replayInPlace(at: point, selecting: grouped, related: Accountability.related) { event in
                    delivered.append((event.seq, event.subject.stream, event.type == .employeePlaced))
                    groupedFold.apply(event)
                }
                #expect(first?.position == second?.position && first != nil)
                if let first {
                    seqFold.advance(to: first.position.seq, recordedAt: first.recordedAt)
                    groupedFold.advance(to: first.position.seq, recordedAt: first.recordedAt)
                }
                #expect(groupedFold.findings() == seqFold.findings(), "\(selection.unit ?? "employees") at \(point)")
                comparedFindings += seqFold.findings().count
                let unit = selection.unit ?? "employees"
                #expect(delivered.map(\.seq).sorted() == inSeq, "\(unit) at \(point): the same events")
                let placements = delivered.prefix { $0.placed }
                let rest = delivered.dropFirst(placements.count)
                #expect(rest.allSatisfy { !$0.placed })
                checkedPlacements += placements.count
                #expect(placements.map(\.seq) == placements.map(\.seq).sorted())
                var finished = Set<String>()
                var previous: (seq: UInt64, stream: String)?
                for event in rest {
                    if let previous, previous.stream == event.stream {
                        #expect(previous.seq < event.seq, "a stream's events in seq order")
                    } else {
                        #expect(finished.insert(event.stream).inserted, "a stream's events together: \(event.stream)")
                    }
                    previous = (event.seq, event.stream)
                }
            }
        }
        #expect(checkedPlacements > 0, "placements were among the events checked")
        #expect(comparedFindings > 0, "findings were among those compared")
    }

    @Test("the employees an event names for a bounded replay are named only in the types it decodes to ask")
    func relatedTypes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (ledger, _) = try Self.ledger(dir)
        var naming = Set<EventType>()
        try ledger.replayInPlace { event in
            if !Accountability.related(event).isEmpty { naming.insert(event.type) }
        }
        #expect(!naming.isEmpty)
        #expect(naming.isSubset(of: Accountability.relatedTypes), "\(naming)")
    }

    @Test("the ledger's tag index, built on the stack, is byte for byte the one its rule gave when it returned arrays")
    func tagIndexAsBefore() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do { _ = try Self.ledger(dir) }
        /// The rule `kinerja-placed-facts-2` as it was written, each tag an array; `timely`
        /// false leaves out its exception for daily logs recorded within a day.
        func rule(timely: Bool) -> TagRule {
            TagRule(name: "kinerja-placed-facts-2") { record in
                guard let employee = NIP(employeeStream: record.streamBytes), let type = PayloadCodec.type(of: record.payload) else { return [] }
                let facts = [UInt8(ascii: "f")] + withUnsafeBytes(of: employee.number.bigEndian, Array.init)
                switch type {
                case .employeePlaced:
                    guard let view = try? EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id)),
                        case .employeePlaced(let placed) = view.data
                    else { return [] }
                    return [[UInt8(ascii: "p")] + Array(placed.unit.bytes), facts]
                case .activityLogged:
                    guard let occurredAt = PayloadCodec.occurredAt(of: record.payload), record.recordedAt - occurredAt > Timestamp.microsPerDay || !timely else { return [] }
                    return [facts]
                default:
                    return [facts]
                }
            }
        }
        var options = StoreOptions()
        options.tagRule = rule(timely: true)
        do {
            let store = try Store.open(at: dir.child("demo"), options: options)
            #expect(try store.verifyTags() == nil)
            let verified = try store.verifyAll(tags: true, tree: false) { try PayloadCodec.canonicalKeys($0.payload, streamBytes: $0.streamBytes, id: EventID($0.id)) }
            guard case .intact = verified.records else {
                Issue.record("the demo ledger does not verify: \(verified.records)")
                return
            }
            #expect(verified.tags == nil)
        }
        // The check tells the rules apart: the demo's daily logs are recorded within the day, the
        // late ones two and forty days after.
        options.tagRule = rule(timely: false)
        let store = try Store.open(at: dir.child("demo"), options: options)
        #expect(try store.verifyTags() != nil)
    }

    @Test("the bounded replay reads the unit's members' facts, not the ledger, and includes late daily logs")
    func readsLess() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (ledger, sample) = try Self.ledger(dir)
        var all = 0
        try ledger.replayInPlace { _ in all += 1 }
        let unit = sample.people[4].unit
        var read: [UInt64] = []
        var lateLogs = 0
        let result = try ledger.replayInPlace(at: .head, selecting: Selection(unit: unit, skipsTimelyActivity: true), related: Accountability.related) { event in
            read.append(event.seq)
            if event.type == .activityLogged {
                lateLogs += 1
                #expect(event.recordedAt - event.occurredAt.micros > Timestamp.microsPerDay, "only late daily logs")
            }
        }
        #expect(result != nil)
        #expect(read == read.sorted() && Set(read).count == read.count)
        #expect(read.count * 5 < all, "\(read.count) of \(all)")
        #expect(lateLogs >= 1)
    }
}

@Suite("Bounded replay: placements read as recorded before the event judged, though folded first")
struct BackdatedPlacementTests {
    static let a = NIP(unchecked: "198001012005011001")
    static let b = NIP(unchecked: "197501012000011002")
    static let c = NIP(unchecked: "197001011995011003")
    static let d = NIP(unchecked: "197201011997011004")
    static let e = NIP(unchecked: "199001012015011005")
    static let f = NIP(unchecked: "199201012017011006")

    /// A ledger where placements recorded later, backdated to the year's start, would change
    /// how earlier-recorded events are judged, were they read as a bounded replay folds them
    /// (every placement first):
    /// - A's second placement (appraiser D) would make B, who decided E's objection and
    ///   corrected E's score as A's appraiser, not the appraiser's appraiser
    ///   (`objection_decider`, `correction_authority`; A's placement as the judge reads it);
    /// - E's second placement (appraiser C) would make A's score an `appraiser_mismatch`, and
    ///   B no longer E's appraiser's appraiser (E's placement as the judge reads it);
    /// - F's placement, recorded after F's target though effective before it, would make the
    ///   target an `unaligned_target` (a target set with no appraiser in effect is not one).
    /// E's own target, set with A in effect and aligned to nothing, is one.
    static func ledger(_ dir: TemporaryDirectory) throws -> Ledger {
        let ledger = try Ledger.create(at: dir.child("ledger"))
        var script = Script()
        script.place(a, appraiser: b)
        script.place(b, appraiser: c)
        script.place(e, appraiser: a)
        script.target(e, aligned: nil, by: a)
        script.target(f, aligned: nil, by: f)
        let q1 = script.score(e, "2026-Q1", by: a.text)
        let objection = script.object(e, q1, received: "2026-04-06", at: "2026-04-07T09:00:00+07:00")
        script.decide(e, objection, by: b, at: "2026-04-10T10:00:00+07:00")
        let q2 = script.score(e, "2026-Q2", by: a.text, at: "2026-07-05T10:00:00+07:00")
        script.correct(e, q2, by: b, at: "2026-07-10T10:00:00+07:00")
        script.place(a, appraiser: d, at: "2026-08-01T08:00:00+07:00")
        script.place(e, appraiser: c, at: "2026-08-02T08:00:00+07:00")
        script.place(f, appraiser: a, at: "2026-08-03T08:00:00+07:00")
        let report = try ledger.append(NumberedSubmission.numbering(script.events.map(\.event)))
        #expect(report.rejected.isEmpty && report.appended == script.events.count, "\(report.rejected)")
        return ledger
    }

    @Test("a placement recorded after an event, backdated before it, changes no finding about it: the bounded replays' findings are the full replay's at every seq, in 1, 2 and 3 parts")
    func backdated() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ledger = try Self.ledger(dir)
        let head = try ledger.head().seq
        for seq in 1...head {
            let point: PointInTime = seq == head ? .head : .seq(seq)
            var unit = ReportRequest()
            unit.unit = "DINKES"
            unit.point = point
            let replayed = try Reports.accountability(ledger, unit, bounded: false)
            for parts in 1...3 {
                let shared = try #require(try Reports.sharedAccountability(ledger, unit, parts: parts))
                #expect(shared.position == replayed.position)
                #expect(shared.findings == replayed.findings, "at \(seq) in \(parts) parts")
            }
            for nip in [Self.a, Self.e, Self.f] {
                var one = ReportRequest()
                one.employee = nip
                one.point = point
                #expect(try Reports.accountability(ledger, one, bounded: true).findings == Reports.accountability(ledger, one, bounded: false).findings,
                        "\(nip.text) at \(seq)")
            }
        }
        var request = ReportRequest()
        request.unit = "DINKES"
        for report in [try Reports.accountability(ledger, request, bounded: false), try #require(try Reports.sharedAccountability(ledger, request, parts: 2))] {
            let codes = Set(report.findings.map(\.code))
            #expect(!codes.contains(.objectionDecider) && !codes.contains(.correctionAuthority) && !codes.contains(.appraiserMismatch), "\(report.findings)")
            let unaligned = report.findings.filter { $0.code == .unalignedTarget }.map(\.subject)
            #expect(unaligned == [.employee(Self.e)], "E's target is unaligned with A in effect; F had no placement recorded when F's was set")
        }
    }
}
