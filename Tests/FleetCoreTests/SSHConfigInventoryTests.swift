import Foundation
import Testing
@testable import FleetCore
import SSHEngine

/// `ssh.config` through the loader, with the files on disk: precedence, per-host options, the plan.
@Suite struct SSHConfigInventoryTests {
    static let config = """
    Host web1-alias
      HostName 10.0.0.11
      User ops
      Port 2201
      IdentityFile ~/.ssh/web1_key
      IdentitiesOnly yes
      UserKnownHostsFile ~/.ssh/kh
      ServerAliveInterval 30
      ProxyJump bastion.example.com
      ForwardAgent yes
    Host *
      User everyone
      ConnectTimeout 5
      StrictHostKeyChecking accept-new
      ControlMaster auto

    """

    /// A home folder with `.ssh/config`, and an inventory beside it; returns (home, inventory path).
    static func write(ssh: String, config: String = SSHConfigInventoryTests.config) throws -> (String, String) {
        let home = NSTemporaryDirectory() + "fleet-sshconfig-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: home + "/inventory", withIntermediateDirectories: true)
        try config.write(toFile: home + "/.ssh/config", atomically: true, encoding: .utf8)
        let yaml = """
        app: shop
        image: registry.example.com/acme/shop
        ssh:
        \(ssh)
        hosts:
          web1: web1-alias
          web2: {address: web2-alias, user: own, port: 2300}

        """
        try yaml.write(toFile: home + "/inventory/production.yml", atomically: true, encoding: .utf8)
        return (home, home + "/inventory/production.yml")
    }

    /// With ssh-agent there (`SSH_AUTH_SOCK` set) unless `agent` is false.
    static func load(_ ssh: String, agent: Bool = true) throws -> (Inventory, String) {
        let (home, path) = try write(ssh: ssh)
        let context = LoaderContext(home: home, user: "tester", variables: agent ? ["SSH_AUTH_SOCK": "/tmp/agent"] : [:])
        return (try InventoryLoader.load(path: path, context: context), home)
    }

