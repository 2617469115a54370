import CanonicalBytes

/// A string of a record, read in place: its UTF-8 bytes, valid only while the record is.
/// Projections compare and key by the bytes; a `String` is built only when a report prints it.
public struct TextView {
    // 16 bytes, not a buffer pointer and an offset's 24: an event view holds up to a dozen.
    private let start: UnsafeRawPointer?
    private let count: Int32
    /// Where the string (its length) starts in the payload: for error messages.
    private let offset: Int32

    init(bytes: UnsafeRawBufferPointer, offset: Int) {
        start = bytes.baseAddress
        count = Int32(bytes.count)
        self.offset = Int32(offset)
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: Int(count)) }

    /// The text, built now (not checked for UTF-8: see ``validated()``).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// The text, or `Malformed` if it is not valid UTF-8.
    public func validated() throws(ByteReader.Malformed) -> String {
        guard let string = String(validatingUTF8Bytes: bytes) else { throw ByteReader.Malformed(offset: Int(offset), what: "string is not valid UTF-8") }
        return string
    }

    /// Throws unless the text is valid UTF-8 (checked in place, nothing built).
    public func check() throws(ByteReader.Malformed) {
        guard bytes.isValidUTF8 else { throw ByteReader.Malformed(offset: Int(offset), what: "string is not valid UTF-8") }
    }

    /// Whether these are the 18 digits of `nip`.
    public func isNIP(_ nip: NIP) -> Bool { NIP(digits: bytes) == nip }

    /// The NIP these bytes spell, if they are 18 digits.
    public var nip: NIP? { NIP(digits: bytes) }
}

/// A target named by another employee's target, in place.
public struct AlignmentView {
    public let employee: NIP
    public let targetID: TextView

    public func alignment() throws(ByteReader.Malformed) -> Alignment {
        Alignment(employee: employee, targetID: try targetID.validated())
    }
}

/// What an event says, by type, read in place from its canonical payload: codes, numbers, dates
/// and periods decoded (they are a few bytes), strings left as ``TextView``s.
public enum DataView {
    public struct Placed {
        public let name: TextView
        public let unit: TextView
        public let position: TextView
        public let appraiser: NIP?
        public let effectiveFrom: CivilDate
    }

    public struct TargetSet {
        public let period: Period
        public let targetID: TextView
        public let kind: TargetKind
        public let plan: TextView
        public let indicator: TextView
        public let value: Double
        public let unit: TextView
        public let alignedTo: AlignmentView?
    }

    public struct TargetRevised {
        public let period: Period
        public let targetID: TextView
        public let plan: TextView?
        public let indicator: TextView?
        public let target: (value: Double, unit: TextView)?
        /// nil: unchanged; `.some(nil)`: cleared; `.some(alignment)`: set.
        public let alignedTo: AlignmentView??
    }

    public struct ScoreGiven {
        public let period: Period
        public let resultsRating: Rating
        public let behaviorRating: Rating
        /// The realizations' bytes (count and entries), or nil when the field was absent.
        let realizations: UnsafeRawBufferPointer?
    }

    public struct ScoreCorrected {
        public let corrects: EventID
        public let basis: CorrectionBasis
        public let resultsRating: Rating
        public let behaviorRating: Rating
    }

    public struct FeedbackGiven {
        public let period: Period
        public let relation: FeedbackRelation
        public let aspect: CoreValue?
        public let topic: TextView?
        public let text: TextView
    }

    public struct TrainingCompleted {
        public let title: TextView
        public let provider: TextView
        public let hours: Double
        public let completedOn: CivilDate
        public let certificate: TextView?
    }

    public struct UnitRated {
        public let period: Period
        public let rating: UnitRatingCode
    }

    public struct ObjectionFiled {
        public let score: EventID
        public let receivedOn: CivilDate
        public let grounds: TextView
    }

