import CanonicalBytes
import KinerjaDomain
import Testing

/// The readers a replay calls per record, in place, against plain ones: the NIP's 18 digits
/// (read eight at a time), a `YYYY-MM-DD` date, and the varints and fixed-size numbers of
/// ``ByteReader`` (inlined into their callers).
@Suite("In-place parsing against plain parsing")
struct InPlaceParsingTests {
    /// 18 ASCII digits, or nil: the plain definition.
    static func plainNIP(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 18, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }
    }

    @Test("NIP(digits:) agrees with a digit-by-digit parse, on digits and on any byte in any place")
    func nipDigits() {
        var random = SystemRandomNumberGenerator()
        var inputs: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "0"), count: 18), Array(repeating: UInt8(ascii: "9"), count: 18),
            Array("197006131996112286".utf8), Array("19700613199611228".utf8), Array("1970061319961122860".utf8),
        ]
        for _ in 0..<20_000 {
            var bytes = (0..<18).map { _ in UInt8.random(in: UInt8(ascii: "0")...UInt8(ascii: "9"), using: &random) }
            // One byte anywhere replaced by any value: the digits' neighbours ('/', ':') and bytes ≥ 0x80 included.
            if Bool.random(using: &random) { bytes[Int.random(in: 0..<18, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            inputs.append(bytes)
        }
        for byte in 0...255 {
            for place in [0, 7, 8, 15, 16, 17] {
                var bytes = Array("123456789012345678".utf8)
                bytes[place] = UInt8(byte)
                inputs.append(bytes)
            }
        }
        for bytes in inputs {
            let parsed = bytes.withUnsafeBytes { NIP(digits: $0) }
            #expect(parsed?.number == Self.plainNIP(bytes), "\(bytes)")
        }
    }

    /// 64 lowercase hexadecimal digits, or nil: the plain definition.
    static func plainHash(_ bytes: [UInt8]) -> [UInt8]? {
        let hexDigits = Array("0123456789abcdef".utf8)
        guard bytes.count == 64 else { return nil }
        var out: [UInt8] = []
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = hexDigits.firstIndex(of: bytes[pair]), let low = hexDigits.firstIndex(of: bytes[pair + 1]) else { return nil }
            out.append(UInt8(high << 4 | low))
        }
        return out
    }

    @Test("ChainHash(hexDigits:) agrees with a digit-by-digit parse, on hashes and on any byte in any place")
    func hashDigits() {
        var random = SystemRandomNumberGenerator()
        let hexDigits = Array("0123456789abcdef".utf8)
        var inputs: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "0"), count: 64), Array(repeating: UInt8(ascii: "f"), count: 64),
            Array(repeating: UInt8(ascii: "0"), count: 63), Array(repeating: UInt8(ascii: "0"), count: 65),
        ]
        for _ in 0..<20_000 {
            var bytes = (0..<64).map { _ in hexDigits.randomElement(using: &random)! }
            if Bool.random(using: &random) { bytes[Int.random(in: 0..<64, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            inputs.append(bytes)
        }
        for byte in 0...255 {
            for place in [0, 1, 7, 8, 15, 16, 31, 32, 47, 56, 63] {
                var bytes = Array("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".utf8)
                bytes[place] = UInt8(byte)
                inputs.append(bytes)
            }
        }
        for bytes in inputs {
            let parsed = bytes.withUnsafeBytes { ChainHash(hexDigits: $0) }
            #expect(parsed?.bytes == Self.plainHash(bytes), "\(bytes)")
        }
    }

    @Test("NIP(employeeStream:) reads only employee streams")
    func employeeStream() {
        func nip(_ stream: String) -> NIP? { Array(stream.utf8).withUnsafeBytes { NIP(employeeStream: $0) } }
        #expect(nip("employee:197006131996112286")?.number == 197_006_131_996_112_286)
        #expect(nip("employee:19700613199611228x") == nil)
        #expect(nip("employeX:197006131996112286") == nil)
        #expect(nip("employee;197006131996112286") == nil)
        #expect(nip("employee:1970061319961122860") == nil)
        #expect(nip("unit:SETDA") == nil)
    }

    @Test("CivilDate(utf8:) agrees with the calendar, on valid dates and on any byte in any place")
    func civilDate() {
        func parse(_ text: [UInt8]) -> CivilDate? { text.withUnsafeBytes { CivilDate(utf8: $0) } }
        for year in [1, 1900, 2000, 2024, 2026, 9999] {
            for month in 0...13 {
                for day in 0...32 {
                    let text = Array((String(repeating: "0", count: 4 - String(year).count) + String(year) + "-" + (month < 10 ? "0" : "") + String(month) + "-" + (day < 10 ? "0" : "") + String(day)).utf8)
                    let expected = CivilDate(year: year, month: month, day: day)
                    #expect(parse(text) == expected, "\(String(decoding: text, as: UTF8.self))")
                }
            }
        }
        let valid = Array("2026-02-28".utf8)
        for place in 0..<10 {
            for byte in 0...255 {
                var text = valid
                text[place] = UInt8(byte)
                let digit = byte >= Int(UInt8(ascii: "0")) && byte <= Int(UInt8(ascii: "9"))
                let expected: CivilDate?
                if place == 4 || place == 7 {
                    expected = byte == Int(UInt8(ascii: "-")) ? CivilDate(year: 2026, month: 2, day: 28) : nil
                } else if !digit {
                    expected = nil
                } else {
                    let string = String(decoding: text, as: UTF8.self)
                    let parts = string.split(separator: "-").map { Int($0)! }
                    expected = CivilDate(year: parts[0], month: parts[1], day: parts[2])
                }
                #expect(parse(text) == expected, "\(text)")
            }
        }
        #expect(parse(Array("2026-2-28".utf8)) == nil)
        #expect(parse(Array("2026-02-280".utf8)) == nil)
    }

    @Test("varints: every shortest form reads back; longer forms, overlong and cut ones are refused")
    func varints() throws {
        for value in [0, 1, 127, 128, 255, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max] as [UInt64] {
            var writer = ByteWriter()
            writer.writeVarint(value)
            let bytes = writer.bytes
            let read = try bytes.withUnsafeBytes { buffer in
                var reader = ByteReader(buffer)
                let value = try reader.readVarint()
                #expect(reader.isAtEnd)
                return value
            }
            #expect(read == value)
            // Cut short: refused, not read past the end.
            if bytes.count > 1 {
                #expect(throws: ByteReader.Malformed.self) {
                    try Array(bytes.dropLast()).withUnsafeBytes { buffer in
                        var reader = ByteReader(buffer)
                        _ = try reader.readVarint()
                    }
                }
            }
        }
        // 0 written in two bytes, and 1 in two: not the shortest form.
        for bytes in [[0x80, 0x00], [0x81, 0x00]] as [[UInt8]] {
            #expect(throws: ByteReader.Malformed.self) {
                try bytes.withUnsafeBytes { buffer in
                    var reader = ByteReader(buffer)
                    _ = try reader.readVarint()
                }
            }
        }
        // Eleven continuation bytes: longer than 64 bits.
        #expect(throws: ByteReader.Malformed.self) {
            try ([UInt8](repeating: 0xFF, count: 11) + [0x01]).withUnsafeBytes { buffer in
                var reader = ByteReader(buffer)
                _ = try reader.readVarint()
            }
        }
    }

    @Test("fixed-size reads, strings and flags: in place, and refused past the end")
    func fixedSize() throws {
        var writer = ByteWriter()
        writer.writeUInt8(7)
        writer.writeUInt64(0x0102_0304_0506_0708)
        writer.writeInt64(-2)
        writer.writeString("héllo")
        writer.writeUInt8(1)
        let bytes = writer.bytes
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) throws(any Error) -> Void in
            var reader = ByteReader(buffer)
            #expect(try reader.readUInt8() == 7)
            #expect(try reader.readUInt64() == 0x0102_0304_0506_0708)
            #expect(try reader.readInt64() == -2)
            #expect(String(decoding: try reader.readStringBytes(), as: UTF8.self) == "héllo")
            #expect(try reader.readBool())
            #expect(reader.isAtEnd)
            #expect(reader.offset == bytes.count)
            #expect(throws: ByteReader.Malformed.self) { try reader.readUInt8() }
            #expect(throws: ByteReader.Malformed.self) { try reader.readUInt64() }
            #expect(throws: ByteReader.Malformed.self) { try reader.readBytes(count: 1) }
        }
        [UInt8]([2]).withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            #expect(throws: ByteReader.Malformed.self) { try reader.readBool() }
        }
        // A string whose length runs past the end.
        [UInt8]([5, 0x61, 0x62]).withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            #expect(throws: ByteReader.Malformed.self) { try reader.readStringBytes() }
            #expect(reader.offset == 0 || reader.offset == 1)
        }
    }

    @Test("isValidUTF8 (eight bytes at a time) agrees with String(validating:), with any byte in any place")
    func utf8() {
        var random = SystemRandomNumberGenerator()
        var inputs: [[UInt8]] = [[], Array("héllo, wörld: 18 bytes".utf8), Array("ßß".utf8), [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98, 0x80]]
        for count in 0...24 {
            let ascii = (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &random) }
            inputs.append(ascii)
            // One byte that is not ASCII, in each place: alone it is never UTF-8, beside another it may be.
            for place in 0..<count {
                for byte: UInt8 in [0x80, 0xBF, 0xC3, 0xE2, 0xFF] {
                    var changed = ascii
                    changed[place] = byte
                    inputs.append(changed)
                }
                if place + 1 < count {
                    var pair = ascii
                    pair[place] = 0xC3
                    pair[place + 1] = 0xA9
                    inputs.append(pair)
                }
            }
        }
        for input in inputs {
            let plain = String(validating: input, as: UTF8.self) != nil
            // Read from any alignment.
            for offset in 0..<8 {
                let padded = Array(repeating: UInt8(ascii: "a"), count: offset) + input
                let fast = padded.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[offset...]).isValidUTF8 }
                #expect(fast == plain, "\(input) at +\(offset)")
            }
        }
    }
}
