// swift-tools-version: 6.1
// Benchmarks of the ledger beside raw LMDB, SQLite and the Python eventsourcing library, outside
// what a library user downloads. Run from the repository root: scripts/bench (BENCHMARKS.md).
import PackageDescription

let package = Package(
    name: "KinerjaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "KinerjaLedger", path: "../"),
        // The HTTP peer of `server-load` (`http-peer`): the Hummingbird kinerja serve runs (the
        // same version: this package's Package.resolved pins the root package's).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // Plain LMDB, for the baseline: the physical limit of the storage layer.
        .systemLibrary(name: "CLMDBBaseline", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        // The SQLite peer.
        .systemLibrary(name: "CSQLiteBaseline", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "kinerja-bench",
            dependencies: [
                "CLMDBBaseline",
                "CSQLiteBaseline",
                .product(name: "KinerjaLedger", package: "KinerjaLedger"),
                .product(name: "KinerjaSamples", package: "KinerjaLedger"),
                .product(name: "LedgerStore", package: "KinerjaLedger"),
                .product(name: "KinerjaDemo", package: "KinerjaLedger"),
                .product(name: "KinerjaProjections", package: "KinerjaLedger"),
                .product(name: "KinerjaReports", package: "KinerjaLedger"),
                .product(name: "TransparencyLog", package: "KinerjaLedger"),
                .product(name: "KinerjaServer", package: "KinerjaLedger"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
