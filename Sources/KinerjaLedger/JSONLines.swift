import Dispatch
import Foundation
import KinerjaDomain
import Synchronization

/// Splits JSON Lines input and decodes each line. Empty lines are skipped; a final line
/// needs no newline; a carriage return before the newline is dropped.
public enum JSONLines {
    /// Inputs smaller than this are decoded on the calling thread.
    static let parallelThreshold = 1 << 20

    /// No valid line is this short: its `id` (a UUID), `occurred_at` (an RFC 3339 timestamp) and
    /// `data` members alone take 92 bytes, with the braces and commas. A part's list of decoded
    /// lines is reserved for at most one line per this many of its bytes, whatever its newlines:
    /// a decoded line takes ~500 bytes, so a part of blank lines would otherwise ask for hundreds
    /// of times its size.
    static let shortestLine = 90

    /// The lines of a batch: the good ones decoded, the bad ones refused.
    public struct Decoded: Sendable {
        /// The good lines in line order, in the runs the decoding threads made: joined only when
        /// ``submissions`` is asked for, since copying a decoded line retains each of its fields
        /// (joining two runs per batch was 6 % of an import's decoding).
        var runs: [[NumberedSubmission]]
        public var invalid: [WireError]

        /// The number of good lines (without joining the runs, as ``submissions`` does).
        public var count: Int { runs.reduce(0) { $0 + $1.count } }

        /// The good lines, in line order.
        public var submissions: [NumberedSubmission] {
            runs.count == 1 ? runs[0] : Array(runs.joined())
        }

        public init(submissions: [NumberedSubmission] = [], invalid: [WireError] = []) {
            runs = [submissions]
            self.invalid = invalid
        }

        init(runs: [[NumberedSubmission]], invalid: [WireError]) {
            self.runs = runs
            self.invalid = invalid
        }
    }

    /// A run of whole lines of an input: its bytes and the number of its first line.
    public struct Chunk: Sendable, Equatable {
        public var bytes: Range<Int>
        public var firstLine: Int
    }

