import CanonicalBytes
import KinerjaDomain
import PropertyBased
import Testing

/// SplitMix64: the generated events of one seed.
private struct Random {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func bool() -> Bool { next() & 1 == 1 }
    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// Texts the transcoder must escape as the wire encoder does: control bytes, quotes,
    /// backslashes, multi-byte UTF-8, JSON's line separators, or nothing at all.
    mutating func text() -> String {
        let pieces = ["a", "Budi", " ", "\u{01}", "\u{08}", "\u{0C}", "\u{1F}", "\u{7F}", "\n", "\r", "\t", "\"", "\\", "/", "é", "Ñ", "語", "😀", "\u{2028}", "\u{FEFF}", "0"]
        var text = ""
        for _ in 0..<below(9) { text += pick(pieces) }
        return text
    }

    /// Numbers of every shape: non-integral, large integers (exact and past 2^53), the
    /// extremes of binary64, negative zero, and random finite bit patterns.
    mutating func number() -> Double {
        let shapes: [Double] = [0, -0.0, 1, 2.5, 0.1, 4.35, -1.5, 1e21, 1e-7, 123_456_789_012_345_680, 9_007_199_254_740_994, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 100]
        if below(4) == 0 {
            let value = Double(bitPattern: next())
            return value.isFinite ? value : 0
        }
        return pick(shapes)
    }

    mutating func id() -> EventID { EventID(high: next(), low: next()) }
    mutating func nip() -> NIP { NIP(unchecked: pick(["199005202015031003", "198001012006041001", "000000000000000000"])) }
    mutating func date() -> CivilDate { CivilDate(daysSinceEpoch: below(40_000) - 5_000) }
    mutating func period() -> Period { Period(year: 1990 + below(60), span: pick([.year, .quarter(1 + below(4)), .month(1 + below(12))])) }
    mutating func quantity() -> TargetQuantity { TargetQuantity(value: number(), unit: text()) }
    mutating func rating() -> Rating { pick(Rating.allCases) }
    mutating func alignment() -> Alignment { Alignment(employee: nip(), targetID: text()) }

    mutating func data(_ type: EventType) -> EventData {
        switch type {
        case .employeePlaced:
            return .employeePlaced(Placement(name: text(), unit: text(), position: text(), appraiser: (bool() ? nip() : nil), effectiveFrom: date()))
        case .targetSet:
            return .targetSet(TargetSet(period: period(), targetID: text(), kind: pick(TargetKind.allCases), plan: text(), indicator: text(), target: quantity(), alignedTo: (bool() ? alignment() : nil)))
        case .targetRevised:
            return .targetRevised(TargetRevision(
                period: period(), targetID: text(), plan: (bool() ? text() : nil), indicator: (bool() ? text() : nil), target: (bool() ? quantity() : nil),
                alignedTo: pick([.unchanged, .set(nil), .set(alignment())])))
        case .scoreGiven:
            // None, an empty list, or a few, with evidence or without.
            var realizations: [Realization]?
            if bool() {
                realizations = []
                for _ in 0..<below(4) { realizations!.append(Realization(targetID: text(), value: number(), evidence: bool() ? text() : nil)) }
            }
            return .scoreGiven(ScoreGiven(period: period(), resultsRating: rating(), behaviorRating: rating(), realizations: realizations))
        case .scoreCorrected:
            return .scoreCorrected(ScoreCorrection(corrects: id(), basis: pick(CorrectionBasis.allCases), resultsRating: rating(), behaviorRating: rating()))
        case .feedbackGiven:
            return .feedbackGiven(Feedback(period: period(), relation: pick(FeedbackRelation.allCases), aspect: (bool() ? pick(CoreValue.allCases) : nil), topic: (bool() ? text() : nil), text: text()))
        case .trainingCompleted:
            return .trainingCompleted(Training(title: text(), provider: text(), hours: number(), completedOn: date(), certificate: (bool() ? text() : nil)))
        case .unitRated:
            return .unitRated(UnitRating(period: period(), rating: pick(UnitRatingCode.allCases)))
        case .objectionFiled:
            return .objectionFiled(ObjectionFiled(score: id(), receivedOn: date(), grounds: text()))
        case .objectionDecided:
            return bool()
                ? .objectionDecided(ObjectionDecision(objection: id(), outcome: .upheld, resultsRating: rating(), behaviorRating: rating()))
                : .objectionDecided(ObjectionDecision(objection: id(), outcome: .rejected))
        case .activityLogged:
            return .activityLogged(Activity(date: date(), targetID: text(), description: text(), output: (bool() ? quantity() : nil), evidence: (bool() ? text() : nil)))
        case .accessGranted:
            var units: [String] = []
            for _ in 0..<below(3) { units.append(text()) }
            return .accessGranted(AccessGrant(role: pick(AccessRole.allCases), units: units, tokenID: text()))
        case .accessRevoked:
            return .accessRevoked(AccessRevocation(tokenID: text()))
        }
    }

