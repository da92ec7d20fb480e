import SSHEngine

/// The plan's connections in words: each setting with where it came from, once for every host when they all
/// share it, else per host.
extension PlanRenderer {
    /// The settings in the order shown, each as `label` and `value (origin)`.
    static func connectionRows(_ c: Connection) -> [(String, String)] {
        func shown<Value>(_ r: Resolved<Value>, _ text: String) -> String { "\(text) (\(r.from))" }
        let identities = c.identityFiles.isEmpty ? "none (default)"
            : c.identityFiles.map { shown($0, $0.value) }.joined(separator: ", ")
        let agent: String
        switch (c.agent.value, c.agent.from) {
        case (true, _): agent = shown(c.agent, "yes")
        case (false, .environment): agent = shown(c.agent, "no, not set")
        case (false, .sshConfig): agent = shown(c.agent, "no, IdentitiesOnly yes")
        case (false, _): agent = shown(c.agent, "no")
        }
        let route = c.via.value.isEmpty ? "direct" : "via " + c.via.value.map(\.description).joined(separator: ", ")
        return [
            ("address", shown(c.address, c.address.value)),
            ("port", shown(c.port, "\(c.port.value)")),
            ("user", shown(c.user, c.user.value)),
            ("identities", identities),
            ("agent", agent),
            ("known_hosts", shown(c.knownHosts, c.knownHosts.value)),
            ("host keys", shown(c.hostKeyPolicy, c.hostKeyPolicy.value.rawValue)),
            ("timeout", shown(c.connectTimeoutMs, formatMs(c.connectTimeoutMs.value))),
            ("keepalive", shown(c.keepaliveSeconds, "every \(c.keepaliveSeconds.value)s")),
            ("route", shown(c.via, route)),
        ]
    }

    /// `Connection of every host` with the settings all hosts share, then `Connection per host` with the others.
    static func connections(_ plan: Plan, _ out: inout TextOut) {
        guard let first = plan.hosts.first else { return }
        let rows = plan.hosts.map { connectionRows($0.connection) }
        let shared = rows[0].indices.map { i in rows.allSatisfy { $0[i].1 == rows[0][i].1 } }
        let width = 12
        out.line("")
        out.line("Connection of every host\(plan.hosts.count == 1 ? " (\(first.name))" : "") (each value, then where it comes from)")
        for (i, row) in rows[0].enumerated() where shared[i] { out.line("  \(row.0.padded(width)) \(row.1)") }
        guard shared.contains(false) else { return }
        out.line("Connection per host (where hosts differ)")
        let nameWidth = plan.hosts.map(\.name.count).max() ?? 0
        for (host, hostRows) in zip(plan.hosts, rows) {
            var name = host.name.padded(nameWidth)
            for (i, row) in hostRows.enumerated() where !shared[i] {
                out.line("  \(name)  \(row.0.padded(width)) \(row.1)")
                name = String(repeating: " ", count: nameWidth)
            }
        }
    }
}
