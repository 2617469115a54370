import CanonicalBytes

/// The domain's part of a canonical record: the bytes after the store's header.
///
/// ```
/// u8      event type code (1 employee.placed ... 8 unit.rated, 9 objection.filed,
///         10 objection.decided, 11 activity.logged, 12 access.granted, 13 access.revoked)
/// str     actor
/// i64     occurred_at, microseconds since the Unix epoch
/// i16     occurred_at's UTC offset in minutes
/// ostr    reason
/// ...     data, per type, in the order of PRODUCT §3 (README.md, "The canonical bytes")
/// ```
/// Read back in place by ``EventView``.
/// `str` is a varint byte length and UTF-8; `ostr` is `0`, or `1` and a `str`; numbers are
/// IEEE 754 binary64; codes are one byte, their 1-based position in the wire code's list;
/// dates and periods are their wire text. The subject is the stream's, and the id the
/// store's: neither is repeated here.
public enum PayloadCodec {
    public static func encode(_ event: Event) -> [UInt8] {
        var writer = ByteWriter(capacity: 192)
        writer.writeUInt8(event.type.code)
        writer.writeString(event.actor.text)
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
        case .accessGranted(let grant):
            writer.writeUInt8(grant.role.code)
            writer.writeVarint(UInt64(grant.units.count))
            for unit in grant.units { writer.writeString(unit) }
            writer.writeString(grant.tokenID)
        case .accessRevoked(let revocation):
            writer.writeString(revocation.tokenID)
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

    /// The `occurred_at` of a payload (microseconds since the epoch), read without decoding the
    /// rest: the type, the actor, then the instant.
    public static func occurredAt(of payload: UnsafeRawBufferPointer) -> Int64? {
        var reader = ByteReader(payload)
        guard (try? reader.readUInt8()) != nil, (try? reader.readStringBytes()) != nil else { return nil }
        return try? reader.readInt64()
    }

    /// The unique keys (``Event/uniqueKeys``) of the event a stored payload holds, if the payload
    /// is exactly the canonical encoding of that event (what ``encode(_:)`` gives back for it);
    /// throws otherwise. What `verify` asks of every record, checked in place for the events that
    /// claim no key: ``EventView`` reads codes, numbers, dates, periods and NIPs only from their
    /// canonical bytes (one byte per code, shortest varints, flags 0 or 1, `YYYY-MM-DD`, 18 digits,
    /// nothing after the event), so what is left is that every string is UTF-8. The events that
    /// claim keys (targets, objections, decisions: a few per cent) are decoded and re-encoded.
    /// ``canonicalKeysByReencoding(_:streamBytes:id:)`` is the same check done the long way, for
    /// every event: the tests hold the two to the same answer, and to the same error.
    public static func canonicalKeys(_ payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID) throws -> [[UInt8]] {
        switch type(of: payload) {
        case .targetSet, .objectionFiled, .objectionDecided:
            return try canonicalKeys(of: try decode(payload, streamBytes: streamBytes, id: id), payload: payload)
        default:
            do {
                try EventView.check(payload: payload, streamBytes: streamBytes)
            } catch {
                // The check reads the strings in the payload's order, at offsets into the whole
                // payload; a damaged record is reported as decoding reports it (the data's
                // strings first, a list's offsets within the list), so decode it to throw that.
                _ = try decode(payload, streamBytes: streamBytes, id: id)
                throw error
            }
            return []
        }
    }

    /// ``canonicalKeys(_:streamBytes:id:)``, by decoding every event and encoding it again.
    public static func canonicalKeysByReencoding(_ payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID) throws -> [[UInt8]] {
        try canonicalKeys(of: try decode(payload, streamBytes: streamBytes, id: id), payload: payload)
    }

    private static func canonicalKeys(of event: Event, payload: UnsafeRawBufferPointer) throws -> [[UInt8]] {
        let canonical = encode(event).withUnsafeBytes { encoded in encoded.elementsEqual(payload) }
        guard canonical else { throw NonCanonical() }
        return event.uniqueKeys
    }

    /// A payload that decodes, but is not the canonical encoding of what it decodes to.
    public struct NonCanonical: Error, CustomStringConvertible, Sendable {
        public var description: String { "the payload is not in canonical form" }
    }

    /// Decodes a payload written by ``encode(_:)``; `stream` and `id` come from the store's header.
    public static func decode(_ payload: UnsafeRawBufferPointer, stream: String, id: EventID) throws(ByteReader.Malformed) -> Event {
        var stream = stream
        let result = stream.withUTF8 { utf8 in Result { () throws(ByteReader.Malformed) in try decode(payload, streamBytes: UnsafeRawBufferPointer(utf8), id: id) } }
        return try result.get()
    }

    /// Decodes a payload written by ``encode(_:)``; the stream's name (UTF-8) and `id` come from
    /// the store's header. The bytes are read by ``EventView``, then every string is built.
    public static func decode(_ payload: UnsafeRawBufferPointer, streamBytes: UnsafeRawBufferPointer, id: EventID) throws(ByteReader.Malformed) -> Event {
        try EventView(payload: payload, streamBytes: streamBytes, id: id).event()
    }
}
