import CanonicalBytes
import Foundation
import Hummingbird
import NIOCore
import KinerjaDomain
import KinerjaLedger
import LedgerStore
import TransparencyLog

// PRODUCT §8 over HTTP: an employee's dossier proof against the latest checkpoint, and the
// witness's add-checkpoint endpoint (C2SP tlog-witness), both the library calls the CLI makes.

extension API {
    /// `GET /v1/employees/{nip}/proof`: as `kinerja prove --employee NIP` against the checkpoint
    /// `GET /v1/checkpoint` serves (the published one, with the witnesses' cosignatures, when
    /// there is one); read-checked like the employee's history.
    func dossierProof(_ request: Request, _ context: ServerContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let nip = try Self.nip(context.parameters.require("nip"))
        for (name, _) in request.uri.queryParameters { throw ServerError(.badRequest, "bad_request", "unknown query parameter \(name)") }
        return try await blocking { [self] in
            try authorizeRead(identity, employee: nip)
            let checkpoint = try latestCheckpoint()
            let proof = try custody { try ledger.dossierProofBytes(employee: nip, checkpoint: checkpoint) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: proof)))
        }
    }

    /// A ledger that cannot sign a checkpoint (it has no origin yet) is the operator's to fix: 404.
    /// The custody errors' answers (a ledger without an origin or checkpoint: 404; a published
    /// checkpoint that does not read: 500). A damaged ledger under a proof is answered by the
    /// error middleware, as on every route (``ServerError/damagedLedger(_:)``).
    func custody<T>(_ body: () throws -> T) throws -> T {
        try Self.custody(body)
    }

    package static func custody<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CustodyError {
            throw ServerError(.notFound, "not_found", error.description)
        } catch let error as PublishedCheckpointError {
            throw ServerError(.internalServerError, "corrupt_checkpoint", error.description)
        }
    }

    /// `POST /v1/witness/add-checkpoint` (C2SP tlog-witness), when started with `--witness-state`:
    /// 200 and the cosignature line; 409 and the size held (`text/x.tlog.size`); 400, 403, 404,
    /// 422 as the specification says. No bearer token: as C2SP says, the log's signature on the
    /// checkpoint, checked against the log key the witness was set up with, is the authentication —
    /// anyone may relay a checkpoint the log signed, and nothing else is cosigned.
    func addCheckpoint(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let witness else { throw ServerError(.notFound, "not_found", "this server is no witness: start it with --witness-state DIR") }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 64 << 10)
        } catch is NIOTooManyBytesError {
            throw ServerError(.contentTooLarge, "too_large", "an add-checkpoint request is at most 64 KiB")
        }
        let parsed: AddCheckpointRequest
        do {
            parsed = try AddCheckpointRequest(parsing: String(decoding: body.readableBytesView, as: UTF8.self))
        } catch let error as TransparencyLogError {
            throw ServerError(.badRequest, "bad_request", error.message)
        }
        let decision = try await blocking { try witness.add(parsed) }
        switch decision {
        case .cosigned(_, let cosignature):
            return Response.text(cosignature.line, contentType: "text/plain; charset=utf-8")
        case .conflict(let held):
            var response = Response.text("\(held)\n", contentType: "text/x.tlog.size")
            response.status = .conflict
            return response
        case .unknownLog(let why): throw ServerError(.notFound, "unknown_log", why)
        case .forbidden(let why): throw ServerError(.forbidden, "forbidden", why)
        case .badRequest(let why): throw ServerError(.badRequest, "bad_request", why)
        case .unprocessable(let why): throw ServerError(.unprocessableContent, "inconsistent", why)
        }
    }
}
