import KinerjaDomain

/// A realistic appraisal year of one regional government (Pemerintah Kota), deterministic for a
/// seed: a regional secretary, agencies (education, health, communications, planning), division
/// heads and staff; placements, targets cascaded from each appraiser's targets, supervisor, peer
/// and public-survey feedback, quarterly and annual scores, trainings, unit ratings, a mid-year
/// transfer, the daily performance log (kinerja harian) of most employees on most working days,
/// objections (one upheld by the appraiser's appraiser, one rejected, one filed late and decided
/// late by the wrong person, one never decided), and a few process violations of the kinds
/// inspectors look for.
///
/// Each event comes with the instant the ledger records it (`recordAt`): the end of the working
/// day it was entered, so that a demo ledger's `recorded_at` follow the year as it happened.
public struct DemoYear: Sendable {
    public struct Item: Sendable {
        public var event: Event
        /// Microseconds since the epoch: when the ledger records it.
        public var recordAt: Int64
    }

    public struct Person: Sendable {
        public var nip: NIP
        public var name: String
        public var unit: String
        public var position: String
        public var appraiser: NIP?
        public var targets: [String] = []
    }

    public let year: Int
    public private(set) var people: [Person] = []
    /// In the order the ledger records them.
    public private(set) var items: [Item] = []

    static let agencies: [(code: String, head: String, division: String, staff: [String])] = [
        ("DISDIK", "Kepala Dinas Pendidikan", "Kepala Bidang Pendidikan Dasar", ["Analis Kurikulum", "Pengawas Sekolah", "Pranata Keuangan"]),
        ("DINKES", "Kepala Dinas Kesehatan", "Kepala Bidang Pelayanan Kesehatan", ["Epidemiolog", "Perawat Ahli", "Analis Kebijakan"]),
        ("DISKOMINFO", "Kepala Dinas Komunikasi dan Informatika", "Kepala Bidang Aplikasi Informatika", ["Pranata Komputer", "Pranata Humas", "Analis Data"]),
        ("BAPPEDA", "Kepala Badan Perencanaan Pembangunan Daerah", "Kepala Bidang Perencanaan Ekonomi", ["Perencana Ahli", "Analis Anggaran", "Statistisi"]),
    ]
    static let firstNames = ["Agus", "Ayu", "Bambang", "Dewi", "Dian", "Eko", "Fajar", "Fitri", "Hendra", "Indah", "Joko", "Kartika", "Lestari", "Made", "Nur", "Putu",
                             "Rahmat", "Rina", "Sari", "Siti", "Teguh", "Wahyu", "Wulan", "Yusuf"]
    static let lastNames = ["Pratama", "Wijaya", "Saputra", "Rahmawati", "Hidayat", "Kusuma", "Nugroho", "Siregar", "Lubis", "Harahap", "Setiawan", "Susanti",
                            "Hakim", "Permana", "Utami", "Wibowo"]

    /// Who appraises the regional secretary: the mayor, not an ASN, so a system identifier.
    static let mayor = "kepala-daerah:walikota"

    private var random: SeededRandom
    private var pending: [Item] = []
    /// The NIPs given to these people, and those excluded.
    public private(set) var usedNIPs: Set<String> = []

    /// - Parameters:
    ///   - employees: how many people (at least 8: the secretary, agency heads, a division each).
    ///   - excludingNIPs: NIPs none of these people may have (another year's people, when several
    ///     are recorded into one ledger); none changes nothing.
    public init(seed: UInt64 = 1, employees: Int = 48, year: Int = 2026, excludingNIPs: Set<String> = []) {
        self.year = year
        random = SeededRandom(seed: seed)
        usedNIPs = excludingNIPs
        buildOrganisation(max(8, employees))
        generate()
        // The ledger records in order of entry; events entered the same day keep their order.
        items = pending.enumerated().sorted { ($0.element.recordAt, $0.offset) < ($1.element.recordAt, $1.offset) }.map(\.element)
        pending = []
    }

    // MARK: The organisation

    private mutating func newNIP(birthYear: Int) -> NIP {
        while true {
            let month = Int.random(in: 1...12, using: &random)
            let text = String(birthYear) + two(month) + two(Int.random(in: 1...28, using: &random))
                + String(birthYear + Int.random(in: 23...27, using: &random)) + two(Int.random(in: 1...12, using: &random))
                + String(Int.random(in: 1...2, using: &random)) + three(Int.random(in: 1...999, using: &random))
            if usedNIPs.insert(text).inserted { return NIP(unchecked: text) }
        }
    }

