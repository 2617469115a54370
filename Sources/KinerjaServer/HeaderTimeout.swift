import NIOCore
import NIOHTTPTypes

/// Closes a connection whose next request head has not arrived whole within `timeout`: from
/// when the connection opens, and again from the end of each response while no other request
/// is in progress. A client that sends its headers a byte at a time keeps the idle timeout
/// (a read timeout) at bay, not this one; it cannot hold a connection open for long.
///
/// It sits after the HTTP decoder (Hummingbird's `additionalChannelHandlers`), which passes a
/// request's head on only once it is complete.
final class HeaderTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// When the awaited request head must have arrived by; nil while a request is in progress.
    private var deadline: NIODeadline?
    /// The one timer of the connection. It is not moved for each request (scheduling and
    /// cancelling a task on the event loop per request was 1-2 % of the server's CPU under
    /// load): when it fires before the current deadline, it is scheduled again for it.
    private var scheduled: Scheduled<Void>?
    /// Requests whose head arrived and whose response has not ended.
    private var inProgress = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            inProgress += 1
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inProgress = max(0, inProgress - 1)
            if inProgress == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    /// The next head is due `timeout` from now.
    private func arm(_ context: ChannelHandlerContext) {
        let due = NIODeadline.now() + timeout
        deadline = due
        if scheduled == nil { schedule(context, at: due) }
    }

    private func schedule(_ context: ChannelHandlerContext, at due: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        scheduled = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = bound.value
            handler.fire(context)
        }
    }

    /// The timer: closes the connection if its deadline has passed, else waits for it.
    private func fire(_ context: ChannelHandlerContext) {
        scheduled = nil
        guard let deadline else { return }
        if deadline <= NIODeadline.now() {
            context.close(promise: nil)
        } else {
            schedule(context, at: deadline)
        }
    }

    private func stop() {
        deadline = nil
        scheduled?.cancel()
        scheduled = nil
    }
}
