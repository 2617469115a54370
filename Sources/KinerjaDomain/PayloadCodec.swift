import CanonicalBytes

/// The domain's part of a canonical record: the bytes after the store's header.
///
/// ```
/// u8      event type code (1 employee.placed ... 8 unit.rated, 9 objection.filed,
///         10 objection.decided, 11 activity.logged)
/// str     actor
/// i64     occurred_at, microseconds since the Unix epoch
/// i16     occurred_at's UTC offset in minutes
/// ostr    reason
/// ...     data, per type, in the order of PRODUCT §3 (README.md, "The canonical bytes")
/// ```
/// `str` is a varint byte length and UTF-8; `ostr` is `0`, or `1` and a `str`; numbers are
/// IEEE 754 binary64; codes are one byte, their 1-based position in the wire code's list;
/// dates and periods are their wire text. The subject is the stream's, and the id the
/// store's: neither is repeated here.
public enum PayloadCodec {
    public static func encode(_ event: Event) -> [UInt8] {
        var writer = ByteWriter(capacity: 192)
        writer.writeUInt8(event.type.code)
        writer.writeString(event.actor)
        writer.writeInt64(event.occurredAt.micros)
        writer.writeInt16(event.occurredAt.offsetMinutes)
        writer.writeOptionalString(event.reason)
        switch event.data {
        case .employeePlaced(let placement):
            writer.writeString(placement.name)
            writer.writeString(placement.unit)
            writer.writeString(placement.position)
            writer.writeOptionalString(placement.appraiser?.text)
            writer.writeString(placement.effectiveFrom.description)
        case .targetSet(let target):
            writer.writeString(target.period.description)
            writer.writeString(target.targetID)
            writer.writeUInt8(target.kind.code)
            writer.writeString(target.plan)
            writer.writeString(target.indicator)
            write(target.target, to: &writer)
            writeOptional(target.alignedTo, to: &writer, write(_:to:))
        case .targetRevised(let revision):
            writer.writeString(revision.period.description)
            writer.writeString(revision.targetID)
            writer.writeOptionalString(revision.plan)
            writer.writeOptionalString(revision.indicator)
            writeOptional(revision.target, to: &writer, write(_:to:))
            switch revision.alignedTo {
            case .unchanged: writer.writeUInt8(0)
            case .set(nil): writer.writeUInt8(1)
            case .set(let alignment?):
                writer.writeUInt8(2)
                write(alignment, to: &writer)
            }
        case .scoreGiven(let score):
            writer.writeString(score.period.description)
            writer.writeUInt8(score.resultsRating.code)
            writer.writeUInt8(score.behaviorRating.code)
            if let realizations = score.realizations {
                writer.writeUInt8(1)
                writer.writeVarint(UInt64(realizations.count))
                for realization in realizations {
                    writer.writeString(realization.targetID)
                    writer.writeDouble(realization.value)
                    writer.writeOptionalString(realization.evidence)
                }
            } else {
                writer.writeUInt8(0)
            }
        case .scoreCorrected(let correction):
            write(correction.corrects, to: &writer)
            writer.writeUInt8(correction.basis.code)
            writer.writeUInt8(correction.resultsRating.code)
            writer.writeUInt8(correction.behaviorRating.code)
        case .feedbackGiven(let feedback):
            writer.writeString(feedback.period.description)
            writer.writeUInt8(feedback.relation.code)
            writer.writeUInt8(feedback.aspect?.code ?? 0)
            writer.writeOptionalString(feedback.topic)
            writer.writeString(feedback.text)
        case .trainingCompleted(let training):
            writer.writeString(training.title)
            writer.writeString(training.provider)
            writer.writeDouble(training.hours)
            writer.writeString(training.completedOn.description)
            writer.writeOptionalString(training.certificate)
        case .unitRated(let rating):
            writer.writeString(rating.period.description)
            writer.writeUInt8(rating.rating.code)
        case .objectionFiled(let objection):
            write(objection.score, to: &writer)
            writer.writeString(objection.receivedOn.description)
            writer.writeString(objection.grounds)
        case .objectionDecided(let decision):
            write(decision.objection, to: &writer)
            writer.writeUInt8(decision.outcome.code)
            writer.writeUInt8(decision.resultsRating?.code ?? 0)
            writer.writeUInt8(decision.behaviorRating?.code ?? 0)
        case .activityLogged(let activity):
            writer.writeString(activity.date.description)
            writer.writeString(activity.targetID)
            writer.writeString(activity.description)
            writeOptional(activity.output, to: &writer, write(_:to:))
            writer.writeOptionalString(activity.evidence)
        }
        return writer.bytes
    }

