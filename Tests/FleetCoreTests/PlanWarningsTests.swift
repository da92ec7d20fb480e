import Foundation
import Testing
@testable import FleetCore

/// What the plan warns of: env file lines that look like shell substitution (fleet's env files do none), and RSA
/// identity files (libssh2 1.10 cannot log in with them to OpenSSH 8.8 and later). Never a value, never a key.
@Suite struct PlanWarningsTests {
    static let kamal = "RAILS_MASTER_KEY=$(cat config/master.key)\nPLAIN=a$ b\nDB=$DATABASE_URL\nREDIS=${REDIS_URL}\nPRICE=5$\n"

    @Test func kamalStyleEnvLinesAreNamedNotRefused() throws {
        let yaml = Fixture.full
        let inv = try Fixture.load(yaml, files: Fixture.files([Fixture.envPath: Self.kamal]))
        #expect(inv.envFile?.keys == ["RAILS_MASTER_KEY", "PLAIN", "DB", "REDIS", "PRICE"])
        #expect(inv.warnings.count == 3, "\(inv.warnings)")
        #expect(inv.warnings[0].hasPrefix("\(Fixture.envPath):1: RAILS_MASTER_KEY's value holds a command substitution $(...)"))
        #expect(inv.warnings[1].hasPrefix("\(Fixture.envPath):3: DB's value holds a variable reference $NAME"))
        #expect(inv.warnings[2].hasPrefix("\(Fixture.envPath):4: REDIS's value holds a variable reference ${...}"))
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        let text = PlanRenderer.text(plan)
        #expect(text.contains("  warning     \(Fixture.envPath):1: RAILS_MASTER_KEY's value holds"), "\(text)")
        #expect(text.contains("the container gets the text as written"))
        for secret in ["master.key", "DATABASE_URL", "REDIS_URL"] {
            #expect(!text.contains(secret) && !PlanRenderer.json(plan).contains(secret), "\(secret)")
        }
        #expect(plan.warnings?.count == 3)
        // A rollback uploads no env file: nothing to warn of.
        #expect(try PlanBuilder.build(try PlanTests.input(inv, .rollback, version: nil)).warnings == nil)
        // Without such lines: no warning, and the plan is as before (the golden files hold that).
        #expect(try Fixture.load(yaml).warnings.isEmpty)
        #expect(try PlanBuilder.build(try PlanTests.input(try Fixture.load(yaml))).warnings == nil)
    }
}
