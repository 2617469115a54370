import Foundation
import KinerjaDomain

/// The repository's sample file: one valid event of each of the eleven types.
let sampleLines: [String] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../samples/sample.jsonl")
    return try! String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}()

/// The first sample line of `type`, parsed.
func sample(_ type: String) -> JSONObject {
    for line in sampleLines {
        if case .object(let object) = try! JSONParser.parse(line), object["type"] == .string(type) { return object }
    }
    fatalError("no sample of \(type)")
}

/// A path into a JSON object: member names and array indexes.
enum Step: Hashable {
    case key(String)
    case index(Int)
}

func parsePath(_ path: String) -> [Step] {
    path.split(separator: ".").flatMap { part -> [Step] in
        let pieces = part.split(separator: "[")
        return [.key(String(pieces[0]))] + pieces.dropFirst().map { .index(Int($0.dropLast())!) }
    }
}

func fieldName(_ steps: [Step]) -> String {
    var text = ""
    for step in steps {
        switch step {
        case .key(let key): text += (text.isEmpty ? "" : ".") + key
        case .index(let index): text += "[\(index)]"
        }
    }
    return text
}

extension JSONValue {
    /// The value with the member at `path` replaced by `value`, or removed when `value` is nil.
    func setting(_ path: ArraySlice<Step>, to value: JSONValue?) -> JSONValue {
        guard let step = path.first else { return value ?? .null }
        switch (self, step) {
        case (.object(var object), .key(let key)):
            if let index = object.members.firstIndex(where: { $0.key == key }) {
                if path.count == 1, value == nil {
                    object.members.remove(at: index)
                } else {
                    object.members[index].value = object.members[index].value.setting(path.dropFirst(), to: value)
                }
            } else if let value {
                object.members.append((key, JSONValue.object(JSONObject(members: [])).setting(path.dropFirst(), to: value)))
            }
            return .object(object)
        case (.array(var elements), .index(let index)):
            elements[index] = elements[index].setting(path.dropFirst(), to: value)
            return .array(elements)
        default:
            return value ?? self
        }
    }

    /// Every path to a leaf (and to every object and array, which are values too).
    func paths(prefix: [Step] = []) -> [[Step]] {
        switch self {
        case .object(let object):
            return (prefix.isEmpty ? [] : [prefix]) + object.members.flatMap { $0.value.paths(prefix: prefix + [.key($0.key)]) }
        case .array(let elements):
            return [prefix] + elements.enumerated().flatMap { $0.element.paths(prefix: prefix + [.index($0.offset)]) }
        default:
            return [prefix]
        }
    }
}

/// The sample of `type` with `path` set to `value` (JSON text) or removed (nil), as a line.
func line(_ type: String, _ path: String, _ value: String?) -> String {
    let replacement = value.map { try! JSONParser.parse($0) }
    return JSONValue.object(sample(type)).setting(parsePath(path)[...], to: replacement).jsonText
}

func decodeError(_ text: String) -> WireError? {
    if case .failure(let error) = WireDecoder.decode(line: text, number: 7) { return error }
    return nil
}
