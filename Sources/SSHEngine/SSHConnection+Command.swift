import CLibSSH2
import Foundation

extension SSHConnection {
    /// Runs a command. stdout and stderr are kept apart and read together in one loop, so megabytes on either
    /// never stall; complete lines go to `onLine` as they arrive. `stdin` bytes are written, then EOF.
    public func run(_ command: String, timeout: Duration? = nil, stdin: [UInt8] = [],
                    onLine: LineHandler? = nil) async throws -> CommandResult {
        try await cancellable { try runBlocking(command, timeout: timeout, stdin: stdin, onLine: onLine) }
    }

    private func runBlocking(_ command: String, timeout: Duration?, stdin: [UInt8],
                             onLine: LineHandler?) throws -> CommandResult {
        guard let session else { throw SSHError(.disconnected, host: target.name, "the connection is closed") }
        let started = ContinuousClock.now
        let deadline = timeout.map { Deadline.after($0) } ?? .never
        let channel = try openChannel(deadline: deadline)
        var freed = false
        defer { if !freed { libssh2_channel_free(channel) } }

        let rc = try retry("starting the command", until: deadline) {
            libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
        }
        if rc != 0 { throw failure(.channel, "cannot start the command") }

        var out = StreamBuffer(stream: .stdout, onLine: onLine)
        var err = StreamBuffer(stream: .stderr, onLine: onLine)
        var written = 0
        var eofSent = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        // libssh2 keeps one half-sent packet per session: after a call answers EAGAIN with the outbound direction
        // blocked, only that call may run until it completes (another packet first is LIBSSH2_ERROR_BAD_USE).
        // 0: the input, 1: EOF, 2: stdout, 3: stderr (a read may be sending a window adjustment).
        var pending: Int?
        func mark(_ call: Int, _ rc: Int) {
            if rc == Int(LibSSH2.eagain) && libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
                pending = call
            } else if pending == call {
                pending = nil
            }
        }
        func may(_ call: Int) -> Bool { pending == nil || pending == call }
        while true {
            var progressed = false
            if written < stdin.count && may(0) {
                let n = stdin.withUnsafeBufferPointer { input in
                    input.baseAddress!.advanced(by: written).withMemoryRebound(to: CChar.self, capacity: stdin.count - written) {
                        libssh2_channel_write_ex(channel, 0, $0, stdin.count - written)
                    }
                }
                mark(0, n)
                if n > 0 { written += n; progressed = true } else if n != Int(LibSSH2.eagain) {
                    throw failure(.channel, "cannot send input to the command")
                }
            }
            if written >= stdin.count && !eofSent && may(1) {
                let n = libssh2_channel_send_eof(channel)
                mark(1, Int(n))
                if n == 0 { eofSent = true } else if n != LibSSH2.eagain { eofSent = true }
            }
            for id in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] where may(id == 0 ? 2 : 3) {
                while true {
                    let n = buffer.withUnsafeMutableBufferPointer { raw in
                        raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) {
                            libssh2_channel_read_ex(channel, id, $0, raw.count)
                        }
                    }
                    mark(id == 0 ? 2 : 3, n)
                    if n > 0 {
                        progressed = true
                        if id == 0 { out.append(buffer[0..<n]) } else { err.append(buffer[0..<n]) }
                        continue
                    }
                    if n == 0 || n == Int(LibSSH2.eagain) { break }
                    throw failure(.channel, "reading the command's output failed")
                }
            }
            if libssh2_channel_eof(channel) == 1 && !progressed { break }
            if !progressed {
                if try !waitSocket(until: deadline) {
                    _ = libssh2_channel_close(channel)
                    throw SSHError(.commandTimeout, host: target.name,
                                   "the command did not finish within \(timeout ?? .zero); it may still be running on the host",
                                   hint: "Raise the timeout, or look on the host for what it is waiting on.")
                }
                var next: Int32 = 0
                if pending == nil { _ = libssh2_keepalive_send(session, &next) }
            }
        }
        out.flush()
        err.flush()
        _ = try retry("closing the channel", until: deadline) { libssh2_channel_close(channel) }
        _ = try retry("closing the channel", until: deadline) { libssh2_channel_wait_closed(channel) }
        let status = libssh2_channel_get_exit_status(channel)
        let signal = exitSignal(channel)
        libssh2_channel_free(channel)
        freed = true
        return CommandResult(exitStatus: status, exitSignal: signal, stdout: out.bytes, stderr: err.bytes,
                             duration: ContinuousClock.now - started)
    }

    private func openChannel(deadline: Deadline) throws -> OpaquePointer {
        while true {
            if let channel = libssh2_channel_open_ex(session, "session", 7, 2 * 1024 * 1024, 32768, nil, 0) {
                return channel
            }
            guard libssh2_session_last_errno(session) == LibSSH2.eagain else {
                throw failure(.channel, "cannot open a channel")
            }
            if try !waitSocket(until: deadline) {
                throw SSHError(.commandTimeout, host: target.name, "opening a channel timed out")
            }
        }
    }

    private func exitSignal(_ channel: OpaquePointer) -> String? {
        var name: UnsafeMutablePointer<CChar>?
        var length = 0
        guard libssh2_channel_get_exit_signal(channel, &name, &length, nil, nil, nil, nil) == 0, let name else {
            return nil
        }
        defer { libssh2_free(session, name) }
        let text = String(cString: name)
        return text.isEmpty ? nil : text
    }
}

/// Collects one stream and hands complete lines to the caller as they arrive.
struct StreamBuffer {
    let stream: OutputKind
    let onLine: LineHandler?
    var bytes: [UInt8] = []
    private var lineStart = 0

    init(stream: OutputKind, onLine: LineHandler?) {
        self.stream = stream
        self.onLine = onLine
    }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        bytes.append(contentsOf: chunk)
        guard let onLine else { return }
        while let newline = bytes[lineStart...].firstIndex(of: 0x0a) {
            onLine(stream, String(decoding: bytes[lineStart..<newline], as: UTF8.self))
            lineStart = newline + 1
        }
    }

    mutating func flush() {
        guard let onLine, lineStart < bytes.count else { return }
        onLine(stream, String(decoding: bytes[lineStart...], as: UTF8.self))
        lineStart = bytes.count
    }
}
