import ArgumentParser
import FleetCore

public struct FleetCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Deploy one app to a fleet of Linux servers over SSH: blue/green behind nginx, rolling, agentless.",
        version: FleetVersion.current,
        subcommands: []
    )
    public init() {}
}
