// The events of PRODUCT §9 that record who may use the HTTP API: `access.granted` and
// `access.revoked`. Their subject is the identity (an NIP or a system identifier), their stream
// `access:<IDENTITY>`, their actor whoever granted or revoked on the ledger's host. They carry a
// token's public id, never the token nor its hash.

extension Identifiers {
    /// A token's public id as `kinerja access grant` issues it: 12 lowercase hexadecimal digits.
    public static func isTokenID(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// An identity of the HTTP API: an NIP (18 digits, a real date) or a system identifier.
    public static func isIdentity(_ text: String) -> Bool {
        if case .success = NIP.validate(text) { return true }
        return isSystemActor(text)
    }
}

extension WireDecoder {
    static func decodeAccessData(type: EventType, subject: Subject, _ fields: Fields) throws(WireError) -> EventData {
        let tokenID = try fields.string("token_id", rule: "must be a token id: 12 lowercase hexadecimal digits", Identifiers.isTokenID)
        guard type == .accessGranted else { return .accessRevoked(AccessRevocation(tokenID: tokenID)) }
        let role: AccessRole = try fields.code("role")
        let tape = fields.tape
        guard let value = fields.value("units") else { throw fields.error("units", "required field is missing (an empty list but for role hr)") }
        guard tape.kind(value) == .array else { throw fields.error("units", "must be an array, not \(tape.typeName(value))") }
        guard tape.tokens[value].count <= 64 else { throw fields.error("units", "must have at most 64 entries") }
        var units: [String] = []
        for (index, element) in tape.elements(of: value).enumerated() {
            let unit = tape.kind(element) == .string ? tape.string(element) : ""
            guard tape.kind(element) == .string, Identifiers.isUnitCode(unit) else {
                throw fields.error("units[\(index)]", "must be a unit code: 1 to 64 of A–Z, 0–9, '.', '_', '-', starting with a letter or digit")
            }
            units.append(unit)
        }
        if role == .hr && units.isEmpty { throw fields.error("units", "an hr identity administers at least one unit") }
        if role != .hr && !units.isEmpty { throw fields.error("units", "must be empty: only an hr identity has units") }
        if role == .employee, case .identity(let name) = subject, case .failure = NIP.validate(name) {
            throw WireError(line: fields.line, field: "identity", rule: "an employee's identity is their NIP (18 digits), not \(name)")
        }
        return .accessGranted(AccessGrant(role: role, units: units, tokenID: tokenID))
    }
}
