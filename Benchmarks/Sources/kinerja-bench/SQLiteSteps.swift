import AppraisalCore
import CSQLiteBaseline
import Foundation
import HistoryProjection
import KinerjaDomain
import KinerjaLedger

/// An events table in SQLite as an application would keep one: WAL with `synchronous=FULL`
/// (durable commits), one transaction per batch, `seq` as the integer primary key, unique
/// `(stream, version)` and unique `id`, and the event itself as its wire JSON (PRODUCT's
/// format, without the recorded fields, which are columns). Its replay decodes each row's JSON
/// with the ledger's strict decoder into the same projections. No hash chain.
final class SQLiteTable {
    let db: OpaquePointer

    init(_ path: String) {
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let handle else { fatalError("sqlite3_open \(path)") }
        db = handle
        sqlite3_busy_timeout(db, 120_000)
        execute("PRAGMA journal_mode=WAL")
        execute("PRAGMA synchronous=FULL")
        execute("""
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY,
                stream TEXT NOT NULL,
                version INTEGER NOT NULL,
                id BLOB NOT NULL UNIQUE,
                type INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                event TEXT NOT NULL,
                UNIQUE (stream, version)
            )
            """)
    }

    deinit { sqlite3_close(db) }

    func execute(_ sql: String) {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &error) != SQLITE_OK {
            fatalError("\(sql): \(String(cString: error!))")
        }
    }

    func prepare(_ sql: String) -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            fatalError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        return statement
    }

    func step(_ statement: OpaquePointer, expecting code: Int32 = SQLITE_DONE) {
        let rc = sqlite3_step(statement)
        guard rc == code else { fatalError("sqlite3_step: \(rc) \(String(cString: sqlite3_errmsg(db)))") }
    }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension OpaquePointer {
    func bind(_ index: Int32, _ text: String) { sqlite3_bind_text(self, index, text, -1, transient) }
    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(self, index, value) }
    func bind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = sqlite3_bind_blob(self, index, $0.baseAddress, Int32($0.count), transient) }
    }
    func blob(_ column: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: sqlite3_column_blob(self, column), count: Int(sqlite3_column_bytes(self, column)))
    }
    func text(_ column: Int32) -> String { String(cString: sqlite3_column_text(self, column)) }
}

extension EventID {
    var bytes: [UInt8] { withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) } }
}

/// `sqlite-import --input F --db D --batch B`: each batch of lines decoded with the ledger's
/// strict decoder (in parallel, as the ledger does), then inserted in one transaction. Stream
/// versions are kept in memory; of the lines' own recorded fields only `recorded_at` is kept (so that the
/// replay judges the same backdating as the ledger's).
func sqliteImport(_ options: Options) throws {
    let path = options.required("--db")
    let table = SQLiteTable(path)
    let batch = options.int("--batch", 10_000)
    let insert = table.prepare("INSERT INTO events (seq, stream, version, id, type, recorded_at, event) VALUES (?, ?, ?, ?, ?, ?, ?)")
    var count = 0
    let time = try seconds {
        let input = try Data(contentsOf: URL(fileURLWithPath: options.required("--input")), options: .alwaysMapped)
        var versions: [String: Int64] = [:]
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        for chunk in JSONLines.chunks(of: input, lines: batch) {
            let decoded = JSONLines.decode(input, chunk)
            guard decoded.invalid.isEmpty else { fatalError("invalid workload") }
            table.execute("BEGIN")
            for item in decoded.submissions {
                let event = item.submission.event
                let version = versions[event.stream, default: 0] + 1
                versions[event.stream] = version
                count += 1
                insert.bind(1, Int64(count))
                insert.bind(2, event.stream)
                insert.bind(3, version)
                insert.bind(4, event.id.bytes)
                insert.bind(5, Int64(event.type.code))
                insert.bind(6, item.submission.recorded?.recordedAt ?? now)
                insert.bind(7, WireEncoder.encode(event))
                table.step(insert)
                sqlite3_reset(insert)
            }
            table.execute("COMMIT")
        }
    }
    sqlite3_finalize(insert)
    table.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    emit(["events": count, "seconds": time, "bytes": fileSize(path) + fileSize(path + "-wal")])
}

