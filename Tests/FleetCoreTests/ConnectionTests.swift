import Foundation
import SSHEngine
import Testing
@testable import FleetCore

/// Each host's connection, resolved once from the host's keys, `ssh.*`, `ssh.config` and `SSH_AUTH_SOCK`, with
/// where each setting came from; carried by the plan and the only thing the executor's sessions are opened from.
/// Pure: the config is an in-memory file.
@Suite("One resolved connection per host")
struct ConnectionTests {
    static let home = "/home/tester"
    static let configPath = "/home/tester/.ssh/config"
    /// Line 1 `Host 10.77.0.*`, 2 `User`, 3 and 4 `IdentityFile`, 5 `UserKnownHostsFile`, 6 `Host *`, 7 `ConnectTimeout`.
    static let config = """
    Host 10.77.0.*
      User root
      IdentityFile ~/.ssh/lab_key
      IdentityFile %d/.ssh/second_%h
      UserKnownHostsFile ~/.ssh/lab_known_hosts
    Host *
      ConnectTimeout 7

    """
    static let yaml = """
    app: connapp
    image: registry.example.com/acme/connapp
    ssh:
      config: ~/.ssh/config
    hosts:
      web1: 10.77.0.11
      web2: {address: 10.77.0.12, user: ops, port: 2222}

    """

    static func load(_ yaml: String = yaml, config: String = config, variables: [String: String] = [:]) throws -> Inventory {
        let loader = SSHConfigLoader(home: home, readFile: { $0 == configPath ? config : nil }, glob: { _ in [] })
        return try InventoryLoader.parse(yaml: yaml, path: "/srv/app/inventory/lab.yml",
                                         context: LoaderContext(home: home, user: "tester", variables: variables),
                                         sshConfig: loader) { _ in nil }
    }

    static func line(_ n: Int) -> SettingOrigin { .sshConfig(SSHConfigPlace(file: configPath, line: n)) }