    mutating func event(_ type: EventType) -> Event {
        let subject: Subject =
            type.isAccessEvent ? .identity(text()) : type.isUnitEvent ? .unit(text()) : .employee(nip())
        let actor: Actor = bool() ? .employee(nip()) : .system("system:" + text())
        let occurredAt = Timestamp(micros: Int64(below(1 << 62)) % 250_000_000_000_000_000 - 60_000_000_000_000_000, offsetMinutes: Int16(below(2 * 1439 + 1) - 1439))
        return Event(id: id(), subject: subject, actor: actor, occurredAt: occurredAt, reason: (bool() ? text() : nil), data: data(type))
    }

    mutating func hash() -> ChainHash { ChainHash(words: (next(), next(), next(), next())) }
}

/// The transcoder's bytes for `payload` and the plain wire encoder's for the event the payload
/// decodes to, with the same recorded fields; each nil when that path throws.
private func bothPaths(
    _ payload: [UInt8], stream: String, id: EventID, seq: UInt64, recordedAt: Int64, version: UInt64, prevHash: ChainHash, hash: ChainHash
) -> (fast: [UInt8]?, plain: [UInt8]?) {
    var stream = stream
    return stream.withUTF8 { streamBytes in
        payload.withUnsafeBytes { payload in
            let streamBytes = UnsafeRawBufferPointer(streamBytes)
            guard let view = try? EventView(payload: payload, streamBytes: streamBytes, id: id, seq: seq, recordedAt: recordedAt) else {
                Issue.record("the payload does not open")
                return (nil, nil)
            }
            var json = JSONWriter()
            let fast: [UInt8]? = (try? WireEncoder.encode(view, stream: streamBytes, version: version, prevHash: prevHash, hash: hash, into: &json)).map { json.bytes }
            let recorded = RecordedFields(seq: seq, stream: String(decoding: streamBytes, as: UTF8.self), version: version, recordedAt: recordedAt, prevHash: prevHash, hash: hash)
            let plain = (try? view.event()).map { Array(WireEncoder.encode($0, recorded: recorded).utf8) }
            return (fast, plain)
        }
    }
}

@Suite("The canonical-bytes → wire-JSON transcoder, against the wire encoder")
struct TranscoderModelTests {
    @Test("for generated events of all 13 types (control bytes, quotes, non-ASCII, any number, optional fields set and not), the transcoder writes the wire encoder's bytes")
    func generatedEvents() async {
        await propertyCheck(count: 150, input: Gen.uint64()) { seed in
            var random = Random(state: seed)
            for type in EventType.allCases {
                for _ in 0..<3 {
                    let event = random.event(type)
                    let payload = PayloadCodec.encode(event)
                    let seq = random.bool() ? random.next() : UInt64(random.below(1000))
                    let version = random.bool() ? random.next() : UInt64(random.below(1000))
                    let recordedAt = Int64(random.below(1 << 62)) % 253_402_300_799_000_000
                    let (fast, plain) = bothPaths(
                        payload, stream: event.stream, id: event.id, seq: seq, recordedAt: recordedAt, version: version,
                        prevHash: random.hash(), hash: random.hash())
                    #expect(fast != nil && fast == plain, "\(type): \(plain.map { String(decoding: $0, as: UTF8.self) } ?? "no event")")
                }
            }
        }
    }

    @Test("a target.set's unique key is \"target\", its NIP, year and target id joined by zero bytes, for any NIP, year and text")
    func targetKeys() {
        var random = Random(state: 23)
        for round in 0..<2_000 {
            var event = random.event(.targetSet)
            let nip = round % 2 == 0 ? NIP(unchecked: String(format: "%018llu", random.next() % 1_000_000_000_000_000_000)) : random.nip()
            event.subject = .employee(nip)
            guard case .targetSet(let target) = event.data else { continue }
            #expect(event.uniqueKeys == [Array("target\u{0}\(nip.text)\u{0}\(target.period.year)\u{0}\(target.targetID)".utf8)])
        }
    }

    @Test("a stored text that is not UTF-8 makes both paths throw, for every event type")
    func invalidUTF8() throws {
        let marker = "Ω-marker"  // Ω is 0xCE 0xA9: its first byte becomes 0xFF, never UTF-8
        var random = Random(state: 7)
        for type in EventType.allCases {
            var event = random.event(type)
            event.reason = marker
            var texts = [event]
            if case .feedbackGiven(var feedback) = event.data {
                // A text of the data, not the envelope.
                event.reason = nil
                feedback.text = marker
                event.data = .feedbackGiven(feedback)
                texts.append(event)
            }
            for event in texts {
                var payload = PayloadCodec.encode(event)
                let at = try #require(payload.indices.first { payload[$0...].starts(with: Array(marker.utf8)) })
                payload[at] = 0xFF
                let (fast, plain) = bothPaths(payload, stream: event.stream, id: event.id, seq: 9, recordedAt: 0, version: 1, prevHash: .zero, hash: .zero)
                #expect(fast == nil, "\(type)")
                #expect(plain == nil, "\(type)")
            }
        }
    }
}