    private mutating func hire(unit: String, position: String, appraiser: NIP?, birthYears: ClosedRange<Int>) -> Int {
        let name = Self.firstNames.randomElement(using: &random)! + " " + Self.lastNames.randomElement(using: &random)!
        people.append(Person(nip: newNIP(birthYear: Int.random(in: birthYears, using: &random)), name: name, unit: unit, position: position, appraiser: appraiser))
        return people.count - 1
    }

    private mutating func buildOrganisation(_ total: Int) {
        let secretary = hire(unit: "SETDA", position: "Sekretaris Daerah", appraiser: nil, birthYears: 1966...1970)
        let agencies = Self.agencies.prefix(total >= 12 ? 4 : 3)
        var heads: [Int] = []
        for agency in agencies {
            heads.append(hire(unit: agency.code, position: agency.head, appraiser: people[secretary].nip, birthYears: 1968...1976))
        }
        let remaining = total - people.count
        let divisionsPerAgency = max(1, remaining / (agencies.count * 9))
        var divisions: [(head: Int, agency: Int)] = []
        for (index, agency) in agencies.enumerated() {
            for _ in 0..<divisionsPerAgency where people.count < total {
                divisions.append((hire(unit: agency.code, position: agency.division, appraiser: people[heads[index]].nip, birthYears: 1972...1982), index))
            }
        }
        var next = 0
        while people.count < total {
            let division = divisions[next % divisions.count]
            let titles = agencies[agencies.startIndex + division.agency].staff
            _ = hire(unit: people[division.head].unit, position: titles.randomElement(using: &random)!, appraiser: people[division.head].nip, birthYears: 1980...1998)
            next += 1
        }
    }

    // MARK: Time

    /// `month`/`day` of the year (or the next) at `hour` in Jakarta (UTC+7).
    private func at(_ month: Int, _ day: Int, hour: Int = 9, nextYear: Bool = false) -> Timestamp {
        let date = CivilDate(year: year + (nextYear ? 1 : 0), month: month, day: day)!
        return Timestamp(micros: (Int64(date.daysSinceEpoch) * 24 + Int64(hour - 7)) * 3_600_000_000, offsetMinutes: 420)
    }

    private mutating func jitter(_ timestamp: Timestamp, days: ClosedRange<Int> = 0...3) -> Timestamp {
        var moved = timestamp
        moved.micros += Int64(Int.random(in: days, using: &random)) * Timestamp.microsPerDay + Int64(Int.random(in: 0...420, using: &random)) * 60_000_000
        return moved
    }

    /// A version 7 UUID (RFC 9562): the milliseconds of `instant`, then seeded random bits. Ids
    /// made the same day sit together in the id index, as an agency's system would make them.
    private mutating func id(at instant: Timestamp) -> EventID {
        let millis = UInt64(bitPattern: instant.micros / 1000) & 0xFFFF_FFFF_FFFF
        return EventID(high: millis << 16 | 0x7000 | (random.next() & 0x0FFF), low: (random.next() & ~(0b11 << 62)) | (0b10 << 62))
    }

    /// Records the event at the end of the day it occurred (17:00 Jakarta), or `delayDays` later.
    private mutating func emit(_ subject: Subject, _ actorText: String, _ occurredAt: Timestamp, reason: String? = nil, delayDays: Int = 0, _ data: EventData) -> EventID {
        let eventID = id(at: occurredAt)
        let day = occurredAt.localDate.daysSinceEpoch + delayDays
        let recordAt = (Int64(day) * 24 + 10) * 3_600_000_000
        guard let actor = Actor(actorText) else { preconditionFailure("the demo's actor \(actorText) is not an actor") }
        pending.append(Item(event: Event(id: eventID, subject: subject, actor: actor, occurredAt: occurredAt, reason: reason, data: data), recordAt: recordAt))
        return eventID
    }

    // MARK: The year

    private mutating func rating(good: Int) -> Rating {
        let roll = Int.random(in: 0..<100, using: &random)
        return roll < good / 4 ? .aboveExpectation : roll < good ? .meetsExpectation : .belowExpectation
    }

