// swift-tools-version: 6.1
// Benchmarks of the ledger, outside what a library user downloads. Run from the repository root:
//   swift run -c release --package-path Benchmarks kinerja-bench import --events 1000000
import PackageDescription

let package = Package(
    name: "KinerjaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "KinerjaLedger", path: "../")
    ],
    targets: [
        // Plain LMDB, for the baseline: the physical limit of the storage layer.
        .systemLibrary(name: "CLMDBBaseline", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .executableTarget(
            name: "kinerja-bench",
            dependencies: [
                "CLMDBBaseline",
                .product(name: "KinerjaLedger", package: "KinerjaLedger"),
                .product(name: "KinerjaSamples", package: "KinerjaLedger"),
                .product(name: "LedgerStore", package: "KinerjaLedger"),
                .product(name: "KinerjaDemo", package: "KinerjaLedger"),
                .product(name: "KinerjaProjections", package: "KinerjaLedger"),
                .product(name: "KinerjaReports", package: "KinerjaLedger"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
