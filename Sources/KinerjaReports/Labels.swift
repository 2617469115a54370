import AccountabilityProjection
import AppraisalCore
import KinerjaDomain

/// The language of the labels a page or table shows people (PRODUCT §10: `--lang id|en`).
/// JSON and CSV keep the wire codes whatever the language.
public enum Language: String, CaseIterable, Sendable {
    /// Bahasa Indonesia: the default of the HTML pages.
    case id
    case en
}

/// Every text a report shows people, by what it names. Each language has one table of them
/// (``Labels/indonesian(_:)``, ``Labels/english(_:)``): a switch over this type, so a label
/// missing from either is a compile error, and no renderer spells a label of its own.
public enum Label: Hashable, Sendable {
    case predicate(Predicate)
    case rating(Rating)
    case unitRating(UnitRatingCode)
    case finding(FindingCode)
    case eventType(EventType)
    case relation(FeedbackRelation)
    case coreValue(CoreValue)
    case basis(CorrectionBasis)
    case outcome(ObjectionOutcome)
    case objectionState(AppraisalState.ObjectionState)
    case kind(TargetKind)
    case month(Int)
    case text(Text)

    /// Headings, column headers and the sentences around them.
    public enum Text: String, CaseIterable, Hashable, Sendable {
        case ledgerPosition, builtOn, employee, name, unit, position, appraiser, none, effectiveFrom, period, year
        case results, behaviour, predikat, actor, event, setBy, firstScoredBy, objection, scored, unitRating, holds, curve
        case yes, no, organisation, code, subject, message, count, seq, occurred, type, change, reason
        case scoresTitle, unitsTitle, accountabilityTitle, auditTitle, historyTitle, dossierTitle
        case placements, targets, target, plan, indicator, alignment, alignedTo, notAligned, alignmentBroken, realizations, revisions
        case activity, activityPerMonth, activities, feedback, relation, aspect, topic, text
        case scores, replaced, replacedBy, objections, received, filed, grounds, decision, decidedBy, undecided
        case training, title, provider, hours, completedOn, certificate, trainingAgainstMinimum, minimum, total, belowMinimum, meetsMinimum
        case findings, findingsByCode, findingsByUnit, noFindings, predikatOverTime, distributionAgainstCurve, breach, bound
        case rowsShown, rowsMore, state, after, nothing, page, atMost, atLeast, atLeastOne, stands, landingTitle, ownDossier, team, yourUnits, everything, scoresOfUnit
    }
}

/// The labels of one language: `labels[.predicate(.veryGood)]`, `labels.date(day)`.
public struct Labels: Sendable {
    public var language: Language

    public init(_ language: Language) { self.language = language }

    public subscript(_ label: Label) -> String {
        switch language {
        case .id: Self.indonesian(label)
        case .en: Self.english(label)
        }
    }

    public subscript(_ text: Label.Text) -> String { self[.text(text)] }

    /// A date as people of the language write it: `24 November 2026` (both read day, month, year).
    public func date(_ date: CivilDate) -> String { "\(date.day) \(self[.month(date.month)]) \(date.year)" }

    /// A period for people: `2026`, `Triwulan III 2026` / `Q3 2026`, `November 2026`.
    public func period(_ period: Period) -> String {
        switch period.span {
        case .year: String(period.year)
        case .quarter(let quarter):
            language == .id ? "Triwulan \(["I", "II", "III", "IV"][quarter - 1]) \(period.year)" : "Q\(quarter) \(period.year)"
        case .month(let month): "\(self[.month(month)]) \(period.year)"
        }
    }

    /// A rule of the distribution curve: `Baik paling banyak 70%`.
    public func rule(_ rule: CurveRule) -> String {
        let predicates = rule.predicates.map { self[.predicate($0)] }.joined(separator: " + ")
        switch rule.bound {
        case .atMost(let percent): return "\(predicates) \(self[.atMost]) \(percent)%"
        case .atLeast(let percent): return "\(predicates) \(self[.atLeast]) \(percent)%"
        case .atLeastOne: return "\(self[.atLeastOne]) \(predicates)"
        }
    }

