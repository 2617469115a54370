import CanonicalBytes

/// A code of the wire format: its text on the wire, its byte in the canonical record
/// (the 1-based position in `allCases`, which therefore must only ever grow at the end).
public protocol WireCode: CaseIterable, Hashable, Sendable, RawRepresentable where RawValue == String, AllCases == [Self] {}

extension WireCode {
    public var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)! + 1) }

    public init?(code: UInt8) {
        guard code >= 1, Int(code) <= Self.allCases.count else { return nil }
        self = Self.allCases[Int(code) - 1]
    }

    /// `a`, `b` or `c`: for error messages.
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// The event types of wire format v1: the eight of PRODUCT §3, then the additions of §7.
public enum EventType: String, WireCode {
    case employeePlaced = "employee.placed"
    case targetSet = "target.set"
    case targetRevised = "target.revised"
    case scoreGiven = "score.given"
    case scoreCorrected = "score.corrected"
    case feedbackGiven = "feedback.given"
    case trainingCompleted = "training.completed"
    case unitRated = "unit.rated"
    case objectionFiled = "objection.filed"
    case objectionDecided = "objection.decided"
    case activityLogged = "activity.logged"
    case accessGranted = "access.granted"
    case accessRevoked = "access.revoked"

    /// Whether `reason` is required.
    public var requiresReason: Bool { self == .targetRevised || self == .scoreCorrected || self == .objectionDecided }

    /// Whether the subject is a unit (`unit`) rather than an employee (`employee`).
    public var isUnitEvent: Bool { self == .unitRated }

    /// Whether the subject is an identity of the HTTP API (`identity`): a grant or a revocation.
    public var isAccessEvent: Bool { self == .accessGranted || self == .accessRevoked }
}

/// What an identity may do through the HTTP API (PRODUCT §9's role table).
public enum AccessRole: String, WireCode, Codable {
    case employee
    case hr
    case auditor
    case service
}

/// Rating hasil kerja / perilaku kerja.
public enum Rating: String, WireCode {
    case aboveExpectation = "above_expectation"
    case meetsExpectation = "meets_expectation"
    case belowExpectation = "below_expectation"
}

public enum TargetKind: String, WireCode {
    case main
    case additional
}

public enum CorrectionBasis: String, WireCode {
    case objectionUpheld = "objection_upheld"
    case clericalError = "clerical_error"
    case review
}

public enum FeedbackRelation: String, WireCode {
    case supervisor
    case peer
    case subordinate
    case `self`
    case `public`
}

/// BerAKHLAK, the seven core values.
public enum CoreValue: String, WireCode {
    case serviceOriented = "service_oriented"
    case accountable
    case competent
    case harmonious
    case loyal
    case adaptive
    case collaborative
}

/// Predikat kinerja organisasi.
public enum UnitRatingCode: String, WireCode {
    case outstanding
    case good
    case needsImprovement = "needs_improvement"
    case poor
    case veryPoor = "very_poor"
}

/// How an objection (keberatan) was decided.
public enum ObjectionOutcome: String, WireCode {
    case upheld
    case rejected
}

/// A target of a superior that a target is cascaded from (intervensi).
public struct Alignment: Hashable, Sendable {
    public var employee: NIP
    public var targetID: String

    public init(employee: NIP, targetID: String) {
        self.employee = employee
        self.targetID = targetID
    }
}

/// A measurable target: a value and its unit.
public struct TargetQuantity: Hashable, Sendable {
    public var value: Double
    public var unit: String

    public init(value: Double, unit: String) {
        self.value = value
        self.unit = unit
    }
}

public struct Placement: Hashable, Sendable {
    public var name: String
    public var unit: String
    public var position: String
    /// nil only for the head of the organisation.
    public var appraiser: NIP?
    public var effectiveFrom: CivilDate

    public init(name: String, unit: String, position: String, appraiser: NIP?, effectiveFrom: CivilDate) {
        self.name = name
        self.unit = unit
        self.position = position
        self.appraiser = appraiser
        self.effectiveFrom = effectiveFrom
    }
}

public struct TargetSet: Hashable, Sendable {
    /// A year.
    public var period: Period
    public var targetID: String
    public var kind: TargetKind
    public var plan: String
    public var indicator: String
    public var target: TargetQuantity
    public var alignedTo: Alignment?