    /// The inventory: the identity files only in the config, no `ssh.identity_files`, no agent.
    @Test func theConfigAloneWithItsLines() throws {
        let web1 = try #require(try Self.load().host(named: "web1"))
        #expect(web1.connection == Connection(
            address: Resolved("10.77.0.11", from: .inventory(key: "hosts.web1")),
            port: Resolved(22, from: .default),
            user: Resolved("root", from: Self.line(2)),
            identityFiles: [Resolved("/home/tester/.ssh/lab_key", from: Self.line(3)),
                            Resolved("/home/tester/.ssh/second_10.77.0.11", from: Self.line(4))],
            agent: Resolved(false, from: .environment(variable: "SSH_AUTH_SOCK")),
            knownHosts: Resolved("/home/tester/.ssh/lab_known_hosts", from: Self.line(5)),
            hostKeyPolicy: Resolved(.strict, from: .default),
            connectTimeoutMs: Resolved(7000, from: Self.line(7)),
            keepaliveSeconds: Resolved(15, from: .default),
            via: Resolved([], from: .default)))
        let options = web1.connection.options(agentSocket: "/tmp/agent.sock")
        #expect(options.identityFiles == ["/home/tester/.ssh/lab_key", "/home/tester/.ssh/second_10.77.0.11"])
        #expect(options.agentSocket == nil)   // the plan says no agent: the socket is not offered
        #expect(options.connectTimeout == .seconds(7))
    }

    /// The host's own keys, then `ssh.*` written, then the config, then the default; each says which.
    @Test func precedenceNamesTheKey() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "  config: ~/.ssh/config\n", with: """
          config: ~/.ssh/config
          user: deploy
          identity_files: [~/.ssh/id_ed25519]
          connect_timeout: 3s
          proxy_jump: jump@10.77.0.250

        """)
        let inv = try Self.load(yaml)
        let web1 = try #require(inv.host(named: "web1")).connection
        let web2 = try #require(inv.host(named: "web2")).connection
        #expect(web1.user == Resolved("deploy", from: .inventory(key: "ssh.user")))
        #expect(web2.user == Resolved("ops", from: .inventory(key: "hosts.web2.user")))
        #expect(web2.port == Resolved(2222, from: .inventory(key: "hosts.web2.port")))
        #expect(web1.identityFiles == [Resolved("/home/tester/.ssh/id_ed25519", from: .inventory(key: "ssh.identity_files"))])
        #expect(web1.connectTimeoutMs == Resolved(3000, from: .inventory(key: "ssh.connect_timeout")))
        #expect(web1.knownHosts == Resolved("/home/tester/.ssh/lab_known_hosts", from: Self.line(5)))
        #expect(web1.via == Resolved([JumpHost(user: "jump", address: "10.77.0.250")], from: .inventory(key: "ssh.proxy_jump")))
    }

    /// ssh-agent: used when `SSH_AUTH_SOCK` is set, unless the config says `IdentitiesOnly yes` (named by line).
    @Test func theAgentIsDecidedInThePlan() throws {
        let agent = ["SSH_AUTH_SOCK": "/tmp/agent.sock"]
        let with = try #require(try Self.load(variables: agent).host(named: "web1")).connection
        #expect(with.agent == Resolved(true, from: .environment(variable: "SSH_AUTH_SOCK")))
        #expect(with.options(agentSocket: "/tmp/agent.sock").agentSocket == "/tmp/agent.sock")
        let only = try #require(try Self.load(config: Self.config + "Host 10.77.0.11\n  IdentitiesOnly yes\n", variables: agent)
            .host(named: "web1")).connection
        #expect(only.agent == Resolved(false, from: Self.line(9)))
        #expect(only.options(agentSocket: "/tmp/agent.sock").agentSocket == nil)
    }

    /// The plan carries each host's connection, the executor opens every session from it, and the plan's text
    /// and JSON name the config's lines.
    @Test func thePlanCarriesItAndTheExecutorConnectsFromIt() async throws {
        let inventory = try Self.load()
        let plan = try PlanBuilder.build(try PlanTests.input(inventory, version: "v2"))
        #expect(plan.hosts.map(\.connection) == inventory.hosts.map(\.connection))
        let transport = RecordingTransport()
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.exitCode == 0, "\(report.hosts)")
        for host in plan.hosts {
            #expect(transport.connection(for: host.name) == host.connection, "\(host.name)")
        }

        let text = PlanRenderer.text(plan)
        #expect(text.contains("\n  known_hosts  /home/tester/.ssh/lab_known_hosts (ssh.config \(Self.configPath):5)\n"), "\(text)")
        #expect(text.contains("\n  web1  address      10.77.0.11 (inventory hosts.web1)\n        port         22 (default)\n"
            + "        user         root (ssh.config \(Self.configPath):2)\n"), "\(text)")
        #expect(text.contains("\n  web2  address      10.77.0.12 (inventory hosts.web2.address)\n"), "\(text)")
        #expect(text.contains("\n        identities   /home/tester/.ssh/lab_key (ssh.config \(Self.configPath):3), "
            + "/home/tester/.ssh/second_10.77.0.12 (ssh.config \(Self.configPath):4)\n"), "\(text)")
        let json = PlanRenderer.json(plan)
        #expect(json.contains("\"from\" : \"ssh.config \(Self.configPath):3\""), "\(json)")
        #expect(try JSONDecoder().decode(Plan.self, from: Data(json.utf8)) == plan)
    }

    /// Origins in JSON: one string each, read back the same, a file name with a colon included.
    @Test func originsRoundTrip() throws {
        let origins: [SettingOrigin] = [.default, .inventory(key: "hosts.web1.port"), .environment(variable: "SSH_AUTH_SOCK"),
                                        .option("--login"), .sshConfig(SSHConfigPlace(file: "/etc/ssh/a:b config", line: 12))]
        let data = try JSONEncoder().encode(origins)
        #expect(String(decoding: data, as: UTF8.self).contains("\"ssh.config \\/etc\\/ssh\\/a:b config:12\""))
        #expect(try JSONDecoder().decode([SettingOrigin].self, from: data) == origins)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SettingOrigin].self, from: Data("[\"somewhere\"]".utf8)) }
    }
}
