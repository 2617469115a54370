// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "KinerjaLedger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kinerja", targets: ["kinerja"]),
        .library(name: "KinerjaLedger", targets: ["KinerjaLedger"]),
        .library(name: "KinerjaDomain", targets: ["KinerjaDomain"]),
        .library(name: "LedgerStore", targets: ["LedgerStore"]),
        .library(name: "KinerjaSamples", targets: ["KinerjaSamples"]),
        .library(name: "KinerjaReports", targets: ["KinerjaReports"]),
        .library(name: "KinerjaDemo", targets: ["KinerjaDemo"]),
        .library(name: "TransparencyLog", targets: ["TransparencyLog"]),
        .library(name: "KinerjaServer", targets: ["KinerjaServer"]),
        .library(
            name: "KinerjaProjections",
            targets: ["AppraisalCore", "ScoresProjection", "TrainingProjection", "AccountabilityProjection", "AuditTrailProjection", "HistoryProjection"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        // The server's client of its witnesses (C2SP tlog-witness); swift-log and service-lifecycle
        // were already in the graph (Hummingbird's), named here to be imported.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev), wrapped the way GRDB wraps SQLite.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The primitives of the canonical record encoding, shared by the store header and the domain payload.
        .target(name: "CanonicalBytes"),
        // SHA-256 of the chain and the tree from the system's OpenSSL (Debian: libssl-dev), hashed
        // on the stack: swift-crypto's `SHA256` allocates a context per hash on Linux, as much
        // time as the blocks of a record (the chain and the tree hash up to three times a record).
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        // RFC 6962 Merkle trees and the C2SP formats (signed notes, checkpoints, tlog-proofs,
        // cosignatures, the witness's decisions). Knows nothing of the ledger or LMDB.
        .target(
            name: "TransparencyLog",
            dependencies: ["CanonicalBytes", "CLibCrypto", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The event log on LMDB: records, hash chain, indexes. Knows nothing of appraisal.
        .target(
            name: "LedgerStore",
            dependencies: ["CLMDB", "CanonicalBytes", "TransparencyLog", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Appraisal events: wire format v1, validation rules, canonical binary payloads. Knows nothing of LMDB.
        .target(name: "KinerjaDomain", dependencies: ["CanonicalBytes"]),
        // The ledger: domain events appended to and replayed from the store.
        .target(name: "KinerjaLedger", dependencies: ["LedgerStore", "KinerjaDomain"]),
        // Reports: replay into projections, rendered as table, JSON or CSV.
        .target(
            name: "KinerjaReports",
            dependencies: ["KinerjaLedger", "AppraisalCore", "ScoresProjection", "AccountabilityProjection", "AuditTrailProjection", "HistoryProjection"]
        ),
        // The demo's sample year, built into a ledger day by day.
        .target(name: "KinerjaDemo", dependencies: ["KinerjaLedger", "KinerjaSamples"]),
        // The HTTP API (PRODUCT.md §9): `buildApplication` for `kinerja serve` and for the tests.
        .target(
            name: "KinerjaServer",
            dependencies: [
                "KinerjaLedger", "KinerjaReports", "TransparencyLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // A link to schemas/openapi.yaml: the document served is the one in the repository.
            resources: [.embedInCode("openapi.yaml")]
        ),
        .executableTarget(
            name: "kinerja",
            dependencies: ["KinerjaServer", "KinerjaLedger", "KinerjaReports", "KinerjaDemo", "KinerjaSamples", "TransparencyLog", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Projections: readings of one appraisal state, knowing nothing of LMDB or the command line.
        // The state and its single reducer, over events read in place.
        .target(name: "AppraisalCore", dependencies: ["KinerjaDomain"], path: "Projections/Core"),
        .target(name: "ScoresProjection", dependencies: ["AppraisalCore", "KinerjaDomain"], path: "Projections/Scores"),
        .target(name: "TrainingProjection", dependencies: ["AppraisalCore", "KinerjaDomain"], path: "Projections/Training"),
        .target(
            name: "AccountabilityProjection",
            dependencies: ["AppraisalCore", "KinerjaDomain", "ScoresProjection", "TrainingProjection"],
            path: "Projections/Accountability"
        ),
        .target(name: "AuditTrailProjection", dependencies: ["AppraisalCore", "KinerjaDomain"], path: "Projections/AuditTrail"),
        .target(
            name: "HistoryProjection",
            dependencies: ["AppraisalCore", "KinerjaDomain", "ScoresProjection", "AuditTrailProjection"],
            path: "Projections/History"
        ),
        // Deterministic sample events: for the tests, the benchmarks and the sample data.
        .target(name: "KinerjaSamples", dependencies: ["KinerjaDomain"]),
        .testTarget(
            name: "KinerjaDomainTests",
            dependencies: ["CanonicalBytes", "KinerjaDomain", "KinerjaSamples", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "TransparencyLogTests", dependencies: ["TransparencyLog"]),
        .testTarget(
            name: "LedgerStoreTests",
            dependencies: ["LedgerStore", "CLMDB", "TransparencyLog", "KinerjaSamples", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "KinerjaLedgerTests",
            dependencies: ["KinerjaLedger", "KinerjaSamples", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "ProjectionTests",
            dependencies: [
                "AppraisalCore", "ScoresProjection", "TrainingProjection", "AccountabilityProjection", "AuditTrailProjection", "HistoryProjection",
                "KinerjaReports", "KinerjaLedger", "KinerjaDemo", "KinerjaSamples", .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "KinerjaServerTests",
            dependencies: [
                "KinerjaServer", "KinerjaLedger", "KinerjaSamples", "LedgerStore", "CLMDB",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // Runs the built `kinerja` binary: golden output, several processes, tampering, the inspector's recipe.
        .testTarget(
            name: "CLITests",
            dependencies: ["kinerja", "KinerjaLedger", "LedgerStore", "KinerjaSamples", "CLMDB"],
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
