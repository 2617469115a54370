import CanonicalBytes

/// An event's id: a UUID (RFC 9562), chosen by the sender as the idempotency key.
public struct EventID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the text form `8-4-4-4-12` hexadecimal digits, either case.
    public init?(_ text: String) {
        var text = text
        guard let id = text.withUTF8(Self.parse) else { return nil }
        self = id
    }

    /// Parses the text form from its UTF-8 bytes (a line of input, read in place).
    package init?(utf8: UnsafeRawBufferPointer) {
        guard let id = Self.parse(utf8.assumingMemoryBound(to: UInt8.self)) else { return nil }
        self = id
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> EventID? {
        guard utf8.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for (offset, byte) in utf8.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = hexValue(byte) else { return nil }
            if digits < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt64(nibble) }
            digits += 1
        }
        return EventID(high: high, low: low)
    }

    /// Lowercase `8-4-4-4-12`.
    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(36)
        appendDescription(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``description``'s 36 bytes to `out`, with no String of its own.
    public func appendDescription(to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            let word = index < 16 ? high : low
            let shift = UInt64(60 - (index % 16) * 4)
            out.append(hex.utf8Start[Int((word >> shift) & 0xF)])
        }
    }

    public static func < (a: EventID, b: EventID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// A calendar date in the proleptic Gregorian calendar.
public struct CivilDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// The years a date can have (four digits). A report's year outside them names no period:
    /// every edge that takes a year checks it against this, with the same words.
    public static let years = 1...9999
    public static let yearRule = "a year from 1 to 9999, such as 2026"

    public init?(year: Int, month: Int, day: Int) {
        guard Self.years.contains(year), (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        var text = text
        guard let date = text.withUTF8(Self.parse) else { return nil }
        self = date
    }

    /// Parses `YYYY-MM-DD` from its UTF-8 bytes (read in place from a record).
    public init?(utf8: UnsafeRawBufferPointer) {
        guard let date = Self.parse(utf8.assumingMemoryBound(to: UInt8.self)) else { return nil }
        self = date
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> CivilDate? {
        // Each digit read in place (a replay parses a date per record; `decimal` over slices cost twice this).
        guard utf8.count == 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else { return nil }
        @inline(__always) func digit(_ index: Int) -> Int? {
            let value = utf8[index] &- UInt8(ascii: "0")
            return value < 10 ? Int(value) : nil
        }
        guard let y0 = digit(0), let y1 = digit(1), let y2 = digit(2), let y3 = digit(3), let m0 = digit(5), let m1 = digit(6),
            let d0 = digit(8), let d1 = digit(9)
        else { return nil }
        return CivilDate(year: y0 * 1000 + y1 * 100 + y2 * 10 + y3, month: m0 * 10 + m1, day: d0 * 10 + d1)
    }

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
    public init(daysSinceEpoch days: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let dayOfEra = z - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `YYYY-MM-DD`, written as its ten bytes (a small string: no allocation; it is printed
    /// once per event of a history or an export).
    public var description: String {
        guard (0...9999).contains(year) else { return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { text in
            func put(_ value: Int, at start: Int, digits: Int) {
                var rest = value
                for index in stride(from: start + digits - 1, through: start, by: -1) {
                    text[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
            }
            put(year, at: 0, digits: 4)
            text[4] = UInt8(ascii: "-")
            put(month, at: 5, digits: 2)
            text[7] = UInt8(ascii: "-")
            put(day, at: 8, digits: 2)
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// ``description``'s bytes appended to `text`, with no String of their own.
    public func appendDescription(to text: inout [UInt8]) {
        appendDigits(year, width: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, to: &text)
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
}

func decimal(_ digits: some Collection<UInt8>) -> Int? {
    var value = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return digits.isEmpty ? nil : value
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// `value`'s decimal digits appended to `text`, zero-padded to `width` (all of them when it
/// has more); a negative value as ``pad(_:_:)`` writes it.
func appendDigits(_ value: Int, width: Int, to text: inout [UInt8]) {
    guard value >= 0 else {
        text.append(contentsOf: pad(value, width).utf8)
        return
    }
    var divisor = 1
    for _ in 1..<max(width, 1) { divisor *= 10 }
    while value / divisor >= 10 { divisor *= 10 }
    var rest = value
    while divisor > 0 {
        text.append(UInt8(ascii: "0") + UInt8(rest / divisor))
        rest %= divisor
        divisor /= 10
    }
}

/// An RFC 3339 instant with the offset it was written in: dates are taken in that offset.
public struct Timestamp: Hashable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var micros: Int64
    /// The writer's UTC offset in minutes (−23:59 to +23:59).
    public var offsetMinutes: Int16

    public static let microsPerDay: Int64 = 86_400_000_000

    public init(micros: Int64, offsetMinutes: Int16 = 0) {
        self.micros = micros
        self.offsetMinutes = offsetMinutes
    }

    /// Why a text is not an accepted RFC 3339 timestamp.
    public enum ParseError: Error, Equatable, Sendable {
        case syntax, date, time, precision, offset, unknownOffset
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`: an explicit offset is required, at most
    /// six fractional digits (the ledger keeps microseconds), no leap second, and not `-00:00`
    /// (RFC 3339's "offset unknown": a date could not be taken in it).
    public static func parse(_ text: String) -> Result<Timestamp, ParseError> {
        var text = text
        return text.withUTF8(parse(utf8:))
    }

    /// ``parse(_:)`` of the text's UTF-8 bytes (a line of input, read in place).
    package static func parse(utf8: UnsafeRawBufferPointer) -> Result<Timestamp, ParseError> {
        parse(utf8: utf8.assumingMemoryBound(to: UInt8.self))
    }

    private static func parse(utf8: UnsafeBufferPointer<UInt8>) -> Result<Timestamp, ParseError> {
        guard utf8.count >= 20, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
            utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t"),
            utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":")
        else { return .failure(.syntax) }
        guard let year = decimal(utf8[0..<4]), let month = decimal(utf8[5..<7]), let day = decimal(utf8[8..<10]),
            let hour = decimal(utf8[11..<13]), let minute = decimal(utf8[14..<16]), let second = decimal(utf8[17..<19])
        else { return .failure(.syntax) }
        guard let date = CivilDate(year: year, month: month, day: day) else { return .failure(.date) }
        guard hour < 24, minute < 60, second < 60 else { return .failure(.time) }
        var index = 19
        var fraction: Int64 = 0
        if utf8[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < utf8.count, let digit = decimal(utf8[index...index]) {
                fraction = fraction * 10 + Int64(digit)
                digits += 1
                index += 1
            }
            guard digits > 0 else { return .failure(.syntax) }
            guard digits <= 6 else { return .failure(.precision) }
            for _ in digits..<6 { fraction *= 10 }
        }
        guard index < utf8.count else { return .failure(.offset) }
        var offset = 0
        switch utf8[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == utf8.count else { return .failure(.syntax) }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == utf8.count, utf8[index + 3] == UInt8(ascii: ":"),
                let hours = decimal(utf8[index + 1...index + 2]), let minutes = decimal(utf8[index + 4...index + 5])
            else { return .failure(.offset) }
            guard hours < 24, minutes < 60 else { return .failure(.offset) }
            if hours == 0 && minutes == 0 && utf8[index] == UInt8(ascii: "-") { return .failure(.unknownOffset) }
            offset = (hours * 60 + minutes) * (utf8[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return .failure(.offset)
        }
        let localSeconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let micros = (localSeconds - Int64(offset) * 60) * 1_000_000 + fraction
        return .success(Timestamp(micros: micros, offsetMinutes: Int16(offset)))
    }

    /// The calendar date in the timestamp's own offset.
    public var localDate: CivilDate {
        let local = micros + Int64(offsetMinutes) * 60_000_000
        return CivilDate(daysSinceEpoch: Int(floorDivide(local, Self.microsPerDay)))
    }

    /// RFC 3339 in the timestamp's offset (`Z` for zero), with the fraction only when non-zero,
    /// trailing zeros dropped: the shortest text that parses back to the same value.
    public var description: String { format(fixedFraction: false) }

    /// UTC with exactly six fractional digits: how `recorded_at` is printed.
    public var utcMicrosecondText: String { Timestamp(micros: micros, offsetMinutes: 0).format(fixedFraction: true) }

    private func format(fixedFraction: Bool) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(32)
        append(to: &text, fixedFraction: fixedFraction)
        return String(decoding: text, as: UTF8.self)
    }

    /// ``description``'s bytes appended to `text`, with no String of their own.
    public func appendDescription(to text: inout [UInt8]) { append(to: &text, fixedFraction: false) }

    /// ``utcMicrosecondText``'s bytes appended to `text`, with no String of their own.
    public func appendUTCMicrosecondText(to text: inout [UInt8]) {
        Timestamp(micros: micros, offsetMinutes: 0).append(to: &text, fixedFraction: true)
    }

    private func append(to text: inout [UInt8], fixedFraction: Bool) {
        func put(_ value: Int, _ width: Int) { appendDigits(value, width: width, to: &text) }
        let local = micros + Int64(offsetMinutes) * 60_000_000
        let days = floorDivide(local, Self.microsPerDay)
        let microsOfDay = local - days * Self.microsPerDay
        let date = CivilDate(daysSinceEpoch: Int(days))
        let secondsOfDay = Int(microsOfDay / 1_000_000)
        var fraction = Int(microsOfDay % 1_000_000)
        date.appendDescription(to: &text)
        text.append(UInt8(ascii: "T"))
        put(secondsOfDay / 3600, 2)
        text.append(UInt8(ascii: ":"))
        put(secondsOfDay / 60 % 60, 2)
        text.append(UInt8(ascii: ":"))
        put(secondsOfDay % 60, 2)
        if fixedFraction {
            text.append(UInt8(ascii: "."))
            put(fraction, 6)
        } else if fraction != 0 {
            var width = 6
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            text.append(UInt8(ascii: "."))
            put(fraction, width)
        }
        if offsetMinutes == 0 {
            text.append(UInt8(ascii: "Z"))
            return
        }
        let magnitude = abs(Int(offsetMinutes))
        text.append(offsetMinutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        put(magnitude / 60, 2)
        text.append(UInt8(ascii: ":"))
        put(magnitude % 60, 2)
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

/// An appraisal period: a year (`YYYY`), a quarter (`YYYY-Qn`) or a month (`YYYY-MM`).
public struct Period: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Span: Hashable, Sendable {
        case year
        case quarter(Int)
        case month(Int)
    }

    public var year: Int
    public var span: Span

    public init(year: Int, span: Span = .year) {
        self.year = year
        self.span = span
    }

    public init?(_ text: String) {
        var text = text
        guard let period = text.withUTF8({ Period(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = period
    }

    /// Parses `YYYY`, `YYYY-Qn` or `YYYY-MM` from its UTF-8 bytes (read in place from a record).
    public init?(utf8: UnsafeRawBufferPointer) {
        guard utf8.count >= 4, let year = decimal(utf8[0..<4]), year >= 1000 else { return nil }
        switch utf8.count {
        case 4:
            self.init(year: year)
        case 7 where utf8[4] == UInt8(ascii: "-") && utf8[5] == UInt8(ascii: "Q"):
            guard let quarter = decimal(utf8[6...6]), (1...4).contains(quarter) else { return nil }
            self.init(year: year, span: .quarter(quarter))
        case 7 where utf8[4] == UInt8(ascii: "-"):
            guard let month = decimal(utf8[5..<7]), (1...12).contains(month) else { return nil }
            self.init(year: year, span: .month(month))
        default:
            return nil
        }
    }

    public var isAnnual: Bool { span == .year }

    /// 31 December, the last day of the quarter, or of the month.
    public var lastDay: CivilDate {
        let month: Int
        switch span {
        case .year: month = 12
        case .quarter(let quarter): month = quarter * 3
        case .month(let value): month = value
        }
        return CivilDate(year: year, month: month, day: CivilDate.daysIn(month: month, year: year))!
    }

    public var description: String {
        switch span {
        case .year: pad(year, 4)
        case .quarter(let quarter): pad(year, 4) + "-Q" + String(quarter)
        case .month(let month): pad(year, 4) + "-" + pad(month, 2)
        }
    }

    private var sortKey: (Int, Int, Int) {
        switch span {
        case .month(let month): (year, 0, month)
        case .quarter(let quarter): (year, 1, quarter)
        case .year: (year, 2, 0)
        }
    }

    public static func < (a: Period, b: Period) -> Bool { a.sortKey < b.sortKey }
}

/// Nomor Induk Pegawai: 18 digits, birth date `YYYYMMDD`, appointment `YYYYMM`, sex `1`/`2`, sequence `NNN`.
///
/// Held as the number its 18 digits spell: projections key their state by NIP, and hashing or
/// comparing a `UInt64` costs a fraction of doing so with an 18-byte (heap) string.
public struct NIP: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 18 digits as a number.
    public let number: UInt64

    /// The 18 digits.
    public var text: String {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 18)
        var rest = number
        for index in stride(from: 17, through: 0, by: -1) {
            digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Why a text is not an NIP.
    public enum Invalid: Error, Equatable, Sendable {
        case notEighteenDigits
        case birthDate(String)
        case appointment(String)
        case appointmentBeforeBirth
        case sex(Character)

        public var rule: String {
            switch self {
            case .notEighteenDigits: "must be an NIP: exactly 18 digits"
            case .birthDate(let text): "NIP birth date \(text) (digits 1–8, YYYYMMDD) is not a real date"
            case .appointment(let text): "NIP appointment \(text) (digits 9–14, YYYYMM) is not a real month"
            case .appointmentBeforeBirth: "NIP appointment (digits 9–14) is before the birth date (digits 1–8)"
            case .sex(let digit): "NIP sex digit (digit 15) must be 1 or 2, not \(digit)"
            }
        }
    }

    public static func validate(_ text: String) -> Result<NIP, Invalid> {
        var text = text
        return text.withUTF8(validate(utf8:))
    }

    /// ``validate(_:)`` of the text's UTF-8 bytes (a line of input, read in place).
    package static func validate(utf8: UnsafeRawBufferPointer) -> Result<NIP, Invalid> {
        validate(utf8: utf8.assumingMemoryBound(to: UInt8.self))
    }

    private static func validate(utf8: UnsafeBufferPointer<UInt8>) -> Result<NIP, Invalid> {
        guard utf8.count == 18, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(.notEighteenDigits)
        }
        guard let birthYear = decimal(utf8[0..<4]), (1900...2099).contains(birthYear),
            let birth = CivilDate(year: birthYear, month: decimal(utf8[4..<6])!, day: decimal(utf8[6..<8])!)
        else { return .failure(.birthDate(String(decoding: utf8[0..<8], as: UTF8.self))) }
        let appointmentYear = decimal(utf8[8..<12])!
        let appointmentMonth = decimal(utf8[12..<14])!
        guard (1900...2099).contains(appointmentYear), (1...12).contains(appointmentMonth) else {
            return .failure(.appointment(String(decoding: utf8[8..<14], as: UTF8.self)))
        }
        guard (appointmentYear, appointmentMonth) > (birth.year, birth.month) else { return .failure(.appointmentBeforeBirth) }
        guard utf8[14] == UInt8(ascii: "1") || utf8[14] == UInt8(ascii: "2") else {
            return .failure(.sex(Character(Unicode.Scalar(utf8[14]))))
        }
        return .success(NIP(digits: utf8)!)
    }

    /// An NIP already validated (read back from the ledger): 18 digits.
    public init(unchecked text: some StringProtocol) {
        guard let nip = NIP(digits: text) else { preconditionFailure("an NIP has 18 digits: \(text)") }
        self = nip
    }

    init(number: UInt64) { self.number = number }

    /// 18 digits, or nil; the other rules of ``validate(_:)`` are not checked.
    public init?(digits text: some StringProtocol) {
        self.init(digits: text.utf8)
    }

    /// 18 digits (ASCII), or nil: a record's bytes in place, read without the generic
    /// collection path (which, called from another module, walks a `Slice` through metadata
    /// lookups: it was 44 % of `verify`).
    ///
    /// Eight digits at a time in one word (SWAR, as simdjson parses them): a replay reads one
    /// NIP per record, and the loop of 18 checked digits was 6 % of its instructions.
    public init?(digits utf8: UnsafeRawBufferPointer) {
        guard utf8.count == 18 else { return nil }
        let first = UInt64(littleEndian: utf8.loadUnaligned(as: UInt64.self))
        let second = UInt64(littleEndian: utf8.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let last = utf8[16] &- UInt8(ascii: "0")
        let final = utf8[17] &- UInt8(ascii: "0")
        guard Self.isEightDigits(first), Self.isEightDigits(second), last < 10, final < 10 else { return nil }
        number = Self.eightDigits(first) &* 10_000_000_000 &+ Self.eightDigits(second) &* 100 &+ UInt64(last) &* 10 &+ UInt64(final)
    }

    /// Whether the eight bytes of `word` (little-endian: the first in the low byte) are ASCII digits.
    @inline(__always)
    private static func isEightDigits(_ word: UInt64) -> Bool {
        (word & 0xF0F0_F0F0_F0F0_F0F0) | (((word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4) == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits in `word` (little-endian: the most significant first in memory).
    @inline(__always)
    private static func eightDigits(_ word: UInt64) -> UInt64 {
        var value = word &- 0x3030_3030_3030_3030
        value = value &* 10 &+ (value >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        value = ((value & mask) &* (100 &+ (1_000_000 << 32)) &+ ((value >> 16) & mask) &* (1 &+ (10_000 << 32))) >> 32
        return value & 0xFFFF_FFFF
    }

    /// The employee an `employee:` stream's name (UTF-8, in place) names, or nil for any other stream.
    public init?(employeeStream stream: UnsafeRawBufferPointer) {
        // "employee:" is 9 bytes, then 18 digits: one 8-byte load and a byte (`starts(with:)`
        // over a `String.UTF8View` was 2 % of a replay).
        guard stream.count == 27, stream.loadUnaligned(as: UInt64.self) == Self.employeeWord, stream[8] == UInt8(ascii: ":") else { return nil }
        self.init(digits: UnsafeRawBufferPointer(rebasing: stream[9...]))
    }

    /// The bytes `employee`, as one word in memory order (a constant: a `static let` is a
    /// lazy global, checked on every read).
    private static var employeeWord: UInt64 { UInt64(littleEndian: 0x6565_796F_6C70_6D65) }

    /// 18 digits (ASCII), or nil. Inlinable: it is called per record on the import's path (the
    /// tag rule reads each stream's NIP), where an unspecialized generic walk of a `Slice` cost
    /// more than the rest of the rule.
    @inlinable
    public init?(digits utf8: some Collection<UInt8>) {
        var number: UInt64 = 0
        var count = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), count < 18 else { return nil }
            number = number &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
            count += 1
        }
        guard count == 18 else { return nil }
        self.number = number
    }

    /// Whether `text` is this NIP's 18 digits (an actor, say), without building its text.
    public func isText(_ text: String) -> Bool {
        var utf8 = text.utf8.makeIterator()
        var divisor: UInt64 = 100_000_000_000_000_000
        while divisor > 0 {
            guard let byte = utf8.next(), byte == UInt8(ascii: "0") + UInt8(number / divisor % 10) else { return false }
            divisor /= 10
        }
        return utf8.next() == nil
    }

    public var description: String { text }

    /// Numeric order is the order of the 18-digit texts.
    public static func < (a: NIP, b: NIP) -> Bool { a.number < b.number }
}

/// The subject of an event, and so its stream.
public enum Subject: Hashable, Sendable {
    case employee(NIP)
    case unit(String)
    /// An identity of the HTTP API (an NIP or a system identifier): the subject of
    /// `access.granted` and `access.revoked`.
    case identity(String)

    /// `employee:<NIP>`, `unit:<CODE>` or `access:<IDENTITY>`.
    public var stream: String {
        switch self {
        case .employee(let nip): "employee:" + nip.text
        case .unit(let code): "unit:" + code
        case .identity(let name): "access:" + name
        }
    }

    /// The subject as the wire names it: an NIP, a unit code or an identity.
    public var text: String {
        switch self {
        case .employee(let nip): nip.text
        case .unit(let code): code
        case .identity(let name): name
        }
    }

    /// The subject of a stream name written by ``stream``, as UTF-8 bytes (read in place from a record).
    public init?(streamBytes bytes: UnsafeRawBufferPointer) {
        let employee = "employee:".utf8
        let unit = "unit:".utf8
        if bytes.starts(with: employee) {
            var number: UInt64 = 0
            guard bytes.count == employee.count + 18 else { return nil }
            for byte in bytes[employee.count...] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                number = number * 10 + UInt64(byte - UInt8(ascii: "0"))
            }
            self = .employee(NIP(number: number))
        } else if bytes.starts(with: unit) {
            let code = UnsafeRawBufferPointer(rebasing: bytes[unit.count...])
            guard let text = String(validatingUTF8Bytes: code) else { return nil }
            self = .unit(text)
        } else if bytes.starts(with: "access:".utf8) {
            guard let text = String(validatingUTF8Bytes: UnsafeRawBufferPointer(rebasing: bytes[7...])) else { return nil }
            self = .identity(text)
        } else {
            return nil
        }
    }

    /// The subject of a stream name written by ``stream``.
    public init?(stream: String) {
        if stream.hasPrefix("employee:") {
            guard let nip = NIP(digits: stream.dropFirst(9)) else { return nil }
            self = .employee(nip)
        } else if stream.hasPrefix("unit:") {
            self = .unit(String(stream.dropFirst(5)))
        } else if stream.hasPrefix("access:") {
            self = .identity(String(stream.dropFirst(7)))
        } else {
            return nil
        }
    }
}
