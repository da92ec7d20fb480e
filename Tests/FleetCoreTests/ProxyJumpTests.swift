import Foundation
import SSHEngine
import Testing
@testable import FleetCore

/// `ssh.proxy_jump` and `hosts.NAME.proxy_jump`: forms, overrides, refusals (file:line:column), the plan.
@Suite struct ProxyJumpTests {
    static let head = "app: shop\nimage: registry.example.com/acme/shop\n"

    @Test func formsOfOneHop() throws {
        let cases: [(String, JumpHost)] = [
            ("bastion.example.com", JumpHost(user: "tester", address: "bastion.example.com", port: 22)),
            ("admin@10.0.0.1:2222", JumpHost(user: "admin", address: "10.0.0.1", port: 2222)),
            ("\"[::1]:2222\"", JumpHost(user: "tester", address: "::1", port: 2222)),
            ("\"::1\"", JumpHost(user: "tester", address: "::1", port: 22)),
            ("\"ops@[fd00::7]\"", JumpHost(user: "ops", address: "fd00::7", port: 22)),
        ]
        for (text, hop) in cases {
            let inv = try Fixture.load(Self.head + "ssh: {proxy_jump: \(text)}\nhosts:\n  web1: 10.1.0.1\n")
            #expect(inv.ssh.proxyJump == [hop], "\(text)")
            #expect(inv.hosts[0].via == [hop], "\(text)")
            #expect(inv.ssh.usesJumps)
        }
    }

    @Test func chainsOverridesAndNone() throws {
        let inv = try Fixture.load(Self.head + """
            ssh:
              user: deploy
              proxy_jump: "a.example.com, root@b.example.com:2200"
            hosts:
              web1: 10.1.0.1
              web2: {address: 10.1.0.2, proxy_jump: none}
              web3: {address: 10.1.0.3, proxy_jump: [c.example.com, d.example.com, e.example.com]}
              web4: {address: 10.1.0.4, proxy_jump: other@f.example.com}

            """)
        let a = JumpHost(user: "deploy", address: "a.example.com")
        let b = JumpHost(user: "root", address: "b.example.com", port: 2200)
        #expect(inv.hosts[0].via == [a, b])
        #expect(inv.hosts[1].via == [])
        #expect(inv.hosts[2].via.map(\.address) == ["c.example.com", "d.example.com", "e.example.com"])
        #expect(inv.hosts[3].via == [JumpHost(user: "other", address: "f.example.com")])
    }

    @Test func withoutProxyJumpNothingChanges() throws {
        let inv = try Fixture.load(Fixture.minimal)
        #expect(inv.ssh.proxyJump.isEmpty && !inv.ssh.usesJumps)
        #expect(inv.hosts.allSatisfy { $0.via.isEmpty })
    }

    /// The same private address behind two bastions is two hosts.
    @Test func sameAddressBehindAnotherBastionIsAnotherHost() throws {
        let inv = try Fixture.load(Self.head + """
            hosts:
              eu1: {address: 10.0.0.5, proxy_jump: eu-bastion.example.com}
              us1: {address: 10.0.0.5, proxy_jump: us-bastion.example.com}

            """)
        #expect(inv.hosts.count == 2)
    }

    @Test func refusals() {
        let v = ValidationTests()
        let two = "hosts:\n  web1: 10.0.0.11\n"
        v.expectError(Self.head + "ssh: {proxy_jump: \"a,b,c,d\"}\n" + two, at: 3, 19, ["chains 4 jump hosts", "at most 3"])
        v.expectError(Self.head + "ssh: {proxy_jump: \"a,,b\"}\n" + two, at: 3, 19, ["empty jump host"])
        v.expectError(Self.head + "ssh: {proxy_jump: \"bad host\"}\n" + two, at: 3, 19, ["jump host 'bad host'", "[user@]host[:port]"])
        v.expectError(Self.head + "ssh: {proxy_jump: \"a:99999\"}\n" + two, at: 3, 19, ["the port '99999'", "1 to 65535"])
        v.expectError(Self.head + "ssh: {proxy_jump: \"-x@a\"}\n" + two, at: 3, 19, ["the user '-x'", "login name"])
        v.expectError(Self.head + "ssh: {proxy_jump: []}\n" + two, at: 3, 19, ["empty list"])
        v.expectError(Self.head + "ssh: {proxy_jump: [a, none]}\n" + two, at: 3, 19, ["'none' among jump hosts"])
        v.expectError(Self.head + "ssh: {proxy_jump: {a: b}}\n" + two, at: 3, 19, ["'ssh.proxy_jump'"])
        v.expectError(Self.head + "hosts:\n  web1: {address: 10.0.0.11, proxy_jump: \"x y\"}\n", at: 4, 42, ["'hosts.web1.proxy_jump'", "jump host 'x y'"])
        v.expectError(Self.head + "ssh: {proxy_jumps: a}\n" + two, at: 3, 7, ["unknown key 'ssh.proxy_jumps'", "proxy_jump"])
    }

    @Test func thePlanShowsEachHostsRoute() throws {
        let inv = try Fixture.load(Self.head + """
            ssh: {proxy_jump: "root@10.77.0.250"}
            hosts:
              priv1: 10.78.0.11
              direct: {address: 10.0.0.9, proxy_jump: none}

            """)
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        let text = PlanRenderer.text(plan)
        #expect(text.contains("priv1 (tester@10.78.0.11:22 via root@10.77.0.250:22)"))
        #expect(text.contains("direct (tester@10.0.0.9:22)"))
        let json = PlanRenderer.json(plan)
        #expect(json.contains("\"via\" : [\n        \"root@10.77.0.250:22\"\n      ]"), "\(json.prefix(2000))")
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(json.utf8))
        #expect(decoded == plan)
        #expect(plan.hosts.first { $0.name == "priv1" }?.entry.via == [JumpHost(user: "root", address: "10.77.0.250")])
        #expect(plan.hosts.first { $0.name == "direct" }?.via == nil)
    }
}
