import KinerjaDomain

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same sequence on
/// every machine, which `Random` from the standard library does not promise.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates a valid stream of appraisal events for one regional government: placements
/// first (a regional secretary, agency heads, staff), then targets, revisions, feedback,
/// scores, corrections, trainings and unit ratings in a plausible order. Every event is
/// valid against the ones before it, so the whole sequence appends without a rejection.
///
/// Deterministic for a seed: tests, benchmarks and samples can regenerate it exactly.
public struct SampleGenerator {
    public struct Employee: Sendable {
        public var nip: NIP
        public var name: String
        public var unit: String
        public var appraiser: NIP?
        public var targets: [String] = []
        public var scores: [EventID] = []
        /// Scores not yet objected to, and objections not yet decided (with `cycle`).
        public var unobjected: [EventID] = []
        public var undecided: [EventID] = []
    }

    public private(set) var employees: [Employee] = []
    public let units = ["SETDA", "DISDIK", "DINKES", "DISKOMINFO", "BAPPEDA", "DPMPTSP"]
    public private(set) var year: Int
    private var random: SeededRandom
    private var clock: Int64
    private var pendingPlacements: [Int]
    private var unitRated: Set<String> = []
    /// Whether objections and daily activity logs are mixed in (PRODUCT §7).
    private let cycle: Bool

