import CLibSSH2
import Foundation

/// Moving bytes through one tunnel, and closing the tunnels that are done (on the pump's thread only).
extension TunnelPump {
    /// One pass over one tunnel in both directions. True when anything moved.
    func step(_ pipe: Pipe) throws(SSHError) -> Bool {
        var progress = false
        if pipe.toLocal.isEmpty && !pipe.channelEOF && !pipe.failed && allowed(.read(pipe.id)) {
            let n = scratch.withUnsafeMutableBytes { buffer in
                libssh2_channel_read_ex(pipe.channel, 0, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
            }
            note(.read(pipe.id), Int32(clamping: min(n, 0)))
            if n > 0 {
                pipe.toLocal.append(contentsOf: scratch[0..<n])
                progress = true
            } else if n == 0 || n == Int(LibSSH2.eagain) {
                if libssh2_channel_eof(pipe.channel) != 0 { pipe.channelEOF = true; progress = true }
            } else if Self.isFatal(Int32(n)) {
                throw lost("reading a tunnel", Int32(n))
            } else {
                pipe.failed = true
                progress = true
            }
        }
        if !pipe.toLocal.isEmpty && !pipe.failed {
            let (n, code) = pipe.toLocal.withUnsafeBytes { (send(pipe.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)), errno) }
            if n > 0 {
                pipe.toLocal.removeFirst(n)
                progress = true
            } else if n < 0 && code != EAGAIN && code != EINTR {
                pipe.failed = true
                progress = true
            }
        }
        if pipe.toChannel.isEmpty && !pipe.localEOF && !pipe.failed {
            let (n, code) = scratch.withUnsafeMutableBytes { (read(pipe.fd, $0.baseAddress, $0.count), errno) }
            if n > 0 {
                pipe.toChannel.append(contentsOf: scratch[0..<n])
                progress = true
            } else if n == 0 || (code != EAGAIN && code != EINTR) {
                pipe.localEOF = true
                progress = true
            }
        }
        if !pipe.toChannel.isEmpty && allowed(.write(pipe.id)) {
            let n = pipe.toChannel.withUnsafeBytes {
                libssh2_channel_write_ex(pipe.channel, 0, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            note(.write(pipe.id), Int32(clamping: min(n, 0)))
            if n > 0 {
                pipe.toChannel.removeFirst(n)
                progress = true
            } else if n < 0 && n != Int(LibSSH2.eagain) {
                if Self.isFatal(Int32(n)) { throw lost("writing to a tunnel", Int32(n)) }
                pipe.toChannel.removeAll()
                pipe.failed = true
                progress = true
            }
        }
        return progress
    }

    /// Closes the tunnels that are done (either side ended, or an error), and frees their channels.
    func finishPipes() throws(SSHError) -> Bool {
        var progress = false
        pipes.removeAll { pipe in
            let done = pipe.failed || (pipe.localEOF && pipe.toChannel.isEmpty) || (pipe.channelEOF && pipe.toLocal.isEmpty)
            guard done, stuck != .read(pipe.id), stuck != .write(pipe.id) else { return false }
            close(pipe.fd)
            closing.append((pipe.id, pipe.channel))
            progress = true
            return true
        }
        var left: [(id: Int, channel: OpaquePointer)] = []
        for entry in closing {
            guard allowed(.free(entry.id)) else { left.append(entry); continue }
            let rc = libssh2_channel_free(entry.channel)
            note(.free(entry.id), rc)
            if rc == LibSSH2.eagain { left.append(entry) } else { progress = true }
            if Self.isFatal(rc) { closing = left; throw lost("closing a tunnel", rc) }
        }
        closing = left
        return progress
    }
}