    public init(period: Period, targetID: String, kind: TargetKind, plan: String, indicator: String, target: TargetQuantity, alignedTo: Alignment?) {
        self.period = period
        self.targetID = targetID
        self.kind = kind
        self.plan = plan
        self.indicator = indicator
        self.target = target
        self.alignedTo = alignedTo
    }
}

/// A change to a field that may also be cleared: absent (unchanged), or set to a value or to null.
public enum Change<Value: Hashable & Sendable>: Hashable, Sendable {
    case unchanged
    case set(Value?)
}

public struct TargetRevision: Hashable, Sendable {
    public var period: Period
    public var targetID: String
    public var plan: String?
    public var indicator: String?
    public var target: TargetQuantity?
    public var alignedTo: Change<Alignment>

    public init(period: Period, targetID: String, plan: String? = nil, indicator: String? = nil, target: TargetQuantity? = nil, alignedTo: Change<Alignment> = .unchanged) {
        self.period = period
        self.targetID = targetID
        self.plan = plan
        self.indicator = indicator
        self.target = target
        self.alignedTo = alignedTo
    }
}

public struct Realization: Hashable, Sendable {
    public var targetID: String
    public var value: Double
    public var evidence: String?

    public init(targetID: String, value: Double, evidence: String?) {
        self.targetID = targetID
        self.value = value
        self.evidence = evidence
    }
}

public struct ScoreGiven: Hashable, Sendable {
    public var period: Period
    public var resultsRating: Rating
    public var behaviorRating: Rating
    /// nil when the field was absent (which is not the same as an empty list).
    public var realizations: [Realization]?

    public init(period: Period, resultsRating: Rating, behaviorRating: Rating, realizations: [Realization]?) {
        self.period = period
        self.resultsRating = resultsRating
        self.behaviorRating = behaviorRating
        self.realizations = realizations
    }
}

public struct ScoreCorrection: Hashable, Sendable {
    public var corrects: EventID
    public var basis: CorrectionBasis
    public var resultsRating: Rating
    public var behaviorRating: Rating

    public init(corrects: EventID, basis: CorrectionBasis, resultsRating: Rating, behaviorRating: Rating) {
        self.corrects = corrects
        self.basis = basis
        self.resultsRating = resultsRating
        self.behaviorRating = behaviorRating
    }
}

public struct Feedback: Hashable, Sendable {
    public var period: Period
    public var relation: FeedbackRelation
    public var aspect: CoreValue?
    public var topic: String?
    public var text: String

    public init(period: Period, relation: FeedbackRelation, aspect: CoreValue?, topic: String?, text: String) {
        self.period = period
        self.relation = relation
        self.aspect = aspect
        self.topic = topic
        self.text = text
    }
}

public struct Training: Hashable, Sendable {
    public var title: String
    public var provider: String
    /// JP (jam pelajaran, 45 minutes).
    public var hours: Double
    public var completedOn: CivilDate
    public var certificate: String?

    public init(title: String, provider: String, hours: Double, completedOn: CivilDate, certificate: String?) {
        self.title = title
        self.provider = provider
        self.hours = hours
        self.completedOn = completedOn
        self.certificate = certificate
    }
}

public struct UnitRating: Hashable, Sendable {
    public var period: Period
    public var rating: UnitRatingCode

    public init(period: Period, rating: UnitRatingCode) {
        self.period = period
        self.rating = rating
    }
}

/// An objection (keberatan, PP 30/2019 Pasal 59) to a score of the same employee.
public struct ObjectionFiled: Hashable, Sendable {
    /// A `score.given` or `score.corrected` of the same employee.
    public var score: EventID
    /// The day the employee received the result.
    public var receivedOn: CivilDate
    public var grounds: String

    public init(score: EventID, receivedOn: CivilDate, grounds: String) {
        self.score = score
        self.receivedOn = receivedOn
        self.grounds = grounds
    }
}

/// The decision on an objection, final: upheld with the new ratings, or rejected without any.
public struct ObjectionDecision: Hashable, Sendable {
    /// An `objection.filed` of the same employee.
    public var objection: EventID
    public var outcome: ObjectionOutcome
    /// Both present when upheld, both nil when rejected.
    public var resultsRating: Rating?
    public var behaviorRating: Rating?

    public init(objection: EventID, outcome: ObjectionOutcome, resultsRating: Rating? = nil, behaviorRating: Rating? = nil) {
        self.objection = objection
        self.outcome = outcome
        self.resultsRating = resultsRating
        self.behaviorRating = behaviorRating
    }