    static let firstNames = ["Andi", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gita", "Hadi", "Indah", "Joko", "Kartika", "Lestari", "Made", "Nur", "Putu", "Rina", "Sari", "Teguh", "Wayan", "Yusuf"]
    static let lastNames = ["Pratama", "Wijaya", "Saputra", "Rahmawati", "Hidayat", "Kusuma", "Nugroho", "Siregar", "Lubis", "Harahap", "Sitompul", "Wibowo"]

    /// - Parameters:
    ///   - employees: how many employees (at least 2: the regional secretary and one more).
    ///   - year: the appraisal year the events fall in.
    ///   - cycle: mix in objections and daily activity logs (PRODUCT §7); without, the sequence
    ///     for a seed is what it was before they existed.
    public init(seed: UInt64, employees count: Int, year: Int = 2026, cycle: Bool = false) {
        self.cycle = cycle
        random = SeededRandom(seed: seed)
        self.year = year
        // 2 January, 08:00 in Jakarta (UTC+7).
        clock = Int64(CivilDate(year: year, month: 1, day: 2)!.daysSinceEpoch) * Timestamp.microsPerDay + 3_600_000_000
        var nips = Set<String>()
        for index in 0..<max(2, count) {
            var nip: NIP
            repeat {
                let birthYear = Int.random(in: 1965...1998, using: &random)
                let birth = pad4(birthYear) + pad2(Int.random(in: 1...12, using: &random)) + pad2(Int.random(in: 1...28, using: &random))
                let appointment = pad4(birthYear + Int.random(in: 22...26, using: &random)) + pad2(Int.random(in: 1...12, using: &random))
                let sequence = String(Int.random(in: 1...999, using: &random))
                let text = birth + appointment + String(Int.random(in: 1...2, using: &random)) + String(repeating: "0", count: 3 - sequence.count) + sequence
                nip = NIP(unchecked: text)
            } while !nips.insert(nip.text).inserted
            let unit: String
            let appraiser: NIP?
            if index == 0 {
                unit = "SETDA"
                appraiser = nil
            } else if index < units.count {
                unit = units[index]
                appraiser = employees[0].nip
            } else {
                let head = Int.random(in: 1..<min(units.count, index), using: &random)
                unit = employees[head].unit
                appraiser = employees[head].nip
            }
            let name = Self.firstNames.randomElement(using: &random)! + " " + Self.lastNames.randomElement(using: &random)!
            employees.append(Employee(nip: nip, name: name, unit: unit, appraiser: appraiser))
        }
        pendingPlacements = Array(0..<employees.count)
    }

    private mutating func makeID() -> EventID {
        // A version 4, variant 1 UUID from the seeded generator.
        let high = (random.next() & ~0xF000) | 0x4000
        let low = (random.next() & ~(0b11 << 62)) | (0b10 << 62)
        return EventID(high: high, low: low)
    }

    /// The next instant: 1 to 30 seconds on, so that a million events stay within their year
    /// (and before a ledger clock at the end of January of the next).
    private mutating func tick() -> Timestamp {
        clock += Int64.random(in: 1...30, using: &random) * 1_000_000
        return Timestamp(micros: clock, offsetMinutes: 7 * 60)
    }

    public mutating func events(_ count: Int) -> [Event] {
        (0..<count).map { _ in next() }
    }

    /// The next event of the sequence.
    public mutating func next() -> Event {
        if !pendingPlacements.isEmpty {
            let index = pendingPlacements.removeFirst()
            let employee = employees[index]
            return Event(
                id: makeID(), subject: .employee(employee.nip), actor: "hr:bkpsdm", occurredAt: tick(),
                data: .employeePlaced(Placement(
                    name: employee.name, unit: employee.unit, position: index == 0 ? "Sekretaris Daerah" : (employee.appraiser == employees[0].nip ? "Kepala Dinas" : "Analis"),
                    appraiser: employee.appraiser, effectiveFrom: CivilDate(year: year, month: 1, day: 1)!)))
        }
        let index = Int.random(in: 0..<employees.count, using: &random)
        let employee = employees[index]
        let subject = Subject.employee(employee.nip)
        let actor: Actor = employee.appraiser.map(Actor.employee) ?? "hr:bkpsdm"
        let period = Period(year: year)
        if cycle, let event = nextOfCycle(index) { return event }
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<25 where employee.targets.count < 60:
            let targetID = "RHK-\(employee.targets.count + 1)"
            employees[index].targets.append(targetID)
            var alignment: Alignment?
            if let appraiser = employee.appraiser, let superior = employees.first(where: { $0.nip == appraiser }), let aligned = superior.targets.first {
                alignment = Alignment(employee: appraiser, targetID: aligned)
            }
            return Event(
                id: makeID(), subject: subject, actor: actor, occurredAt: tick(),
                data: .targetSet(TargetSet(
                    period: period, targetID: targetID, kind: employee.targets.isEmpty ? .main : .additional,
                    plan: "Rencana hasil kerja \(targetID) \(employee.unit)", indicator: "Persentase capaian \(targetID)",
                    target: TargetQuantity(value: Double(Int.random(in: 1...100, using: &random)), unit: "persen"), alignedTo: alignment)))
        case 25..<32 where !employee.targets.isEmpty:
            let targetID = employee.targets.randomElement(using: &random)!
            return Event(
                id: makeID(), subject: subject, actor: actor, occurredAt: tick(), reason: "Penyesuaian target setelah evaluasi",
                data: .targetRevised(TargetRevision(period: period, targetID: targetID, target: TargetQuantity(value: Double(Int.random(in: 1...100, using: &random)), unit: "persen"))))
        case 32..<50:
            let quarter = Int.random(in: 0...4, using: &random)
            let scorePeriod = quarter == 0 ? period : Period(year: year, span: .quarter(quarter))
            let id = makeID()
            employees[index].scores.append(id)
            if cycle { employees[index].unobjected.append(id) }
            let realizations: [Realization]? = employee.targets.isEmpty ? nil : [Realization(targetID: employee.targets[0], value: Double(Int.random(in: 0...100, using: &random)), evidence: nil)]
            return Event(
                id: id, subject: subject, actor: actor, occurredAt: tick(),
                data: .scoreGiven(ScoreGiven(period: scorePeriod, resultsRating: Rating.allCases.randomElement(using: &random)!, behaviorRating: Rating.allCases.randomElement(using: &random)!, realizations: realizations)))
        case 50..<54 where !employee.scores.isEmpty:
            let corrected = employee.scores.randomElement(using: &random)!
            let id = makeID()
            employees[index].scores.append(id)
            if cycle { employees[index].unobjected.append(id) }
            return Event(
                id: id, subject: subject, actor: actor, occurredAt: tick(), reason: "Keberatan pegawai diterima setelah klarifikasi",
                data: .scoreCorrected(ScoreCorrection(corrects: corrected, basis: CorrectionBasis.allCases.randomElement(using: &random)!, resultsRating: Rating.allCases.randomElement(using: &random)!, behaviorRating: Rating.allCases.randomElement(using: &random)!)))
        case 54..<75:
            let relation = FeedbackRelation.allCases.randomElement(using: &random)!
            return Event(
                id: makeID(), subject: subject, actor: relation == .public ? .system("survey:skm-\(year)") : actor, occurredAt: tick(),
                data: .feedbackGiven(Feedback(period: Period(year: year, span: .quarter(Int.random(in: 1...4, using: &random))), relation: relation, aspect: CoreValue.allCases.randomElement(using: &random), topic: employee.targets.first, text: "Umpan balik atas capaian kinerja triwulan ini.")))
        case 75..<95:
            return Event(
                id: makeID(), subject: subject, actor: "lms:bpsdm", occurredAt: tick(),
                data: .trainingCompleted(Training(title: "Pelatihan Teknis \(Int.random(in: 1...40, using: &random))", provider: "BPSDM Provinsi", hours: Double(Int.random(in: 2...32, using: &random)), completedOn: CivilDate(year: year, month: Int.random(in: 1...12, using: &random), day: Int.random(in: 1...28, using: &random))!, certificate: nil)))
        default:
            let unit = units.randomElement(using: &random)!
            let rating = UnitRatingCode.allCases.randomElement(using: &random)!
            return Event(
                id: makeID(), subject: .unit(unit), actor: "system:evaluasi-sakip", occurredAt: tick(),
                data: .unitRated(UnitRating(period: period, rating: rating)))
        }
    }
}

