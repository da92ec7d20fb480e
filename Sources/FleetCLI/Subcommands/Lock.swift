import ArgumentParser
import FleetCore
import Foundation

/// `fleet lock status` / `fleet lock release`: the fleet lock that deploy and rollback hold on every host.
public struct Lock: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show or release the fleet lock held on the hosts.",
        discussion: "See docs/runbooks/stale-lock.md before releasing a lock.",
        subcommands: [LockStatus.self, LockRelease.self]
    )

    public init() {}
}

/// `fleet lock status`: who holds the fleet lock on which host.
public struct LockStatus: ContextCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show who holds the fleet lock on each host: who, pid, command, version, run id and age.",
        discussion: "Exit status: 0 when every host answered (locked or not), 1 when a host could not be read, 2 for a usage or inventory error."
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Flag(help: "Print one JSON object per host: host, lock (the record or null), error.")
    public var json = false

    public init() {}

    public func perform(context: CommandContext) async throws -> Int32 {
        let setup = try LockSetup(inventory, selection, scripts, context)
        let results = try await setup.each("lock.sh", ["status"], context) { output, now in
            LockRecord(output.json?["holder"], now: now)
        }
        var rows: [[String]] = []
        for (host, result) in zip(setup.hosts, results) {
            switch result {
            case .success(let record):
                if json { context.out(jsonLine(LockLine(host: host.name, lock: record, error: nil)) + "\n") }
                rows.append([host.name, record?.who ?? "free", record?.pid.map(String.init) ?? "-",
                             record.map { [$0.command, $0.version].compactMap { $0 }.joined(separator: " ") } ?? "-",
                             record?.runId ?? "-", record?.ageSeconds.map(StatusFormat.age) ?? "-"])
            case .failure(let failure):
                if json { context.out(jsonLine(LockLine(host: host.name, lock: nil, error: failure.description)) + "\n") }
                rows.append([host.name, failure.unreachable ? "UNREACHABLE" : "UNKNOWN", "-", "-", "-", StatusFormat.oneLine(failure.description)])
            }
        }
        if !json {
            context.out(StatusFormat.table(["HOST", "HELD BY", "PID", "COMMAND", "RUN ID", "AGE"], rows))
            let held = results.compactMap { result -> LockRecord? in if case .success(let r) = result { r } else { nil } }
            if held.isEmpty {
                context.err("no fleet lock held on the hosts that answered\n")
            } else {
                context.err("\(held.count) host(s) locked. If the holder is gone (see docs/runbooks/stale-lock.md): "
                    + "fleet lock release --env \(setup.inventory.environment)\n")
            }
        }
        return LockSetup.exitCode(results)
    }
}

/// `fleet lock release`: removes a stale fleet lock (`lock.sh release --force`), saying whose it was.
public struct LockRelease: ContextCommand {
    public static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Remove a stale fleet lock from the hosts, saying whose it was.",
        discussion: """
            Only for a lock whose holder is gone (killed, a vanished CI runner): releasing the lock of a running \
            deploy lets a second one start. Every host is read first: while a deploy or rollback still runs on \
            any of them, nothing is released (exit 3, naming the run), unless --force names that run; nor while \
            a host cannot be read (exit 4: leave it out with --hosts). Exit status: 0 when every host is now \
            unlocked, 1 when a host refused, 2 for a usage or inventory error, 3 when a run is alive, 4 when a \
            host could not be read.
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Flag(help: "Print one JSON object per host: host, lock (the record removed, or null), error.")
    public var json = false

    @Option(name: .customLong("force"), help: "Release even though this run (its run id) still runs on some host; those hosts still refuse.")
    public var forceRun: String?

    public init() {}

    public func perform(context: CommandContext) async throws -> Int32 {
        let setup = try LockSetup(inventory, selection, scripts, context)
        // A run alive on any host: release nothing (its other hosts' locks are not stale either).
        let busy = try await setup.each("lock.sh", ["status"], context) { output, now in LockRecord(output.json?["busy"], now: now) }
        switch LockReleaseRule.verdict(hosts: setup.hosts.map(\.name), busy: busy, force: forceRun) {
        case .release:
            break
        case .unreadable(let failures):
            // A host whose lock could not be read may run a deploy right now.
            for failure in failures { context.err("error: \(failure.description)\n") }
            let names = failures.map(\.host)
            context.err("error: nothing was released: a run may be alive on \(names.joined(separator: ", ")), whose lock could not be read; "
                + "reach \(names.count == 1 ? "it" : "them") again, or leave \(names.count == 1 ? "it" : "them") out with --hosts\n")
            return ExitStatus.preflight
        case .alive(let hosts, let records):
            for (host, record) in zip(hosts, records) { context.err("\(host): a \(record.summary) is running there now\n") }
            context.err("error: nothing was released: the lock is not stale while that run is alive; wait for it to end, "
                + "or, if you are sure, name it: fleet lock release --force \(records.first?.runId ?? "RUN_ID") ...\n")
            return ExitStatus.lockHeld
        }
        let results = try await setup.each("lock.sh", ["release", "--force"], context) { output, now in
            LockRecord(output.json?["holder"], now: now)
        }
        for (host, result) in zip(setup.hosts, results) {
            switch result {
            case .success(let record):
                if json {
                    context.out(jsonLine(LockLine(host: host.name, lock: record, error: nil)) + "\n")
                } else if let record {
                    context.out("\(host.name): released the fleet lock of \(record.summary)\n")
                } else {
                    context.out("\(host.name): no fleet lock was held\n")
                }
            case .failure(let failure):
                if json { context.out(jsonLine(LockLine(host: host.name, lock: nil, error: failure.description)) + "\n") }
                context.err("error: \(failure.description)\n")
            }
        }
        if LockSetup.exitCode(results) != 0 {
            context.err("some hosts still may hold the lock; fix what the errors say, then run this again\n")
        }
        return LockSetup.exitCode(results)
    }
}

/// One host in `--json` output of the lock commands.
struct LockLine: Encodable {
    var host: String
    var lock: LockRecord?
    var error: String?

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        try c.encode(lock, forKey: .lock)
        try c.encode(error, forKey: .error)
    }

    enum CodingKeys: String, CodingKey { case host, lock, error }
}

/// What both lock commands share: the inventory, the hosts, the playbooks, one script call per host.
struct LockSetup {
    let inventory: Inventory
    let hosts: [HostEntry]
    let playbooks: Playbooks

    init(_ options: InventoryOptions, _ selection: HostSelectionOptions, _ scripts: PlaybookOptions, _ context: CommandContext) throws {
        let targets = try options.scriptTargets(selection, scripts, context)
        (inventory, hosts, playbooks) = (targets.inventory, targets.hosts, targets.playbooks)
    }

    func each<Value: Sendable>(_ script: String, _ args: [String], _ context: CommandContext,
                               _ parse: @escaping @Sendable (HostScriptOutput, Date) -> Value) async throws -> [Result<Value, HostFailure>] {
        let scripts = HostScripts(inventory: inventory, playbooks: playbooks)
        return try await context.sessions(inventory).each(hosts) { host, session in
            let output = try await scripts.installAndRun(script, args, on: session)
            guard output.succeeded else {
                throw HostFailure(host: host.name, message: "\(script) \(args.first ?? "") failed: \(output.problem)")
            }
            return parse(output, Date())
        }
    }

    static func exitCode<Value>(_ results: [Result<Value, HostFailure>]) -> Int32 {
        results.allSatisfy { if case .success = $0 { true } else { false } } ? 0 : 1
    }
}