    public struct ObjectionDecided {
        public let objection: EventID
        public let outcome: ObjectionOutcome
        /// Both present when upheld, both nil when rejected.
        public let resultsRating: Rating?
        public let behaviorRating: Rating?

        /// The ratings that replace the objected score's, when upheld.
        public var ratings: (results: Rating, behavior: Rating)? {
            guard outcome == .upheld, let resultsRating, let behaviorRating else { return nil }
            return (resultsRating, behaviorRating)
        }
    }

    public struct ActivityLogged {
        public let date: CivilDate
        public let targetID: TextView
        public let description: TextView
        public let output: (value: Double, unit: TextView)?
        public let evidence: TextView?
    }

    case employeePlaced(Placed)
    case targetSet(TargetSet)
    case targetRevised(TargetRevised)
    case scoreGiven(ScoreGiven)
    case scoreCorrected(ScoreCorrected)
    case feedbackGiven(FeedbackGiven)
    case trainingCompleted(TrainingCompleted)
    case unitRated(UnitRated)
    case objectionFiled(ObjectionFiled)
    case objectionDecided(ObjectionDecided)
    case activityLogged(ActivityLogged)
    case accessGranted(AccessGranted)
    case accessRevoked(AccessRevoked)

    public struct AccessGranted {
        public let role: AccessRole
        /// The units' bytes (count and codes).
        let units: UnsafeRawBufferPointer
        public let tokenID: TextView

        /// The units of an `hr` identity, built.
        public func unitCodes() throws(ByteReader.Malformed) -> [String] {
            var reader = ByteReader(units)
            var codes: [String] = []
            for _ in 0..<(try reader.readVarint()) { codes.append(try reader.readString()) }
            return codes
        }
    }

    public struct AccessRevoked {
        public let tokenID: TextView
    }
}

/// A recorded event read in place from its record: what projections fold. It borrows the
/// record's bytes, so it lives only inside the closure that reads the record; it cannot be
/// copied, and a projection keeps what it needs as numbers (or copies a string it must print).
///
/// The payload's layout is ``PayloadCodec``'s; ``PayloadCodec/decode(_:streamBytes:id:)`` is
/// this view, materialised.
public struct EventView: ~Copyable {
    public let seq: UInt64
    /// Microseconds since the Unix epoch, UTC.
    public let recordedAt: Int64
    public let id: EventID
    public let type: EventType
    /// The employee the event is about; nil for a unit's event.
    public let employee: NIP?
    /// The unit code of a unit's event.
    public let unit: TextView?
    /// The identity of an access event (`access.granted`, `access.revoked`).
    public let identity: TextView?
    public let actor: TextView
    public let occurredAt: Timestamp
    public let reason: TextView?
    public let data: DataView

    /// Reads `payload`; `streamBytes`, `id`, `seq` and `recordedAt` come from the store's header.
    public init(payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID, seq: UInt64 = 0, recordedAt: Int64 = 0) throws(ByteReader.Malformed) {
        try self.init(payload: payload, streamBytes: streamBytes, id: id, seq: seq, recordedAt: recordedAt, checks: false)
    }

    /// Throws unless `payload` reads as an event (as ``init(payload:streamBytes:id:seq:recordedAt:)``
    /// reads it) whose every string, and its unit's or identity's name, is valid UTF-8: what
    /// ``event()`` checks, with nothing built. Each string is checked as it is read; the view is
    /// read in this function only (its `init` inlined here) and dropped, so none of it is stored
    /// or copied (reading a view, then switching over its `data` to check the strings, copied
    /// its 146-byte `DataView` four times: 6 % of `verify`).
    public static func check(payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer) throws(ByteReader.Malformed) {
        _ = try EventView(payload: payload, streamBytes: streamBytes, id: EventID(high: 0, low: 0), seq: 0, recordedAt: 0, checks: true)
    }

