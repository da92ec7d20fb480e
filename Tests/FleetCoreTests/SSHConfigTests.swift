import Foundation
import Testing
@testable import FleetCore

/// ssh_config(5) as `ssh.config` reads it, on an in-memory file system.
@Suite struct SSHConfigTests {
    static let home = "/home/tester"
    static let top = "/home/tester/.ssh/config"

    static func loader(_ files: [String: String]) -> SSHConfigLoader {
        SSHConfigLoader(home: home, readFile: { files[$0] },
                        glob: { pattern in files.keys.filter { SSHPattern.matches($0, pattern) }.sorted() })
    }

    static func config(_ text: String, _ more: [String: String] = [:]) throws -> SSHConfig {
        var files = more
        files[top] = text
        return try #require(try loader(files).load(top))
    }

    static func host(_ text: String, _ name: String, _ more: [String: String] = [:], readPolicy: Bool = true) throws -> SSHConfigHost {
        try SSHConfigHost(try config(text, more).match(name), host: name, readPolicy: readPolicy)
    }

    static func error(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> InventoryError? {
        do {
            try body()
            Issue.record("expected an InventoryError", sourceLocation: sourceLocation)
        } catch let e as InventoryError { return e } catch { Issue.record("unexpected \(error)", sourceLocation: sourceLocation) }
        return nil
    }

    @Test func lexerForms() throws {
        let text = """
        # a comment

          hOsTnAmE=10.0.0.5
        Port = 2200
        User\tdeploy   # trailing comment
        IdentityFile "/keys/my key"
        IdentityFile '/keys/other' /ignored/second
        """
        let h = try Self.host(text, "anything")
        #expect(h.hostName?.value == "10.0.0.5")
        #expect(h.port?.value == 2200)
        #expect(h.user?.value == "deploy")
        #expect(h.identityFiles.map(\.text) == ["/keys/my key", "/keys/other"])
        #expect(h.identityFiles.map(\.setting.place.line) == [6, 7])
        let e = Self.error { _ = try Self.config("IdentityFile \"/keys/open\n") }
        #expect(e?.description == "\(Self.top):1: 'IdentityFile' has an unclosed quote; close it")
        #expect(Self.error { _ = try Self.config("Port\n") }?.line == 1)
    }

    @Test func patternsAndNegation() throws {
        let text = """
        Host web* !web3 db?
          User matched
        Host *
          User fallback
        """
        let config = try Self.config(text)
        func user(_ name: String) throws -> String? { try SSHConfigHost(config.match(name), host: name).user?.value }
        #expect(try user("web1") == "matched")
        #expect(try user("WEB12") == "matched")   // ssh lower-cases the name typed
        #expect(try user("web3") == "fallback")
        #expect(try user("db1") == "matched")
        #expect(try user("db12") == "fallback")
        #expect(SSHPattern.matches("a.example.com", "*.example.com"))
        #expect(!SSHPattern.matches("example.com", "*.example.com"))
        #expect(SSHPattern.matches("x", "*"))
        #expect(!SSHPattern.matches("ab", "a?b"))
    }

    @Test func firstObtainedValueWinsAndIdentityFilesAccumulate() throws {
        let text = """
        Host web1
          User first
          IdentityFile ~/.ssh/web1
        Host web1
          User second
          Port 2201
        Host *
          Port 2222
          IdentityFile ~/.ssh/id_ed25519
          ConnectTimeout 1m30s
          ServerAliveInterval 0
        """
        let h = try Self.host(text, "web1")
        #expect(h.user?.value == "first")
        #expect(h.port?.value == 2201)
        #expect(h.identityFiles.map(\.text) == ["~/.ssh/web1", "~/.ssh/id_ed25519"])
        #expect(h.connectTimeoutSeconds?.value == 90)
        #expect(h.serverAliveInterval?.value == nil)
        #expect(try Self.host(text, "web2").port?.value == 2222)
    }

    @Test func tokens() throws {
        let text = """
        Host web1
          HostName %h.internal.example.com
          IdentityFile ~/.ssh/%h-%r@%p
          UserKnownHostsFile %d/kh/%n
        """
        let h = try Self.host(text, "web1")
        #expect(h.hostName?.value == "web1.internal.example.com")
        let key = try SSHConfigTokens.path(h.identityFiles[0], home: Self.home, localUser: "tester",
                                           hostName: "web1.internal.example.com", original: "web1", port: 22, user: "ops")
        #expect(key == "/home/tester/.ssh/web1.internal.example.com-ops@22")
        let known = try SSHConfigTokens.path(try #require(h.knownHosts), home: Self.home, localUser: "tester",
                                             hostName: "x", original: "web1", port: 22, user: "ops")
        #expect(known == "/home/tester/kh/web1")
        let e = Self.error { _ = try Self.host("HostName %z\n", "web1") }
        #expect(e?.description.hasPrefix("\(Self.top):1: 'HostName' uses the token %z") == true)
    }

    @Test func includeGlobRelativeToDotSSHAndInsideHost() throws {
        let files = [
            "/home/tester/.ssh/conf.d/10-web": "Host web1\n  HostName 10.0.0.11\n  User web\n",
            "/home/tester/.ssh/conf.d/20-all": "Host *\n  Port 2200\n",
            "/home/tester/.ssh/db.conf": "User dbuser\nHost *\n  ForwardAgent yes\n",
        ]
        let text = """
        Include conf.d/*
        Host db*
          Include ~/.ssh/db.conf
          Port 2300
        Host *
          User everyone
        """
        let web = try Self.host(text, "web1", files)
        #expect(web.hostName?.value == "10.0.0.11")
        #expect(web.user?.value == "web")
        #expect(web.port?.value == 2200)
        #expect(web.ignored.isEmpty)   // db.conf's lines never apply to web1: its Include is in a Host db* block
        let db = try Self.host(text, "db1", files)
        #expect(db.user?.value == "dbuser")
        #expect(db.port?.value == 2200)
        #expect(db.ignored == [SSHConfigIgnored(keyword: "ForwardAgent", file: "/home/tester/.ssh/db.conf", line: 3)])
        // A glob that matches nothing is no error (as for ssh).
        #expect(try Self.host("Include none.d/*\nUser x\n", "a").user?.value == "x")
    }

    @Test func includeRecursionLimit() throws {
        let e = Self.error { _ = try Self.config("Host *\nInclude config\n") }
        #expect(e?.file == Self.top)
        #expect(e?.line == 2)
        #expect(e?.message.contains("more than 16 files deep") == true)
    }

    @Test func matchIsRefused() throws {
        let files = ["/home/tester/.ssh/extra": "Host a\n  User b\nMatch host a exec true\n  User c\n"]
        let e = Self.error { _ = try Self.config("Include extra\n", files) }
        #expect(e?.file == "/home/tester/.ssh/extra")
        #expect(e?.line == 3)
        #expect(e?.message.hasPrefix("'Match' blocks are not supported by fleet") == true)
    }

    @Test func strictHostKeyChecking() throws {
        #expect(try Self.host("StrictHostKeyChecking yes\n", "a").hostKeyPolicy?.value == .strict)
        #expect(try Self.host("StrictHostKeyChecking accept-new\n", "a").hostKeyPolicy?.value == .acceptNew)
        for value in ["no", "off"] {
            let e = Self.error { _ = try Self.host("Host *\n  StrictHostKeyChecking \(value)\n", "a") }
            #expect(e?.description.hasPrefix("\(Self.top):2: 'StrictHostKeyChecking \(value)' would accept any host key") == true)
            #expect(e?.message.contains("accept-new") == true)
        }
        // Not refused where the inventory's ssh.host_key_policy wins, nor where it does not apply.
        #expect(try Self.host("StrictHostKeyChecking no\n", "a", readPolicy: false).hostKeyPolicy?.value == nil)
        #expect(try Self.host("Host b\n  StrictHostKeyChecking no\n", "a").hostKeyPolicy?.value == nil)
    }

    @Test func ignoredKeywordsAndProxyJump() throws {
        let text = """
        Host web*
          ForwardAgent yes
          ProxyJump ops@bastion:2222,inner
          ControlMaster auto
        Host other
          Compression yes
        """
        let h = try Self.host(text, "web1")
        #expect(h.ignored.map(\.keyword) == ["ForwardAgent", "ControlMaster"])
        #expect(h.ignored.map(\.line) == [2, 4])
        #expect(h.proxyJump?.value == ["ops@bastion:2222", "inner"])
        #expect(try Self.host("ProxyJump none\n", "a").proxyJump?.value == [])
    }

    @Test func badValuesNameTheLine() throws {
        #expect(Self.error { _ = try Self.host("\nPort 70000\n", "a") }?.line == 2)
        #expect(Self.error { _ = try Self.host("User 'a b'\n", "a") }?.message.contains("login name") == true)
        #expect(Self.error { _ = try Self.host("IdentitiesOnly maybe\n", "a") }?.message.contains("yes or no") == true)
        #expect(Self.error { _ = try Self.host("ConnectTimeout soon\n", "a") }?.line == 1)
        #expect(Self.error { _ = try Self.host("UserKnownHostsFile none\n", "a") }?.line == 1)
    }
}
