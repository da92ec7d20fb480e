import Testing
@testable import FleetCLI
@Test func commandName() { #expect(FleetCommand.configuration.commandName == "fleet") }