    /// Cuts `data` after every `lines` lines (the last chunk may be shorter; `lines` below 1: one
    /// chunk).
    public static func chunks(of data: Data, lines: Int) -> [Chunk] {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var chunks: [Chunk] = []
            var start = 0
            var line = 1
            while start < bytes.count {
                let (end, newlines) = skipLines(in: bytes, from: start, limit: lines > 0 ? lines : .max)
                chunks.append(Chunk(bytes: start..<end, firstLine: line))
                line += newlines
                start = end
            }
            return chunks
        }
    }

    /// Decodes every line, in parallel over the machine's cores for large inputs; the result is
    /// in line order either way.
    public static func decode(_ data: Data) -> Decoded {
        decode(data, Chunk(bytes: 0..<data.count, firstLine: 1))
    }

    /// Decodes the lines of one chunk of `data`.
    public static func decode(_ data: Data, _ chunk: Chunk) -> Decoded {
        decode(data, chunk, parts: chunk.bytes.count < parallelThreshold ? 1 : ProcessInfo.processInfo.activeProcessorCount)
    }

    /// ``decode(_:_:)`` cut into `parts` parts, one a thread, whatever the chunk's size: the tests
    /// choose the parts, so what they cover does not depend on the machine's cores.
    package static func decode(_ data: Data, _ chunk: Chunk, parts: Int) -> Decoded {
        data.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            let bytes = UnsafeRawBufferPointer(rebasing: all[chunk.bytes])
            guard parts > 1 else { return decode(bytes, firstLine: chunk.firstLine) }
            // Cut at newlines near equal shares, and number each part's first line.
            var cuts = [0]
            var firstLines = [chunk.firstLine]
            for part in 1..<parts {
                let target = max(cuts.last!, bytes.count * part / parts)
                // Cut after the first newline at or after `target - 1`; `newlines` counts the
                // newlines before the cut, since the last cut.
                let (cut, newlines) = skipLines(in: bytes, from: cuts.last!, until: target)
                cuts.append(cut)
                firstLines.append(firstLines.last! + newlines)
            }
            cuts.append(bytes.count)
            let results = Mutex<[Decoded]>(Array(repeating: Decoded(), count: parts))
            let (bounds, numbers) = (cuts, firstLines)
            let input = SendableBytes(bytes: bytes)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let slice = UnsafeRawBufferPointer(rebasing: input.bytes[bounds[part]..<bounds[part + 1]])
                // Each part's newlines but the last's were counted by the cuts.
                let newlines = part + 1 < parts ? numbers[part + 1] - numbers[part] : nil
                let decoded = decode(slice, firstLine: numbers[part], newlines: newlines)
                results.withLock { $0[part] = decoded }
            }
            let decoded = results.withLock { $0 }
            return Decoded(runs: decoded.flatMap(\.runs), invalid: decoded.flatMap(\.invalid))
        }
    }

    /// Calls `body` with batches 0..<count decoded by `decode`, in order, decoding the next batch
    /// on another thread while `body` works on the current one.
    ///
    /// A batch that has been staged is freed on that thread too, before it decodes the next one:
    /// its lines' fields, payloads and values are tens of thousands of frees (5 % of the staging
    /// thread, the import's critical path). So one batch at most is being freed at a time, and
    /// every free is done when this returns (each thread waited for), before the caller trims
    /// the heap (``Store/stage(into:_:)``); the last staged batches are freed here.
    static func decodeAhead(count: Int, _ decode: @escaping @Sendable (Int) -> Decoded, _ body: (Decoded) throws -> Void) throws {
        guard count > 0 else { return }
        var current = decode(0)
        // The batch staged before `current`, its only reference: freed where it is released.
        var finished: Retired?
        for index in 0..<count {
            var next: Ahead<Decoded>?
            if index + 1 < count {
                let retiring = finished.map { Unmanaged.passRetained($0) }
                finished = nil
                next = Ahead {
                    retiring?.release()
                    return decode(index + 1)
                }
            }
            // Nothing decodes on once `body` has thrown and the input may be gone.
            defer { _ = next?.wait() }
            try body(current)
            if let ahead = next {
                finished = Retired(current)
                current = ahead.wait()
            }
        }
    }

    /// A staged batch, boxed to be released (and so freed) on the thread decoding the next one.
    private final class Retired: Sendable {
        let decoded: Decoded
        init(_ decoded: Decoded) { self.decoded = decoded }
    }

    /// `newlines`: how many `bytes` has, if known (nil: counted here).
    private static func decode(_ bytes: UnsafeRawBufferPointer, firstLine: Int, newlines: Int? = nil) -> Decoded {
        var submissions: [NumberedSubmission] = []
        // Room for every line before the first is decoded (at most one per ``shortestLine``
        // bytes): the list never grows, so its decoded lines (~500 bytes each) are never moved
        // and it keeps no spare room.
        let lines = newlines ?? skipLines(in: bytes, from: 0).newlines
        assert(lines == skipLines(in: bytes, from: 0).newlines, "a part's newlines miscounted")
        submissions.reserveCapacity(min(lines + 1, bytes.count / shortestLine + 1))
        var invalid: [WireError] = []
        var lineNumber = firstLine - 1
        var start = 0
        var tape = JSONTape()
        while start < bytes.count {
            lineNumber += 1
            let end = nextNewline(in: bytes, from: start) ?? bytes.count
            var stop = end
            if stop > start && bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
            if stop > start {
                switch WireDecoder.decode(line: UnsafeRawBufferPointer(rebasing: bytes[start..<stop]), number: lineNumber, tape: &tape) {
                case .success(let submission):
                    // Prepared in its place in the list: a decoded line is a few hundred bytes,
                    // and each copy of it a `memmove`.
                    submissions.append(NumberedSubmission(line: lineNumber, submission: submission))
                    submissions[submissions.count - 1].prepare()
                case .failure(let error): invalid.append(error)
                }
            }
            start = end + 1
        }
        return Decoded(submissions: submissions, invalid: invalid)
    }

    /// Skips the lines of `bytes` from `start` (where a line begins), newline to newline with
    /// `memchr`, while the next line begins before `target` and fewer than `limit` have been
    /// skipped: the offset where the next line begins (the end of `bytes` if no newline is left)
    /// and how many newlines were skipped.
    private static func skipLines(
        in bytes: UnsafeRawBufferPointer, from start: Int, until target: Int = .max, limit: Int = .max
    ) -> (end: Int, newlines: Int) {
        var end = start
        var newlines = 0
        while end < target && newlines < limit {
            guard let newline = nextNewline(in: bytes, from: end) else { return (bytes.count, newlines) }
            newlines += 1
            end = newline + 1
        }
        return (end, newlines)
    }

    /// The offset of the first newline in `bytes` at or after `start`, or nil.
    private static func nextNewline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, Int32(UInt8(ascii: "\n")), bytes.count - start)
        else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The input, read (never written) by every part while `decode` holds it.
    private struct SendableBytes: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
    }
}