    /// Reads `payload`; with `checks`, throws unless each string read is valid UTF-8.
    @inline(__always)
    private init(
        payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID, seq: UInt64, recordedAt: Int64, checks: Bool
    ) throws(ByteReader.Malformed) {
        var reader = ByteReader(payload)
        let typeCode = try reader.readUInt8()
        guard let type = EventType(code: typeCode) else { throw ByteReader.Malformed(offset: 0, what: "unknown event type code \(typeCode)") }
        let unitPrefix = "unit:".utf8
        let accessPrefix = "access:".utf8
        let employee: NIP?
        let unit: TextView?
        var identity: TextView?
        if let nip = NIP(employeeStream: streamBytes) {
            employee = nip
            unit = nil
        } else if streamBytes.starts(with: unitPrefix) {
            employee = nil
            unit = TextView(bytes: UnsafeRawBufferPointer(rebasing: streamBytes[unitPrefix.count...]), offset: 0)
        } else if streamBytes.starts(with: accessPrefix) {
            employee = nil
            unit = nil
            identity = TextView(bytes: UnsafeRawBufferPointer(rebasing: streamBytes[accessPrefix.count...]), offset: 0)
        } else {
            throw ByteReader.Malformed(offset: 0, what: "stream \(String(decoding: streamBytes, as: UTF8.self)) names no subject")
        }
        if checks { try (identity ?? unit)?.check() }
        let actor = try Self.text(&reader, checks)
        let occurredAt = Timestamp(micros: try reader.readInt64(), offsetMinutes: try reader.readInt16())
        let reason = try Self.optionalText(&reader, checks)
        let data: DataView
        switch type {
        case .employeePlaced:
            data = .employeePlaced(DataView.Placed(
                name: try Self.text(&reader, checks), unit: try Self.text(&reader, checks), position: try Self.text(&reader, checks),
                appraiser: try Self.optionalNIP(&reader), effectiveFrom: try Self.date(&reader)))
        case .targetSet:
            data = .targetSet(DataView.TargetSet(
                period: try Self.period(&reader), targetID: try Self.text(&reader, checks), kind: try Self.code(&reader),
                plan: try Self.text(&reader, checks), indicator: try Self.text(&reader, checks), value: try reader.readDouble(), unit: try Self.text(&reader, checks),
                alignedTo: try reader.readBool() ? try Self.alignment(&reader, checks) : nil))
        case .targetRevised:
            let period = try Self.period(&reader)
            let targetID = try Self.text(&reader, checks)
            let plan = try Self.optionalText(&reader, checks)
            let indicator = try Self.optionalText(&reader, checks)
            let target = try reader.readBool() ? (try reader.readDouble(), try Self.text(&reader, checks)) : nil
            let alignedTo: AlignmentView??
            switch try reader.readUInt8() {
            case 0: alignedTo = nil
            case 1: alignedTo = .some(nil)
            case 2: alignedTo = .some(try Self.alignment(&reader, checks))
            case let other: throw ByteReader.Malformed(offset: reader.offset - 1, what: "aligned_to state \(other)")
            }
            data = .targetRevised(DataView.TargetRevised(period: period, targetID: targetID, plan: plan, indicator: indicator, target: target, alignedTo: alignedTo))
        case .scoreGiven:
            let period = try Self.period(&reader)
            let results: Rating = try Self.code(&reader)
            let behavior: Rating = try Self.code(&reader)
            var realizations: UnsafeRawBufferPointer?
            if try reader.readBool() {
                let start = reader.offset
                let count = try reader.readVarint()
                guard count <= UInt64(reader.remaining) else { throw ByteReader.Malformed(offset: reader.offset, what: "realization count \(count)") }
                for _ in 0..<count {
                    _ = try Self.text(&reader, checks)
                    _ = try reader.readDouble()
                    _ = try Self.optionalText(&reader, checks)
                }
                realizations = UnsafeRawBufferPointer(rebasing: payload[start..<reader.offset])
            }
            data = .scoreGiven(DataView.ScoreGiven(period: period, resultsRating: results, behaviorRating: behavior, realizations: realizations))
        case .scoreCorrected:
            data = .scoreCorrected(DataView.ScoreCorrected(
                corrects: try Self.id(&reader), basis: try Self.code(&reader),
                resultsRating: try Self.code(&reader), behaviorRating: try Self.code(&reader)))
        case .feedbackGiven:
            let period = try Self.period(&reader)
            let relation: FeedbackRelation = try Self.code(&reader)
            let aspect: CoreValue? = try Self.optionalCode(&reader)
            data = .feedbackGiven(DataView.FeedbackGiven(period: period, relation: relation, aspect: aspect, topic: try Self.optionalText(&reader, checks), text: try Self.text(&reader, checks)))
        case .trainingCompleted:
            data = .trainingCompleted(DataView.TrainingCompleted(
                title: try Self.text(&reader, checks), provider: try Self.text(&reader, checks), hours: try reader.readDouble(),
                completedOn: try Self.date(&reader), certificate: try Self.optionalText(&reader, checks)))
        case .unitRated:
            data = .unitRated(DataView.UnitRated(period: try Self.period(&reader), rating: try Self.code(&reader)))
        case .objectionFiled:
            data = .objectionFiled(DataView.ObjectionFiled(score: try Self.id(&reader), receivedOn: try Self.date(&reader), grounds: try Self.text(&reader, checks)))
        case .objectionDecided:
            let objection = try Self.id(&reader)
            let outcome: ObjectionOutcome = try Self.code(&reader)
            let offset = reader.offset
            let results: Rating? = try Self.optionalCode(&reader)
            let behavior: Rating? = try Self.optionalCode(&reader)
            guard (outcome == .upheld) == (results != nil), (results == nil) == (behavior == nil) else {
                throw ByteReader.Malformed(offset: offset, what: "ratings of a decision \(outcome.rawValue)")
            }
            data = .objectionDecided(DataView.ObjectionDecided(objection: objection, outcome: outcome, resultsRating: results, behaviorRating: behavior))
        case .activityLogged:
            data = .activityLogged(DataView.ActivityLogged(
                date: try Self.date(&reader), targetID: try Self.text(&reader, checks), description: try Self.text(&reader, checks),
                output: try reader.readBool() ? (try reader.readDouble(), try Self.text(&reader, checks)) : nil, evidence: try Self.optionalText(&reader, checks)))
        case .accessGranted:
            let role: AccessRole = try Self.code(&reader)
            let start = reader.offset
            let count = try reader.readVarint()
            guard count <= UInt64(reader.remaining) else { throw ByteReader.Malformed(offset: reader.offset, what: "unit count \(count)") }
            for _ in 0..<count { _ = try Self.text(&reader, checks) }
            let units = UnsafeRawBufferPointer(rebasing: payload[start..<reader.offset])
            data = .accessGranted(DataView.AccessGranted(role: role, units: units, tokenID: try Self.text(&reader, checks)))
        case .accessRevoked:
            data = .accessRevoked(DataView.AccessRevoked(tokenID: try Self.text(&reader, checks)))
        }
        guard reader.isAtEnd else { throw ByteReader.Malformed(offset: reader.offset, what: "\(reader.remaining) bytes after the event") }
        self.seq = seq
        self.recordedAt = recordedAt
        self.id = id
        self.type = type
        self.employee = employee
        self.unit = unit
        self.identity = identity
        self.actor = actor
        self.occurredAt = occurredAt
        self.reason = reason
        self.data = data
    }