    /// Hours or counts as the language writes decimals: `12,5` in Indonesian, `12.5` in English.
    public func number(_ value: Double) -> String {
        let text = value.plainText
        return language == .id ? text.replacingOccurrences(of: ".", with: ",") : text
    }

    // MARK: The Indonesian table

    public static func indonesian(_ label: Label) -> String {
        switch label {
        case .predicate(let predicate):
            switch predicate {
            case .veryGood: "Sangat Baik"
            case .good: "Baik"
            case .needsImprovement: "Butuh Perbaikan"
            case .poor: "Kurang/Misconduct"
            case .veryPoor: "Sangat Kurang"
            }
        case .rating(let rating):
            switch rating {
            case .aboveExpectation: "Di Atas Ekspektasi"
            case .meetsExpectation: "Sesuai Ekspektasi"
            case .belowExpectation: "Di Bawah Ekspektasi"
            }
        case .unitRating(let rating):
            switch rating {
            case .outstanding: "Istimewa"
            case .good: "Baik"
            case .needsImprovement: "Butuh Perbaikan"
            case .poor: "Kurang"
            case .veryPoor: "Sangat Kurang"
            }
        case .finding(let code):
            switch code {
            case .scoreWithoutTarget: "Nilai tanpa SKP"
            case .appraiserMismatch: "Penilai bukan pejabat penilai kinerja"
            case .noPlacement: "Nilai tanpa penempatan"
            case .selfAssessment: "Menilai diri sendiri"
            case .correctionAuthority: "Koreksi bukan oleh atasan pejabat penilai"
            case .lowScoreWithoutFeedback: "Nilai rendah tanpa umpan balik atasan"
            case .trainingBelowMinimum: "Pengembangan kompetensi di bawah 20 JP"
            case .unalignedTarget: "Target tanpa intervensi atasan"
            case .missingAnnualScore: "Nilai tahunan belum diberikan"
            case .backdatedEntry: "Pencatatan terlambat"
            case .distributionViolation: "Kurva distribusi tidak terpenuhi"
            case .objectionOutOfTime: "Keberatan melewati batas waktu"
            case .objectionDecider: "Keberatan diputus bukan oleh atasan pejabat penilai"
            case .objectionUndecided: "Keberatan belum diputus tepat waktu"
            case .decisionOverridden: "Keputusan keberatan diubah"
            case .alignmentBroken: "Intervensi ke target yang tidak ada"
            }
        case .eventType(let type):
            switch type {
            case .employeePlaced: "Penempatan"
            case .targetSet: "SKP ditetapkan"
            case .targetRevised: "SKP direvisi"
            case .scoreGiven: "Penilaian"
            case .scoreCorrected: "Koreksi nilai"
            case .feedbackGiven: "Umpan balik"
            case .trainingCompleted: "Pelatihan"
            case .unitRated: "Predikat unit"
            case .objectionFiled: "Keberatan diajukan"
            case .objectionDecided: "Keberatan diputus"
            case .activityLogged: "Kinerja harian"
            case .accessGranted: "Hak akses diberikan"
            case .accessRevoked: "Hak akses dicabut"
            }
        case .relation(let relation):
            switch relation {
            case .supervisor: "Atasan"
            case .peer: "Rekan kerja"
            case .subordinate: "Bawahan"
            case .self: "Diri sendiri"
            case .public: "Masyarakat"
            }
        case .coreValue(let value):
            switch value {
            case .serviceOriented: "Berorientasi Pelayanan"
            case .accountable: "Akuntabel"
            case .competent: "Kompeten"
            case .harmonious: "Harmonis"
            case .loyal: "Loyal"
            case .adaptive: "Adaptif"
            case .collaborative: "Kolaboratif"
            }
        case .basis(let basis):
            switch basis {
            case .objectionUpheld: "keberatan diterima"
            case .clericalError: "kesalahan administrasi"
            case .review: "peninjauan"
            }
        case .outcome(let outcome):
            switch outcome {
            case .upheld: "diterima"
            case .rejected: "ditolak"
            }
        case .objectionState(let state):
            switch state {
            case .pending: "menunggu keputusan"
            case .upheld: "diterima"
            case .rejected: "ditolak"
            case .overridden: "diputus, lalu diubah"
            }
        case .kind(let kind):
            switch kind {
            case .main: "utama"
            case .additional: "tambahan"
            }
        case .month(let month):
            ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"][month - 1]
        case .text(let text):
            switch text {
            case .ledgerPosition: "Posisi ledger"
            case .builtOn: "Disusun dari ledger pada"
            case .employee: "Pegawai"
            case .name: "Nama"
            case .unit: "Unit"
            case .position: "Jabatan"
            case .appraiser: "Pejabat Penilai Kinerja"
            case .none: "tidak ada"
            case .effectiveFrom: "Berlaku sejak"
            case .period: "Periode"
            case .year: "Tahun"
            case .results: "Hasil Kerja"
            case .behaviour: "Perilaku Kerja"
            case .predikat: "Predikat"
            case .actor: "Oleh"
            case .event: "Peristiwa"
            case .setBy: "Ditetapkan oleh"
            case .firstScoredBy: "Penilai awal"
            case .objection: "Keberatan"
            case .scored: "Dinilai"
            case .unitRating: "Predikat Unit"
            case .holds: "Sesuai kurva"
            case .curve: "Kurva distribusi"
            case .yes: "ya"
            case .no: "tidak"
            case .organisation: "Seluruh instansi"
            case .code: "Kode"
            case .subject: "Subjek"
            case .message: "Keterangan"
            case .count: "Jumlah"
            case .seq: "Seq"
            case .occurred: "Tanggal"
            case .type: "Jenis"
            case .change: "Perubahan"
            case .reason: "Alasan"
            case .scoresTitle: "Predikat Kinerja Pegawai"
            case .unitsTitle: "Monitoring Kurva Distribusi Predikat"
            case .accountabilityTitle: "Temuan Akuntabilitas"
            case .auditTitle: "Jejak Audit"
            case .historyTitle: "Riwayat Keputusan"
            case .dossierTitle: "Dosir Kinerja"
            case .placements: "Penempatan"
            case .targets: "Sasaran Kinerja Pegawai (SKP)"
            case .target: "Target"
            case .plan: "Rencana Hasil Kerja"
            case .indicator: "Indikator Kinerja Individu"
            case .alignment: "Intervensi"
            case .alignedTo: "diintervensi dari"
            case .notAligned: "tanpa intervensi"
            case .alignmentBroken: "target atasan tidak ada"
            case .realizations: "Realisasi"
            case .revisions: "Revisi"
            case .activity: "Kinerja harian"
            case .activityPerMonth: "Kinerja harian per bulan"
            case .activities: "kegiatan"
            case .feedback: "Umpan balik"
            case .relation: "Dari"
            case .aspect: "Aspek BerAKHLAK"
            case .topic: "Topik"
            case .text: "Isi"
            case .scores: "Penilaian per periode"
            case .replaced: "menggantikan"
            case .replacedBy: "digantikan oleh"
            case .objections: "Keberatan dan keputusan"
            case .received: "Hasil diterima"
            case .filed: "Diajukan"
            case .grounds: "Alasan keberatan"
            case .decision: "Keputusan"
            case .decidedBy: "Diputus oleh"
            case .undecided: "belum diputus"
            case .training: "Pengembangan kompetensi"
            case .title: "Judul"
            case .provider: "Penyelenggara"
            case .hours: "JP"
            case .completedOn: "Selesai"
            case .certificate: "Sertifikat"
            case .trainingAgainstMinimum: "Jam pelajaran (JP) terhadap batas minimal"
            case .minimum: "batas minimal"
            case .total: "Jumlah"
            case .belowMinimum: "di bawah batas minimal"
            case .meetsMinimum: "memenuhi batas minimal"
            case .findings: "Temuan"
            case .findingsByCode: "Temuan per jenis"
            case .findingsByUnit: "Temuan per unit"
            case .noFindings: "Tidak ada temuan."
            case .predikatOverTime: "Predikat per periode"
            case .distributionAgainstCurve: "Distribusi predikat terhadap batas kurva"
            case .breach: "melanggar"
            case .bound: "batas"
            case .rowsShown: "baris ditampilkan"
            case .rowsMore: "baris lain tidak ditampilkan: persempit dengan --unit, --employee, --period, atau gunakan --format csv"
            case .state: "Keadaan"
            case .after: "Setelahnya"
            case .nothing: "Tidak ada data."
            case .page: "Halaman"
            case .atMost: "paling banyak"
            case .atLeast: "paling sedikit"
            case .atLeastOne: "paling sedikit satu"
            case .stands: "yang berlaku"
            case .landingTitle: "Laporan Kinerja"
            case .ownDossier: "Dosir kinerja saya"
            case .team: "Pegawai yang saya nilai"
            case .yourUnits: "Unit yang saya kelola"
            case .everything: "Seluruh instansi"
            case .scoresOfUnit: "Predikat pegawai unit"
            }
        }
    }

