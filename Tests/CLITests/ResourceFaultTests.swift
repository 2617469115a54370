import Foundation
import Glibc
import KinerjaDomain
import KinerjaSamples
import Testing

/// Mounting a small filesystem needs root (CI runs as root here); elsewhere these tests are skipped.
let canMount: Bool = {
    guard geteuid() == 0 else { return false }
    let probe = TemporaryDirectory("kinerja-mount-probe")
    defer {
        _ = shell("umount", probe.path)
        probe.remove()
    }
    return shell("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path) == 0
}()

@discardableResult
func shell(_ arguments: String...) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}

@Suite("Resource faults on a small filesystem made for the test", .enabled(if: canMount, "needs root to mount a tmpfs"))
struct ResourceFaultTests {
    @Test("a full disk: a clear error, whole batches only, the ledger verifies, and appends go on once there is space; a read-only ledger: a clear error")
    func fullDiskThenReadOnly() throws {
        let cli = CLI()
        defer { cli.remove() }
        let mountPoint = cli.scratch.child("fs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(shell("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint) == 0)
        defer { shell("umount", mountPoint) }
        let ledger = mountPoint + "/ledger"
        #expect(try cli.run("init", ledger: ledger).status == 0)

        var generator = SampleGenerator(seed: 12, employees: 300)
        let file = try cli.write("events.jsonl", generator.events(12_000).map { WireEncoder.encode($0) }.joined(separator: "\n"))
        let full = try cli.run("append", file, "--batch-size", "1000", ledger: ledger)
        #expect(full.status == 1)
        #expect(full.stderr.contains("cannot write to the ledger: no space left on the device ("), "\(full.stderr)")
        #expect(full.stderr.contains("KiB free); nothing of this batch was stored"))
        let partial = try #require(try verifiedHead(cli, ledger: ledger), "the ledger does not verify after the disk filled")
        #expect(partial.seq % 1000 == 0 && partial.seq < 12_000)

        #expect(shell("mount", "-o", "remount,size=64m", mountPoint) == 0)
        let resumed = try cli.run("append", file, "--batch-size", "1000", ledger: ledger)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix("appended \(12_000 - partial.seq), duplicates \(partial.seq), rejected 0"))
        #expect(try verifiedHead(cli, ledger: ledger)?.seq == 12_000)

        #expect(shell("mount", "-o", "remount,ro", mountPoint) == 0)
        for arguments in [["verify"], ["append", file], ["log"]] {
            let refused = try cli.start(arguments + ["--ledger", ledger]).wait()
            #expect(refused.status == 1)
            #expect(refused.stderr == "kinerja: cannot open the ledger at \(ledger): Read-only file system\n")
        }
        #expect(shell("mount", "-o", "remount,rw", mountPoint) == 0)
        #expect(try verifiedHead(cli, ledger: ledger)?.seq == 12_000)
    }
}
