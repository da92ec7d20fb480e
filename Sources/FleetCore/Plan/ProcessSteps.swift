/// What `processes:` adds to a host's steps: the files its host scripts read per process, and the words that say
/// what the rollout step does with them. Nothing here when the inventory has no `processes:` (one web process).
extension StepFactory {
    /// Per process on `host`, NUL-separated files beside fleet.conf: `process-NAME.cmd` (the command after the
    /// image); for a worker also `process-NAME.args` (its docker run options) and `process-NAME.conf` (stop
    /// timeout and check, see `AppProcess.confFile`).
    static func processFiles(_ inventory: Inventory, host: String) -> [InstallFile] {
        guard inventory.processesDeclared, let entry = inventory.host(named: host) else { return [] }
        let root = inventory.rootDir(for: host)
        var files: [InstallFile] = []
        func add(_ name: String, _ content: String) {
            files.append(InstallFile(source: UploadSource(kind: .inline, name: name, content: content),
                                     path: root + "/" + name, mode: "0644", member: "1/" + name))
        }
        for process in inventory.processes(on: entry) {
            add("process-\(process.name).cmd", process.cmdFile)
            if !process.isWeb {
                add("process-\(process.name).args", process.options.argumentsFile)
                add("process-\(process.name).conf", process.confFile)
            }
        }
        return files
    }

    /// The rollout step's purpose when the host runs workers (nil: the web process alone, as without
    /// `processes:`).
    func processesPurpose(_ h: HostEntry) -> String? {
        guard inv.processesDeclared else { return nil }
        let processes = inv.processes(on: h)
        let workers = processes.filter { !$0.isWeb }.map(\.name)
        let web = processes.first(where: \.isWeb)
        if workers.isEmpty { return nil }
        let names = workers.joined(separator: ", ")
        var parts = ["start the new \(names) container\(workers.count == 1 ? "" : "s") and pass \(workers.count == 1 ? "its check" : "their checks")"]
        if let web { parts.append("start the new \(web.name) container, wait for health, switch nginx, drain the old one") }
        parts.append("stop the old \(names) (SIGTERM, stop_timeout, SIGKILL); a failed check leaves every process on the previous release")
        return parts.joined(separator: ", then ")
    }
}

extension PlanBuilder {
    /// Which processes run on `host`, for the plan (nil without `processes:`).
    static func processNames(_ inv: Inventory, _ host: HostEntry) -> [String]? {
        inv.processesDeclared ? inv.processes(on: host).map(\.name) : nil
    }

    /// The processes as the plan shows them (nil without `processes:`).
    static func processSummaries(_ inv: Inventory) -> [ProcessSummary]? {
        guard inv.processesDeclared else { return nil }
        return inv.processes.map { p in
            ProcessSummary(name: p.name, role: p.role, cmd: p.cmd.isEmpty ? nil : p.cmd, hosts: p.hosts.description,
                           check: p.check?.description, stopTimeout: p.options.stopTimeoutSeconds, dockerArgs: p.options.arguments)
        }
    }
}

/// One process as the plan shows it.
public struct ProcessSummary: Sendable, Equatable, Codable {
    public var name: String
    public var role: AppProcess.Role
    /// The command after the image; nil: the image's own.
    public var cmd: [String]?
    /// "every host", "tags worker", or host names.
    public var hosts: String
    /// Workers: the check in words.
    public var check: String?
    public var stopTimeout: Int
    /// `docker run` options (the web's: container.args).
    public var dockerArgs: [String]
}

/// A host's workers' share of its time: their checks and the old ones' stop before SIGKILL.
public struct WorkerTime: Sendable, Equatable, Codable {
    public var check: Int
    public var stop: Int
}
