import Foundation
import Testing
@testable import SSHEngine

@Suite("Host keys and authentication against real sshd")
struct ConnectionTests {
    /// The lab's known_hosts holds only ed25519 lines, while every host also offers ECDSA (which libssh2 1.10
    /// prefers): fleet must ask for the type known_hosts has.
    @Test func ed25519OnlyKnownHostsAgainstAServerOfferingECDSA() async throws {
        let connection = try await Lab.connect()
        let key = await connection.hostKey
        #expect(key?.type == "ssh-ed25519")
        #expect(key?.fingerprint.hasPrefix("SHA256:") == true)
        #expect(key?.fingerprint.hasSuffix("=") == false)
        await connection.close()
    }

    @Test func hashedKnownHosts() async throws {
        let connection = try await Lab.connect(options: Lab.options(knownHosts: Lab.dir + "/known_hosts.hashed"))
        #expect(try await connection.run("true").exitStatus == 0)
        await connection.close()
    }

    @Test func fingerprintMatchesOpenSSH() async throws {
        let host = try Lab.host()
        let connection = try await Lab.connect()
        let ours = await connection.hostKey?.fingerprint
        let line = try shell("grep '^\(host.address) ' '\(Lab.knownHosts)' | ssh-keygen -lf - | cut -d' ' -f2")
        #expect(ours == line.trimmingCharacters(in: .whitespacesAndNewlines))
        await connection.close()
    }

    @Test func changedHostKeyIsRefusedAndNothingRuns() async throws {
        let host = try Lab.host(1)
        let wrong = Lab.temp("known_hosts_wrong")
        // Another host's ed25519 key recorded under this host's address: a "changed" key.
        let other = try Lab.host(0)
        try shell("grep '^\(other.address) ' '\(Lab.knownHosts)' | sed 's/^\(other.address) /\(host.address) /' > '\(wrong)'")
        do {
            _ = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: wrong))
            Issue.record("a changed host key was accepted")
        } catch let error as SSHError {
            #expect(error.kind == .hostKeyChanged)
            #expect(error.description.contains(host.name))
            #expect(error.description.contains("ssh-ed25519"))
            #expect(error.description.contains("SHA256:"))
            #expect(error.description.contains("ssh-keygen -R"))
        }
        // accept-new does not accept a changed key either.
        await #expect(throws: SSHError.self) {
            _ = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: wrong, policy: .acceptNew))
        }
    }

    /// A key marked `@revoked` is refused, named as revoked, under every policy, and never written down.
    @Test func revokedHostKeyIsRefusedUnderEveryPolicy() async throws {
        let host = try Lab.host(1)
        let path = Lab.temp("known_hosts_revoked_\(UInt32.random(in: 0...UInt32.max))")
        try shell("grep '^\(host.address) ' '\(Lab.knownHosts)' | sed 's/^/@revoked /' > '\(path)'")
        let before = try String(contentsOfFile: path, encoding: .utf8)
        #expect(before.hasPrefix("@revoked \(host.address) ssh-ed25519 "))
        for policy in [HostKeyPolicy.strict, .acceptNew] {
            do {
                _ = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: path, policy: policy))
                Issue.record("a revoked host key was accepted under \(policy)")
            } catch let error as SSHError {
                #expect(error.kind == .hostKeyRevoked, "\(error)")
                #expect(error.description.contains("REVOKED HOST KEY") && error.description.contains("SHA256:"))
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before)
    }

    /// known_hosts that trusts only a certificate authority for the host: libssh2 1.10 cannot check host
    /// certificates, so the key is unknown, and the error says why (the @cert-authority line and what to add).
    @Test func aCertificateAuthorityAloneIsNamedAsUnsupported() async throws {
        let host = try Lab.host(1)
        let path = Lab.temp("known_hosts_ca_\(UInt32.random(in: 0...UInt32.max))")
        try shell("grep '^\(host.address) ' '\(Lab.knownHosts)' | sed 's/^[^ ]* /@cert-authority 10.77.0.* /' > '\(path)'")
        do {
            _ = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: path, policy: .strict))
            Issue.record("connected with only a @cert-authority line")
        } catch let error as SSHError {
            #expect(error.kind == .hostKeyUnknown, "\(error)")
            #expect(error.description.contains("@cert-authority, line 1") && error.description.contains("libssh2 1.10"), "\(error)")
        }
    }

    /// known_hosts that cannot be read is an error, never an empty file (accept-new would then record a key).
    @Test func anUnreadableKnownHostsIsAnErrorNotAnEmptyFile() async throws {
        let folder = Lab.temp("known_hosts_folder_\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            _ = try await Lab.connect(1, options: Lab.options(knownHosts: folder, policy: .acceptNew))
            Issue.record("connected with a folder as known_hosts")
        } catch let error as SSHError {
            #expect(error.kind == .knownHosts, "\(error)")
            #expect(error.description.contains(folder))
        }
    }

    @Test func unknownHostKeyStrictThenAcceptNew() async throws {
        let host = try Lab.host(2)
        let path = Lab.temp("known_hosts_new_\(UInt32.random(in: 0...UInt32.max))")
        try "# empty\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: path))
            Issue.record("an unknown host key was accepted under strict")
        } catch let error as SSHError {
            #expect(error.kind == .hostKeyUnknown)
            #expect(error.description.contains("ssh-keyscan"))
            #expect(error.description.contains("accept-new"))
        }
        let first = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: path, policy: .acceptNew))
        await first.close()
        let recorded = try String(contentsOfFile: path, encoding: .utf8)
        #expect(recorded.contains("\(host.address) ssh-ed25519 "))
        // Now known: strict accepts it.
        let second = try await SSHConnection.connect(to: host, options: Lab.options(knownHosts: path))
        #expect(try await second.run("true").exitStatus == 0)
        await second.close()
    }

    @Test func rsaKeyGetsTheLibssh2Explanation() async throws {
        do {
            _ = try await Lab.connect(options: Lab.options(key: "rsa"))
            Issue.record("an RSA key logged in")
        } catch let error as SSHError {
            #expect(error.kind == .rsaUnsupported)
            #expect(error.description.contains("libssh2 1.10"))
            #expect(error.description.contains("ed25519"))
        }
    }

    @Test func ecdsaIdentityFile() async throws {
        let connection = try await Lab.connect(options: Lab.options(key: "ecdsa"))
        #expect(try await connection.run("true").exitStatus == 0)
        await connection.close()
    }

    @Test func missingIdentityFileIsNamed() async throws {
        var options = Lab.options()
        options.identityFiles = ["/nonexistent/id_ed25519"]
        do {
            _ = try await Lab.connect(options: options)
            Issue.record("logged in without a key")
        } catch let error as SSHError {
            #expect(error.kind == .authentication)
            #expect(error.description.contains("/nonexistent/id_ed25519"))
        }
    }

    @Test func sshAgent() async throws {
        let socket = Lab.temp("agent-\(UInt32.random(in: 0...UInt32.max)).sock")
        let pid = try shell("eval \"$(ssh-agent -a '\(socket)' -s)\" >/dev/null && SSH_AUTH_SOCK='\(socket)' ssh-add -q '\(Lab.key("ed25519"))' && echo $SSH_AGENT_PID")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // KILL: the agent inherits the test runner's blocked signals, so a TERM would never reach it.
        defer { _ = try? shell("kill -KILL \(pid)") }
        var options = Lab.options()
        options.identityFiles = []
        options.agentSocket = socket
        let connection = try await Lab.connect(options: options)
        #expect(try await connection.run("echo via-agent").stdoutText == "via-agent\n")
        await connection.close()
    }
}
