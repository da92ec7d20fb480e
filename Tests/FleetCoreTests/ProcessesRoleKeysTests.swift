import Foundation
import Testing
@testable import FleetCore

/// Keys that do not apply to a process (or to an app without a web process) are refused, saying what to use
/// instead, rather than accepted and never used.
@Suite struct ProcessesRoleKeysTests {
    static let base = "app: shop\nimage: registry.example.com/acme/shop\nhosts:\n  web1: 10.0.0.11\n  jobs1: 10.0.0.21\n"

    @Test func checkOnTheWebProcessIsRefusedNamingHealthAndVerify() {
        for yaml in ["processes:\n  web:\n    check: {running_for: 5s}\n",
                     "processes:\n  web:\n    check:\n",
                     "processes:\n  app:\n    role: web\n    check: {command: [bin/ping]}\n"] {
            let error = Fixture.error(Self.base + yaml)
            let message = error?.message ?? ""
            #expect(message.contains("health:") && message.contains("verify:"), "\(yaml): \(message)")
            #expect(error?.line == 8 || error?.line == 9, "\(yaml): \(String(describing: error))")
        }
    }

    @Test func webOnlyKeysWithoutAWebProcessAreRefused() {
        let workers = "processes:\n  job: {cmd: [bin/jobs]}\n"
        for (yaml, key) in [("health: {path: /up}\n", "health"), ("verify: [/up]\n", "verify"), ("drain: 5s\n", "drain"),
                            ("container: {ports: [9000, 9001]}\n", "container.ports"), ("container: {port_env: APP_PORT}\n", "container.port_env")] {
            let error = Fixture.error(Self.base + yaml + workers)
            let message = error?.message ?? ""
            #expect(message.contains("'\(key)'") && message.contains("no web process") && message.contains("check"), "\(yaml): \(message)")
            #expect(error?.line == 6, "\(yaml): \(String(describing: error))")
        }
        // With a web process they apply, and without those keys a workers-only app loads.
        #expect((try? Fixture.load(Self.base + "health: {path: /up}\nprocesses:\n  web: {hosts: [web1]}\n  job: {hosts: [jobs1]}\n")) != nil)
        #expect((try? Fixture.load(Self.base + "container: {memory: 1g}\n" + workers)) != nil)
    }
}
