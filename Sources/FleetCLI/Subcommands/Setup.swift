import ArgumentParser
import FleetCore
import Foundation

/// `fleet setup`: prepares each host for fleet by running `playbooks/setup.sh` as root (idempotent).
public struct Setup: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Prepare hosts for fleet: docker, nginx, the deploy user, its rights and fleet's folders.",
        discussion: """
            Logs in as --login (default root; any other login needs passwordless sudo), uploads the host scripts \
            and the host's fleet.conf to a fresh folder under /tmp, runs setup.sh --user USER there as root, and \
            removes the folder. Safe to run again: each host says what it changed. See docs/host-setup.md.
            Exit status: 0 when every host is ready, 1 when a host failed, 2 for a usage or inventory error.
            Example: fleet setup --env production --hosts web5 --dry-run
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions

    @Option(help: "The deploy user to create and grant rights to (default: the inventory's ssh.user).")
    public var user: String?

    @Option(help: "Log in as this user to run setup (default: root; others go through sudo -n).")
    public var login = "root"

    @Flag(help: "Print what would run on each host, and contact none.")
    public var dryRun = false

    public init() {}

    static func isLoginName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 32,
              ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    public func run(context: CommandContext) async throws -> Int32 {
        guard let loaded = inventory.scriptTargets(selection, context) else { return 2 }
        let (inventory, hosts, playbooks) = (loaded.inventory, loaded.hosts, loaded.playbooks)
        let deployUser = user ?? inventory.ssh.user
        guard Self.isLoginName(deployUser) else {
            context.err("error: --user '\(deployUser)': expected a login name (lowercase letters, digits, _ -)\n")
            return 2
        }
        guard deployUser != "root" else {
            context.err("error: the deploy user must not be root (\(user == nil ? "ssh.user in \(inventory.file) is root" : "--user root")); "
                + "give the account fleet deploys as: --user deploy\n")
            return 2
        }
        guard Self.isLoginName(login) else {
            context.err("error: --login '\(login)': expected a login name\n")
            return 2
        }
        guard playbooks.files.contains(where: { $0.name == "setup.sh" }) else {
            context.err("error: \(playbooks.dir) has no setup.sh; use the playbooks/ folder of this fleet version\n")
            return 2
        }
        let plan = SetupPlan(inventory: inventory, playbooks: playbooks, deployUser: deployUser, login: login)
        if dryRun {
            for host in hosts { context.out(plan.describe(host.name, address: host.address)) }
            return 0
        }
        let targets = hosts.map { host -> HostEntry in var h = host; h.user = login; return h }
        let results = await onEachHost(targets, inventory: inventory, transport: context.makeTransport()) { host, session in
            try await plan.run(on: session)
        }
        for (host, result) in zip(hosts, results) {
            switch result {
            case .success(let changed):
                context.out(changed.isEmpty ? "\(host.name): ready, nothing changed\n"
                                            : "\(host.name): ready; changed: \(changed.joined(separator: "; "))\n")
            case .failure(let failure):
                context.err("error: \(failure.description)\n")
            }
        }
        let failed = results.filter { if case .failure = $0 { true } else { false } }.count
        if failed > 0 {
            context.err("\(failed) of \(hosts.count) hosts not ready; fix what each error says and run fleet setup again (it is safe to repeat)\n")
            return 1
        }
        context.err("\(hosts.count) hosts ready for \(deployUser); next: fleet plan --env \(inventory.environment) VERSION --probe\n")
        return 0
    }
}

/// What setup does on one host, as data (for --dry-run) and as actions.
struct SetupPlan: Sendable {
    let inventory: Inventory
    let playbooks: Playbooks
    let deployUser: String
    let login: String

    var sudo: String { login == "root" ? "" : "sudo -n " }

    func setupCommand(_ dir: String) -> String {
        sudo + ShellWords.join(["bash", dir + "/setup.sh", "--config", dir + "/fleet.conf", "--user", deployUser])
    }

    func describe(_ host: String, address: String) -> String {
        var text = "== \(host) (\(login)@\(address))\n"
        text += "  run     mktemp -d /tmp/fleet-setup.XXXXXX  (called DIR below)\n"
        for file in playbooks.files { text += "  upload  \(file.name) -> DIR/\(file.name) (0755)\n" }
        text += "  upload  fleet.conf -> DIR/fleet.conf (0644):\n"
        text += FleetConf.render(inventory, host: host).split(separator: "\n").map { "            \($0)\n" }.joined()
        text += "  run     \(setupCommand("DIR"))\n"
        text += "  run     rm -rf DIR\n"
        return text
    }

    /// Runs setup.sh on the host; returns what it changed.
    func run(on session: any HostSession) async throws -> [String] {
        let host = session.hostName
        let made = try await session.run("mktemp -d /tmp/fleet-setup.XXXXXX", timeout: .seconds(30), stdin: [], onLine: nil)
        let dir = made.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard made.succeeded, dir.hasPrefix("/tmp/fleet-setup.") else {
            throw HostFailure(host: host, message: "cannot create a folder under /tmp as \(login): \(made.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let output: CommandResultText
        do {
            for file in playbooks.files { try await session.upload(file.bytes, to: dir + "/" + file.name, mode: 0o755) }
            try await session.upload(Array(FleetConf.render(inventory, host: host).utf8), to: dir + "/fleet.conf", mode: 0o644)
            let result = try await session.run(setupCommand(dir), timeout: .seconds(1800), stdin: [], onLine: nil)
            output = CommandResultText(status: result.exitStatus, stdout: result.stdoutText, stderr: result.stderrText)
        } catch {
            _ = try? await session.run("rm -rf " + ShellWords.quote(dir), timeout: .seconds(30), stdin: [], onLine: nil)
            throw error
        }
        _ = try? await session.run("rm -rf " + ShellWords.quote(dir), timeout: .seconds(30), stdin: [], onLine: nil)
        let json = JSONValue.lastObject(in: output.stdout)
        guard output.status == 0 else {
            let said = json?["error"]?.text ?? output.stderr.split(separator: "\n").suffix(3).joined(separator: " / ")
            let hint = login == "root" ? "" : " (as \(login) through sudo -n: that user needs passwordless sudo, or use --login root)"
            throw HostFailure(host: host, message: "setup.sh failed with exit \(output.status)\(hint): \(said)")
        }
        if case .array(let items)? = json?["changed"] { return items.compactMap(\.text) }
        return []
    }
}

struct CommandResultText: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}
