import FleetCore
import Foundation

/// A terminal's size in character cells.
public struct TerminalSize: Sendable, Equatable {
    public var columns: Int
    public var rows: Int

    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }

    /// stderr's size, or nil when stderr is not a terminal (a file, a pipe, CI).
    static func standardError() -> TerminalSize? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else {
            return TerminalSize(columns: 80, rows: 24)
        }
        return TerminalSize(columns: Int(size.ws_col), rows: Int(size.ws_row))
    }
}

/// The rollout on a terminal: one line per host (phase, batch, elapsed), redrawn in place, and a progress bar of
/// hosts done. Stages, notes and failures are written above it and stay in the scrollback.
final class LiveView: @unchecked Sendable {
    private let lock = NSLock()
    private let write: @Sendable (String) -> Void
    private let size: @Sendable () -> TerminalSize
    private var board: LiveBoard
    private var pending = ""
    private var drawn = 0
    private var timer: DispatchSourceTimer?
    private var finished = false

    init(hosts: [String], style: LiveBoard.Style, size: @escaping @Sendable () -> TerminalSize,
         write: @escaping @Sendable (String) -> Void) {
        board = LiveBoard(hosts: hosts, style: style, started: ContinuousClock.now)
        self.size = size
        self.write = write
    }

    /// Redraws twice a second so elapsed times move while hosts work.
    func start() {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500))
        timer.setEventHandler { [weak self] in self?.redraw() }
        lock.lock()
        self.timer = timer
        lock.unlock()
        timer.resume()
        redraw()
    }

    func handle(_ event: ExecutionEvent) {
        lock.lock()
        let now = ContinuousClock.now
        switch event {
        case .stage(let title):
            board.stage(title, now: now)
            pending += board.styled("-- \(title)", .dim) + "\n"
        case .note(let text):
            pending += "note: \(text)\n"
        case .warning(let text):
            pending += board.styled("warning: \(text)", .busy) + "\n"
        case .phase(let host, let phase, let batch):
            board.phase(host, phase, batch: batch, now: now)
        case .output(let host, let phase, _, let line):
            // Shown by the next redraw (the timer's, within half a second): a chatty hook does not redraw per line.
            pending += board.styled("\(host) \(phase) |", .dim) + " \(line)\n"
            lock.unlock()
            return
        case .hostDone(let report):
            board.done(report)
            if report.outcome == .failed || report.outcome == .unreachable {
                pending += board.doneLine(report, width: Int.max) + "\n"
            }
        }
        lock.unlock()
        redraw()
    }

    /// A message for the user (a warning, the signal trap's notice): printed above the live lines.
    func log(_ text: String) {
        let line = text.hasSuffix("\n") ? text : text + "\n"
        lock.lock()
        if finished {
            lock.unlock()
            write(line)
            return
        }
        pending += line
        lock.unlock()
        redraw()
    }

    /// Stops redrawing and leaves one summary line in place of the host lines.
    func finish() {
        lock.lock()
        if finished { lock.unlock(); return }
        finished = true
        timer?.cancel()
        timer = nil
        var text = clearDrawn()
        text += pending + board.progressLine(now: ContinuousClock.now, width: size().columns - 1, final: true) + "\n"
        pending = ""
        drawn = 0
        lock.unlock()
        write(text)
    }

    private func redraw() {
        lock.lock()
        if finished { lock.unlock(); return }
        let terminal = size()
        var text = clearDrawn()
        let lines = board.frame(now: ContinuousClock.now, columns: terminal.columns, rows: terminal.rows)
        text += pending + lines.joined(separator: "\n") + "\n"
        pending = ""
        drawn = lines.count
        lock.unlock()
        write(text)
    }

    /// Moves the cursor to the first line of the last frame and clears from there down.
    private func clearDrawn() -> String {
        drawn > 0 ? "\u{1B}[\(drawn)F\u{1B}[J" : ""
    }
}

extension Rollouts {
    /// How a rollout shows progress: `live` (redrawn lines; a terminal), or `plain` (timestamped lines).
    static func useLiveView(_ context: CommandContext, json: Bool, progress: ProgressMode?) -> Bool {
        guard !json else { return false }
        switch progress ?? .auto {
        case .plain: return false
        case .live: return true
        case .auto: return context.terminal() != nil && context.environment["TERM"] != "dumb"
        }
    }

    static func liveView(_ context: CommandContext, hosts: [String]) -> LiveView {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { context.environment[$0] }.first { !$0.isEmpty } ?? ""
        let unicode = locale.uppercased().contains("UTF-8") || locale.uppercased().contains("UTF8")
        let terminal = context.terminal
        let color = terminal() != nil && (context.environment["NO_COLOR"] ?? "").isEmpty
        return LiveView(hosts: hosts, style: LiveBoard.Style(color: color, unicode: unicode),
                        size: { terminal() ?? TerminalSize(columns: 80, rows: 24) }, write: context.err)
    }
}