    private mutating func generate() {
        let byNIP = Dictionary(uniqueKeysWithValues: people.indices.map { (people[$0].nip, $0) })
        func personWith(_ nip: NIP?) -> Person? { nip.flatMap { byNIP[$0] }.map { people[$0] } }
        let staff = people.indices.filter { people[$0].position != "Sekretaris Daerah" && !people[$0].position.hasPrefix("Kepala") }
        // The people the violations and special cases happen to (when the organisation is big enough).
        let transferred = staff.first { people[$0].unit == "DINKES" }
        let objector = staff.dropFirst(1).first
        let noFeedback = staff.dropFirst(2).first
        let unaligned = staff.dropFirst(3).first
        let noAnnual = staff.dropFirst(4).first
        let wrongScorer = staff.dropFirst(5).first
        let lateTraining = staff.dropFirst(6).first
        let wrongAuthority = staff.dropFirst(7).first
        let rejectedObjector = staff.dropFirst(8).first
        let lateObjector = staff.dropFirst(9).first
        let undecidedObjector = staff.dropFirst(10).first
        let brokenAlignment = staff.dropFirst(11).first

        // Placements, effective 1 January.
        for person in people {
            _ = emit(.employee(person.nip), "hr:bkpsdm", jitter(at(1, 2), days: 0...1),
                     .employeePlaced(Placement(name: person.name, unit: person.unit, position: person.position, appraiser: person.appraiser,
                                               effectiveFrom: CivilDate(year: year, month: 1, day: 1)!)))
        }
        // Targets (SKP), cascading down: the secretary first, then heads, divisions, staff.
        let levels = [people.indices.filter { people[$0].appraiser == nil }, people.indices.filter { people[$0].position.hasPrefix("Kepala Dinas") || people[$0].position.hasPrefix("Kepala Badan") },
                      people.indices.filter { people[$0].position.hasPrefix("Kepala Bidang") }, staff]
        for (level, members) in levels.enumerated() {
            for index in members {
                let person = people[index]
                let superior = personWith(person.appraiser)
                for number in 1...Int.random(in: 2...3, using: &random) {
                    let targetID = "SKP-\(year)-\(number)"
                    people[index].targets.append(targetID)
                    // One target names a target its appraiser never set (alignment_broken).
                    let alignedTo = index == brokenAlignment && number == 2 ? "SKP-\(year)-9" : superior?.targets[(number - 1) % superior!.targets.count]
                    let aligned = index == unaligned || superior == nil ? nil : Alignment(employee: superior!.nip, targetID: alignedTo!)
                    _ = emit(.employee(person.nip), person.appraiser?.text ?? person.nip.text, jitter(at(1, 6 + level * 4)),
                             .targetSet(TargetSet(period: Period(year: year), targetID: targetID, kind: number == 1 ? .main : .additional,
                                                  plan: "Rencana hasil kerja \(number) \(person.position)", indicator: "Persentase capaian indikator \(number) \(person.unit)",
                                                  target: TargetQuantity(value: Double([80, 90, 95, 100].randomElement(using: &random)!), unit: "persen"), alignedTo: aligned)))
                }
            }
        }
        // A revision mid-year for some.
        for index in staff where Int.random(in: 0..<10, using: &random) == 0 {
            let person = people[index]
            _ = emit(.employee(person.nip), person.appraiser!.text, jitter(at(7, 8)), reason: "Penyesuaian target setelah evaluasi semester I",
                     .targetRevised(TargetRevision(period: Period(year: year), targetID: person.targets[0], target: TargetQuantity(value: 85, unit: "persen"))))
        }
        // The transfer: from health to communications on 1 July, with a new appraiser.
        let appraiserBeforeTransfer = transferred.flatMap { people[$0].appraiser }
        if let transferred, let newDivision = people.indices.first(where: { people[$0].unit == "DISKOMINFO" && people[$0].position.hasPrefix("Kepala Bidang") }) {
            people[transferred].unit = "DISKOMINFO"
            people[transferred].position = "Pranata Komputer"
            people[transferred].appraiser = people[newDivision].nip
            let person = people[transferred]
            _ = emit(.employee(person.nip), "hr:bkpsdm", at(6, 26),
                     .employeePlaced(Placement(name: person.name, unit: person.unit, position: person.position, appraiser: person.appraiser,
                                               effectiveFrom: CivilDate(year: year, month: 7, day: 1)!)))
        }
        // Quarters: supervisor feedback, then the quarterly score; peer and public feedback.
        let objectors: Set<Int?> = [rejectedObjector, lateObjector, undecidedObjector]
        var quarterScores: [Int: [Int: (id: EventID, at: Timestamp)]] = [:]  // of the objectors
        for quarter in 1...4 {
            let end = quarter * 3
            for index in people.indices {
                let person = people[index]
                // The regional secretary is appraised by the mayor, who is not an ASN.
                let appraiser = index == transferred && quarter <= 2 ? appraiserBeforeTransfer : person.appraiser
                let appraiserID = appraiser?.text ?? Self.mayor
                let period = Period(year: year, span: .quarter(quarter))
                if index != noFeedback {
                    _ = emit(.employee(person.nip), appraiserID, jitter(at(end, 15)),
                             .feedbackGiven(Feedback(period: period, relation: .supervisor, aspect: CoreValue.allCases.randomElement(using: &random),
                                                     topic: person.targets.first, text: "Capaian triwulan \(quarter) sesuai rencana; perkuat dokumentasi bukti dukung.")))
                }
                if Int.random(in: 0..<4, using: &random) == 0, let peer = people.first(where: { $0.unit == person.unit && $0.nip != person.nip }) {
                    _ = emit(.employee(person.nip), peer.nip.text, jitter(at(end, 18)),
                             .feedbackGiven(Feedback(period: period, relation: .peer, aspect: .collaborative, topic: nil, text: "Kerja sama tim berjalan baik.")))
                }
                if quarter % 2 == 0, person.unit == "DINKES" || person.unit == "DISDIK" {
                    _ = emit(.employee(person.nip), "survey:skm-\(year)-q\(quarter)", jitter(at(end, 20)),
                             .feedbackGiven(Feedback(period: period, relation: .public, aspect: .serviceOriented, topic: nil, text: "Survei kepuasan masyarakat: pelayanan cepat dan ramah.")))
                }
                let overstepping = index == wrongScorer && quarter == 2 ? personWith(appraiser)?.appraiser : nil
                let ratings = index == noFeedback && quarter == 1 ? (Rating.belowExpectation, Rating.meetsExpectation) : (rating(good: 95), rating(good: 97))
                let scoredAt = jitter(quarter == 4 ? at(12, 22) : at(end + 1, 5))
                let score = emit(.employee(person.nip), overstepping?.text ?? appraiserID, scoredAt,
                                 .scoreGiven(ScoreGiven(period: period, resultsRating: ratings.0, behaviorRating: ratings.1, realizations: nil)))
                if objectors.contains(index) { quarterScores[index, default: [:]][quarter] = (score, scoredAt) }
            }
        }
        // Trainings: most complete 20 JP or more.
        for index in people.indices {
            let person = people[index]
            let courses = index % 9 == 4 ? 1 : Int.random(in: 2...3, using: &random)
            for course in 0..<courses {
                let month = Int.random(in: 2...11, using: &random)
                let occurred = jitter(at(month, 10))
                _ = emit(.employee(person.nip), "lms:bpsdm-prov", occurred, delayDays: index == lateTraining && course == 0 ? 45 : 0,
                         .trainingCompleted(Training(title: ["Kepemimpinan Pengawas", "Analisis Kebijakan Publik", "Manajemen ASN", "Literasi Digital", "Pelayanan Prima"].randomElement(using: &random)!,
                                                     provider: "BPSDM Provinsi", hours: Double([8, 12, 16, 24].randomElement(using: &random)!),
                                                     completedOn: occurred.localDate, certificate: "BPSDM/\(year)/\(three(Int.random(in: 1...999, using: &random)))")))
            }
        }
        logActivities()
        // The units' ratings are known from the performance evaluation (SAKIP); appraisers
        // spread their annual scores to fit the distribution curve, except in one unit where
        // everybody is "good".
        let units = Set(people.map(\.unit)).subtracting(["SETDA"]).sorted()
        var unitRatings: [String: UnitRatingCode] = [:]
        for (number, unit) in units.enumerated() { unitRatings[unit] = number % 3 == 1 ? .outstanding : .good }
        let inflated = units.first
        var annualRatings: [Int: (Rating, Rating)] = [:]
        for unit in units {
            var members = people.indices.filter { people[$0].unit == unit && $0 != noAnnual }
            members.shuffle(using: &random)
            let veryGood = (members.count * 2 + 9) / 10
            let low = unit == inflated ? 0 : max(1, members.count * 15 / 100)
            for (rank, index) in members.enumerated() {
                annualRatings[index] = rank < veryGood && unit != inflated ? (.aboveExpectation, .aboveExpectation)
                    : rank >= members.count - low ? (.belowExpectation, .meetsExpectation) : (.meetsExpectation, .meetsExpectation)
            }
        }
        // Annual scores, in the last week of December.
        var annualScores: [Int: EventID] = [:]
        for index in people.indices where index != noAnnual {
            let person = people[index]
            let ratings = index == objector ? (Rating.belowExpectation, Rating.meetsExpectation) : annualRatings[index] ?? (.meetsExpectation, .aboveExpectation)
            annualScores[index] = emit(.employee(person.nip), person.appraiser?.text ?? Self.mayor, jitter(at(12, 27), days: 0...2),
                                       .scoreGiven(ScoreGiven(period: Period(year: year), resultsRating: ratings.0, behaviorRating: ratings.1, realizations: nil)))
        }
        // Objections (keberatan), decided by the appraiser's appraiser unless said otherwise.
        func object(_ index: Int?, to score: (id: EventID, at: Timestamp)?, receivedAfter days: Int, filedAfter filed: Int) -> (objection: EventID, filedAt: Timestamp, person: Person)? {
            guard let index, let score else { return nil }
            let person = people[index]
            let receivedOn = CivilDate(daysSinceEpoch: score.at.localDate.daysSinceEpoch + days)
            let filedAt = Timestamp(micros: (Int64(receivedOn.daysSinceEpoch + filed) * 24 + 1) * 3_600_000_000, offsetMinutes: 420)  // 08:00 in Jakarta
            let objection = emit(.employee(person.nip), person.nip.text, filedAt,
                                 .objectionFiled(ObjectionFiled(score: score.id, receivedOn: receivedOn, grounds: "Capaian dan bukti dukung belum dinilai sepenuhnya.")))
            return (objection, filedAt, person)
        }
        func decide(_ filed: (objection: EventID, filedAt: Timestamp, person: Person)?, after days: Int, upheld: Bool, byOwnAppraiser: Bool = false) {
            guard let filed, let appraiser = filed.person.appraiser, let decider = byOwnAppraiser ? appraiser : personWith(appraiser)?.appraiser else { return }
            var decidedAt = filed.filedAt
            decidedAt.micros += Int64(days) * Timestamp.microsPerDay + 2 * 3_600_000_000
            _ = emit(.employee(filed.person.nip), decider.text, decidedAt,
                     reason: upheld ? "Keberatan diterima: bukti capaian belum dinilai" : "Keberatan ditolak: penilaian sudah sesuai bukti dukung",
                     .objectionDecided(upheld ? ObjectionDecision(objection: filed.objection, outcome: .upheld, resultsRating: .meetsExpectation, behaviorRating: .meetsExpectation)
                                              : ObjectionDecision(objection: filed.objection, outcome: .rejected)))
        }
        // The annual score: upheld in time; then the appraiser corrects the decided score (decision_overridden).
        if let index = objector, let annual = annualScores[index], let appraiser = people[index].appraiser {
            let upheld = object(index, to: (annual, at(12, 30)), receivedAfter: 5, filedAfter: 2)
            decide(upheld, after: 6, upheld: true)
            _ = emit(.employee(people[index].nip), appraiser.text, at(1, 19, nextYear: true), reason: "Penyesuaian nilai setelah reviu internal",
                     .scoreCorrected(ScoreCorrection(corrects: annual, basis: .review, resultsRating: .belowExpectation, behaviorRating: .meetsExpectation)))
        }
        // A Q3 score: rejected in time. Another: filed 21 days after receipt, upheld 30 days later by the appraiser.
        decide(object(rejectedObjector, to: quarterScores[rejectedObjector ?? -1]?[3], receivedAfter: 1, filedAfter: 3), after: 7, upheld: false)
        decide(object(lateObjector, to: quarterScores[lateObjector ?? -1]?[3], receivedAfter: 1, filedAfter: 21), after: 30, upheld: true, byOwnAppraiser: true)
        // A Q4 score: never decided.
        _ = object(undecidedObjector, to: quarterScores[undecidedObjector ?? -1]?[4], receivedAfter: 1, filedAfter: 2)
        // An objection "upheld" by the appraiser themself, as a correction (correction_authority).
        if let index = wrongAuthority, let corrected = annualScores[index], let appraiser = people[index].appraiser {
            _ = emit(.employee(people[index].nip), appraiser.text, at(1, 12, nextYear: true), reason: "Keberatan pegawai diterima: bukti capaian triwulan IV belum dinilai",
                     .scoreCorrected(ScoreCorrection(corrects: corrected, basis: .objectionUpheld, resultsRating: .meetsExpectation, behaviorRating: .meetsExpectation)))
        }
        // A late hire in September: scored without targets, and for a quarter before the placement.
        if let division = people.indices.first(where: { people[$0].position.hasPrefix("Kepala Bidang") }) {
            let hired = hire(unit: people[division].unit, position: "Analis Kebijakan", appraiser: people[division].nip, birthYears: 1996...1999)
            let person = people[hired]
            _ = emit(.employee(person.nip), "hr:bkpsdm", at(8, 28),
                     .employeePlaced(Placement(name: person.name, unit: person.unit, position: person.position, appraiser: person.appraiser,
                                               effectiveFrom: CivilDate(year: year, month: 9, day: 1)!)))
            for quarter in [2, 4] {
                _ = emit(.employee(person.nip), person.appraiser!.text, at(12, 23),
                         .scoreGiven(ScoreGiven(period: Period(year: year, span: .quarter(quarter)), resultsRating: .meetsExpectation, behaviorRating: .meetsExpectation, realizations: nil)))
            }
        }
        // Unit ratings (predikat kinerja organisasi), in January.
        for unit in units {
            _ = emit(.unit(unit), "system:evaluasi-sakip", at(1, 20, nextYear: true), .unitRated(UnitRating(period: Period(year: year), rating: unitRatings[unit]!)))
        }
    }
}

