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
