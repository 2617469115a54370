import Foundation
import CanonicalBytes
import Hummingbird
import KinerjaDomain
import LedgerStore
import NIOCore

/// An error as the API answers it: `{"error": {"code", "message", "rejected": [{"line", "field", "rule"}]}}`.
public struct ServerError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The refused lines, with what the ledger's rules say about each.
    public var rejected: [WireError]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, rejected: [WireError] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.rejected = rejected
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: Any] = ["code": code, "message": message]
        if !rejected.isEmpty {
            error["rejected"] = rejected.map { ["line": $0.line, "field": $0.field, "code": $0.code.description, "rule": $0.rule] as [String: Any] }
        }
        var response = Response.json(try JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys]))
        response.status = status
        return response
    }
}

/// Every other error (an unknown route, a failure of the ledger) in the same JSON shape: a
/// client sees one error format, and an internal failure's details stay in the server's log.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The API's paths (`*` one segment) and their methods: the routes of ``API/router()``.
    static var paths: [([Substring], String)] {
        [
            ("healthz", "GET"), ("openapi.yaml", "GET"), ("v1/events", "GET, POST"), ("v1/employees/*/history", "GET"),
            ("v1/employees/*/dossier", "GET"), ("v1/employees/*/proof", "GET"), ("v1/reports/*", "GET"), ("v1/checkpoint", "GET"), ("v1/witness/add-checkpoint", "POST"),
            // The pages for people (UIRoutes.swift).
            ("ui", "GET"), ("ui/employees/*", "GET"), ("ui/employees/*/history", "GET"), ("ui/units", "GET"), ("ui/scores", "GET"),
            ("ui/accountability", "GET"),
        ].map { ($0.0.split(separator: "/"), $0.1) }
    }

    /// The methods of `path` when the API has it, else nil.
    static func allowed(_ path: String) -> String? {
        let segments = path.split(separator: "/")
        return paths.first { pattern, _ in
            pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }?.1
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            throw error
        } catch let error as HTTPError
            where error.status == .notFound
            && Self.allowed(request.uri.path).map({ !$0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == request.method.rawValue } }) == true
        {
            // A path the API has, with a method it does not: 405 and the methods it has. (With a
            // method it has, a 404 is a 404: the path's route is not there, or found nothing.)
            let allowed = Self.allowed(request.uri.path)!
            var response = try ServerError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed here: \(allowed)")
                .response(from: request, context: context)
            response.headers[.allow] = allowed
            return response
        } catch let error as HTTPError {
            throw ServerError(error.status, "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw ServerError(error.status, "http_\(error.status.code)", error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed: \(error)")
            throw ServerError.damagedLedger(error)
                ?? ServerError(.internalServerError, "internal", "the server failed to answer; its log says why")
        }
    }
}


extension ServerError {
    /// A read that met damaged storage — a record the indexes name missing, or stored bytes that
    /// do not decode — on any route: 500 `ledger_damaged`, saying so, rather than the generic
    /// `internal` (the request was not wrong; `kinerja verify` names the damage). Nil for
    /// any other error.
    package static func damagedLedger(_ error: any Error) -> ServerError? {
        switch error {
        case let error as StoreError where error.code == .damaged:
            ServerError(.internalServerError, "ledger_damaged", error.message)
        case let error as StoreError where error.code == .corrupt:
            ServerError(.internalServerError, "ledger_damaged", "the ledger's storage is damaged: \(error.message); kinerja verify names the damage")
        case let error as ByteReader.Malformed:
            ServerError(.internalServerError, "ledger_damaged", "the ledger's storage is damaged: a \(error); kinerja verify names the damage")
        default:
            nil
        }
    }
}