extension DemoYear {
    static let activities = [
        "Menyusun laporan capaian kegiatan", "Rapat koordinasi dengan unit kerja", "Verifikasi data lapangan", "Menyiapkan bahan paparan pimpinan",
        "Melayani konsultasi masyarakat", "Memperbarui basis data layanan", "Menyusun nota dinas", "Monitoring dan evaluasi program",
    ]

    /// The daily performance log (kinerja harian): most employees, on most working days from
    /// February to the last week of December, log what they did toward one of their targets,
    /// with an output on some and evidence (bukti dukung) on fewer; each recorded that evening.
    private mutating func logActivities() {
        let first = CivilDate(year: year, month: 2, day: 2)!.daysSinceEpoch
        let last = CivilDate(year: year, month: 12, day: 23)!.daysSinceEpoch
        // One in twelve never logs; the others on 60 to 95 out of 100 working days.
        let diligence = people.indices.map { _ in Int.random(in: 0..<12, using: &random) == 0 ? 0 : Int.random(in: 60...95, using: &random) }
        for day in first...last {
            let weekday = (day + 4) % 7  // 1970-01-01 was a Thursday; 0 is Sunday
            guard weekday != 0, weekday != 6 else { continue }
            let date = CivilDate(daysSinceEpoch: day)
            for index in people.indices where !people[index].targets.isEmpty {
                guard Int.random(in: 0..<100, using: &random) < diligence[index] else { continue }
                let person = people[index]
                let roll = Int.random(in: 0..<12, using: &random)
                let occurredAt = Timestamp(micros: (Int64(day) * 24 + 8) * 3_600_000_000 + Int64(roll) * 300_000_000, offsetMinutes: 420)  // 15:00–16:00 in Jakarta
                _ = emit(.employee(person.nip), person.nip.text, occurredAt, .activityLogged(Activity(
                    date: date, targetID: person.targets[roll % person.targets.count], description: Self.activities[roll % Self.activities.count],
                    output: roll < 4 ? TargetQuantity(value: Double(roll + 1), unit: "dokumen") : nil,
                    evidence: roll < 2 ? "https://e-kinerja.example.go.id/bukti/\(index)-\(day)" : nil)))
            }
        }
    }
}

private func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
private func three(_ value: Int) -> String { value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : String(value) }
