import Foundation

/// `--probe`: each host's current release, slot and lock, read through its status script; changes nothing.
public enum Probe {
    /// The one read-only command: a host fleet never deployed to has no status script, and so no release.
    public static func command(_ inventory: Inventory, host: String) -> String {
        let root = inventory.rootDir(for: host)
        let script = ShellWords.quote(root + "/bin/status.sh")
        return "if [ -x \(script) ]; then \(script) --config \(ShellWords.quote(root + "/fleet.conf")); fi"
    }

    public static func read(_ inventory: Inventory, hosts: [HostEntry], sessions: Sessions) async -> [String: HostState] {
        let results = await sessions.each(hosts) { host, session in
            let result = try await session.run(command(inventory, host: host.name), timeout: .seconds(60), stdin: [], onLine: nil)
            return state(JSONValue.resultLine(in: result.stdoutText))
        }
        var states: [String: HostState] = [:]
        for (host, result) in zip(hosts, results) {
            switch result {
            case .success(let state): states[host.name] = state
            case .failure(let failure): states[host.name] = HostState(error: failure.description)
            }
        }
        return states
    }

    /// What status.sh's result line says of the release, the slot and the lock (a host never deployed to: none).
    static func state(_ line: JSONValue?) -> HostState {
        // The lock record read and named as status and `fleet lock` do (`LockRecord`); its age is not shown here.
        let holder = LockRecord(line?["lock"]?["fleet"], now: .distantPast)?.holder
        return HostState(release: line?["current"]?["version"]?.text, slot: line?["slot"]?.text, lock: holder)
    }

    /// One line for people: how many hosts answered, could not be reached, are already on `version`.
    public static func summary(_ states: [String: HostState], version: String?) -> (line: String, unreachable: Int) {
        let unreachable = states.values.filter { $0.error != nil }.count
        let onVersion = states.values.filter { $0.error == nil && version != nil && $0.release == version }.count
        var line = "probe: \(states.count - unreachable) reachable, \(unreachable) unreachable"
        if let version { line += ", \(onVersion) already on \(version)" }
        return (line, unreachable)
    }
}
