import Foundation

/// Reads every host's state through `status.sh` (installing the playbooks and `fleet.conf` first), in parallel.
public enum StatusReader {
    public static func read(inventory: Inventory, hosts: [HostEntry], sessions: Sessions,
                            playbooks: Playbooks, now: @escaping @Sendable () -> Date = { Date() }) async -> [HostStatus] {
        let scripts = HostScripts(inventory: inventory, playbooks: playbooks)
        let expected = inventory.health.status
        let results = await sessions.each(hosts) { host, session in
            let output = try await scripts.installAndRun("status.sh", [], on: session)
            guard output.succeeded, let json = output.json else {
                let what = output.succeeded ? "printed no JSON result line" : "failed (\(output.problem))"
                throw HostFailure(host: host.name, message: "status.sh \(what); run it on the host to see more: "
                    + scripts.commandLine(host.name, "status.sh", []))
            }
            return HostStatus(host: host.name, json: json, expectedStatus: expected, now: now())
        }
        return zip(hosts, results).map { host, result in
            switch result {
            case .success(let status): return status
            case .failure(let failure): return HostStatus(host: host.name, error: failure.description, unreachable: failure.unreachable)
            }
        }
    }
}