    /// The ratings that replace the objected score's, when upheld.
    public var ratings: (results: Rating, behavior: Rating)? {
        guard outcome == .upheld, let resultsRating, let behaviorRating else { return nil }
        return (resultsRating, behaviorRating)
    }
}

/// One day's entry of the daily performance log (kinerja harian), toward a target of the year.
public struct Activity: Hashable, Sendable {
    public var date: CivilDate
    public var targetID: String
    public var description: String
    public var output: TargetQuantity?
    /// A document number or a link to the evidence (bukti dukung).
    public var evidence: String?

    public init(date: CivilDate, targetID: String, description: String, output: TargetQuantity? = nil, evidence: String? = nil) {
        self.date = date
        self.targetID = targetID
        self.description = description
        self.output = output
        self.evidence = evidence
    }
}

/// A token granted to an identity (the event's subject): its role, the units of an `hr`
/// identity, and the token's public id. Never the secret nor its hash.
public struct AccessGrant: Hashable, Sendable {
    public var role: AccessRole
    public var units: [String]
    public var tokenID: String

    public init(role: AccessRole, units: [String], tokenID: String) {
        self.role = role
        self.units = units
        self.tokenID = tokenID
    }
}

/// A token of an identity (the event's subject) revoked, by its public id.
public struct AccessRevocation: Hashable, Sendable {
    public var tokenID: String

    public init(tokenID: String) {
        self.tokenID = tokenID
    }
}

/// What an event says, by type.
public enum EventData: Hashable, Sendable {
    case employeePlaced(Placement)
    case targetSet(TargetSet)
    case targetRevised(TargetRevision)
    case scoreGiven(ScoreGiven)
    case scoreCorrected(ScoreCorrection)
    case feedbackGiven(Feedback)
    case trainingCompleted(Training)
    case unitRated(UnitRating)
    case objectionFiled(ObjectionFiled)
    case objectionDecided(ObjectionDecision)
    case activityLogged(Activity)
    case accessGranted(AccessGrant)
    case accessRevoked(AccessRevocation)

    public var type: EventType {
        switch self {
        case .employeePlaced: .employeePlaced
        case .targetSet: .targetSet
        case .targetRevised: .targetRevised
        case .scoreGiven: .scoreGiven
        case .scoreCorrected: .scoreCorrected
        case .feedbackGiven: .feedbackGiven
        case .trainingCompleted: .trainingCompleted
        case .unitRated: .unitRated
        case .objectionFiled: .objectionFiled
        case .objectionDecided: .objectionDecided
        case .activityLogged: .activityLogged
        case .accessGranted: .accessGranted
        case .accessRevoked: .accessRevoked
        }
    }
}

/// One decision of the appraisal cycle, as the sender states it: the envelope and its data.
public struct Event: Hashable, Sendable {
    public var id: EventID
    public var subject: Subject
    /// An NIP or a system identifier (`survey:skm-2026-q1`).
    public var actor: Actor
    public var occurredAt: Timestamp
    public var reason: String?
    public var data: EventData

    public init(id: EventID, subject: Subject, actor: Actor, occurredAt: Timestamp, reason: String? = nil, data: EventData) {
        self.id = id
        self.subject = subject
        self.actor = actor
        self.occurredAt = occurredAt
        self.reason = reason
        self.data = data
    }

    public var type: EventType { data.type }
    public var stream: String { subject.stream }
}

/// What the ledger added when it recorded an event.
public struct RecordedFields: Hashable, Sendable {
    public var seq: UInt64
    public var stream: String
    public var version: UInt64
    /// Microseconds since the Unix epoch, UTC.
    public var recordedAt: Int64
    public var prevHash: ChainHash
    public var hash: ChainHash

    public init(seq: UInt64, stream: String, version: UInt64, recordedAt: Int64, prevHash: ChainHash, hash: ChainHash) {
        self.seq = seq
        self.stream = stream
        self.version = version
        self.recordedAt = recordedAt
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// A line of input: a fresh event, or a recorded one being restored.
public struct Submission: Hashable, Sendable {
    public var event: Event
    /// The stream version the sender saw (0: a new stream).
    public var expectedVersion: UInt64?
    /// Present when the line carries the recorded fields.
    public var recorded: RecordedFields?

    public init(event: Event, expectedVersion: UInt64? = nil, recorded: RecordedFields? = nil) {
        self.event = event
        self.expectedVersion = expectedVersion
        self.recorded = recorded
    }
}
