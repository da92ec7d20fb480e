/// `fleet.conf` for one host: `KEY=VALUE` lines in the order of docs/design.md. Every value was validated by the
/// inventory loader (no spaces, quotes, `$`, backticks, `;` or newlines); `{host}` is replaced by the host's name.
/// `FLEET_VERSION` says which fleet installed the scripts beside it (`+custom`: from a folder of the user's).
public enum FleetConf {
    public static func render(_ inventory: Inventory, host: String, fleetVersion: String = FleetVersion.current) -> String {
        func sub(_ v: String) -> String { Inventory.substitute(v, host: host) }
        // REGISTRY only with `registry:` (the registry pre-flight logged in to): other hosts' fleet.conf is unchanged.
        let registry = inventory.registry.map { [("REGISTRY", $0.server)] } ?? []
        let lines: [(String, String)] = [
            ("APP", inventory.app),
            ("IMAGE", inventory.image),
        ] + registry + [
            ("ROOT_DIR", sub(inventory.paths.root)),
            ("STATE_DIR", sub(inventory.paths.state)),
            ("PORT_BLUE", String(inventory.container.ports[0])),
            ("PORT_GREEN", String(inventory.container.ports[1])),
            ("PORT_ENV", inventory.container.portEnv),
            ("UPSTREAM_FILE", sub(inventory.nginx.upstreamFile)),
            ("UPSTREAM_NAME", inventory.nginx.upstreamName),
            ("NGINX_CONF", sub(inventory.nginx.conf)),
            ("NGINX_URL", inventory.nginx.url),
            ("HEALTH_PATH", inventory.health.path),
            ("HEALTH_STATUS", String(inventory.health.status)),
            ("HEALTH_TIMEOUT", String(inventory.health.timeoutSeconds)),
            ("HEALTH_INTERVAL", String(inventory.health.intervalSeconds)),
            ("HEALTH_REQUEST_TIMEOUT", String(inventory.health.requestTimeoutSeconds)),
            ("STOP_TIMEOUT", String(inventory.webOptions.stopTimeoutSeconds)),
            ("DRAIN_SECONDS", String(inventory.drainSeconds)),
            ("KEEP_RELEASES", String(inventory.keepReleases)),
            ("TEXTFILE_DIR", sub(inventory.metrics.textfileDir)),
            ("FLEET_VERSION", fleetVersion),
        ] + processLines(inventory, host: host)
        return lines.map { "\($0.0)=\($0.1)\n" }.joined()
    }

    /// With `processes:` only: the web process of this host (empty: none) and its workers, comma-separated.
    static func processLines(_ inventory: Inventory, host: String) -> [(String, String)] {
        guard inventory.processesDeclared, let entry = inventory.host(named: host) else { return [] }
        let processes = inventory.processes(on: entry)
        return [("WEB_PROCESS", processes.first(where: \.isWeb)?.name ?? ""),
                ("WORKERS", processes.filter { !$0.isWeb }.map(\.name).joined(separator: ","))]
    }
}
