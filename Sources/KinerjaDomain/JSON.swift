import CanonicalBytes

/// A JSON value as parsed by ``JSONParser``: objects keep their keys in order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type's name, for error messages.
    public var typeName: String {
        let kind: JSONTape.Kind =
            switch self {
            case .null: .null
            case .bool: .bool
            case .number: .number
            case .string: .string
            case .array: .array
            case .object: .object
            }
        return kind.typeName
    }
}

/// A JSON number, with the text it was written as.
public struct JSONNumber: Equatable, Sendable {
    /// The literal as it appeared in the input.
    public let literal: String
    /// True when the literal has neither a fraction nor an exponent.
    public let isInteger: Bool
    /// The nearest binary64 value; infinite when out of its range.
    public let value: Double

    public init(literal: String, isInteger: Bool, value: Double) {
        self.literal = literal
        self.isInteger = isInteger
        self.value = value
    }
}

/// A JSON object: its members in input order, keys unique.
public struct JSONObject: Equatable, Sendable {
    public var members: [(key: String, value: JSONValue)]

    public init(members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    public subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// Where and why a text is not the JSON the wire format accepts.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based column (a byte offset in the line).
    public let column: Int
    public let reason: String
    public var description: String { "column \(column): \(reason)" }
}

/// A strict RFC 8259 parser for one JSON text, into a value tree.
///
/// Stricter than Foundation's where evidence needs it: duplicate keys are rejected (which value
/// counts would otherwise depend on the parser), invalid UTF-8 and unpaired surrogates are
/// rejected, nesting and the members of an object are limited, and errors give the column.
/// Parsing is linear in the input's length: an object is refused at its 65th member, so the
/// duplicate check compares a key with at most 63 others. The grammar is ``JSONTape``'s (the
/// import reads its lines through a tape; this builds the tree from one).
public enum JSONParser {
    public static let maxDepth = 32
    /// The most members an object may have (the wire format's largest has 15).
    public static let maxMembers = 64

    /// Parses exactly one JSON value surrounded by optional whitespace, nested at most `maxDepth`
    /// arrays and objects deep.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = maxDepth) throws(JSONSyntaxError) -> JSONValue {
        var tape = JSONTape()
        try tape.parse(bytes, maxDepth: maxDepth)
        return tape.value()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        do {
            return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
        } catch let error as JSONSyntaxError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }
}

/// Writes JSON text: strings escaped per RFC 8259, non-ASCII kept as UTF-8.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Lets `write` append text that is already valid JSON (e.g. base64) straight to the bytes.
    public mutating func raw(_ write: (inout [UInt8]) -> Void) { write(&bytes) }

    /// Room for `count` more bytes without growing the buffer again.
    public mutating func reserveCapacity(_ count: Int) { bytes.reserveCapacity(bytes.count + count) }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// ``string(_:)`` of the String whose UTF-8 bytes are `utf8` (the caller checked they are
    /// UTF-8): the same bytes, with no String built.
    public mutating func string(utf8 value: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole rather than a byte at a time.
        guard value.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            bytes.append(contentsOf: value)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `"…"`: the hash in lowercase hex, as ``ChainHash/hex`` writes it, with no String of its own.
    public mutating func hex(_ hash: ChainHash) {
        let digits: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "\""))
        for word in [hash.words.0, hash.words.1, hash.words.2, hash.words.3] {
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(digits.utf8Start[Int(word >> UInt64(shift) & 0x0f)]) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The shortest text that reads back as the same binary64; integers without a fraction.
    public mutating func number(_ value: Double) { value.appendPlainText(to: &bytes) }

    /// `"key":` with a leading comma unless `first`.
    public mutating func key(_ key: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(key)
        raw("\":")
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension JSONValue {
    /// Compact JSON text of the value; numbers keep their literal.
    public var jsonText: String {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.text
    }

    private func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.raw("null")
        case .bool(let value): writer.raw(value ? "true" : "false")
        case .number(let number): writer.raw(number.literal)
        case .string(let string): writer.string(string)
        case .array(let elements):
            writer.raw("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { writer.raw(",") }
                element.write(to: &writer)
            }
            writer.raw("]")
        case .object(let object):
            writer.raw("{")
            for (index, member) in object.members.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.string(member.key)
                writer.raw(":")
                member.value.write(to: &writer)
            }
            writer.raw("}")
        }
    }
}

extension Double {
    /// The number as the wire format writes it: no fraction when whole (`24`, `0.5`).
    public var plainText: String {
        var text: [UInt8] = []
        appendPlainText(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// ``plainText``'s bytes appended to `text`: the shortest text that reads back as the same
    /// binary64, an integer without a fraction (its digits written, no String made).
    public func appendPlainText(to text: inout [UInt8]) {
        guard self == rounded(), abs(self) < 9_007_199_254_740_992 else {
            text.append(contentsOf: description.utf8)
            return
        }
        let integer = Int(self)
        if integer < 0 { text.append(UInt8(ascii: "-")) }
        appendDigits(abs(integer), width: 1, to: &text)
    }
}