    private static func write(_ id: EventID, to writer: inout ByteWriter) {
        writer.writeUInt64(id.high)
        writer.writeUInt64(id.low)
    }

    private static func write(_ quantity: TargetQuantity, to writer: inout ByteWriter) {
        writer.writeDouble(quantity.value)
        writer.writeString(quantity.unit)
    }

    private static func write(_ alignment: Alignment, to writer: inout ByteWriter) {
        writer.writeString(alignment.employee.text)
        writer.writeString(alignment.targetID)
    }

    /// `0`, or `1` and the value.
    private static func writeOptional<Value>(_ value: Value?, to writer: inout ByteWriter, _ write: (Value, inout ByteWriter) -> Void) {
        if let value {
            writer.writeUInt8(1)
            write(value, &writer)
        } else {
            writer.writeUInt8(0)
        }
    }

    /// The event type of a payload, read from its first byte without decoding the rest.
    public static func type(of payload: UnsafeRawBufferPointer) -> EventType? {
        payload.first.flatMap(EventType.init(code:))
    }

    /// Decodes a payload written by ``encode(_:)``; `stream` and `id` come from the store's header.
    public static func decode(_ payload: UnsafeRawBufferPointer, stream: String, id: EventID) throws(ByteReader.Malformed) -> Event {
        var stream = stream
        let result = stream.withUTF8 { utf8 in Result { () throws(ByteReader.Malformed) in try decode(payload, streamBytes: UnsafeRawBufferPointer(utf8), id: id) } }
        return try result.get()
    }

    /// Decodes a payload written by ``encode(_:)``; the stream's name (UTF-8) and `id` come from
    /// the store's header.
    public static func decode(_ payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID) throws(ByteReader.Malformed) -> Event {
        var reader = ByteReader(payload)
        let typeCode = try reader.readUInt8()
        guard let type = EventType(code: typeCode) else { throw ByteReader.Malformed(offset: 0, what: "unknown event type code \(typeCode)") }
        guard let subject = Subject(streamBytes: streamBytes) else {
            throw ByteReader.Malformed(offset: 0, what: "stream \(String(decoding: streamBytes, as: UTF8.self)) names no subject")
        }
        let actor = try reader.readString()
        let occurredAt = Timestamp(micros: try reader.readInt64(), offsetMinutes: try reader.readInt16())
        let reason = try reader.readOptionalString()
        let data: EventData
        switch type {
        case .employeePlaced:
            data = .employeePlaced(Placement(
                name: try reader.readString(), unit: try reader.readString(), position: try reader.readString(),
                appraiser: try readOptionalNIP(&reader), effectiveFrom: try readDate(&reader)))
        case .targetSet:
            data = .targetSet(TargetSet(
                period: try readPeriod(&reader), targetID: try reader.readString(), kind: try readCode(&reader),
                plan: try reader.readString(), indicator: try reader.readString(), target: try readQuantity(&reader),
                alignedTo: try reader.readBool() ? try readAlignment(&reader) : nil))
        case .targetRevised:
            let period = try readPeriod(&reader)
            let targetID = try reader.readString()
            let plan = try reader.readOptionalString()
            let indicator = try reader.readOptionalString()
            let target = try reader.readBool() ? try readQuantity(&reader) : nil
            let alignedTo: Change<Alignment>
            switch try reader.readUInt8() {
            case 0: alignedTo = .unchanged
            case 1: alignedTo = .set(nil)
            case 2: alignedTo = .set(try readAlignment(&reader))
            case let other: throw ByteReader.Malformed(offset: reader.offset - 1, what: "aligned_to state \(other)")
            }
            data = .targetRevised(TargetRevision(period: period, targetID: targetID, plan: plan, indicator: indicator, target: target, alignedTo: alignedTo))
        case .scoreGiven:
            let period = try readPeriod(&reader)
            let results: Rating = try readCode(&reader)
            let behavior: Rating = try readCode(&reader)
            var realizations: [Realization]?
            if try reader.readBool() {
                let count = try reader.readVarint()
                guard count <= UInt64(reader.remaining) else { throw ByteReader.Malformed(offset: reader.offset, what: "realization count \(count)") }
                var list: [Realization] = []
                for _ in 0..<count {
                    list.append(Realization(targetID: try reader.readString(), value: try reader.readDouble(), evidence: try reader.readOptionalString()))
                }
                realizations = list
            }
            data = .scoreGiven(ScoreGiven(period: period, resultsRating: results, behaviorRating: behavior, realizations: realizations))
        case .scoreCorrected:
            data = .scoreCorrected(ScoreCorrection(
                corrects: try readID(&reader), basis: try readCode(&reader),
                resultsRating: try readCode(&reader), behaviorRating: try readCode(&reader)))
        case .feedbackGiven:
            let period = try readPeriod(&reader)
            let relation: FeedbackRelation = try readCode(&reader)
            let aspect: CoreValue? = try readOptionalCode(&reader)
            data = .feedbackGiven(Feedback(period: period, relation: relation, aspect: aspect, topic: try reader.readOptionalString(), text: try reader.readString()))
        case .trainingCompleted:
            data = .trainingCompleted(Training(
                title: try reader.readString(), provider: try reader.readString(), hours: try reader.readDouble(),
                completedOn: try readDate(&reader), certificate: try reader.readOptionalString()))
        case .unitRated:
            data = .unitRated(UnitRating(period: try readPeriod(&reader), rating: try readCode(&reader)))
        case .objectionFiled:
            data = .objectionFiled(ObjectionFiled(score: try readID(&reader), receivedOn: try readDate(&reader), grounds: try reader.readString()))
        case .objectionDecided:
            let objection = try readID(&reader)
            let outcome: ObjectionOutcome = try readCode(&reader)
            let offset = reader.offset
            let results: Rating? = try readOptionalCode(&reader)
            let behavior: Rating? = try readOptionalCode(&reader)
            guard (outcome == .upheld) == (results != nil), (results == nil) == (behavior == nil) else {
                throw ByteReader.Malformed(offset: offset, what: "ratings of a decision \(outcome.rawValue)")
            }
            data = .objectionDecided(ObjectionDecision(objection: objection, outcome: outcome, resultsRating: results, behaviorRating: behavior))
        case .activityLogged:
            data = .activityLogged(Activity(
                date: try readDate(&reader), targetID: try reader.readString(), description: try reader.readString(),
                output: try reader.readBool() ? try readQuantity(&reader) : nil, evidence: try reader.readOptionalString()))
        }
        guard reader.isAtEnd else { throw ByteReader.Malformed(offset: reader.offset, what: "\(reader.remaining) bytes after the event") }
        return Event(id: id, subject: subject, actor: actor, occurredAt: occurredAt, reason: reason, data: data)
    }

