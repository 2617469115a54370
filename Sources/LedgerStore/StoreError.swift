/// An error of the store: a code that `catch` can match, a message for people, and the cause.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What went wrong. A struct over a private enum, so codes can be added without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case notALedger, alreadyExists, newerFormat, cannotOpen, storage, corrupt, damaged
            case duplicateID, duplicateKey, doesNotContinue
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The path holds no ledger (or something that is not one).
        public static let notALedger = Code(.notALedger)
        /// `create` found a ledger already there.
        public static let alreadyExists = Code(.alreadyExists)
        /// The ledger was written by a newer version of the record format.
        public static let newerFormat = Code(.newerFormat)
        /// The environment could not be opened (permissions, a full disk...).
        public static let cannotOpen = Code(.cannotOpen)
        /// LMDB failed during a transaction.
        public static let storage = Code(.storage)
        /// Stored bytes do not decode.
        public static let corrupt = Code(.corrupt)
        /// The LMDB file itself is damaged (truncated, overwritten, not LMDB): its message says
        /// "the ledger's storage is damaged".
        public static let damaged = Code(.damaged)
        /// The id is already recorded.
        public static let duplicateID = Code(.duplicateID)
        /// A unique key is already claimed.
        public static let duplicateKey = Code(.duplicateKey)
        /// A recorded record does not continue the chain at the head.
        public static let doesNotContinue = Code(.doesNotContinue)

        /// The LMDB file itself is damaged: say so, and what to do.
    static func damaged(_ detail: String, cause: (any Error & Sendable)? = nil) -> StoreError {
        StoreError(.damaged, "the ledger's storage is damaged: \(detail); restore it from a copy or an export", cause: cause)
    }

    public var description: String { "\(base)" }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The LMDB file itself is damaged: say so, and what to do.
    static func damaged(_ detail: String, cause: (any Error & Sendable)? = nil) -> StoreError {
        StoreError(.damaged, "the ledger's storage is damaged: \(detail); restore it from a copy or an export", cause: cause)
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
