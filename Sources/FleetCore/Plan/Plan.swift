import SSHEngine

/// A rollout as pure data: what `fleet plan` prints and the executor runs, step by step, exactly.
///
/// Execution order: `stages` in order; then, if the rollout halted on failures and `policy.rollbackOnFailure`,
/// `onFailure` for the hosts this run had deployed; then, always (however the run ends), `finally` on every host
/// whose lock this run took.
public struct Plan: Sendable, Equatable, Codable {
    /// Version of this JSON shape.
    public var format: Int = 1
    public var command: PlanCommand
    public var app: String
    public var environment: String
    /// The inventory file (absolute).
    public var inventory: String
    /// Image reference without tag.
    public var image: String
    /// The version to deploy (deploy), nil for rollback.
    public var version: String?
    /// Rollback target (`--to`), nil for "the previous release".
    public var rollbackTo: String?
    public var run: RunContext
    public var policy: FailurePolicy
    /// Hosts this plan changes, in rollout order.
    public var hosts: [PlanHost]
    /// Selected hosts left alone, with the reason.
    public var skipped: [SkippedHost]
    /// The env file as shown: path, key names and count, never values (nil: no env file).
    public var envFile: EnvFileSummary?
    public var stages: [Stage]
    /// The host the lock is taken on first (the first by name), where the image check and the hooks run.
    public var leadHost: String? = nil
    /// Undo steps per host, run only when the rollout halts and `policy.rollbackOnFailure` is set.
    public var onFailure: [HostSteps]
    /// Steps per host run always at the end (release the lock).
    public var finally: [HostSteps]
    /// How long one host's swap may take at most, and of what.
    public var hostTime: HostTime?
    /// `ssh.config`: the file read and the keywords fleet ignored for these hosts (nil: `ssh.config` off).
    public var sshConfig: SSHConfigSummary? = nil
    /// Deploy with `registry:`: the registry pre-flight logs in to, never the password (nil: no login).
    public var registry: RegistrySummary? = nil
    /// `processes:` as the inventory declares them (nil: one web process on every host).
    public var processes: [ProcessSummary]? = nil
    /// What the run will do that the user may not expect (an env file line fleet does not substitute, an RSA
    /// identity file); shown by the plan and by deploy, never a value (nil: none).
    public var warnings: [String]? = nil
}

/// The registry login as shown: server, username and the variables read, never the password.
public struct RegistrySummary: Sendable, Equatable, Codable {
    public var server: String
    public var username: String
    public var usernameEnv: String?
    public var passwordEnv: String
}

/// The most one host's swap may take: the health wait (the new container, then through nginx), the drain, the
/// old container's stop before SIGKILL, and room for docker; the swap step's timeout.
public struct HostTime: Sendable, Equatable, Codable {
    public var health: Int
    public var drain: Int
    public var stop: Int
    public var docker: Int
    /// With workers: their check and the old ones' stop (nil: no workers).
    public var workers: WorkerTime?
    /// The hosts that run no web process (`processes:`): no nginx health wait, drain or web stop, so their swap
    /// takes at most `workersOnlyTotal` (nil: every host runs the web process).
    public var workersOnly: [String]? = nil
    public var total: Int { health * 2 + drain + stop + workersOnlyTotal }
    public var workersOnlyTotal: Int { docker + (workers.map { $0.check + $0.stop } ?? 0) }
}

public enum PlanCommand: String, Sendable, Equatable, Codable {
    case deploy, rollback
}

/// Who runs this and when; given to the builder, never read by it.
public struct RunContext: Sendable, Equatable, Codable {
    public var runId: String
    /// `user@machine`.
    public var who: String
    public var pid: Int
    public var startedAt: String

    public init(runId: String, who: String, pid: Int, startedAt: String) {
        self.runId = runId
        self.who = who
        self.pid = pid
        self.startedAt = startedAt
    }
}

/// A host's state as `--probe` found it.
public struct HostState: Sendable, Equatable, Codable {
    /// The current release (version), if any.
    public var release: String?
    /// blue or green.
    public var slot: String?
    /// Who holds the lock, if anyone (for display).
    public var lock: String?
    /// Set when the host could not be probed.
    public var error: String?

    public init(release: String? = nil, slot: String? = nil, lock: String? = nil, error: String? = nil) {
        self.release = release
        self.slot = slot
        self.lock = lock
        self.error = error
    }
}

public struct FailurePolicy: Sendable, Equatable, Codable {
    /// Failed hosts tolerated; one more halts the rollout after the running batch.
    public var maxFailures: Int
    /// Undo this run's finished hosts when the rollout halts.
    public var rollbackOnFailure: Bool
    /// Hosts in flight at most (pre-flight and within a batch).
    public var parallel: Int
    /// `rollout.batch` as written.
    public var batch: [BatchSize]
    /// The resulting batch sizes.
    public var batchSizes: [Int]
    public var pauseMs: Int
    /// `--skip-unreachable`: pre-flight leaves out the hosts it cannot reach instead of stopping the run.
    public var skipUnreachable: Bool = false
}