extension SampleGenerator {
    /// An activity, an objection or a decision for employee `index`, or nil for one of the others.
    private mutating func nextOfCycle(_ index: Int) -> Event? {
        let employee = employees[index]
        let subject = Subject.employee(employee.nip)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<40 where !employee.targets.isEmpty:
            let occurred = tick()
            let output = Int.random(in: 0..<2, using: &random) == 0 ? nil : TargetQuantity(value: Double(Int.random(in: 1...5, using: &random)), unit: "dokumen")
            return Event(
                id: makeID(), subject: subject, actor: .employee(employee.nip), occurredAt: occurred,
                data: .activityLogged(Activity(
                    date: occurred.localDate, targetID: employee.targets.randomElement(using: &random)!, description: "Menyusun bahan capaian kinerja harian",
                    output: output, evidence: output == nil ? nil : "ND/\(year)/\(Int.random(in: 1...999, using: &random))")))
        case 40..<44 where !employee.unobjected.isEmpty:
            let score = employees[index].unobjected.removeFirst()
            let occurred = tick()
            let id = makeID()
            employees[index].undecided.append(id)
            return Event(
                id: id, subject: subject, actor: .employee(employee.nip), occurredAt: occurred,
                data: .objectionFiled(ObjectionFiled(score: score, receivedOn: occurred.localDate, grounds: "Capaian triwulan belum dinilai dengan bukti dukung terbaru.")))
        case 44..<48 where !employee.undecided.isEmpty:
            let objection = employees[index].undecided.removeFirst()
            let decider = employee.appraiser.flatMap { appraiser in employees.first { $0.nip == appraiser }?.appraiser } ?? employee.appraiser
            let upheld = Int.random(in: 0..<2, using: &random) == 0
            return Event(
                id: makeID(), subject: subject, actor: decider.map(Actor.employee) ?? "hr:bkpsdm", occurredAt: tick(), reason: upheld ? "Keberatan diterima" : "Keberatan ditolak",
                data: .objectionDecided(upheld
                    ? ObjectionDecision(objection: objection, outcome: .upheld, resultsRating: Rating.allCases.randomElement(using: &random)!, behaviorRating: Rating.allCases.randomElement(using: &random)!)
                    : ObjectionDecision(objection: objection, outcome: .rejected)))
        default:
            return nil
        }
    }
}

private func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
private func pad4(_ value: Int) -> String { String(value) }
