import Testing
@testable import SSHEngine
@Test func policyNames() { #expect(HostKeyPolicy(rawValue: "accept-new") == .acceptNew) }