    // MARK: The English table

    public static func english(_ label: Label) -> String {
        switch label {
        case .predicate(let predicate):
            switch predicate {
            case .veryGood: "Very good"
            case .good: "Good"
            case .needsImprovement: "Needs improvement"
            case .poor: "Poor (misconduct)"
            case .veryPoor: "Very poor"
            }
        case .rating(let rating):
            switch rating {
            case .aboveExpectation: "Above expectation"
            case .meetsExpectation: "Meets expectation"
            case .belowExpectation: "Below expectation"
            }
        case .unitRating(let rating):
            switch rating {
            case .outstanding: "Outstanding"
            case .good: "Good"
            case .needsImprovement: "Needs improvement"
            case .poor: "Poor"
            case .veryPoor: "Very poor"
            }
        case .finding(let code):
            switch code {
            case .scoreWithoutTarget: "Score without a target"
            case .appraiserMismatch: "Scored by someone other than the appraiser"
            case .noPlacement: "Score without a placement"
            case .selfAssessment: "Self-assessment"
            case .correctionAuthority: "Correction not by the appraiser's appraiser"
            case .lowScoreWithoutFeedback: "Low score without supervisor feedback"
            case .trainingBelowMinimum: "Training below 20 JP"
            case .unalignedTarget: "Target not aligned to the appraiser's"
            case .missingAnnualScore: "Annual score missing"
            case .backdatedEntry: "Backdated entry"
            case .distributionViolation: "Distribution curve not met"
            case .objectionOutOfTime: "Objection out of time"
            case .objectionDecider: "Objection decided by the wrong official"
            case .objectionUndecided: "Objection not decided in time"
            case .decisionOverridden: "Objection decision overridden"
            case .alignmentBroken: "Aligned to a target that does not exist"
            }
        case .eventType(let type):
            switch type {
            case .employeePlaced: "Placement"
            case .targetSet: "Target set"
            case .targetRevised: "Target revised"
            case .scoreGiven: "Score"
            case .scoreCorrected: "Score corrected"
            case .feedbackGiven: "Feedback"
            case .trainingCompleted: "Training"
            case .unitRated: "Unit rating"
            case .objectionFiled: "Objection filed"
            case .objectionDecided: "Objection decided"
            case .activityLogged: "Daily activity"
            case .accessGranted: "Access granted"
            case .accessRevoked: "Access revoked"
            }
        case .relation(let relation):
            switch relation {
            case .supervisor: "Supervisor"
            case .peer: "Peer"
            case .subordinate: "Subordinate"
            case .self: "Self"
            case .public: "Public"
            }
        case .coreValue(let value):
            switch value {
            case .serviceOriented: "Service oriented"
            case .accountable: "Accountable"
            case .competent: "Competent"
            case .harmonious: "Harmonious"
            case .loyal: "Loyal"
            case .adaptive: "Adaptive"
            case .collaborative: "Collaborative"
            }
        case .basis(let basis):
            switch basis {
            case .objectionUpheld: "objection upheld"
            case .clericalError: "clerical error"
            case .review: "review"
            }
        case .outcome(let outcome):
            switch outcome {
            case .upheld: "upheld"
            case .rejected: "rejected"
            }
        case .objectionState(let state):
            switch state {
            case .pending: "pending"
            case .upheld: "upheld"
            case .rejected: "rejected"
            case .overridden: "decided, then overridden"
            }
        case .kind(let kind):
            switch kind {
            case .main: "main"
            case .additional: "additional"
            }
        case .month(let month):
            ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][month - 1]
        case .text(let text):
            switch text {
            case .ledgerPosition: "Ledger position"
            case .builtOn: "Built on the ledger at"
            case .employee: "Employee"
            case .name: "Name"
            case .unit: "Unit"
            case .position: "Position"
            case .appraiser: "Appraiser"
            case .none: "none"
            case .effectiveFrom: "Effective from"
            case .period: "Period"
            case .year: "Year"
            case .results: "Results"
            case .behaviour: "Behaviour"
            case .predikat: "Predikat"
            case .actor: "By"
            case .event: "Event"
            case .setBy: "Set by"
            case .firstScoredBy: "First scored by"
            case .objection: "Objection"
            case .scored: "Scored"
            case .unitRating: "Unit rating"
            case .holds: "Curve holds"
            case .curve: "Distribution curve"
            case .yes: "yes"
            case .no: "no"
            case .organisation: "Whole organisation"
            case .code: "Code"
            case .subject: "Subject"
            case .message: "Message"
            case .count: "Count"
            case .seq: "Seq"
            case .occurred: "Date"
            case .type: "Type"
            case .change: "Change"
            case .reason: "Reason"
            case .scoresTitle: "Employee performance predikat"
            case .unitsTitle: "Distribution curve monitoring"
            case .accountabilityTitle: "Accountability findings"
            case .auditTitle: "Audit trail"
            case .historyTitle: "Decision history"
            case .dossierTitle: "Performance dossier"
            case .placements: "Placements"
            case .targets: "Performance targets (SKP)"
            case .target: "Target"
            case .plan: "Planned result"
            case .indicator: "Indicator"
            case .alignment: "Alignment"
            case .alignedTo: "aligned to"
            case .notAligned: "not aligned"
            case .alignmentBroken: "superior's target missing"
            case .realizations: "Realizations"
            case .revisions: "Revisions"
            case .activity: "Daily activity"
            case .activityPerMonth: "Daily activity per month"
            case .activities: "activities"
            case .feedback: "Feedback"
            case .relation: "From"
            case .aspect: "BerAKHLAK value"
            case .topic: "Topic"
            case .text: "Text"
            case .scores: "Scores per period"
            case .replaced: "replaced"
            case .replacedBy: "replaced by"
            case .objections: "Objections and decisions"
            case .received: "Result received"
            case .filed: "Filed"
            case .grounds: "Grounds"
            case .decision: "Decision"
            case .decidedBy: "Decided by"
            case .undecided: "undecided"
            case .training: "Training"
            case .title: "Title"
            case .provider: "Provider"
            case .hours: "JP"
            case .completedOn: "Completed"
            case .certificate: "Certificate"
            case .trainingAgainstMinimum: "Training hours (JP) against the minimum"
            case .minimum: "minimum"
            case .total: "Total"
            case .belowMinimum: "below the minimum"
            case .meetsMinimum: "meets the minimum"
            case .findings: "Findings"
            case .findingsByCode: "Findings by code"
            case .findingsByUnit: "Findings by unit"
            case .noFindings: "No findings."
            case .predikatOverTime: "Predikat per period"
            case .distributionAgainstCurve: "Distribution against the curve's bounds"
            case .breach: "breached"
            case .bound: "bound"
            case .rowsShown: "rows shown"
            case .rowsMore: "more rows not shown: narrow with --unit, --employee, --period, or use --format csv"
            case .state: "State"
            case .after: "After"
            case .nothing: "Nothing recorded."
            case .page: "Page"
            case .atMost: "at most"
            case .atLeast: "at least"
            case .atLeastOne: "at least one"
            case .stands: "the one that stands"
            case .landingTitle: "Performance reports"
            case .ownDossier: "My performance dossier"
            case .team: "The employees I appraise"
            case .yourUnits: "The units I administer"
            case .everything: "The whole organisation"
            case .scoresOfUnit: "Employee predikat of the unit"
            }
        }
    }
}
