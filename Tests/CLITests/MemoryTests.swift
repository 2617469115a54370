import Foundation
import Glibc
import KinerjaDomain
import KinerjaSamples
import Testing

/// The highest RssAnon (KiB) of a running process, polled every 10 ms until it exits: the
/// process's own memory, without the pages of the mapped input and LMDB map that peak RSS counts.
func peakAnonymousKiB(_ running: RunningProcess) -> (result: ProcessResult, peakKiB: Int) {
    var peak = 0
    let status = "/proc/\(running.process.processIdentifier)/status"
    while running.process.isRunning {
        if let text = try? String(contentsOfFile: status, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            peak = max(peak, kib)
        }
        usleep(10_000)
    }
    return (running.wait(), peak)
}

@Suite("Memory: what an import holds does not grow with its input")
struct MemoryTests {
    @Test("a 1 M-line import's peak anonymous memory is within 1.75 × a 100 k-line import's")
    func flatImport() throws {
        let count = largeInputLines
        let cli = CLI()
        defer { cli.remove() }
        // On tmpfs when there is one: a commit's fsync costs nothing there, and shared memory is
        // not anonymous memory.
        let shm = FileManager.default.fileExists(atPath: "/dev/shm") ? TemporaryDirectory("kinerja-memory", in: "/dev/shm") : nil
        defer { shm?.remove() }
        let place = shm ?? cli.scratch
        var generator = SampleGenerator(seed: 77, employees: 20_000)
        let large = place.child("large.jsonl")
        let small = place.child("small.jsonl")
        try writeGeneratedLines(&generator, count: count, to: large, prefix: (small, count / 10))

        // Batches of 250: an import holds about one batch (its decoded lines, and the index
        // pages its commit to the ledger dirties), whatever the number of batches. The staging
        // area is a file written in place, not the process's memory: the peaks are small (about
        // 5.4 MiB and 8.6 MiB measured), so the ledger's commits reaching their plateau of dirty
        // pages (one per random index insert once the trees outgrow a batch) and the
        // allocator's arenas show as a ratio of about 1.6.
        func peak(_ file: String, _ lines: Int) throws -> Int {
            let ledger = place.child("ledger-\(lines)")
            try cli.run("init", ledger: ledger)
            let (result, kib) = peakAnonymousKiB(try cli.start(["append", file, "--batch-size", "250"], ledger: ledger))
            #expect(result.stdout.hasPrefix("appended \(lines), duplicates 0, rejected 0"), "\(result.stdout) \(result.stderr)")
            try FileManager.default.removeItem(atPath: ledger)
            return kib
        }
        let smallPeak = try peak(small, count / 10)
        let largePeak = try peak(large, count)
        #expect(Double(largePeak) <= 1.75 * Double(smallPeak), "peak anonymous memory: \(smallPeak) KiB for \(count / 10) lines, \(largePeak) KiB for \(count)")
    }
}
