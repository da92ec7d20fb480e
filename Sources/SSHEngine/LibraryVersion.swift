import CLibSSH2

/// The libssh2 this binary runs with (linked statically into a release, from the system otherwise).
public enum SSHLibrary {
    /// `1.10.0`: what libssh2 itself reports at run time.
    public static var version: String {
        libssh2_version(0).map { String(cString: $0) } ?? LIBSSH2_VERSION
    }
}
