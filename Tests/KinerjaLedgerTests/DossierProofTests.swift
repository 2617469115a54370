import Foundation
import KinerjaLedger
import KinerjaDomain
import LedgerStore
import Testing
import TransparencyLog

/// The sample (every type an employee's stream holds, a unit's rating), a feedback whose texts
/// need the JSON escapes a text may (quotes, backslashes, tabs, line ends) and non-ASCII, and
/// an identity's access grant and revocation.
private func everyKindOfEvent(_ ledger: Ledger) throws {
    #expect(try append(ledger, sampleLines).rejected.isEmpty)
    let escapes = edit(sampleLines[5], [
        "id": #""0b9f3a52-8d1e-4c36-9a51-6f1f3c2d7e99""#,
        "reason": #""a \"quoted\" reason\\ with\na newline, a\ttab, a\r return and é, 漢字, 🙂""#,
        "data.text": #""\\\"é\"\n""#,
    ])
    let escaped = try append(ledger, [escapes])
    #expect(escaped.rejected.isEmpty, "\(escaped.rejected)")
    let actor = try Actor.parse("199005202015031003").get()
    let at = Timestamp(micros: Int64(CivilDate(year: 2027, month: 1, day: 20)!.daysSinceEpoch) * Timestamp.microsPerDay)
    let access = [
        Event(id: EventID(high: 0x1111_1111_1111_4111, low: 0x8111_1111_1111_1111), subject: .identity("198003152005012002"), actor: actor, occurredAt: at,
              data: .accessGranted(AccessGrant(role: .hr, units: ["DINKES", "u\"2"], tokenID: "0a1b2c3d4e5f"))),
        Event(id: EventID(high: 0x2222_2222_2222_4222, low: 0x8222_2222_2222_2222), subject: .identity("198003152005012002"), actor: actor, occurredAt: at,
              data: .accessRevoked(AccessRevocation(tokenID: "0a1b2c3d4e5f"))),
    ]
    let report = try ledger.append(NumberedSubmission.numbering(access))
    #expect(report.rejected.isEmpty, "\(report.rejected)")
}

@Suite("Dossier proofs: the fast path's bytes are the straightforward path's")
struct DossierProofTests {
    @Test("every record transcoded from its canonical bytes is the JSON of the event it decodes to, byte for byte, for every event type")
    func transcoder() throws {
        try withLedger { ledger, _ in
            try everyKindOfEvent(ledger)
            var types: Set<EventType> = []
            try ledger.readStorage { txn in
                var previous = ChainHash.zero
                try txn.forEachRecord { record in
                    let view = try EventView(payload: record.payload, streamBytes: record.streamBytes, id: EventID(record.id), seq: record.seq, recordedAt: record.recordedAt)
                    var fast = JSONWriter()
                    try WireEncoder.encode(view, stream: record.streamBytes, version: record.version, prevHash: previous, hash: record.hash, into: &fast)
                    let event = try view.event()
                    types.insert(event.type)
                    let plain = WireEncoder.encode(event, recorded: RecordedFields(record, previous: previous))
                    #expect(fast.bytes == Array(plain.utf8), "seq \(record.seq)")
                    previous = record.hash
                }
            }
            #expect(types == Set(EventType.allCases))
        }
    }

    @Test("each employee's dossier proof is the one built event by event (decoded events, proofs one by one), at the head and at an older checkpoint, and checks")
    func dossier() throws {
        try withLedger { ledger, _ in
            try everyKindOfEvent(ledger)
            try ledger.setOrigin("test.example/kinerja")
            let key = try NoteSigningKey(name: "test.example/kinerja")
            let head = try ledger.head().seq
            let employees = try ledger.readStorage { txn in
                var streams: Set<String> = []
                try txn.forEachRecord { if $0.stream.hasPrefix("employee:") { streams.insert($0.stream) } }
                return streams.sorted().map { NIP(unchecked: String($0.dropFirst("employee:".count))) }
            }
            #expect(employees.count >= 2)
            for size in Set([head, head - 3, 9, 1]) {
                let note = try ledger.checkpoint(size: size, key: key)
                for employee in employees {
                    let fast = try ledger.dossierProofBytes(employee: employee, checkpoint: note)
                    let plain = try straightforward(ledger, employee: employee, note: note, size: size)
                    #expect(fast == plain, "employee \(employee.text) at size \(size)")
                    let proven = try Ledger.checkProof(String(decoding: fast, as: UTF8.self), key: key.verifierKey)
                    let recorded = try ledger.readStorage { try $0.seqs(inStream: Subject.employee(employee).stream) }.filter { $0 <= size }
                    #expect(proven.events.map(\.seq) == recorded)
                }
            }
        }
    }

    /// PRODUCT §8's dossier proof put together the plain way: each event decoded to an `Event`
    /// and written by the wire encoder, the record before read for its hash, each proof read
    /// on its own from the stored tree.
    private func straightforward(_ ledger: Ledger, employee: NIP, note: SignedNote, size: UInt64) throws -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"checkpoint\":")
        json.string(note.formatted)
        json.raw(",\"events\":[")
        try ledger.readStorage { txn in
            let seqs = try txn.seqs(inStream: Subject.employee(employee).stream).filter { $0 <= size }
            for (number, seq) in seqs.enumerated() {
                let previous = seq == 1 ? ChainHash.zero : try txn.record(at: seq - 1)!.hash
                let line = try txn.withRecord(at: seq) { record in
                    WireEncoder.encode(
                        try PayloadCodec.decode(record.payload, streamBytes: record.streamBytes, id: EventID(record.id)),
                        recorded: RecordedFields(record, previous: previous))
                }!
                json.raw(number > 0 ? ",{\"event\":" : "{\"event\":")
                json.raw(line)
                json.raw(",\"proof\":[")
                json.raw(try txn.inclusionProof(seq: seq, size: size).map { "\"\($0.base64)\"" }.joined(separator: ","))
                json.raw("]}")
            }
        }
        json.raw("]}\n")
        return json.bytes
    }
}
