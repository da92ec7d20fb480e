import CFleetTLS
import Foundation

/// Which certificates an https endpoint must chain to.
public enum TLSTrust: Sendable, Equatable {
    /// `$SSL_CERT_FILE` and/or `$SSL_CERT_DIR` when set, else the system's CA bundle (the first of
    /// `TLSTrust.systemBundles` that exists).
    case system
    /// Only the certificates of this PEM file (a private CA, or a test server's own certificate).
    case file(String)

    /// Where Linux distributions keep their CA bundle: Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine.
    public static let systemBundles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                                       "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/ca-bundle.pem",
                                       "/etc/ssl/cert.pem"]

    /// The PEM file and the hashed folder to load; throws when there is neither.
    func locations(environment: [String: String]) throws -> (file: String?, dir: String?) {
        switch self {
        case .file(let path): return (path, nil)
        case .system:
            let file = environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            let dir = environment["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            if file != nil || dir != nil { return (file, dir) }
            if let bundle = Self.systemBundles.first(where: { FileManager.default.fileExists(atPath: $0) }) { return (bundle, nil) }
            throw HTTPFailure.tls("no CA certificates on this machine (install ca-certificates, or set SSL_CERT_FILE)")
        }
    }

    /// The TLS library fleet carries, e.g. `OpenSSL 3.0.17 1 Jul 2025`.
    public static var libraryVersion: String { String(cString: fleet_tls_library_version()) }
}