public struct SkippedHost: Sendable, Equatable, Codable {
    public var name: String
    public var reason: String
}

public struct EnvFileSummary: Sendable, Equatable, Codable {
    /// The env file read (nil: none; the keys all come from `env:` in the inventory).
    public var path: String?
    public var keys: [String]
    public var count: Int
    /// Where each key's value comes from (`env_file`, `env.clear`, `env.secret`), when the inventory has `env:`.
    public var origins: [String]?
}

/// One stage of the rollout. `lock`: the lead host's pre-flight, whose lock decides between runs started at once;
/// the next `preflight` starts once that lock is held, while the lead's pull goes on. `preflight` and `batch`: every host's steps, hosts in parallel (up to
/// `policy.parallel`), each host's steps in order. `imageCheck`: the pulled image inspected on the lead host.
/// `hook`: the lead host's steps. `batch`: each host's swap, followed in the same command by the `verify`
/// endpoints checked through its nginx (web hosts, with `verify:`). `pause`: wait `pauseMs`. `undo` and `release` are the plan's `onFailure` and `finally`, as the executor runs them. Each
/// kind's rule (what it counts, what halts the run) is its type in Execution/Stages (docs/design.md).
public struct Stage: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case lock, preflight, imageCheck = "image_check", hook, batch, pause, undo, release
    }
    public var kind: Kind
    /// "pre-flight", "before_rollout", "batch 2 of 4", "pause".
    public var title: String
    public var hosts: [HostSteps]
    public var pauseMs: Int?
}

public struct HostSteps: Sendable, Equatable, Codable {
    public var host: String
    public var steps: [Step]
}

/// A remote action: `run` (the exact command line), or `install` (files sent as one tar stream on the stdin of
/// the exact command line, which moves each into place whole).
public struct Step: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case run, install
    }
    public var kind: Kind
    /// What this step is for, in a few words.
    public var purpose: String
    // run
    /// The exact remote command line (arguments shell-quoted as needed).
    public var command: String?
    /// Which host script it runs ("deploy", "lock"...), nil for plain commands.
    public var script: String?
    public var timeoutSeconds: Int?
    // install (with `command`)
    public var files: [InstallFile]?
    /// run: what the command reads on stdin (the env file, the registry password: never on a command line).
    public var stdin: UploadSource?
    /// run: how the command's output is judged when it is a check rather than a host script.
    public var check: StepCheck?

    public static func run(_ command: String, script: String? = nil, purpose: String, timeoutSeconds: Int?) -> Step {
        Step(kind: .run, purpose: purpose, command: command, script: script, timeoutSeconds: timeoutSeconds)
    }

    public static func install(_ files: [InstallFile], command: String, purpose: String, timeoutSeconds: Int?) -> Step {
        Step(kind: .install, purpose: purpose, command: command, timeoutSeconds: timeoutSeconds, files: files)
    }
}

/// How a check step's output is read. `image`: `docker image inspect` output against the card's common failures
/// (root user, no HEALTHCHECK, over `maxSizeMB`): warnings, or a refusal (exit 4) when `strict`. `verify`: one
/// `STATUS SECONDS` line per endpoint, each status compared with the endpoint's.
public struct StepCheck: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case image, verify
    }
    public var kind: Kind
    public var image: String?
    public var maxSizeMB: Int?
    public var strict: Bool?
    public var endpoints: [VerifyEndpoint]?

    public static func image(_ image: String, maxSizeMB: Int, strict: Bool) -> StepCheck {
        StepCheck(kind: .image, image: image, maxSizeMB: maxSizeMB, strict: strict)
    }

    public static func verify(_ endpoints: [VerifyEndpoint]) -> StepCheck {
        StepCheck(kind: .verify, endpoints: endpoints)
    }
}

/// One file of an `install` step: its source, where it ends up, its mode, and its name inside the tar stream.
public struct InstallFile: Sendable, Equatable, Codable {
    public var source: UploadSource
    public var path: String
    /// Octal, like "0755".
    public var mode: String
    public var member: String
}

/// What an upload sends. `playbook`: the file `localPath` (named `name`); `inline`: `content`, shown in full;
/// `envFile`: the inventory's env file (`Inventory.envFile.contents`), shown only as `keys` and `count`
/// (no env file: `localPath` nil, an empty file is uploaded); `registryPassword`: `registry.password`, read from
/// fleet's environment variable `env`, shown only as `{env: NAME}`.
public struct UploadSource: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case playbook, inline, envFile = "env_file", registryPassword = "registry_password"
    }
    public var kind: Kind
    public var name: String
    public var localPath: String?
    public var content: String?
    public var keys: [String]?
    public var count: Int?
    /// registryPassword: the variable of fleet's environment it is read from.
    public var env: String?
}
