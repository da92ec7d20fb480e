import ArgumentParser
import FleetCore
import Foundation

/// `fleet verify`: the inventory's `verify` endpoints, checked on every host through its nginx, in parallel.
public struct Verify: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Check the inventory's verify endpoints on every host through its nginx.",
        discussion: """
            Runs curl on each host against nginx.url + each path of the inventory's `verify` list (default: \
            the health path alone, expecting health.status), all hosts in parallel. Changes nothing. \
            Exit status: 0 when every endpoint on every host answered as expected, 1 otherwise, 2 for a usage or \
            inventory error.
            Example: fleet verify --env production --hosts web2
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions

    @Flag(help: "Print one JSON object per host (host, ok, checks, error, unreachable) and nothing else.")
    public var json = false

    public init() {}

    public func perform(context: CommandContext) async throws -> Int32 {
        let targets = try inventory.targets(selection, context)
        let inventory = targets.inventory
        guard !inventory.verify.isEmpty else {
            throw InventoryError(file: inventory.file, message: "'verify' is an empty list; list endpoints like [/health, /metrics] or remove the key for the health path alone")
        }
        // Hosts that run only workers (`processes:`) have no nginx route to check.
        var hosts: [HostEntry] = [], workersOnly: [String] = []
        for host in targets.hosts {
            if inventory.processes(on: host).contains(where: \.isWeb) { hosts.append(host) } else { workersOnly.append(host.name) }
        }
        if !workersOnly.isEmpty {
            context.err("not verified (no web process runs there): \(workersOnly.joined(separator: ", "))\n")
        }
        guard !hosts.isEmpty else { return 0 }
        let results = await Verifier.verify(inventory: inventory, hosts: hosts, sessions: try context.sessions(inventory))
        if json {
            for result in results { context.out(jsonLine(result) + "\n") }
        } else {
            context.out(Verifier.table(results))
            let failed = results.filter { !$0.ok }
            if failed.isEmpty {
                context.err("\(results.count) hosts verified: every endpoint answered as expected\n")
            } else {
                context.err("\(failed.count) of \(results.count) hosts failed verification:\n")
                for result in failed { context.err("  \(result.problem ?? result.host)\n") }
                context.err("next: fleet status --env \(inventory.environment) shows each host's release and health; "
                    + "docs/runbooks/failed-health-check.md says what to do\n")
            }
        }
        return results.allSatisfy(\.ok) ? 0 : 1
    }
}