    /// The subject, built (a unit's code becomes a `String`).
    public var subject: Subject {
        if let employee { return .employee(employee) }
        if let identity { return .identity(identity.string) }
        return .unit(unit!.string)
    }

    /// The period the event is about (PRODUCT §6): its `data.period`, or the year of
    /// `completed_on`, `effective_from` or an activity's `date`; nil for a correction, an
    /// objection and a decision, whose period is their score's.
    public var period: Period? {
        switch data {
        case .employeePlaced(let placed): Period(year: placed.effectiveFrom.year)
        case .trainingCompleted(let training): Period(year: training.completedOn.year)
        case .activityLogged(let activity): Period(year: activity.date.year)
        default: dataPeriod
        }
    }

    /// The event's own `data.period`, for the types that have one.
    public var dataPeriod: Period? {
        switch data {
        case .targetSet(let target): target.period
        case .targetRevised(let revision): revision.period
        case .scoreGiven(let score): score.period
        case .feedbackGiven(let feedback): feedback.period
        case .unitRated(let rating): rating.period
        case .employeePlaced, .scoreCorrected, .trainingCompleted, .objectionFiled, .objectionDecided, .activityLogged, .accessGranted, .accessRevoked: nil
        }
    }

    /// The event, every string built and checked for UTF-8.
    public func event() throws(ByteReader.Malformed) -> Event {
        let data: EventData
        switch self.data {
        case .employeePlaced(let placed):
            data = .employeePlaced(Placement(
                name: try placed.name.validated(), unit: try placed.unit.validated(), position: try placed.position.validated(),
                appraiser: placed.appraiser, effectiveFrom: placed.effectiveFrom))
        case .targetSet(let target):
            data = .targetSet(KinerjaDomain.TargetSet(
                period: target.period, targetID: try target.targetID.validated(), kind: target.kind, plan: try target.plan.validated(),
                indicator: try target.indicator.validated(), target: TargetQuantity(value: target.value, unit: try target.unit.validated()),
                alignedTo: try target.alignedTo?.alignment()))
        case .targetRevised(let revision):
            let alignedTo: Change<Alignment> = switch revision.alignedTo {
            case nil: .unchanged
            case .some(nil): .set(nil)
            case .some(let alignment?): .set(try alignment.alignment())
            }
            data = .targetRevised(TargetRevision(
                period: revision.period, targetID: try revision.targetID.validated(), plan: try revision.plan?.validated(),
                indicator: try revision.indicator?.validated(),
                target: try revision.target.map { quantity throws(ByteReader.Malformed) in TargetQuantity(value: quantity.value, unit: try quantity.unit.validated()) },
                alignedTo: alignedTo))
        case .scoreGiven(let score):
            var realizations: [Realization]?
            if let bytes = score.realizations {
                var reader = ByteReader(bytes)
                let count = try reader.readVarint()
                var list: [Realization] = []
                for _ in 0..<count {
                    list.append(Realization(targetID: try reader.readString(), value: try reader.readDouble(), evidence: try reader.readOptionalString()))
                }
                realizations = list
            }
            data = .scoreGiven(KinerjaDomain.ScoreGiven(period: score.period, resultsRating: score.resultsRating, behaviorRating: score.behaviorRating, realizations: realizations))
        case .scoreCorrected(let correction):
            data = .scoreCorrected(ScoreCorrection(
                corrects: correction.corrects, basis: correction.basis, resultsRating: correction.resultsRating, behaviorRating: correction.behaviorRating))
        case .feedbackGiven(let feedback):
            data = .feedbackGiven(Feedback(
                period: feedback.period, relation: feedback.relation, aspect: feedback.aspect, topic: try feedback.topic?.validated(), text: try feedback.text.validated()))
        case .trainingCompleted(let training):
            data = .trainingCompleted(Training(
                title: try training.title.validated(), provider: try training.provider.validated(), hours: training.hours,
                completedOn: training.completedOn, certificate: try training.certificate?.validated()))
        case .unitRated(let rating):
            data = .unitRated(UnitRating(period: rating.period, rating: rating.rating))
        case .objectionFiled(let objection):
            data = .objectionFiled(KinerjaDomain.ObjectionFiled(score: objection.score, receivedOn: objection.receivedOn, grounds: try objection.grounds.validated()))
        case .objectionDecided(let decision):
            data = .objectionDecided(ObjectionDecision(
                objection: decision.objection, outcome: decision.outcome, resultsRating: decision.resultsRating, behaviorRating: decision.behaviorRating))
        case .activityLogged(let activity):
            data = .activityLogged(Activity(
                date: activity.date, targetID: try activity.targetID.validated(), description: try activity.description.validated(),
                output: try activity.output.map { quantity throws(ByteReader.Malformed) in TargetQuantity(value: quantity.value, unit: try quantity.unit.validated()) },
                evidence: try activity.evidence?.validated()))
        case .accessGranted(let grant):
            data = .accessGranted(AccessGrant(role: grant.role, units: try grant.unitCodes(), tokenID: try grant.tokenID.validated()))
        case .accessRevoked(let revocation):
            data = .accessRevoked(AccessRevocation(tokenID: try revocation.tokenID.validated()))
        }
        let subject: Subject =
            if let employee { .employee(employee) } else if let identity { .identity(try identity.validated()) } else { .unit(try unit!.validated()) }
        return Event(id: id, subject: subject, actor: Actor(stored: try actor.validated()), occurredAt: occurredAt, reason: try reason?.validated(), data: data)
    }

