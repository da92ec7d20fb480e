import ArgumentParser

/// What `fleet plan` and `fleet deploy` tell the plan builder; rollback has none of these (it probes nothing,
/// has no undo of its own and checks no image), so it does not take them.
public struct PlanChoiceOptions: ParsableArguments, Sendable {
    @Flag(help: "With a probe (plan --probe, deploy --dry-run --probe): plan hosts already on the version too, instead of skipping them.")
    public var force = false

    @Flag(name: .customLong("rollback-on-failure"), help: "When the rollout halts, return the hosts this run updated to their previous release.")
    public var rollbackOnFailure = false

    @Flag(name: .customLong("strict-image"), help: "Refuse (exit 4) when the image runs as root, has no HEALTHCHECK or is over the size budget.")
    public var strictImage = false

    public init() {}

    var choices: PlanChoices { PlanChoices(force: force, rollbackOnFailure: rollbackOnFailure, strictImage: strictImage) }
}

/// The plan builder's choices as values (rollback: all off but `skipUnreachable`, a run option).
struct PlanChoices: Sendable {
    var force = false
    var rollbackOnFailure = false
    var strictImage = false
    /// `--skip-unreachable` of deploy and rollback: in the plan, since it changes what runs.
    var skipUnreachable = false
}

/// How `fleet deploy` and `fleet rollback` run a plan: these mean nothing to `fleet plan` or a `--dry-run`.
public struct RunOptions: ParsableArguments, Sendable {
    @Flag(name: .customLong("skip-unreachable"), help: "Leave out hosts that cannot be reached in pre-flight (and say which) instead of stopping.")
    public var skipUnreachable = false

    @Option(help: "How progress shows: live (a redrawn line per host and a progress bar), plain (timestamped lines), or auto (live when stderr is a terminal; the default).")
    public var progress: ProgressMode?

    @Option(help: "Push the run's metrics to this Prometheus Pushgateway (default: the inventory's metrics.pushgateway).")
    public var pushgateway: String?

    public init() {}

    /// The options given, by name: what `--dry-run` refuses (it runs nothing).
    var given: [String] {
        (skipUnreachable ? ["--skip-unreachable"] : []) + (progress != nil ? ["--progress"] : []) + (pushgateway != nil ? ["--pushgateway"] : [])
    }
}

/// `--progress`: the live view on terminals, plain lines for CI logs.
public enum ProgressMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, live, plain
}

/// A usage error naming the command and what to do, from `validate()`: exit 2, nothing contacted.
func refuse(_ command: String, _ options: [String], _ why: String) -> ValidationError {
    ValidationError("fleet \(command): \(options.joined(separator: ", ")) \(options.count == 1 ? "means" : "mean") nothing here: \(why)")
}
