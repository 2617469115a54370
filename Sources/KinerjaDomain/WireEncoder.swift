import CanonicalBytes

/// Writes events as wire format v1 JSON, one line each, in a fixed field order: the recorded
/// fields (when given) first, then the envelope, the data, and the hashes last.
///
/// Decoding what this writes gives back the same event, so an export re-imports unchanged.
public enum WireEncoder {
    public static func encode(_ event: Event, recorded: RecordedFields? = nil) -> String {
        var json = JSONWriter()
        encode(event, recorded: recorded, into: &json)
        return json.text
    }

    /// Appends the event's JSON object to `json`: the same bytes as ``encode(_:recorded:)``,
    /// without a String of its own (a dossier proof writes one per event into its answer).
    public static func encode(_ event: Event, recorded: RecordedFields? = nil, into json: inout JSONWriter) {
        json.raw("{")
        if let recorded {
            json.key("seq", first: true)
            json.raw(String(recorded.seq))
            json.key("stream")
            json.string(recorded.stream)
            json.key("version")
            json.raw(String(recorded.version))
            json.key("recorded_at")
            json.raw("\"")
            json.raw { Timestamp(micros: recorded.recordedAt).appendUTCMicrosecondText(to: &$0) }
            json.raw("\"")
            json.key("id")
        } else {
            json.key("id", first: true)
        }
        json.string(event.id.description)
        json.key("type")
        json.string(event.type.rawValue)
        switch event.subject {
        case .employee(let nip):
            json.key("employee")
            json.string(nip.text)
        case .unit(let code):
            json.key("unit")
            json.string(code)
        case .identity(let name):
            json.key("identity")
            json.string(name)
        }
        json.key("actor")
        json.string(event.actor.text)
        json.key("occurred_at")
        json.raw("\"")
        json.raw { event.occurredAt.appendDescription(to: &$0) }
        json.raw("\"")
        if let reason = event.reason {
            json.key("reason")
            json.string(reason)
        }
        json.key("data")
        writeData(event.data, to: &json)
        if let recorded {
            json.key("prev_hash")
            json.hex(recorded.prevHash)
            json.key("hash")
            json.hex(recorded.hash)
        }
        json.raw("}")
    }

