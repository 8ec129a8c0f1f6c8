import FoundationEssentials
import Glibc
import HuskCore
import NIOConcurrencyHelpers

/// Per-blob progress lines on a terminal (bytes, rate, ETA), redrawn in
/// place at most ten times a second. Silent when stderr is not a TTY or the
/// user asked for quiet, so batch logs stay clean.
public final class TransferProgress: Sendable {
    struct Item {
        var label: String
        var total: Int64
        var done: Int64 = 0
        var started = Date()
        var note: String?
    }

    struct State {
        var order: [String] = []
        var items: [String: Item] = [:]
        var drawnLines = 0
        var lastDraw = Date.distantPast
    }

    private let state = NIOLockedValueBox(State())
    public let enabled: Bool

    public init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    public func begin(_ id: String, label: String, total: Int64) {
        guard enabled else { return }
        state.withLockedValue { state in
            if state.items[id] == nil { state.order.append(id) }
            state.items[id] = Item(label: label, total: total)
            draw(&state, force: true)
        }
    }

    public func advance(_ id: String, by bytes: Int) {
        guard enabled else { return }
        state.withLockedValue { state in
            state.items[id]?.done += Int64(bytes)
            draw(&state, force: false)
        }
    }

    /// Restarts the count (a resumed or restarted download).
    public func reset(_ id: String, to bytes: Int64) {
        guard enabled else { return }
        state.withLockedValue { state in
            state.items[id]?.done = bytes
            state.items[id]?.started = Date()
        }
    }

    public func finish(_ id: String, note: String) {
        guard enabled else { return }
        state.withLockedValue { state in
            state.items[id]?.note = note
            draw(&state, force: true)
        }
    }

    private func draw(_ state: inout State, force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
        state.lastDraw = now
        var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
        for id in state.order {
            guard let item = state.items[id] else { continue }
            text += "\r\u{1B}[2K" + Self.line(item, now: now) + "\n"
        }
        state.drawnLines = state.order.count
        StandardStream.writeError(text)
    }

    static func line(_ item: Item, now: Date) -> String {
        let sizes = "\(bytes(item.done)) / \(bytes(item.total))"
        if let note = item.note { return "\(item.label)  \(note)  \(bytes(item.total))" }
        let seconds = max(now.timeIntervalSince(item.started), 0.001)
        let rate = Double(item.done) / seconds
        var eta = ""
        if rate > 0, item.total > item.done {
            eta = "  ETA \(Int((Double(item.total - item.done) / rate).rounded(.up)))s"
        }
        return "\(item.label)  \(sizes)  \(bytes(Int64(rate)))/s\(eta)"
    }

    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : "\(NumberText.oneDecimal(value)) \(units[unit])"
    }
}
