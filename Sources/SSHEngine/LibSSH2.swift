import CLibSSH2

/// libssh2's global state: initialised once, before the first session, from any thread.
enum LibSSH2 {
    private static let initialised: Int32 = libssh2_init(0)

    static func ensureInitialised() {
        _ = initialised
    }

    static let eagain: Int32 = LIBSSH2_ERROR_EAGAIN

    /// libssh2's last error for a session: code and message.
    static func lastError(_ session: OpaquePointer?) -> (code: Int32, message: String) {
        guard let session else { return (0, "no session") }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? "unknown error"
        return (code, text)
    }
}
