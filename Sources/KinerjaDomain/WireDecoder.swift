import CanonicalBytes

/// Why a line of input was refused: the line, the field (a dotted path such as
/// `data.target.value`, empty for the line as a whole), a code that `switch` and `catch` can
/// match, and the rule it broke in words.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which kind of rule was broken. A struct over a private enum, so codes can be added
    /// without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case malformed, invalidField, occurredInFuture, targetAlreadySet, unknownTarget, unknownEvent, wrongEvent
            case alreadyObjected, alreadyDecided
            case idConflict, versionConflict, chainGap, fork, chainMismatch
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Not a JSON object of the accepted size and shape.
        public static let malformed = Code(.malformed)
        /// A field missing, unknown, or breaking its own rule (format, range, length).
        public static let invalidField = Code(.invalidField)
        /// `occurred_at` after the ledger clock by more than the allowed skew.
        public static let occurredInFuture = Code(.occurredInFuture)
        /// A `target.set` of a target already set for the employee and year.
        public static let targetAlreadySet = Code(.targetAlreadySet)
        /// A target named (revised, realised, a feedback topic) that is not set before the event.
        public static let unknownTarget = Code(.unknownTarget)
        /// A correction, objection or decision naming an event that is not recorded before it.
        public static let unknownEvent = Code(.unknownEvent)
        /// A correction, objection or decision naming another employee's event, or an event of the wrong type.
        public static let wrongEvent = Code(.wrongEvent)
        /// An objection to a score that already has one (one objection per score, PRODUCT §7).
        public static let alreadyObjected = Code(.alreadyObjected)
        /// A decision on an objection already decided (the decision is final).
        public static let alreadyDecided = Code(.alreadyDecided)
        /// The id is recorded with other content.
        public static let idConflict = Code(.idConflict)
        /// `expected_version` is not the stream's version.
        public static let versionConflict = Code(.versionConflict)
        /// A recorded line whose `seq` leaves a gap after the head.
        public static let chainGap = Code(.chainGap)
        /// A recorded line whose `seq` is stored with other content: it forks the chain.
        public static let fork = Code(.fork)
        /// A recorded line at the head's next `seq` that does not continue the chain (prev_hash,
        /// version, recorded_at or hash).
        public static let chainMismatch = Code(.chainMismatch)

        public var description: String { "\(base)" }
    }

    public var line: Int
    public var field: String
    public var code: Code
    public var rule: String

    public init(line: Int, field: String, code: Code = .invalidField, rule: String) {
        self.line = line
        self.field = field
        self.code = code
        self.rule = rule
    }

    public var description: String {
        field.isEmpty ? "line \(line): \(rule)" : "line \(line): \(field): \(rule)"
    }
}

/// Decodes wire format v1 (one JSON object per line) into validated submissions.
///
/// Strict: unknown fields are refused, every field is checked against its rule, and the first
/// broken rule of a line is reported with the line number and the field's path.
///
/// ```swift
/// switch WireDecoder.decode(line: text, number: 3) {
/// case .success(let submission): ...
/// case .failure(let error): print(error)  // line 3: data.hours: must be greater than 0 and at most 1000
/// }
/// ```
public enum WireDecoder {
    /// The longest line accepted. The largest valid event (every text at its limit) is far shorter.
    public static let maxLineBytes = 1 << 20
    /// The deepest nesting the format has (envelope, `data`, `realizations`, a realization), and
    /// one more: a realization's field given as an array or object is refused naming that field.
    public static let maxDepth = 5

    public static let envelopeFields = Set(envelopeFieldNames.map(\.description))
    public static let recordedFields = recordedFieldNames.map(\.description)

    public static func decode(line: String, number: Int) -> Result<Submission, WireError> {
        var line = line
        return line.withUTF8 { decode(line: UnsafeRawBufferPointer($0), number: number) }
    }

    public static func decode(line bytes: UnsafeRawBufferPointer, number: Int) -> Result<Submission, WireError> {
        var tape = JSONTape()
        return decode(line: bytes, number: number, tape: &tape)
    }

    /// ``decode(line:number:)`` through `tape`, which a caller decoding many lines keeps from one
    /// line to the next (its buffers are reused: no allocation per token).
    package static func decode(line bytes: UnsafeRawBufferPointer, number: Int, tape: inout JSONTape) -> Result<Submission, WireError> {
        decode(line: bytes, number: number, tape: &tape, actor: nil)
    }

