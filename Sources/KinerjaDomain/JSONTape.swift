import CanonicalBytes

/// One JSON text parsed into a flat list of tokens over its bytes: what ``WireDecoder`` reads a
/// line through, with no value tree, no `String` per key, number or code, and its two arrays
/// kept from one line to the next (a decoding thread reuses one tape for all its lines).
///
/// The wire format's JSON rules, for every reader (``JSONParser`` builds its tree from a tape):
/// duplicate keys refused (as `String`s compare), at most ``JSONParser/maxMembers`` members an
/// object (so the duplicate check is linear in the line's length), nesting limited, UTF-8
/// checked, escapes and surrogates decoded, and each error given with its column.
///
/// A value is a token; an object's token is followed by its members, each a key (a string token)
/// and its value; an array's by its elements; every token knows the index after its value. A
/// string's bytes are the input's own when it has no escape, else its decoded bytes in a side
/// buffer. The tape reads the input in place: it is valid until the next ``parse(_:maxDepth:)``
/// and only while the input's bytes are.
package struct JSONTape {
    package enum Kind: UInt8, Sendable {
        case null, bool, number, string, array, object

        /// The type's name, for error messages: one list for the tape and the tree.
        package var typeName: String {
            switch self {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    package struct Token {
        package var kind: Kind
        /// A boolean's value; a number without fraction or exponent; a string that is ASCII; an
        /// object with a key that is not.
        package var flag: Bool
        /// The bytes are in the side buffer (a string with escapes), not the input.
        var decoded: Bool
        var start: Int
        var end: Int
        /// An object's members, an array's elements.
        package var count: Int
        /// The index of the token after this value and everything inside it.
        package var next: Int
    }

    package private(set) var tokens: [Token] = []
    private var side: [UInt8] = []
    private var input = UnsafeRawBufferPointer(start: nil, count: 0)
    private var index = 0
    private var depth = 0
    private var maxDepth = JSONParser.maxDepth

    package init() {}

    /// A tape of a value already parsed (an event embedded in a larger document), all its bytes
    /// in the side buffer; no limit is applied.
    package init(_ value: JSONValue) {
        append(value)
    }

    /// Parses exactly one JSON text in `bytes` (optional whitespace around it) into the tape,
    /// replacing what it held; errors as ``JSONParser/parse(_:maxDepth:)`` gives them.
    package mutating func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONParser.maxDepth) throws(JSONSyntaxError) {
        tokens.removeAll(keepingCapacity: true)
        side.removeAll(keepingCapacity: true)
        input = bytes
        index = 0
        depth = 0
        self.maxDepth = maxDepth
        skipWhitespace()
        try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected text after the JSON value") }
    }

    // MARK: Reading

    package func kind(_ token: Int) -> Kind { tokens[token].kind }

    /// The JSON type's name, for error messages (``JSONValue/typeName``).
    package func typeName(_ token: Int) -> String { tokens[token].kind.typeName }

    /// The bytes of a string (decoded) or of a number (its literal).
    package func withBytes<Result>(_ token: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let item = tokens[token]
        if item.decoded {
            return side.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[item.start..<item.end])) }
        }
        return body(UnsafeRawBufferPointer(rebasing: input[item.start..<item.end]))
    }

    /// A string token's text, or a number's literal.
    package func string(_ token: Int) -> String {
        withBytes(token) { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether a string token is `key`. Bytes are compared (the lengths first); a token that is
    /// not ASCII is compared as `String`s compare (canonical equivalence), as the tree's lookups did.
    package func isString(_ token: Int, _ key: String) -> Bool {
        let item = tokens[token]
        if item.flag {
            guard item.end - item.start == key.utf8.count else { return false }
            return key.utf8.withContiguousStorageIfAvailable { isBytes(item, UnsafeRawBufferPointer($0)) } ?? (string(token) == key)
        }
        return string(token) == key
    }

    /// Whether the bytes of the string at `token` are `key`.
    package func isBytes(_ token: Int, _ key: UnsafeRawBufferPointer) -> Bool { isBytes(tokens[token], key) }

    /// Whether the bytes of `item` are `key`'s.
    @inline(__always)
    private func isBytes(_ item: Token, _ key: UnsafeRawBufferPointer) -> Bool {
        guard item.end - item.start == key.count else { return false }
        guard !item.decoded, let base = input.baseAddress else {
            return withBytes(item) { $0.elementsEqual(key) }
        }
        var offset = 0
        while offset + 8 <= key.count {
            guard base.loadUnaligned(fromByteOffset: item.start + offset, as: UInt64.self) == key.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
            offset += 8
        }
        while offset < key.count {
            guard base.load(fromByteOffset: item.start + offset, as: UInt8.self) == key[offset] else { return false }
            offset += 1
        }
        return true
    }

    private func withBytes<Result>(_ item: Token, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if item.decoded {
            return side.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[item.start..<item.end])) }
        }
        return body(UnsafeRawBufferPointer(rebasing: input[item.start..<item.end]))
    }

    /// The members of the object at `object`: each key's token and its value's.
    package func members(of object: Int) -> Members { Members(tape: self, object: object) }

    package struct Members: Sequence {
        let tape: JSONTape
        let object: Int

        package func makeIterator() -> Iterator { Iterator(tape: tape, key: object + 1, left: tape.tokens[object].count) }

        package struct Iterator: IteratorProtocol {
            let tape: JSONTape
            var key: Int
            var left: Int

            package mutating func next() -> (key: Int, value: Int)? {
                guard left > 0 else { return nil }
                left -= 1
                let member = (key: key, value: key + 1)
                key = tape.tokens[key + 1].next
                return member
            }
        }
    }

    /// The value of the member `key` of the object at `object`, or nil. The keys are compared as
    /// bytes, lengths first; an object with a key that is not ASCII (its token's flag) is also
    /// searched as `String`s compare.
    package func member(_ key: String, of object: Int) -> Int? {
        let found: Int?? = key.utf8.withContiguousStorageIfAvailable { utf8 in
            let key = UnsafeRawBufferPointer(utf8)
            var member = object + 1
            for _ in 0..<tokens[object].count {
                if isBytes(tokens[member], key) { return member + 1 }
                member = tokens[member + 1].next
            }
            return nil
        }
        if let found, !tokens[object].flag { return found }
        for member in members(of: object) where isString(member.key, key) { return member.value }
        return nil
    }

    /// ``member(_:of:)`` of a name known at compile time: its bytes read with no `String` made.
    package func member(_ key: StaticString, of object: Int) -> Int? {
        let bytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var member = object + 1
        for _ in 0..<tokens[object].count {
            if isBytes(tokens[member], bytes) { return member + 1 }
            member = tokens[member + 1].next
        }
        guard tokens[object].flag else { return nil }
        let text = key.description
        for member in members(of: object) where isString(member.key, text) { return member.value }
        return nil
    }

    /// The tokens of the elements of the array at `array`.
    package func elements(of array: Int) -> [Int] {
        var elements: [Int] = []
        elements.reserveCapacity(tokens[array].count)
        var element = array + 1
        for _ in 0..<tokens[array].count {
            elements.append(element)
            element = tokens[element].next
        }
        return elements
    }

    /// The value at `token` as a tree (for the tests, and for callers that want one).
    package func value(_ token: Int = 0) -> JSONValue {
        let item = tokens[token]
        switch item.kind {
        case .null: return .null
        case .bool: return .bool(item.flag)
        case .number: return .number(number(token))
        case .string: return .string(string(token))
        case .array: return .array(elements(of: token).map { value($0) })
        case .object: return .object(JSONObject(members: members(of: token).map { (key: string($0.key), value: value($0.value)) }))
        }
    }

    /// A number token as ``JSONParser`` gives it.
    package func number(_ token: Int) -> JSONNumber {
        let literal = string(token)
        return JSONNumber(literal: literal, isInteger: tokens[token].flag, value: Double(literal) ?? .infinity)
    }

    // MARK: Building from a tree

    private mutating func append(_ value: JSONValue) {
        let at = tokens.count
        switch value {
        case .null: tokens.append(Token(kind: .null, flag: false, decoded: true, start: 0, end: 0, count: 0, next: at + 1))
        case .bool(let flag): tokens.append(Token(kind: .bool, flag: flag, decoded: true, start: 0, end: 0, count: 0, next: at + 1))
        case .number(let number): appendSide(.number, number.literal, flag: number.isInteger)
        case .string(let string): appendSide(.string, string, flag: string.utf8.allSatisfy { $0 < 0x80 })
        case .array(let elements):
            tokens.append(Token(kind: .array, flag: false, decoded: true, start: 0, end: 0, count: elements.count, next: 0))
            for element in elements { append(element) }
            tokens[at].next = tokens.count
        case .object(let object):
            let ascii = object.members.allSatisfy { $0.key.utf8.allSatisfy { $0 < 0x80 } }
            tokens.append(Token(kind: .object, flag: !ascii, decoded: true, start: 0, end: 0, count: object.members.count, next: 0))
            for member in object.members {
                appendSide(.string, member.key, flag: member.key.utf8.allSatisfy { $0 < 0x80 })
                append(member.value)
            }
            tokens[at].next = tokens.count
        }
    }

    private mutating func appendSide(_ kind: Kind, _ text: String, flag: Bool) {
        let start = side.count
        side.append(contentsOf: text.utf8)
        tokens.append(Token(kind: kind, flag: flag, decoded: true, start: start, end: side.count, count: 0, next: tokens.count + 1))
    }

    // MARK: Parsing

    private func error(_ reason: String, at position: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(column: (position ?? index) + 1, reason: reason)
    }

    private var current: UInt8? { index < input.count ? input[index] : nil }

    private mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func token(_ kind: Kind, flag: Bool = false, decoded: Bool = false, start: Int = 0, end: Int = 0) {
        tokens.append(Token(kind: kind, flag: flag, decoded: decoded, start: start, end: end, count: 0, next: tokens.count + 1))
    }

    private mutating func parseValue() throws(JSONSyntaxError) {
        guard let byte = current else { throw error("unexpected end of input, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): try parseObject()
        case UInt8(ascii: "["): try parseArray()
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try expectLiteral("true"); token(.bool, flag: true)
        case UInt8(ascii: "f"): try expectLiteral("false"); token(.bool, flag: false)
        case UInt8(ascii: "n"): try expectLiteral("null"); token(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        case 0: throw error("NUL byte where a value was expected")
        default: throw error("unexpected character \(Self.describe(byte)), expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let matches = index + count <= input.count
            && (0..<count).allSatisfy { input[index + $0] == literal.utf8Start[$0] }
        guard matches else { throw error("invalid literal, expected \(literal)") }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) {
        try enter()
        defer { depth -= 1 }
        let object = tokens.count
        tokens.append(Token(kind: .object, flag: false, decoded: false, start: 0, end: 0, count: 0, next: 0))
        defer { tokens[object].next = tokens.count }
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let keyStart = index
            guard tokens[object].count < JSONParser.maxMembers else {
                throw error("an object has more than \(JSONParser.maxMembers) members", at: keyStart)
            }
            let key = tokens.count
            try parseString()
            if !tokens[key].flag { tokens[object].flag = true }
            if isDuplicate(key, in: object) {
                throw error("duplicate member name \"\(string(key))\"", at: keyStart)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            try parseValue()
            tokens[object].count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            case nil: throw error("unexpected end of input inside an object")
            case let byte?: throw error("unexpected character \(Self.describe(byte)) in an object, expected ',' or '}'")
            }
        }
    }

    /// Whether the key at `key` is one of the earlier members' of `object` (at most 63 of them):
    /// equal bytes, or, where either is not ASCII, equal as `String`s.
    private func isDuplicate(_ key: Int, in object: Int) -> Bool {
        let item = tokens[key]
        return withBytes(item) { bytes in
            var member = object + 1
            for _ in 0..<tokens[object].count {
                let other = tokens[member]
                if isBytes(other, bytes) || (!(item.flag && other.flag) && string(member) == string(key)) { return true }
                member = tokens[member + 1].next
            }
            return false
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) {
        try enter()
        defer { depth -= 1 }
        let array = tokens.count
        tokens.append(Token(kind: .array, flag: false, decoded: false, start: 0, end: 0, count: 0, next: 0))
        defer { tokens[array].next = tokens.count }
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try parseValue()
            tokens[array].count += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return
            case nil: throw error("unexpected end of input inside an array")
            case let byte?: throw error("unexpected character \(Self.describe(byte)) in an array, expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) {
        let start = index
        index += 1
        // Fast path: no escapes, the bytes stay where they are.
        var scan = index
        var ascii = true
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high = ones &* 0x80
        while scan < input.count {
            // Eight bytes at a time while none of them is a quote, a backslash or a control
            // character (each test exact for "some byte is"; the byte loop below finds which).
            if scan + 8 <= input.count {
                let word = input.loadUnaligned(fromByteOffset: scan, as: UInt64.self)
                let quote = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
                let backslash = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
                let stops = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & high
                if stops == 0 {
                    if word & high != 0 { ascii = false }
                    scan += 8
                    continue
                }
            }
            let byte = input[scan]
            if byte == UInt8(ascii: "\"") {
                let bytes = UnsafeRawBufferPointer(rebasing: input[index..<scan])
                guard ascii || bytes.isValidUTF8 else { throw error("string is not valid UTF-8", at: start) }
                token(.string, flag: ascii, start: index, end: scan)
                index = scan + 1
                return
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte >= 0x80 { ascii = false }
            scan += 1
        }
        let sideStart = side.count
        side.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<scan]))
        index = scan
        while true {
            guard let byte = current else { throw error("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                let valid = side.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[sideStart...]).isValidUTF8 }
                guard valid else { throw error("string is not valid UTF-8", at: start) }
                token(.string, flag: side[sideStart...].allSatisfy { $0 < 0x80 }, decoded: true, start: sideStart, end: side.count)
                return
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape()
            case 0..<0x20:
                throw error("control character \(Self.describe(byte)) in a string must be escaped")
            default:
                side.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape() throws(JSONSyntaxError) {
        guard let byte = current else { throw error("unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): side.append(byte)
        case UInt8(ascii: "b"): side.append(0x08)
        case UInt8(ascii: "f"): side.append(0x0C)
        case UInt8(ascii: "n"): side.append(0x0A)
        case UInt8(ascii: "r"): side.append(0x0D)
        case UInt8(ascii: "t"): side.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                guard current == UInt8(ascii: "\\"), index + 1 < input.count, input[index + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate escape")
                }
                index += 2
                let low = UInt32(try parseHex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired surrogate escape")
            }
            side.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
        default:
            throw error("invalid escape \\\(Self.describe(byte))")
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt16 {
        guard index + 4 <= input.count else { throw error("incomplete \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = input[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hexadecimal digit in a \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONSyntaxError) {
        let start = index
        var isInteger = true
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, Self.isDigit(first) else { throw error("invalid number") }
        index += 1
        if first == UInt8(ascii: "0"), let next = current, Self.isDigit(next) {
            throw error("number with a leading zero")
        }
        skipDigits()
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let digit = current, Self.isDigit(digit) else { throw error("a decimal point must be followed by digits") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let digit = current, Self.isDigit(digit) else { throw error("an exponent must have digits") }
            skipDigits()
        }
        token(.number, flag: isInteger, start: start, end: index)
    }

    private mutating func skipDigits() {
        while let byte = current, Self.isDigit(byte) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16, uppercase: true)
    }
}
