import ArgumentParser

/// Options shared by `fleet plan`, `fleet deploy` and `fleet rollback`.
public struct RolloutOptions: ParsableArguments, Sendable {
    @Flag(help: "Redeploy hosts the probe finds already on the version.")
    public var force = false

    @Flag(name: .customLong("rollback-on-failure"), help: "When the rollout halts, return the hosts this run updated to their previous release.")
    public var rollbackOnFailure = false

    @Flag(name: .customLong("skip-unreachable"), help: "Leave out hosts that cannot be reached in pre-flight (and say which) instead of stopping.")
    public var skipUnreachable = false

    @Flag(help: "Print newline-delimited JSON events and the final report instead of text.")
    public var json = false

    @Option(help: "How progress shows: live (a redrawn line per host and a progress bar), plain (timestamped lines), or auto (live when stderr is a terminal).")
    public var progress: ProgressMode = .auto

    @Option(help: "Push the run's metrics to this Prometheus Pushgateway (default: the inventory's metrics.pushgateway).")
    public var pushgateway: String?

    @Flag(name: .customLong("strict-image"), help: "Refuse (exit 4) when the image runs as root, has no HEALTHCHECK or is over the size budget.")
    public var strictImage = false

    public init() {}
}

/// `--progress`: the live view on terminals, plain lines for CI logs.
public enum ProgressMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, live, plain
}
