import Testing
@testable import FleetCLI

/// `fleet --version`: fleet's version, then the libssh2 and OpenSSL it carries (what a bug report needs).
@Suite struct VersionTests {
    @Test func namesTheLibrariesFleetCarries() {
        let text = FleetCommand.versionText
        #expect(text.range(of: #"^fleet [0-9]+\.[0-9]+\.[0-9]+\S* \(libssh2 1\.[0-9]+\.[0-9]+, OpenSSL [0-9]+\.[0-9]+\.[0-9]+"#,
                           options: .regularExpression) != nil, "\(text)")
    }
}
