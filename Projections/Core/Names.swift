import KinerjaDomain

/// Strings numbered on first sight: unit codes, target ids, actors, names. A replay looks a
/// string up by the bytes it reads in place (no `String`, no allocation) and keeps the number;
/// the text is built only when a report prints it.
public struct Names: Sendable {
    /// Every string's bytes, one after the other.
    private var arena: [UInt8] = []
    /// The start of string n in `arena` (and, at n + 1, its end).
    private var starts: [Int] = [0]
    /// Open addressing: slot → name + 1 (0 empty). Always at most half full.
    private var slots: [Int32] = Array(repeating: 0, count: 64)

    public init() {}

    public var count: Int { starts.count - 1 }

    /// The number of `bytes`, given now if they are new.
    public mutating func number(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let mask = slots.count - 1
        var slot = Self.hash(bytes) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            if equals(entry - 1, bytes) { return Int32(entry - 1) }
            slot = (slot + 1) & mask
        }
        let name = count
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        slots[slot] = Int32(name + 1)
        if count * 2 > slots.count { grow() }
        return Int32(name)
    }

    public mutating func number(_ text: TextView) -> Int32 { number(text.bytes) }

    public mutating func number(_ string: String) -> Int32 {
        var string = string
        return string.withUTF8 { number(UnsafeRawBufferPointer($0)) }
    }

    /// The number of `bytes`, if they have one.
    public func existing(_ bytes: UnsafeRawBufferPointer) -> Int32? {
        let mask = slots.count - 1
        var slot = Self.hash(bytes) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if equals(entry - 1, bytes) { return Int32(entry - 1) }
            slot = (slot + 1) & mask
        }
    }

    public func existing(_ string: String) -> Int32? {
        var string = string
        return string.withUTF8 { existing(UnsafeRawBufferPointer($0)) }
    }

    /// The text of name `n`.
    public subscript(_ name: Int32) -> String {
        let start = starts[Int(name)]
        let end = starts[Int(name) + 1]
        return arena[start..<end].withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether name `n` is the 18 digits of `nip`.
    public func isNIP(_ name: Int32, _ nip: NIP) -> Bool {
        arena[starts[Int(name)]..<starts[Int(name) + 1]].withUnsafeBytes { NIP(digits: $0) == nip }
    }

    private func equals(_ name: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = starts[name]
        let end = starts[name + 1]
        guard end - start == bytes.count else { return false }
        return arena.withUnsafeBytes { arena in
            bytes.isEmpty || memcmp(arena.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
        }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        arena.withUnsafeBytes { arena in
            for name in 0..<count {
                var slot = Self.hash(UnsafeRawBufferPointer(rebasing: arena[starts[name]..<starts[name + 1]])) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(name + 1)
            }
        }
    }

    /// The standard library's seeded hash: a sender cannot choose strings that collide.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