    private static func writeData(_ data: EventData, to json: inout JSONWriter) {
        json.raw("{")
        switch data {
        case .employeePlaced(let placement):
            json.key("name", first: true)
            json.string(placement.name)
            json.key("unit")
            json.string(placement.unit)
            json.key("position")
            json.string(placement.position)
            json.key("appraiser")
            if let appraiser = placement.appraiser { json.string(appraiser.text) } else { json.raw("null") }
            json.key("effective_from")
            json.string(placement.effectiveFrom.description)
        case .targetSet(let target):
            json.key("period", first: true)
            json.string(target.period.description)
            json.key("target_id")
            json.string(target.targetID)
            json.key("kind")
            json.string(target.kind.rawValue)
            json.key("plan")
            json.string(target.plan)
            json.key("indicator")
            json.string(target.indicator)
            json.key("target")
            json.target(target.target)
            json.key("aligned_to")
            json.alignment(target.alignedTo)
        case .targetRevised(let revision):
            json.key("period", first: true)
            json.string(revision.period.description)
            json.key("target_id")
            json.string(revision.targetID)
            if let plan = revision.plan {
                json.key("plan")
                json.string(plan)
            }
            if let indicator = revision.indicator {
                json.key("indicator")
                json.string(indicator)
            }
            if let target = revision.target {
                json.key("target")
                json.target(target)
            }
            if case .set(let alignment) = revision.alignedTo {
                json.key("aligned_to")
                json.alignment(alignment)
            }
        case .scoreGiven(let score):
            json.key("period", first: true)
            json.string(score.period.description)
            json.key("results_rating")
            json.string(score.resultsRating.rawValue)
            json.key("behavior_rating")
            json.string(score.behaviorRating.rawValue)
            if let realizations = score.realizations {
                json.key("realizations")
                json.raw("[")
                for (index, realization) in realizations.enumerated() {
                    if index > 0 { json.raw(",") }
                    json.raw("{")
                    json.key("target_id", first: true)
                    json.string(realization.targetID)
                    json.key("value")
                    json.number(realization.value)
                    if let evidence = realization.evidence {
                        json.key("evidence")
                        json.string(evidence)
                    }
                    json.raw("}")
                }
                json.raw("]")
            }
        case .scoreCorrected(let correction):
            json.key("corrects", first: true)
            json.string(correction.corrects.description)
            json.key("basis")
            json.string(correction.basis.rawValue)
            json.key("results_rating")
            json.string(correction.resultsRating.rawValue)
            json.key("behavior_rating")
            json.string(correction.behaviorRating.rawValue)
        case .feedbackGiven(let feedback):
            json.key("period", first: true)
            json.string(feedback.period.description)
            json.key("relation")
            json.string(feedback.relation.rawValue)
            if let aspect = feedback.aspect {
                json.key("aspect")
                json.string(aspect.rawValue)
            }
            if let topic = feedback.topic {
                json.key("topic")
                json.string(topic)
            }
            json.key("text")
            json.string(feedback.text)
        case .trainingCompleted(let training):
            json.key("title", first: true)
            json.string(training.title)
            json.key("provider")
            json.string(training.provider)
            json.key("hours")
            json.number(training.hours)
            json.key("completed_on")
            json.string(training.completedOn.description)
            if let certificate = training.certificate {
                json.key("certificate")
                json.string(certificate)
            }
        case .unitRated(let rating):
            json.key("period", first: true)
            json.string(rating.period.description)
            json.key("rating")
            json.string(rating.rating.rawValue)
        case .objectionFiled(let objection):
            json.member("score", objection.score.description, first: true)
            json.member("received_on", objection.receivedOn.description)
            json.member("grounds", objection.grounds)
        case .objectionDecided(let decision):
            json.member("objection", decision.objection.description, first: true)
            json.member("outcome", decision.outcome.rawValue)
            json.memberIfPresent("results_rating", decision.resultsRating?.rawValue)
            json.memberIfPresent("behavior_rating", decision.behaviorRating?.rawValue)
        case .activityLogged(let activity):
            json.member("date", activity.date.description, first: true)
            json.member("target_id", activity.targetID)
            json.member("description", activity.description)
            if let output = activity.output {
                json.key("output")
                json.target(output)
            }
            json.memberIfPresent("evidence", activity.evidence)
        case .accessGranted(let grant):
            json.member("role", grant.role.rawValue, first: true)
            json.key("units")
            json.raw("[")
            for (index, unit) in grant.units.enumerated() {
                if index > 0 { json.raw(",") }
                json.string(unit)
            }
            json.raw("]")
            json.member("token_id", grant.tokenID)
        case .accessRevoked(let revocation):
            json.member("token_id", revocation.tokenID, first: true)
        }
        json.raw("}")
    }
}

extension JSONWriter {
    /// `"key":"value"`, after a comma unless `first`.
    public mutating func member(_ key: StaticString, _ value: String, first: Bool = false) {
        self.key(key, first: first)
        string(value)
    }

    /// `"key":"value"` after a comma when there is a value; nothing when there is none.
    public mutating func memberIfPresent(_ key: StaticString, _ value: String?) {
        if let value { member(key, value) }
    }

    /// `{"value":V,"unit":"U"}`: a target as the wire format writes it.
    public mutating func target(_ quantity: TargetQuantity) {
        raw("{")
        key("value", first: true)
        number(quantity.value)
        key("unit")
        string(quantity.unit)
        raw("}")
    }

    /// `{"employee":"NIP","target_id":"T"}`, or `null`: an `aligned_to` as the wire format writes it.
    public mutating func alignment(_ alignment: Alignment?) {
        guard let alignment else {
            raw("null")
            return
        }
        raw("{")
        key("employee", first: true)
        string(alignment.employee.text)
        key("target_id")
        string(alignment.targetID)
        raw("}")
    }
}

