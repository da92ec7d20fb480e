/// Everything that can go wrong with one host, said so that a person knows what to do next.
public struct SSHError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case resolve, connect, connectTimeout, handshake, hostKeyUnknown, hostKeyChanged, knownHosts
        case authentication, rsaUnsupported, identityFile, channel, commandTimeout, upload, disconnected
        case cancelled, protocolError
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

    /// True when the host was never reached (nothing could have run there).
    public var isUnreachable: Bool {
        switch kind {
        case .resolve, .connect, .connectTimeout, .handshake: return true
        default: return false
        }
    }
}
