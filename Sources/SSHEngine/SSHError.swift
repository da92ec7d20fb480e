import Foundation

/// Everything that can go wrong with one host, said so that a person knows what to do next.
public struct SSHError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case resolve, connect, connectTimeout, handshake, hostKeyUnknown, hostKeyChanged, hostKeyRevoked, knownHosts
        case authentication, rsaUnsupported, identityFile, channel, commandTimeout, upload, disconnected
        case cancelled, protocolError, resources
    }

    public var kind: Kind
    /// The host as the user named it (inventory name), or its address.
    public var host: String
    public var message: String
    /// What the user can do next, when there is something to say.
    public var hint: String?
    /// libssh2's error code, when there is one.
    public var code: Int32?

    public init(_ kind: Kind, host: String, _ message: String, hint: String? = nil, code: Int32? = nil) {
        self.kind = kind
        self.host = host
        self.message = message
        self.hint = hint
        self.code = code
    }

    public var description: String {
        var text = "\(host): \(message)"
        if let hint { text += "\n  \(hint)" }
        return text
    }

    /// This machine ran out of something a session needs (descriptors, threads): `errno` says which.
    public static func resources(host: String, _ what: String, errno code: Int32) -> SSHError {
        let reason = String(cString: strerror(code))
        let hint = code == EMFILE || code == ENFILE
            ? "fleet raises the open-file soft limit to the hard limit; raise the hard limit (ulimit -Hn, or LimitNOFILE for a service), or lower ssh.parallel."
            : "The machine is short of threads or memory (ulimit -u, /proc/sys/kernel/threads-max); lower ssh.parallel."
        return SSHError(.resources, host: host, "\(what): \(reason); nothing was run on this host", hint: hint)
    }

    /// True when the host was never reached (nothing could have run there).
    public var isUnreachable: Bool {
        switch kind {
        case .resolve, .connect, .connectTimeout, .handshake: return true
        default: return false
        }
    }

    /// fleet's one meaning of "unreachable": the host was never reached, the connection to it was lost, or this
    /// machine could not open one; whatever ran there, nothing more can be learned on this session.
    public var meansUnreachable: Bool {
        isUnreachable || kind == .disconnected || kind == .resources
    }
}
