/// Who made a decision: an employee, by their NIP, or a system, by an identifier such as
/// `survey:skm-2026-q1` or `hr:bkpsdm` (`^[a-z][a-z0-9-]*:[A-Za-z0-9._-]{1,64}$`).
///
/// ```swift
/// let actor = try Actor.parse("199001012015031001").get()   // .employee(NIP)
/// print(actor)                                              // the text, as the wire carries it
/// ```
public enum Actor: Hashable, Sendable, CustomStringConvertible {
    case employee(NIP)
    case system(String)

    /// Why a text is not an actor.
    public enum Invalid: Error, Equatable, Sendable {
        /// 18 digits that break a rule of NIPs.
        case nip(NIP.Invalid)
        case syntax

        public var rule: String {
            switch self {
            case .nip(let invalid): invalid.rule
            case .syntax: "must be an NIP or a system identifier such as survey:skm-2026-q1 (^[a-z][a-z0-9-]*:[A-Za-z0-9._-]{1,64}$)"
            }
        }
    }

    /// An NIP (18 digits, every rule of ``NIP/validate(_:)``) or a system identifier.
    public static func parse(_ text: String) -> Result<Actor, Invalid> {
        if text.utf8.count == 18, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return NIP.validate(text).map(Actor.employee).mapError(Invalid.nip)
        }
        return Identifiers.isSystemActor(text) ? .success(.system(text)) : .failure(.syntax)
    }

    /// The actor `text` names, or nil.
    public init?(_ text: String) {
        guard case .success(let actor) = Self.parse(text) else { return nil }
        self = actor
    }

    /// The actor of a stored record, whose text was checked when it was appended: 18 digits are
    /// an employee, anything else a system (the text is kept exactly, so that the record encodes
    /// back to the same bytes).
    public init(stored text: String) {
        if let nip = NIP(digits: text) { self = .employee(nip) } else { self = .system(text) }
    }

    /// The text the wire and the canonical bytes carry.
    public var text: String {
        switch self {
        case .employee(let nip): nip.text
        case .system(let identifier): identifier
        }
    }

    public var description: String { text }

    /// The employee, when the actor is one.
    public var nip: NIP? {
        if case .employee(let nip) = self { return nip }
        return nil
    }
}

/// For tests and samples: a literal that is not an actor is a programming error.
extension Actor: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let actor = Actor(text) else { preconditionFailure("not an actor: \(text)") }
        self = actor
    }
}

extension Actor: ExpressibleByStringInterpolation {
    public init(stringInterpolation: DefaultStringInterpolation) {
        self.init(stringLiteral: String(stringInterpolation: stringInterpolation))
    }
}
