import Foundation
import Hummingbird
import HummingbirdAuth
import KinerjaDomain
import KinerjaLedger
import KinerjaReports
import LedgerStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TransparencyLog

/// Where `kinerja serve` listens and what it serves.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The year an appraiser's reach is judged in (placements of this and the previous year).
    public var year: Int
    /// Seconds a connection may stay idle (a slow or silent client) before it is closed.
    public var idleTimeout: Int64
    /// Seconds a client has to send a request's whole head (headers), from the connection's
    /// opening or the previous response's end: one who trickles headers is closed after it.
    public var headerTimeout: Int64
    /// Concurrent appends share one durable transaction; false: one transaction each (for comparison).
    public var groupCommit: Bool
    /// The log's signing key: without a published checkpoint (`kinerja checkpoint --publish`),
    /// `GET /v1/checkpoint` and the dossier proofs sign one of the head with it; with neither they answer 404.
    public var signingKey: NoteSigningKey?
    /// A witness's state (`kinerja witness init`): `POST /v1/witness/add-checkpoint` answers only with it.
    public var witnessState: String?
    /// The witnesses of this log (`--witness URL=VKEY`): with `signingKey`, the server keeps its
    /// published checkpoint witnessed (``CheckpointWitnessing``).
    public var witnesses: [WitnessEndpoint]
    /// How often the server looks whether the tree has grown, to have a new checkpoint witnessed.
    public var witnessInterval: Duration
    /// How long a witness has to answer one request.
    public var witnessTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8080, year: Int = Calendar(identifier: .gregorian).component(.year, from: Date()), idleTimeout: Int64 = 30,
        headerTimeout: Int64 = 10, groupCommit: Bool = true, signingKey: NoteSigningKey? = nil, witnessState: String? = nil,
        witnesses: [WitnessEndpoint] = [], witnessInterval: Duration = .seconds(2), witnessTimeout: Duration = .seconds(5)
    ) {
        self.witnesses = witnesses
        self.witnessInterval = witnessInterval
        self.witnessTimeout = witnessTimeout
        self.signingKey = signingKey
        self.witnessState = witnessState
        self.groupCommit = groupCommit
        self.host = host
        self.port = port
        self.year = year
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }
}

/// The request context: Hummingbird's, with the identity the bearer token stands for.
public typealias ServerContext = BasicAuthRequestContext<Identity>

/// Limits of `POST /v1/events` (PRODUCT §9).
public enum Limits {
    public static let bodyBytes = 16 << 20
    public static let events = 10_000
}

