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

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash = seed ^ UInt64(bytes.count)
        var index = 0
        while index + 8 <= bytes.count {
            hash = mix(hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0
        while index < bytes.count {
            tail = tail << 8 | UInt64(bytes[index])
            index += 1
        }
        return Int(truncatingIfNeeded: mix(hash ^ tail))
    }
}

/// A process-wide random seed for the tables' hashes, so that a sender cannot choose strings or
/// NIPs that collide (the standard library's `Hasher` does the same, at several times the cost
/// for keys this short).
let seed = UInt64.random(in: .min ... .max)

/// A 64-bit mixer (the finalizer of MurmurHash3).
@inline(__always)
func mix(_ value: UInt64) -> UInt64 {
    var x = value
    x ^= x >> 33
    x &*= 0xff51_afd7_ed55_8ccd
    x ^= x >> 33
    x &*= 0xc4ce_b9fe_1a85_ec53
    x ^= x >> 33
    return x
}

/// Event ids → a value (which score a score or correction sets): open addressing, at most half
/// full, each slot's key and value side by side (one cache line read per lookup).
struct IDTable<Value: Sendable>: Sendable {
    private struct Slot: Sendable {
        var id: EventID
        var value: Value?
    }

    private var slots = [Slot](repeating: Slot(id: EventID(high: 0, low: 0), value: nil), count: 16)
    private var count = 0

    private static func start(_ id: EventID, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: mix(id.high ^ seed ^ mix(id.low))) & mask
    }

    subscript(_ id: EventID) -> Value? {
        get {
            let mask = slots.count - 1
            var index = Self.start(id, mask)
            while let value = slots[index].value {
                if slots[index].id == id { return value }
                index = (index + 1) & mask
            }
            return nil
        }
        set {
            guard let newValue else { preconditionFailure("ids are never removed") }
            let mask = slots.count - 1
            var index = Self.start(id, mask)
            while slots[index].value != nil {
                if slots[index].id == id {
                    slots[index].value = newValue
                    return
                }
                index = (index + 1) & mask
            }
            slots[index] = Slot(id: id, value: newValue)
            count += 1
            if count * 2 > slots.count { grow() }
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(id: EventID(high: 0, low: 0), value: nil), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.value != nil {
            var index = Self.start(slot.id, mask)
            while slots[index].value != nil { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

/// Numbers given to 64-bit keys (NIPs) on first sight: open addressing, at most half full, each
/// slot's key and number side by side.
struct NumberTable: Sendable {
    private struct Slot: Sendable {
        var key: UInt64
        /// number + 1; 0 empty.
        var value: Int32
    }

    private var slots = [Slot](repeating: Slot(key: 0, value: 0), count: 16)
    private var count = 0

    private static func start(_ key: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: mix(key ^ seed)) & mask }

    /// The number of `key`, given `next` now if it has none.
    mutating func number(_ key: UInt64, next: Int32) -> Int32 {
        if let number = existing(key) { return number }
        let mask = slots.count - 1
        var index = Self.start(key, mask)
        while slots[index].value != 0 { index = (index + 1) & mask }
        slots[index] = Slot(key: key, value: next + 1)
        count += 1
        if count * 2 > slots.count { grow() }
        return next
    }

    func existing(_ key: UInt64) -> Int32? {
        let mask = slots.count - 1
        var index = Self.start(key, mask)
        while slots[index].value != 0 {
            if slots[index].key == key { return slots[index].value - 1 }
            index = (index + 1) & mask
        }
        return nil
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: 0, value: 0), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.value != 0 {
            var index = Self.start(slot.key, mask)
            while slots[index].value != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

/// Free text kept only to be printed (a target's plan and indicator): appended, never looked up,
/// so never hashed.
public struct Texts: Sendable {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]

    public init() {}

    public mutating func append(_ text: TextView) -> Int32 {
        arena.append(contentsOf: text.bytes)
        starts.append(arena.count)
        return Int32(starts.count - 2)
    }

    public subscript(_ text: Int32) -> String {
        arena[starts[Int(text)]..<starts[Int(text) + 1]].withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