    // MARK: Reading

    /// A string; with `checks`, valid UTF-8 or `Malformed`.
    @inline(__always)
    private static func text(_ reader: inout ByteReader, _ checks: Bool) throws(ByteReader.Malformed) -> TextView {
        let offset = reader.offset
        let text = TextView(bytes: try reader.readStringBytes(), offset: offset)
        if checks { try text.check() }
        return text
    }

    @inline(__always)
    private static func optionalText(_ reader: inout ByteReader, _ checks: Bool) throws(ByteReader.Malformed) -> TextView? {
        try reader.readBool() ? try text(&reader, checks) : nil
    }

    @inline(__always)
    private static func code<Code: WireCode>(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Code {
        let offset = reader.offset
        return try code(try reader.readUInt8(), at: offset)
    }

    /// A code, or nil for 0 (absent).
    @inline(__always)
    private static func optionalCode<Code: WireCode>(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Code? {
        let offset = reader.offset
        let byte = try reader.readUInt8()
        return byte == 0 ? nil : try code(byte, at: offset)
    }

    @inline(__always)
    private static func id(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> EventID {
        EventID(high: try reader.readUInt64(), low: try reader.readUInt64())
    }

    @inline(__always)
    private static func code<Code: WireCode>(_ byte: UInt8, at offset: Int) throws(ByteReader.Malformed) -> Code {
        guard let code = Code(code: byte) else { throw ByteReader.Malformed(offset: offset, what: "code \(byte) is not a \(Code.self)") }
        return code
    }

    @inline(__always)
    private static func period(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Period {
        let offset = reader.offset
        guard let period = Period(utf8: try reader.readStringBytes()) else { throw ByteReader.Malformed(offset: offset, what: "not a period") }
        return period
    }

    @inline(__always)
    private static func date(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> CivilDate {
        let offset = reader.offset
        guard let date = CivilDate(utf8: try reader.readStringBytes()) else { throw ByteReader.Malformed(offset: offset, what: "not a date") }
        return date
    }

    @inline(__always)
    private static func nip(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> NIP {
        let offset = reader.offset
        guard let nip = NIP(digits: try reader.readStringBytes()) else { throw ByteReader.Malformed(offset: offset, what: "not an NIP") }
        return nip
    }

    @inline(__always)
    private static func optionalNIP(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> NIP? {
        try reader.readBool() ? try nip(&reader) : nil
    }

    @inline(__always)
    private static func alignment(_ reader: inout ByteReader, _ checks: Bool) throws(ByteReader.Malformed) -> AlignmentView {
        AlignmentView(employee: try nip(&reader), targetID: try text(&reader, checks))
    }
}