    /// ``decode(line:number:tape:)`` where an event without `actor` is taken as if its line
    /// named `actor` (the server's authenticated identity), with the same rules: the line is
    /// read once, into the tape, with no tree and no second pass.
    package static func decode(line bytes: UnsafeRawBufferPointer, number: Int, tape: inout JSONTape, actor: String?) -> Result<Submission, WireError> {
        guard bytes.count <= maxLineBytes else {
            return .failure(WireError(line: number, field: "", code: .malformed, rule: "line is \(bytes.count) bytes, longer than the \(maxLineBytes) accepted"))
        }
        do {
            try tape.parse(bytes, maxDepth: maxDepth)
        } catch {
            return .failure(WireError(line: number, field: "", code: .malformed, rule: "not valid JSON: \(error)"))
        }
        guard tape.kind(0) == .object else {
            return .failure(WireError(line: number, field: "", code: .malformed, rule: "must be a JSON object, not \(tape.typeName(0))"))
        }
        do {
            return .success(try decodeSubmission(Fields(tape, object: 0, path: "", line: number), actor: actor))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes an event already parsed as a JSON object (a line of an export embedded in a
    /// larger document, such as a dossier proof), with the rules of ``decode(line:number:)``.
    public static func decode(object: JSONObject, number: Int) -> Result<Submission, WireError> {
        do {
            return .success(try decodeSubmission(Fields(JSONTape(.object(object)), object: 0, path: "", line: number)))
        } catch {
            return .failure(error)
        }
    }

    /// `absentActor`: the actor of an event whose object has no `actor` member (nil: required).
    static func decodeSubmission(_ fields: Fields, actor absentActor: String? = nil) throws(WireError) -> Submission {
        let line = fields.line
        for member in fields.members where !fields.tape.isString(member.key, in: knownFields) {
            throw fields.error(fields.tape.string(member.key), "unknown field: wire format v1 has no such field")
        }
        let type: EventType = try fields.code("type", rule: { "unknown event type \"\($0)\"; expected \(EventType.choices)" })
        let id = try fields.uuid("id")
        let subject: Subject
        if type.isAccessEvent {
            for other in ["employee", "unit"] where fields.has(named: other) {
                throw fields.error(other, "a \(type.rawValue) event has an identity, not \(other == "unit" ? "a unit" : "an employee")")
            }
            subject = .identity(try fields.string("identity", rule: "must be an NIP or a system identifier such as hr:bkpsdm", Identifiers.isIdentity))
        } else if type.isUnitEvent {
            if fields.has("identity") { throw fields.error("identity", "only access.granted and access.revoked have an identity") }
            if fields.has("employee") { throw fields.error("employee", "a \(type.rawValue) event has a unit, not an employee") }
            subject = .unit(try fields.unitCode("unit"))
        } else {
            if fields.has("identity") { throw fields.error("identity", "only access.granted and access.revoked have an identity") }
            if fields.has("unit") { throw fields.error("unit", "a \(type.rawValue) event has an employee, not a unit") }
            subject = .employee(try fields.nip("employee"))
        }
        let actor: Actor
        if let absentActor, !fields.has("actor") {
            switch Actor.parse(absentActor) {
            case .success(let parsed): actor = parsed
            case .failure(let invalid): throw fields.error("actor", invalid.rule)
            }
        } else {
            actor = try fields.actor("actor")
        }
        if type == .activityLogged, case .employee(let nip) = subject, actor != .employee(nip) {
            throw fields.error("actor", "an activity is logged by the employee themself (\(nip.text))")
        }
        let occurredAt = try fields.timestamp("occurred_at")
        let reason = try fields.text("reason", max: 4000, required: type.requiresReason)
        let expectedVersion = try fields.integer("expected_version", in: 0...UInt64(1 << 53), required: false)
        guard let data = try fields.required("data"), fields.tape.kind(data) == .object else {
            throw fields.error("data", "must be an object")
        }
        let eventData = try decodeData(type: type, subject: subject, Fields(fields.tape, object: data, path: "data.", line: line))
        let event = Event(id: id, subject: subject, actor: actor, occurredAt: occurredAt, reason: reason, data: eventData)
        return Submission(event: event, expectedVersion: expectedVersion, recorded: try decodeRecorded(fields, subject: subject))
    }

    /// The envelope's members (``envelopeFields``), as the tape compares them: byte-wise, with no
    /// `String` made.
    private static let envelopeFieldNames: [StaticString] = [
        "id", "type", "employee", "unit", "identity", "actor", "occurred_at", "reason", "expected_version", "data",
    ]

    /// A recorded line's members (``recordedFields``), likewise.
    private static let recordedFieldNames: [StaticString] = ["seq", "stream", "version", "recorded_at", "prev_hash", "hash"]

    /// Every member a line may have, for the check of each member's name.
    private static let knownFields = envelopeFieldNames + recordedFieldNames

    private static func decodeRecorded(_ fields: Fields, subject: Subject) throws(WireError) -> RecordedFields? {
        let presentCount = recordedFieldNames.reduce(0) { $0 + (fields.has($1) ? 1 : 0) }
        guard presentCount > 0 else { return nil }
        if presentCount < recordedFields.count, let missing = recordedFields.first(where: { !fields.has(named: $0) }) {
            let present = recordedFields.filter { fields.has(named: $0) }
            throw fields.error(missing, "a recorded event must carry all of \(recordedFields.joined(separator: ", ")); this one has \(present.joined(separator: ", "))")
        }
        let seq = try fields.integer("seq", in: 1...UInt64(1 << 53), required: true)!
        guard try fields.isStream("stream", of: subject) else { throw fields.error("stream", "must be \"\(subject.stream)\", the stream of the event's subject") }
        let stream = try fields.requiredString("stream")
        let version = try fields.integer("version", in: 1...UInt64(1 << 53), required: true)!
        let recordedAt = try fields.timestamp("recorded_at")
        return RecordedFields(
            seq: seq, stream: stream, version: version, recordedAt: recordedAt.micros,
            prevHash: try fields.hexHash("prev_hash"), hash: try fields.hexHash("hash")
        )
    }

    private static func decodeData(type: EventType, subject: Subject, _ fields: Fields) throws(WireError) -> EventData {
        let allowed: [StaticString]
        switch type {
        case .employeePlaced: allowed = ["name", "unit", "position", "appraiser", "effective_from"]
        case .targetSet: allowed = ["period", "target_id", "kind", "plan", "indicator", "target", "aligned_to"]
        case .targetRevised: allowed = ["period", "target_id", "plan", "indicator", "target", "aligned_to"]
        case .scoreGiven: allowed = ["period", "results_rating", "behavior_rating", "realizations"]
        case .scoreCorrected: allowed = ["corrects", "basis", "results_rating", "behavior_rating"]
        case .feedbackGiven: allowed = ["period", "relation", "aspect", "topic", "text"]
        case .trainingCompleted: allowed = ["title", "provider", "hours", "completed_on", "certificate"]
        case .unitRated: allowed = ["period", "rating"]
        case .objectionFiled: allowed = ["score", "received_on", "grounds"]
        case .objectionDecided: allowed = ["objection", "outcome", "results_rating", "behavior_rating"]
        case .activityLogged: allowed = ["date", "target_id", "description", "output", "evidence"]
        case .accessGranted: allowed = ["role", "units", "token_id"]
        case .accessRevoked: allowed = ["token_id"]
        }
        try fields.rejectUnknown(allowed: allowed, context: type.rawValue + " data")

        switch type {
        case .employeePlaced:
            let name = try fields.text("name", max: 200)!
            let unit = try fields.unitCode("unit")
            let position = try fields.text("position", max: 200)!
            guard let appraiserValue = try fields.required("appraiser") else {
                throw fields.error("appraiser", "required field is missing (null for the head of the organisation)")
            }
            let appraiser: NIP? = fields.tape.kind(appraiserValue) == .null ? nil : try fields.nip("appraiser")
            return .employeePlaced(Placement(name: name, unit: unit, position: position, appraiser: appraiser, effectiveFrom: try fields.date("effective_from")))
        case .targetSet:
            let period = try fields.period("period", annualOnly: true)
            let targetID = try fields.targetID("target_id")
            let kind: TargetKind = try fields.code("kind")
            let plan = try fields.text("plan", max: 2000)!
            let indicator = try fields.text("indicator", max: 2000)!
            let target = try fields.quantity("target")!
            guard fields.has("aligned_to") else { throw fields.error("aligned_to", "required field is missing (null when not cascaded)") }
            let alignedTo = try fields.alignment("aligned_to")
            return .targetSet(TargetSet(period: period, targetID: targetID, kind: kind, plan: plan, indicator: indicator, target: target, alignedTo: alignedTo))
        case .targetRevised:
            let period = try fields.period("period", annualOnly: true)
            let targetID = try fields.targetID("target_id")
            let plan = try fields.text("plan", max: 2000, required: false)
            let indicator = try fields.text("indicator", max: 2000, required: false)
            let target = try fields.quantity("target", required: false)
            let alignedTo: Change<Alignment> = fields.has("aligned_to") ? .set(try fields.alignment("aligned_to")) : .unchanged
            if plan == nil && indicator == nil && target == nil && alignedTo == .unchanged {
                throw fields.error("", "a revision must change at least one of plan, indicator, target, aligned_to")
            }
            return .targetRevised(TargetRevision(period: period, targetID: targetID, plan: plan, indicator: indicator, target: target, alignedTo: alignedTo))
        case .scoreGiven:
            let period = try fields.period("period", annualOnly: false)
            let results: Rating = try fields.code("results_rating")
            let behavior: Rating = try fields.code("behavior_rating")
            return .scoreGiven(ScoreGiven(period: period, resultsRating: results, behaviorRating: behavior, realizations: try fields.realizations("realizations")))
        case .scoreCorrected:
            let corrects = try fields.uuid("corrects")
            let basis: CorrectionBasis = try fields.code("basis")
            let results: Rating = try fields.code("results_rating")
            let behavior: Rating = try fields.code("behavior_rating")
            return .scoreCorrected(ScoreCorrection(corrects: corrects, basis: basis, resultsRating: results, behaviorRating: behavior))
        case .feedbackGiven:
            let period = try fields.period("period", annualOnly: false)
            let relation: FeedbackRelation = try fields.code("relation")
            let aspect: CoreValue? = fields.has("aspect") ? try fields.code("aspect") as CoreValue : nil
            let topic = fields.has("topic") ? try fields.targetID("topic") : nil
            return .feedbackGiven(Feedback(period: period, relation: relation, aspect: aspect, topic: topic, text: try fields.text("text", max: 4000)!))
        case .trainingCompleted:
            let title = try fields.text("title", max: 300)!
            let provider = try fields.text("provider", max: 200)!
            let hours = try fields.number("hours")
            guard hours > 0, hours <= 1000 else { throw fields.error("hours", "must be greater than 0 and at most 1000 (JP)") }
            let completedOn = try fields.date("completed_on")
            let certificate = try fields.text("certificate", max: 200, required: false)
            return .trainingCompleted(Training(title: title, provider: provider, hours: hours, completedOn: completedOn, certificate: certificate))
        case .unitRated:
            let period = try fields.period("period", annualOnly: true)
            return .unitRated(UnitRating(period: period, rating: try fields.code("rating")))
        case .objectionFiled, .objectionDecided, .activityLogged:
            return try decodeCycleData(type: type, fields)
        case .accessGranted, .accessRevoked:
            return try decodeAccessData(type: type, subject: subject, fields)
        }
    }
}

/// Reads the members of one JSON object of a ``JSONTape`` against their rules, naming each field
/// by its path. Keys and codes are compared as bytes; a `String` is made only where the event
/// keeps text (and for messages).
struct Fields {
    let tape: JSONTape
    let object: Int
    let path: String
    let line: Int

    init(_ tape: JSONTape, object: Int, path: String, line: Int) {
        self.tape = tape
        self.object = object
        self.path = path
        self.line = line
    }

    var members: JSONTape.Members { tape.members(of: object) }

    func error(_ key: String, _ rule: String) -> WireError {
        WireError(line: line, field: key.isEmpty ? String(path.dropLast()) : path + key, rule: rule)
    }

    func error(_ key: StaticString, _ rule: String) -> WireError { error(key.description, rule) }

    func value(_ key: StaticString) -> Int? { tape.member(key, of: object) }

    func has(named key: String) -> Bool { tape.member(key, of: object) != nil }

    func has(_ key: StaticString) -> Bool { value(key) != nil }

    func rejectUnknown(allowed: [StaticString], context: @autoclosure () -> String) throws(WireError) {
        for member in members where !tape.isString(member.key, in: allowed) {
            throw error(tape.string(member.key), "unknown field: \(context()) has only \(allowed.map(\.description).joined(separator: ", "))")
        }
    }

    func required(_ key: StaticString) throws(WireError) -> Int? {
        guard let value = value(key) else { throw error(key, "required field is missing") }
        return value
    }

    /// The token of the string `key`: missing or not a string is an error.
    func stringToken(_ key: StaticString) throws(WireError) -> Int {
        guard let value = value(key) else { throw error(key, "required field is missing") }
        guard tape.kind(value) == .string else { throw error(key, "must be a string, not \(tape.typeName(value))") }
        return value
    }

    func requiredString(_ key: StaticString) throws(WireError) -> String {
        tape.string(try stringToken(key))
    }

    /// A string that matches `valid`, or an error stating `rule`.
    func string(_ key: StaticString, rule: String, _ valid: (String) -> Bool) throws(WireError) -> String {
        let value = try requiredString(key)
        guard valid(value) else { throw error(key, rule) }
        return value
    }

    /// Free text: 1 to `max` characters (Unicode scalars), not blank, no control characters but
    /// tab, line feed and carriage return. Absent is nil, unless `required`.
    func text(_ key: StaticString, max: Int, required: Bool = true) throws(WireError) -> String? {
        guard let value = value(key) else {
            if required { throw error(key, "required field is missing") }
            return nil
        }
        guard tape.kind(value) == .string else { throw error(key, "must be a string, not \(tape.typeName(value))") }
        let string = tape.string(value)
        let shape = TextShape(string)
        guard shape.count >= 1, shape.count <= max else { throw error(key, "must have 1 to \(max) characters, not \(shape.count)") }
        guard !shape.blank else { throw error(key, "must not be blank") }
        if shape.control {
            throw error(key, "must not contain control characters (NUL and others) other than tab, line feed and carriage return")
        }
        return string
    }

    func uuid(_ key: StaticString) throws(WireError) -> EventID {
        guard let id = tape.withBytes(try stringToken(key), EventID.init(utf8:)) else {
            throw error(key, "must be a UUID in RFC 9562 text form (8-4-4-4-12 hexadecimal digits)")
        }
        return id
    }

    func nip(_ key: StaticString) throws(WireError) -> NIP {
        switch tape.withBytes(try stringToken(key), NIP.validate(utf8:)) {
        case .success(let nip): return nip
        case .failure(let invalid): throw error(key, invalid.rule)
        }
    }

    /// Whether the string `key` is the name of `subject`'s stream (compared in place for an employee's).
    func isStream(_ key: StaticString, of subject: Subject) throws(WireError) -> Bool {
        let token = try stringToken(key)
        if case .employee(let nip) = subject {
            if tape.withBytes(token, { NIP(employeeStream: $0) }) == nip { return true }
            // Only text that is not ASCII could still equal it as a `String` (canonical equivalence).
            if tape.tokens[token].flag { return false }
        }
        return tape.string(token) == subject.stream
    }

    func unitCode(_ key: StaticString) throws(WireError) -> String {
        try string(key, rule: "must be a unit code: 1 to 64 of A–Z, 0–9, '.', '_', '-', starting with a letter or digit", Identifiers.isUnitCode)
    }

    func targetID(_ key: StaticString) throws(WireError) -> String {
        try string(key, rule: "must be a target id: 1 to 64 of A–Z, a–z, 0–9, '.', '_', '-'", Identifiers.isTargetID)
    }

    func actor(_ key: StaticString) throws(WireError) -> Actor {
        let token = try stringToken(key)
        // 18 digits are an NIP, read in place (``Actor/parse(_:)``'s first case); the rest is text.
        let nip: Result<NIP, NIP.Invalid>? = tape.withBytes(token) { bytes in
            bytes.count == 18 && bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) ? NIP.validate(utf8: bytes) : nil
        }
        let parsed = nip.map { $0.map(Actor.employee).mapError(Actor.Invalid.nip) } ?? Actor.parse(tape.string(token))
        switch parsed {
        case .success(let actor): return actor
        case .failure(let invalid): throw error(key, invalid.rule)
        }
    }

    func timestamp(_ key: StaticString) throws(WireError) -> Timestamp {
        switch tape.withBytes(try stringToken(key), Timestamp.parse(utf8:)) {
        case .success(let timestamp): return timestamp
        case .failure(let failure):
            let rule: String = switch failure {
            case .syntax: "must be an RFC 3339 timestamp with offset, such as 2026-04-02T09:15:00+07:00"
            case .date: "is not a real calendar date"
            case .time: "has an hour, minute or second out of range (leap seconds are not accepted)"
            case .precision: "has more than 6 fractional digits: the ledger keeps microseconds"
            case .offset: "must end with an offset: Z or ±HH:MM"
            case .unknownOffset: "offset -00:00 (unknown local offset) is not accepted: dates are taken in the event's own offset"
            }
            throw error(key, rule)
        }
    }

    func date(_ key: StaticString) throws(WireError) -> CivilDate {
        guard let date = tape.withBytes(try stringToken(key), CivilDate.init(utf8:)), date.year >= 1900 else {
            throw error(key, "must be a real date YYYY-MM-DD")
        }
        return date
    }

    func period(_ key: StaticString, annualOnly: Bool) throws(WireError) -> Period {
        guard let period = tape.withBytes(try stringToken(key), Period.init(utf8:)), (1970...2100).contains(period.year) else {
            throw error(key, annualOnly ? "must be a year YYYY (1970–2100)" : "must be a period: YYYY, YYYY-Qn (n 1–4) or YYYY-MM (1970–2100)")
        }
        guard !annualOnly || period.isAnnual else { throw error(key, "must be a year YYYY: targets and unit ratings are annual") }
        return period
    }

    func code<Code: WireCode>(_ key: StaticString) throws(WireError) -> Code {
        try code(key) { "\"\($0)\" is not one of \(Code.choices)" }
    }

    /// The code the string `key` names, its bytes compared with each code's (a text that is not
    /// ASCII is compared as a `String`); else the error `rule` gives for the text.
    func code<Code: WireCode>(_ key: StaticString, rule: (String) -> String) throws(WireError) -> Code {
        let token = try stringToken(key)
        for code in Code.allCases where tape.isString(token, code.rawValue) { return code }
        throw error(key, rule(tape.string(token)))
    }

    func number(_ key: StaticString) throws(WireError) -> Double {
        guard let value = value(key) else { throw error(key, "required field is missing") }
        guard tape.kind(value) == .number else { throw error(key, "must be a number, not \(tape.typeName(value))") }
        let number = tape.number(value)
        guard number.value.isFinite else { throw error(key, "number \(number.literal) is out of range") }
        // -0 reads as 0, so the stored value has one binary form.
        return number.value + 0.0
    }

    func integer(_ key: StaticString, in range: ClosedRange<UInt64>, required: Bool) throws(WireError) -> UInt64? {
        guard let value = value(key) else {
            if required { throw error(key, "required field is missing") }
            return nil
        }
        guard tape.kind(value) == .number, tape.tokens[value].flag else { throw error(key, "must be an integer, not \(tape.typeName(value))") }
        guard let integer = UInt64(tape.string(value)), range.contains(integer) else {
            throw error(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }

    func hexHash(_ key: StaticString) throws(WireError) -> ChainHash {
        guard let hash = tape.withBytes(try stringToken(key), ChainHash.init(hexDigits:)) else {
            throw error(key, "must be a SHA-256 hash: 64 lowercase hexadecimal digits")
        }
        return hash
    }

    func nested(_ key: StaticString) throws(WireError) -> Fields? {
        guard let value = value(key) else { return nil }
        guard tape.kind(value) == .object else { throw error(key, "must be an object, not \(tape.typeName(value))") }
        return Fields(tape, object: value, path: path + key.description + ".", line: line)
    }

    func quantity(_ key: StaticString, required: Bool = true) throws(WireError) -> TargetQuantity? {
        guard let inner = try nested(key) else {
            if required { throw error(key, "required field is missing") }
            return nil
        }
        try inner.rejectUnknown(allowed: ["value", "unit"], context: "a target")
        let value = try inner.number("value")
        guard value >= 0 else { throw inner.error("value", "must be a number ≥ 0") }
        return TargetQuantity(value: value, unit: try inner.text("unit", max: 32)!)
    }

    /// An alignment object, or nil for null.
    func alignment(_ key: StaticString) throws(WireError) -> Alignment? {
        if let value = value(key), tape.kind(value) == .null { return nil }
        guard let inner = try nested(key) else { throw error(key, "required field is missing") }
        try inner.rejectUnknown(allowed: ["employee", "target_id"], context: "aligned_to")
        return Alignment(employee: try inner.nip("employee"), targetID: try inner.targetID("target_id"))
    }

    func realizations(_ key: StaticString) throws(WireError) -> [Realization]? {
        guard let value = value(key) else { return nil }
        guard tape.kind(value) == .array else { throw error(key, "must be an array, not \(tape.typeName(value))") }
        guard tape.tokens[value].count <= 1000 else { throw error(key, "must have at most 1000 entries") }
        var result: [Realization] = []
        for (index, element) in tape.elements(of: value).enumerated() {
            guard tape.kind(element) == .object else { throw error("\(key)[\(index)]", "must be an object, not \(tape.typeName(element))") }
            let inner = Fields(tape, object: element, path: "\(path)\(key)[\(index)].", line: line)
            try inner.rejectUnknown(allowed: ["target_id", "value", "evidence"], context: "a realization")
            result.append(Realization(targetID: try inner.targetID("target_id"), value: try inner.number("value"), evidence: try inner.text("evidence", max: 2000, required: false)))
        }
        return result
    }
}

extension JSONTape {
    /// Whether a string token is one of `names` (as ``isString(_:_:)`` compares).
    func isString(_ token: Int, in names: [StaticString]) -> Bool {
        names.contains { isBytes(token, UnsafeRawBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount)) }
            || (!tokens[token].flag && names.contains { string(token) == $0.description })
    }
}

/// The character rules of the wire format's identifiers.
public enum Identifiers {
    static func isUpperOrDigit(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isUpperOrDigit(byte) || (0x61...0x7A).contains(byte) }
    static func isPunct(_ byte: UInt8) -> Bool { byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") }

    /// `^[A-Z0-9][A-Z0-9._-]{0,63}$`
    public static func isUnitCode(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard (1...64).contains(utf8.count), isUpperOrDigit(utf8[0]) else { return false }
        return utf8.dropFirst().allSatisfy { isUpperOrDigit($0) || isPunct($0) }
    }

    /// `^[A-Za-z0-9._-]{1,64}$`
    public static func isTargetID(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return (1...64).contains(utf8.count) && utf8.allSatisfy { isAlphanumeric($0) || isPunct($0) }
    }

    /// `^[a-z][a-z0-9-]*:[A-Za-z0-9._-]{1,64}$`
    public static func isSystemActor(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon >= 1, (0x61...0x7A).contains(utf8[0]) else { return false }
        let prefixOK = utf8[1..<colon].allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
        let name = utf8[(colon + 1)...]
        return prefixOK && (1...64).contains(name.count) && name.allSatisfy { isAlphanumeric($0) || isPunct($0) }
    }
}

/// What the rules of free text look at: its length in Unicode scalars, whether every scalar is
/// whitespace, and whether one is a control character other than tab, line feed and carriage
/// return. Measured in one pass over the bytes for ASCII text (nearly all of it), by scalar
/// properties otherwise; both give the same answer for ASCII.
struct TextShape: Equatable {
    var count: Int
    var blank: Bool
    var control: Bool

    init(_ string: String) {
        self = Self(ascii: string) ?? Self(scalars: string)
    }

    init(scalars string: String) {
        count = string.unicodeScalars.count
        blank = string.unicodeScalars.allSatisfy(\.properties.isWhitespace)
        control = string.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") || $0.value == 0x7F }
    }

    /// Nil unless `string` is ASCII.
    init?(ascii string: String) {
        var blank = true
        var control = false
        for byte in string.utf8 {
            guard byte < 0x80 else { return nil }
            switch byte {
            case 0x09, 0x0A, 0x0D, 0x20: break
            case 0x0B, 0x0C: control = true  // whitespace, and control characters
            case 0..<0x20, 0x7F: control = true; blank = false
            default: blank = false
            }
        }
        (count, self.blank, self.control) = (string.utf8.count, blank, control)
    }
}
