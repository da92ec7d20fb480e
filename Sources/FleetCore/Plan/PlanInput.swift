/// Everything the plan builder needs; it reads nothing else (no files, network, clock or environment).
public struct PlanInput: Sendable {
    public var inventory: Inventory
    public var command: PlanCommand
    /// The version to deploy (required for deploy).
    public var version: String?
    /// Rollback target (`--to V`); nil: the previous release.
    public var rollbackTo: String?
    /// Selected hosts (see `selectHosts`), in inventory order.
    public var hosts: [HostEntry]
    public var run: RunContext
    /// Host scripts to upload to `ROOT/bin/`, e.g. lib.sh, deploy.sh...
    public var playbookNames: [String]
    /// Where they are on this machine (absolute), or `fleet VERSION (built in)` for fleet's own.
    public var playbooksDir: String
    /// `FLEET_VERSION` of the hosts' fleet.conf (`Playbooks.fleetVersion`).
    public var fleetVersion: String
    /// `--probe` results by host name; hosts already on the target are skipped unless `force`.
    public var probe: [String: HostState]?
    public var force: Bool
    public var rollbackOnFailure: Bool
    /// `--strict-image`: a problem the image check finds refuses the run (exit 4) instead of warning.
    public var strictImage: Bool
    /// `--skip-unreachable`: hosts pre-flight cannot reach are left out instead of stopping the run.
    public var skipUnreachable: Bool

    public init(inventory: Inventory, command: PlanCommand, version: String? = nil, rollbackTo: String? = nil,
                hosts: [HostEntry], run: RunContext, playbookNames: [String], playbooksDir: String,
                probe: [String: HostState]? = nil, force: Bool = false, rollbackOnFailure: Bool = false,
                strictImage: Bool = false, skipUnreachable: Bool = false, fleetVersion: String = FleetVersion.current) {
        self.inventory = inventory
        self.command = command
        self.version = version
        self.rollbackTo = rollbackTo
        self.hosts = hosts
        self.run = run
        self.playbookNames = playbookNames
        self.playbooksDir = playbooksDir
        self.probe = probe
        self.force = force
        self.rollbackOnFailure = rollbackOnFailure
        self.strictImage = strictImage
        self.skipUnreachable = skipUnreachable
        self.fleetVersion = fleetVersion
    }
}

/// Rolling batches, as Ansible's `serial`: entry i sizes batch i, the last entry repeats; a percentage is of
/// `hostCount`, rounded down but at least 1; the last batch takes what is left.
public func batchSizes(_ spec: [BatchSize], hostCount: Int) -> [Int] {
    guard hostCount > 0 else { return [] }
    let spec = spec.isEmpty ? [BatchSize.percent(100)] : spec
    var sizes: [Int] = []
    var remaining = hostCount
    while remaining > 0 {
        let entry = spec[min(sizes.count, spec.count - 1)]
        var size: Int
        switch entry {
        case .count(let n): size = n
        case .percent(let p): size = max(1, hostCount * p / 100)
        }
        size = max(1, min(size, remaining))
        sizes.append(size)
        remaining -= size
    }
    return sizes
}
