import Dispatch
import Synchronization

/// A value computed on another thread while the caller goes on with its own work (the next batch
/// decoded, the next commit prepared); ``wait()`` returns it once it is ready.
final class Ahead<Value: Sendable>: Sendable {
    private let group = DispatchGroup()
    private let result = Mutex<Value?>(nil)

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async(group: group) { [self] in
            let value = work()
            result.withLock { $0 = value }
        }
    }

    /// The value, waiting for it if it is not ready yet (as often as asked).
    func wait() -> Value {
        group.wait()
        return result.withLock { $0! }
    }
}
