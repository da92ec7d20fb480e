import Testing
@testable import FleetCore
@Test func versionIsSet() { #expect(!FleetVersion.current.isEmpty) }