    @Test func configAppliesWhereTheInventoryIsSilent() throws {
        let (inv, home) = try Self.load("  config: true")
        let web1 = inv.hosts[0], web2 = inv.hosts[1]
        #expect((web1.address, web1.user, web1.port) == ("10.0.0.11", "ops", 2201))
        let c = web1.connection
        #expect(c.identityFiles.map(\.value) == [home + "/.ssh/web1_key"])
        #expect(c.agent.value == false)          // IdentitiesOnly yes
        #expect(c.knownHosts.value == home + "/.ssh/kh")
        #expect(c.hostKeyPolicy.value == .acceptNew)
        #expect(c.connectTimeoutMs.value == 5000)
        #expect(c.keepaliveSeconds.value == 30)
        #expect(c.via.value == [JumpHost(user: "tester", address: "bastion.example.com")])
        // The host's own user and port win; the rest comes from Host *.
        #expect((web2.address, web2.user, web2.port) == ("web2-alias", "own", 2300))
        #expect(web2.connection.hostKeyPolicy.value == .acceptNew && web2.connection.identityFiles.isEmpty)
        #expect(inv.sshConfig == SSHConfigSummary(file: home + "/.ssh/config", found: true, ignored: [
            SSHConfigIgnored(keyword: "ForwardAgent", file: home + "/.ssh/config", line: 10),
            SSHConfigIgnored(keyword: "ControlMaster", file: home + "/.ssh/config", line: 15),
        ]))

        let options = web1.connection.options(agentSocket: "/tmp/agent")
        #expect(options.agentSocket == nil)          // IdentitiesOnly yes
        #expect(options.keepaliveInterval == 30)
        #expect(options.identityFiles == [home + "/.ssh/web1_key"])
        #expect(options.knownHostsPath == home + "/.ssh/kh")
        #expect(options.connectTimeout == .seconds(5))
        #expect(web2.connection.options(agentSocket: "/tmp/agent").agentSocket == "/tmp/agent")
        // The config's identity file does not exist: skipped at connection time, as ssh does.
        try inv.checkLocalFiles()
    }

    @Test func inventoryKeysWin() throws {
        let (inv, home) = try Self.load("""
          config: true
          user: root
          port: 22
          identity_files: [~/.ssh/id_ed25519]
          known_hosts: ~/.ssh/known_hosts
          host_key_policy: strict
          connect_timeout: 3s
        """)
        let web1 = inv.hosts[0]
        #expect((web1.address, web1.user, web1.port) == ("10.0.0.11", "root", 22))
        #expect(web1.connection.agent == Resolved(false, from: .sshConfig(SSHConfigPlace(file: home + "/.ssh/config", line: 6))))
        #expect(web1.connection.keepaliveSeconds.value == 30)
        #expect(web1.via == [JumpHost(user: "root", address: "bastion.example.com")])
        let options = web1.connection.options(agentSocket: nil)
        #expect(options.identityFiles == [home + "/.ssh/id_ed25519"])
        #expect(options.connectTimeout == .seconds(3))
        #expect(options.hostKeyPolicy == .strict)
    }

    @Test func offByDefaultAndFalse() throws {
        for (ssh, user) in [("  user: root", "root"), ("  config: false", "tester")] {
            let (inv, _) = try Self.load(ssh)
            #expect(inv.sshConfig == nil)
            #expect((inv.hosts[0].address, inv.hosts[0].port, inv.hosts[0].user) == ("web1-alias", 22, user))
        }
    }

    @Test func pathRelativeToTheInventoryAndMissingFiles() throws {
        let (home, path) = try Self.write(ssh: "  config: ../.ssh/config")
        let inv = try InventoryLoader.load(path: path, context: LoaderContext(home: home, user: "tester"))
        #expect(inv.sshConfig?.file == home + "/.ssh/config")
        #expect(inv.hosts[0].address == "10.0.0.11")

        let (home2, path2) = try Self.write(ssh: "  config: missing_config")
        do {
            _ = try InventoryLoader.load(path: path2, context: LoaderContext(home: home2, user: "tester"))
            Issue.record("expected an error")
        } catch let e as InventoryError {
            #expect(e.file == path2 && e.line == 4)
            #expect(e.message.hasPrefix("ssh config \(home2)/inventory/missing_config not found"))
        }
        // `true` without ~/.ssh/config: nothing applies, as for ssh; the plan says so.
        let (home3, path3) = try Self.write(ssh: "  config: true")
        try FileManager.default.removeItem(atPath: home3 + "/.ssh/config")
        let none = try InventoryLoader.load(path: path3, context: LoaderContext(home: home3, user: "tester"))
        #expect(none.hosts[0].address == "web1-alias")
        #expect(none.sshConfig == SSHConfigSummary(file: home3 + "/.ssh/config", found: false, ignored: []))
    }

    @Test func configKnownHostsMustBeAFile() throws {
        let (home, path) = try Self.write(ssh: "  config: true")
        try FileManager.default.createDirectory(atPath: home + "/.ssh/kh", withIntermediateDirectories: true)
        let inv = try InventoryLoader.load(path: path, context: LoaderContext(home: home, user: "tester"))
        #expect(throws: InventoryError.self) { try inv.checkLocalFiles() }
    }

    @Test func planShowsIgnoredKeywordsAndProxyJump() throws {
        let (inv, home) = try Self.load("  config: true")
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        let text = PlanRenderer.text(plan)
        #expect(text.contains("  ssh config  \(home)/.ssh/config; ignored ForwardAgent (\(home)/.ssh/config:10), ControlMaster (\(home)/.ssh/config:15)\n"))
        #expect(text.contains("   web1 (ops@10.0.0.11:2201 via tester@bastion.example.com:22)\n"))  // ProxyJump is the route
        #expect(text.contains("   web2 (own@web2-alias:2300)\n"))
        let json = PlanRenderer.json(plan)
        #expect(json.contains("\"sshConfig\" : {"))
        #expect(json.contains("\"keyword\" : \"ForwardAgent\""))
        #expect(json.contains("\"via\" : [\n        \"tester@bastion.example.com:22\""), "\(json)")
        #expect(try JSONDecoder().decode(Plan.self, from: Data(json.utf8)) == plan)
    }

    /// The route: ssh.config's ProxyJump when the inventory names none; `ssh.proxy_jump` written wins over it;
    /// a host's own `proxy_jump` wins over both.
    @Test func proxyJumpPrecedence() throws {
        let (fromConfig, _) = try Self.load("  config: true")
        #expect(fromConfig.hosts[0].via == [JumpHost(user: "tester", address: "bastion.example.com")])
        let (written, _) = try Self.load("  config: true\n  proxy_jump: jump@10.0.0.9:2222")
        #expect(written.hosts.map(\.via) == [[JumpHost(user: "jump", address: "10.0.0.9", port: 2222)],
                                             [JumpHost(user: "jump", address: "10.0.0.9", port: 2222)]])
        let (none, _) = try Self.load("  config: true\n  proxy_jump: none")
        #expect(none.hosts[0].via.isEmpty)
    }
}
