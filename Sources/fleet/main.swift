import FleetCLI

await FleetCommand.runMain()