    private static func readCode<Code: WireCode>(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Code {
        let offset = reader.offset
        return try code(try reader.readUInt8(), at: offset)
    }

    /// A code, or nil for 0 (absent).
    private static func readOptionalCode<Code: WireCode>(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Code? {
        let offset = reader.offset
        let byte = try reader.readUInt8()
        return byte == 0 ? nil : try code(byte, at: offset)
    }

    private static func readID(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> EventID {
        EventID(high: try reader.readUInt64(), low: try reader.readUInt64())
    }

    private static func code<Code: WireCode>(_ byte: UInt8, at offset: Int) throws(ByteReader.Malformed) -> Code {
        guard let code = Code(code: byte) else { throw ByteReader.Malformed(offset: offset, what: "code \(byte) is not a \(Code.self)") }
        return code
    }

    private static func readPeriod(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Period {
        let offset = reader.offset
        guard let period = Period(try reader.readString()) else { throw ByteReader.Malformed(offset: offset, what: "not a period") }
        return period
    }

    private static func readDate(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> CivilDate {
        let offset = reader.offset
        guard let date = CivilDate(try reader.readString()) else { throw ByteReader.Malformed(offset: offset, what: "not a date") }
        return date
    }

    private static func readOptionalNIP(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> NIP? {
        let offset = reader.offset
        guard let text = try reader.readOptionalString() else { return nil }
        return try nip(text, at: offset)
    }

    private static func nip(_ text: String, at offset: Int) throws(ByteReader.Malformed) -> NIP {
        guard let nip = NIP(digits: text) else { throw ByteReader.Malformed(offset: offset, what: "not an NIP") }
        return nip
    }

    private static func readQuantity(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> TargetQuantity {
        TargetQuantity(value: try reader.readDouble(), unit: try reader.readString())
    }

    private static func readAlignment(_ reader: inout ByteReader) throws(ByteReader.Malformed) -> Alignment {
        Alignment(employee: try nip(try reader.readString(), at: reader.offset), targetID: try reader.readString())
    }
}