/// `sqlite-writer --input F --db D --batch B`: one of the concurrent writers. Each transaction
/// takes the write lock first (`BEGIN IMMEDIATE`) and reads each stream's version in it.
func sqliteWriter(_ options: Options) throws {
    let decoded = JSONLines.decode(try Data(contentsOf: URL(fileURLWithPath: options.required("--input"))))
    let table = SQLiteTable(options.required("--db"))
    let batch = options.int("--batch", 100)
    let version = table.prepare("SELECT coalesce(max(version), 0) + 1 FROM events WHERE stream = ?")
    let insert = table.prepare("INSERT INTO events (stream, version, id, type, recorded_at, event) VALUES (?, ?, ?, ?, ?, ?)")
    let time = seconds {
        for start in stride(from: 0, to: decoded.submissions.count, by: batch) {
            table.execute("BEGIN IMMEDIATE")
            for item in decoded.submissions[start..<min(start + batch, decoded.submissions.count)] {
                let event = item.submission.event
                version.bind(1, event.stream)
                table.step(version, expecting: SQLITE_ROW)
                let next = sqlite3_column_int64(version, 0)
                sqlite3_reset(version)
                insert.bind(1, event.stream)
                insert.bind(2, next)
                insert.bind(3, event.id.bytes)
                insert.bind(4, Int64(event.type.code))
                insert.bind(5, Int64(Date().timeIntervalSince1970 * 1_000_000))
                insert.bind(6, WireEncoder.encode(event))
                table.step(insert)
                sqlite3_reset(insert)
            }
            table.execute("COMMIT")
        }
    }
    sqlite3_finalize(version)
    sqlite3_finalize(insert)
    emit(["events": decoded.submissions.count, "seconds": time])
}

/// The row's event, decoded from its JSON by the ledger's strict wire decoder, with its
/// recorded columns: what an application reading its events table has.
private func recordedEvent(_ row: OpaquePointer) -> RecordedEvent {
    // columns: seq, version, recorded_at, event
    let json = UnsafeRawBufferPointer(start: sqlite3_column_text(row, 3), count: Int(sqlite3_column_bytes(row, 3)))
    guard case .success(let submission) = WireDecoder.decode(line: json, number: Int(sqlite3_column_int64(row, 0))) else { fatalError("a row does not decode") }
    return RecordedEvent(event: submission.event, seq: UInt64(sqlite3_column_int64(row, 0)), version: UInt64(sqlite3_column_int64(row, 1)), recordedAt: sqlite3_column_int64(row, 2))
}

/// `sqlite-replay --db D`: every row in `seq` order, its JSON decoded, into the same
/// projections (a decoded event is folded through its canonical bytes' view, as a test's is:
/// `RecordedEvent.withView`).
func sqliteReplay(_ options: Options) throws {
    let table = SQLiteTable(options.required("--db"))
    var projections = AllProjections()
    var events = 0
    var summary: [String: Any] = [:]
    let time = seconds {
        let select = table.prepare("SELECT seq, version, recorded_at, event FROM events ORDER BY seq")
        while sqlite3_step(select) == SQLITE_ROW {
            recordedEvent(select).withView { projections.apply($0) }
            events += 1
        }
        sqlite3_finalize(select)
        summary = projections.summary()
    }
    summary["events"] = events
    summary["seconds"] = time
    emit(summary)
}

/// `sqlite-history --db D --samples N`: one employee's events through the `(stream, version)`
/// index, into the history projection; compared with `ledger-history`.
func sqliteHistory(_ options: Options) throws {
    let table = SQLiteTable(options.required("--db"))
    let employees = historySample(options)
    let select = table.prepare("SELECT seq, version, recorded_at, event FROM events WHERE stream = ? ORDER BY version")
    var latencies: [Double] = []
    for nip in employees {
        latencies.append(seconds {
            var history = History(employee: nip)
            select.bind(1, Subject.employee(nip).stream)
            while sqlite3_step(select) == SQLITE_ROW { recordedEvent(select).withView { history.apply($0) } }
            sqlite3_reset(select)
            precondition(!history.entries.isEmpty)
        } * 1000)
    }
    let (p50, p99) = percentiles(latencies)
    emit(["samples": latencies.count, "p50_ms": p50, "p99_ms": p99])
}