/// Builds the HTTP API over an open ledger: what `kinerja serve` runs and what tests drive.
///
/// ```swift
/// let app = buildApplication(ledger: ledger, access: AccessList(ledgerPath: ledger.path), ServerConfiguration(port: 8080))
/// try await app.runService()
/// ```
/// `onServerRunning` gets the port listened on (the one the system chose for port 0). `writer`
/// is the appends' writer (one is made from `configuration` if none is given): whoever passes it
/// can read its ``GroupCommitter/statistics``.
public func buildApplication(
    ledger: Ledger, access: AccessList, _ configuration: ServerConfiguration, writer: GroupCommitter? = nil,
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let logger = DeferredMetadataLogHandler.logger(label: "kinerja")
    logPremap(ledger.premap, logger)
    let api = API(ledger: ledger, access: access, policy: AccessPolicy(year: configuration.year), signingKey: configuration.signingKey,
        witness: configuration.witnessState.map(WitnessDirectory.init(path:)), writer: writer ?? GroupCommitter(ledger: ledger, groups: configuration.groupCommit))
    return Application(
        router: api.router(),
        server: configuration.httpServer,
        configuration: configuration.application,
        services: witnessing(ledger: ledger, configuration),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// Says what pre-mapping the ledger's file did (``StoreOptions/premapsFile``, which `kinerja
/// serve` asks for): a line at startup, or a debug line when it could not (the reads then fault
/// the file's pages in as they go). Nothing for a ledger opened without it.
func logPremap(_ premap: Premap?, _ logger: Logger) {
    guard let premap else { return }
    if let failure = premap.failure {
        logger.debug("the ledger's file is not pre-mapped (\(failure)): its pages are mapped as reads first touch them")
    } else {
        // The figures on a line of their own: the startup line reads the same on every run.
        logger.info("pre-mapped the ledger's file and read its upper Merkle nodes into memory: reads take no page faults")
        let megabytes = String(format: "%.0f", Double(premap.bytes) / 1_048_576)
        let seconds = String(format: "%.2f", premap.seconds)
        let nodeSeconds = String(format: "%.2f", premap.treeNodeSeconds)
        logger.debug("pre-mapped \(megabytes) MiB in \(seconds) s; \(premap.treeNodes) Merkle nodes read in \(nodeSeconds) s")
    }
}

/// The service that keeps the checkpoint witnessed, when the server has witnesses and a key.
func witnessing(ledger: Ledger, _ configuration: ServerConfiguration) -> [any Service] {
    guard let key = configuration.signingKey, !configuration.witnesses.isEmpty else { return [] }
    return [
        CheckpointWitnessing(
            ledger: ledger, key: key, witnesses: configuration.witnesses, interval: configuration.witnessInterval, timeout: configuration.witnessTimeout)
    ]
}

/// The endpoints; each asks ``AccessPolicy`` before it reads or writes.
package struct API: Sendable {
    let ledger: Ledger
    let access: AccessList
    let policy: AccessPolicy
    let signingKey: NoteSigningKey?
    let witness: WitnessDirectory?
    let writer: GroupCommitter

    func router() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("healthz") { _, _ in "ok\n" }
        // C2SP tlog-witness: no authentication beyond the log's signature on the checkpoint,
        // which the witness checks against the one key it trusts for that origin. A bearer
        // token, if any, is not looked at.
        router.post("v1/witness/add-checkpoint") { request, context in try await addCheckpoint(request, context) }
        let authenticated = router.group()
            .add(middleware: BearerTokenAuthenticator(access: access))
            .add(middleware: RequireIdentity())
        authenticated.get("openapi.yaml") { _, _ in
            Response.text(String(decoding: PackageResources.openapi_yaml, as: UTF8.self), contentType: "application/yaml")
        }
        authenticated.post("v1/events") { request, context in try await append(request, context) }
        authenticated.get("v1/events") { request, context in try await log(request, context) }
        authenticated.get("v1/employees/:nip/history") { request, context in try await history(request, context) }
        authenticated.get("v1/employees/:nip/dossier") { request, context in try await dossier(request, context) }
        authenticated.get("v1/reports/:report") { request, context in try await report(request, context) }
        authenticated.get("v1/employees/:nip/proof") { request, context in try await dossierProof(request, context) }
        authenticated.get("v1/checkpoint") { request, context in try await checkpoint(request, context) }
        addUIRoutes(to: authenticated)
        return router
    }

    /// LMDB's lock and fsync block: run them on NIO's thread pool, never on Swift's cooperative
    /// pool. The reads run there; the appends' placement checks on a pool of their own (`pool`),
    /// so that an append never waits behind a burst of reads.
    func blocking<T: Sendable>(on pool: NIOThreadPool = .singleton, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// The appends' placement checks (reads of a few records each): two threads, started once.
    static let appendChecks: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    func placements(_ nip: NIP) throws -> [Placement] {
        var placements: [Placement] = []
        try ledger.replay(employee: nip) { recorded in
            if case .employeePlaced(let placement) = recorded.event.data { placements.append(placement) }
        }
        return placements
    }

    // MARK: POST /v1/events

    func append(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Limits.bodyBytes)
        } catch is NIOTooManyBytesError {
            throw ServerError(.contentTooLarge, "too_large", "the body is larger than \(Limits.bodyBytes) bytes")
        }
        let isOneObject = request.headers[.contentType]?.hasPrefix("application/json") == true
        let decoded = EventBody.decode(body, oneObject: isOneObject, actor: identity.name)
        guard decoded.count + decoded.invalid.count <= Limits.events else {
            throw ServerError(.contentTooLarge, "too_large", "more than \(Limits.events) events in one request")
        }
        guard decoded.count + decoded.invalid.count > 0 else {
            throw ServerError(.unprocessableContent, "malformed", "the body holds no event")
        }
        // The actor rule and the role table: a line the decoder refuses for its actor (an activity
        // about another employee, an actor that is no identity) is not the identity's to record: 403.
        if let actorRule = decoded.invalid.filter({ $0.field == "actor" }).min(by: { $0.line < $1.line }) {
            throw ServerError(.forbidden, "forbidden", "line \(actorRule.line): \(identity.role.rawValue) \(identity.name) may not record this: \(actorRule.rule): nothing was stored")
        }
        if let other = decoded.submissions.first(where: { $0.submission.event.actor.text != identity.name }) {
            throw ServerError(
                .forbidden, "forbidden",
                "line \(other.line): the actor is \(identity.name), who authenticated, not \(other.submission.event.actor): nothing was stored")
        }
        // Most roles' rules need no placements (a service, an auditor, an HR event about a
        // unit): those are decided here; the first that needs the ledger's placements sends the
        // check to the thread pool, where LMDB is read.
        do {
            try authorizeAppend(identity, decoded) { _ in throw PlacementsNeeded() }
        } catch is PlacementsNeeded {
            try await blocking(on: Self.appendChecks) { [self] in try authorizeAppend(identity, decoded, placements: placements) }
        }
        let report = try await writer.append(decoded)
        if !report.rejected.isEmpty {
            let conflict = report.rejected.allSatisfy { $0.code == .versionConflict }
            throw ServerError(
                conflict ? .conflict : .unprocessableContent, conflict ? "conflict" : "rejected",
                "\(report.rejected.count) of the lines are refused: nothing was stored", rejected: report.rejected)
        }
        // Answered from the commit's own report (each stored event's id and seq): nothing is
        // read back. Written with the ledger's JSONWriter (keys sorted), not JSONSerialization.
        var json = JSONWriter()
        json.raw("{")
        json.key("appended", first: true)
        json.raw(String(report.appended))
        json.key("duplicates")
        json.raw(String(report.duplicates))
        json.key("events")
        json.raw("[")
        for (index, event) in report.events.enumerated() {
            json.raw(index == 0 ? "{" : ",{")
            json.key("id", first: true)
            json.string(event.id.description)
            json.key("seq")
            json.raw(String(event.seq))
            json.raw("}")
        }
        json.raw("]")
        json.key("head")
        json.raw("{")
        json.key("hash", first: true)
        json.string(report.head.hash.hex)
        json.key("seq")
        json.raw(String(report.head.seq))
        json.raw("}}")
        return Response.json(json.bytes)
    }

    /// Refuses the whole request (403) at its first event the role may not append.
    func authorizeAppend(_ identity: Identity, _ decoded: JSONLines.Decoded, placements: AccessPolicy.Placements) throws {
        for item in decoded.submissions where try !policy.mayAppend(identity, item.submission.event, placements: placements) {
            throw ServerError(
                .forbidden, "forbidden",
                "line \(item.line): \(identity.role.rawValue) \(identity.name) may not record this \(item.submission.event.type.rawValue): nothing was stored")
        }
    }

    // MARK: GET /v1/events

    /// Recorded events as JSON Lines, as `log --format jsonl` prints them.
    func log(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let parameters = request.uri.queryParameters
        let query = try ReadQuery(parameters, log: true)
        let from = try parameters.number("from") ?? 1
        let through = try parameters.number("to") ?? .max
        return try await blocking { [self] in
            try authorizeRead(identity, employee: query.request.employee, unit: query.request.unit)
            var output = ByteBuffer()
            try refusingUnsupported {
                try Reports.log(ledger, query.request, from: from, through: through) { event, recorded, _ in
                    output.writeString(WireEncoder.encode(event, recorded: recorded))
                    output.writeString("\n")
                }
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody(byteBuffer: output))
        }
    }

    // MARK: GET /v1/employees/{nip}/history

    /// As `history NIP --format json`.
    func history(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let nip = try Self.nip(context.parameters.require("nip"))
        let query = try ReadQuery(request.uri.queryParameters)
        return try await blocking { [self] in
            try authorizeRead(identity, employee: nip)
            return try refusingUnsupported { query.render(try Reports.history(ledger, employee: nip, query.request), Reports.render, Reports.html) }
        }
    }

    // MARK: GET /v1/employees/{nip}/dossier

    /// As `report dossier NIP --format json|html` (PRODUCT §10): `year`, and `at-seq` or
    /// `as-of`; any other filter is refused (400), as the CLI refuses it. Read-checked like the
    /// employee's history, before anything is read, so a denial does not tell whether they exist.
    func dossier(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let nip = try Self.nip(context.parameters.require("nip"))
        let query = try ReadQuery(request.uri.queryParameters)
        return try await blocking { [self] in
            try authorizeRead(identity, employee: nip)
            guard query.format != .csv else { throw ServerError(.badRequest, "bad_request", "the dossier is written as json or html, not csv") }
            return try refusingUnsupported {
                let report = try Reports.dossier(ledger, employee: nip, query.request)
                return query.render(report, { Reports.render($0, $1) }, Reports.html)
            }
        }
    }

    // MARK: GET /v1/checkpoint

    /// The latest checkpoint (C2SP tlog-checkpoint) with every witness's cosignature held for it:
    /// the one published (`kinerja checkpoint --publish`), else, with `--key`, one of the head signed now.
    func checkpoint(_ request: Request, _ context: ServerContext) async throws -> Response {
        _ = try context.requireIdentity()
        for (name, _) in request.uri.queryParameters { throw ServerError(.badRequest, "bad_request", "unknown query parameter \(name)") }
        return try await blocking { [self] in
            Response.text(try latestCheckpoint().formatted, contentType: "text/plain; charset=utf-8")
        }
    }

    /// The checkpoint the server serves and proves against: the published one with its
    /// cosignatures when there is one, else one of the head signed now with `--key`, else 404.
    func latestCheckpoint() throws -> SignedNote {
        try custody {
            if let published = try ledger.publishedCheckpoint() { return published }
            guard let signingKey else {
                throw ServerError(.notFound, "not_found", "no checkpoint is published (kinerja checkpoint --key FILE --publish) and this server has no --key to sign one")
            }
            return try ledger.checkpoint(key: signingKey)
        }
    }

    static func nip(_ text: String) throws -> NIP {
        guard let nip = NIP(text) else { throw ServerError(.badRequest, "bad_request", "\(text) is not an NIP") }
        return nip
    }
}

/// Thrown by the placements of a policy check run without the ledger: the check needs them.
struct PlacementsNeeded: Error {}

extension Parameters {
    /// A query parameter that must be a non-negative whole number when present.
    func number(_ name: String) throws -> UInt64? {
        guard let text = get(name) else { return nil }
        guard let value = UInt64(text) else { throw ServerError(.badRequest, "bad_request", "\(name) must be a whole number, not \(text)") }
        return value
    }
}

extension Response {
    /// A JSON document, ending with a newline (as the CLI's output does).
    static func json(_ bytes: some Sequence<UInt8>) -> Response {
        var buffer = ByteBuffer(bytes: bytes)
        buffer.writeString("\n")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }
}

/// The bearer token's identity, from the access list (read again whenever it changes: a
/// revocation applies to the next request).
struct BearerTokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = ServerContext
    let access: AccessList

    func authenticate(request: Request, context: ServerContext) async throws -> Identity? {
        guard let bearer = request.headers.bearer else { return nil }
        return try access.identity(forToken: bearer.token)
    }
}

/// 401 in the API's error format for a request without a valid token.
struct RequireIdentity: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        guard context.identity != nil else {
            throw ServerError(.unauthorized, "unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)")
        }
        return try await next(request, context)
    }
}