extension WireEncoder {
    /// Appends the JSON of a recorded event read in place: the same bytes as
    /// ``encode(_:recorded:into:)`` writes for the event ``EventView/event()`` builds, with its
    /// recorded fields (the view's `seq` and `recordedAt`, and `stream`, `version`, `prevHash`
    /// and `hash`) — transcoded from the canonical bytes, with no `Event` and no String of its
    /// texts (a dossier proof writes a few hundred events). A text that is not UTF-8 throws, as
    /// ``EventView/event()`` does.
    public static func encode(
        _ view: borrowing EventView, stream: UnsafeRawBufferPointer, version: UInt64, prevHash: ChainHash, hash: ChainHash,
        into json: inout JSONWriter
    ) throws(ByteReader.Malformed) {
        json.raw("{")
        json.key("seq", first: true)
        json.raw(String(view.seq))
        json.key("stream")
        try json.text(stream)
        json.key("version")
        json.raw(String(version))
        json.key("recorded_at")
        json.raw("\"")
        json.raw { Timestamp(micros: view.recordedAt).appendUTCMicrosecondText(to: &$0) }
        json.raw("\"")
        json.key("id")
        json.id(view.id)
        json.key("type")
        json.string(view.type.rawValue)
        if let employee = view.employee {
            json.key("employee")
            json.string(employee.text)
        } else if let identity = view.identity {
            json.key("identity")
            try json.text(identity)
        } else if let unit = view.unit {
            json.key("unit")
            try json.text(unit)
        }
        json.key("actor")
        try json.text(view.actor)
        json.key("occurred_at")
        json.raw("\"")
        json.raw { view.occurredAt.appendDescription(to: &$0) }
        json.raw("\"")
        if let reason = view.reason {
            json.key("reason")
            try json.text(reason)
        }
        json.key("data")
        try writeData(view.data, to: &json)
        json.key("prev_hash")
        json.hex(prevHash)
        json.key("hash")
        json.hex(hash)
        json.raw("}")
    }

