import FleetCLI

await FleetCommand.main()