    private static func writeData(_ data: DataView, to json: inout JSONWriter) throws(ByteReader.Malformed) {
        json.raw("{")
        switch data {
        case .employeePlaced(let placement):
            try json.member("name", placement.name, first: true)
            try json.member("unit", placement.unit)
            try json.member("position", placement.position)
            json.key("appraiser")
            if let appraiser = placement.appraiser { json.string(appraiser.text) } else { json.raw("null") }
            json.member("effective_from", placement.effectiveFrom.description)
        case .targetSet(let target):
            json.member("period", target.period.description, first: true)
            try json.member("target_id", target.targetID)
            json.member("kind", target.kind.rawValue)
            try json.member("plan", target.plan)
            try json.member("indicator", target.indicator)
            json.key("target")
            try json.target(target.value, target.unit)
            json.key("aligned_to")
            try json.alignment(target.alignedTo)
        case .targetRevised(let revision):
            json.member("period", revision.period.description, first: true)
            try json.member("target_id", revision.targetID)
            if let plan = revision.plan { try json.member("plan", plan) }
            if let indicator = revision.indicator { try json.member("indicator", indicator) }
            if let target = revision.target {
                json.key("target")
                try json.target(target.value, target.unit)
            }
            if case .some(let alignment) = revision.alignedTo {
                json.key("aligned_to")
                try json.alignment(alignment)
            }
        case .scoreGiven(let score):
            json.member("period", score.period.description, first: true)
            json.member("results_rating", score.resultsRating.rawValue)
            json.member("behavior_rating", score.behaviorRating.rawValue)
            if let bytes = score.realizations {
                json.key("realizations")
                json.raw("[")
                var reader = ByteReader(bytes)
                for index in 0..<(try reader.readVarint()) {
                    if index > 0 { json.raw(",") }
                    json.raw("{")
                    json.key("target_id", first: true)
                    try json.text(try reader.readStringBytes(), at: reader.offset)
                    json.key("value")
                    json.number(try reader.readDouble())
                    if try reader.readBool() {
                        json.key("evidence")
                        try json.text(try reader.readStringBytes(), at: reader.offset)
                    }
                    json.raw("}")
                }
                json.raw("]")
            }
        case .scoreCorrected(let correction):
            json.key("corrects", first: true)
            json.id(correction.corrects)
            json.member("basis", correction.basis.rawValue)
            json.member("results_rating", correction.resultsRating.rawValue)
            json.member("behavior_rating", correction.behaviorRating.rawValue)
        case .feedbackGiven(let feedback):
            json.member("period", feedback.period.description, first: true)
            json.member("relation", feedback.relation.rawValue)
            json.memberIfPresent("aspect", feedback.aspect?.rawValue)
            if let topic = feedback.topic { try json.member("topic", topic) }
            try json.member("text", feedback.text)
        case .trainingCompleted(let training):
            try json.member("title", training.title, first: true)
            try json.member("provider", training.provider)
            json.key("hours")
            json.number(training.hours)
            json.member("completed_on", training.completedOn.description)
            if let certificate = training.certificate { try json.member("certificate", certificate) }
        case .unitRated(let rating):
            json.member("period", rating.period.description, first: true)
            json.member("rating", rating.rating.rawValue)
        case .objectionFiled(let objection):
            json.key("score", first: true)
            json.id(objection.score)
            json.member("received_on", objection.receivedOn.description)
            try json.member("grounds", objection.grounds)
        case .objectionDecided(let decision):
            json.key("objection", first: true)
            json.id(decision.objection)
            json.member("outcome", decision.outcome.rawValue)
            json.memberIfPresent("results_rating", decision.resultsRating?.rawValue)
            json.memberIfPresent("behavior_rating", decision.behaviorRating?.rawValue)
        case .activityLogged(let activity):
            json.member("date", activity.date.description, first: true)
            try json.member("target_id", activity.targetID)
            try json.member("description", activity.description)
            if let output = activity.output {
                json.key("output")
                try json.target(output.value, output.unit)
            }
            if let evidence = activity.evidence { try json.member("evidence", evidence) }
        case .accessGranted(let grant):
            json.member("role", grant.role.rawValue, first: true)
            json.key("units")
            json.raw("[")
            var reader = ByteReader(grant.units)
            for index in 0..<(try reader.readVarint()) {
                if index > 0 { json.raw(",") }
                try json.text(try reader.readStringBytes(), at: reader.offset)
            }
            json.raw("]")
            try json.member("token_id", grant.tokenID)
        case .accessRevoked(let revocation):
            try json.member("token_id", revocation.tokenID, first: true)
        }
        json.raw("}")
    }
}

extension JSONWriter {
    /// A record's text as a JSON string, checked for UTF-8 in place (as building its String would).
    mutating func text(_ text: TextView) throws(ByteReader.Malformed) {
        try text.check()
        string(utf8: text.bytes)
    }

    /// Bytes read at `offset` of a record as a JSON string, checked for UTF-8.
    mutating func text(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(ByteReader.Malformed) {
        guard bytes.isValidUTF8 else { throw ByteReader.Malformed(offset: offset, what: "string is not valid UTF-8") }
        string(utf8: bytes)
    }

    /// `"key":"text"`, after a comma unless `first`.
    mutating func member(_ key: StaticString, _ value: TextView, first: Bool = false) throws(ByteReader.Malformed) {
        self.key(key, first: first)
        try text(value)
    }

    /// `"…"`: the event ID's lowercase `8-4-4-4-12`.
    mutating func id(_ id: EventID) {
        raw("\"")
        raw { id.appendDescription(to: &$0) }
        raw("\"")
    }

    /// ``target(_:)`` of a quantity read in place.
    mutating func target(_ value: Double, _ unit: TextView) throws(ByteReader.Malformed) {
        raw("{")
        key("value", first: true)
        number(value)
        key("unit")
        try text(unit)
        raw("}")
    }

    /// ``alignment(_:)`` of one read in place.
    mutating func alignment(_ alignment: AlignmentView?) throws(ByteReader.Malformed) {
        guard let alignment else {
            raw("null")
            return
        }
        raw("{")
        key("employee", first: true)
        string(alignment.employee.text)
        key("target_id")
        try text(alignment.targetID)
        raw("}")
    }
}
