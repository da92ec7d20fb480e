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
    @OptionGroup public var scripts: PlaybookOptions

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

    public func perform(context: CommandContext) async throws -> Int32 {
        let loaded = try inventory.scriptTargets(selection, scripts, context)
        let (inventory, hosts, playbooks) = (loaded.inventory, loaded.hosts, loaded.playbooks)
        let deployUser = user ?? inventory.ssh.user
        guard Self.isLoginName(deployUser) else {
            throw InputError("--user", "'\(deployUser)': expected a login name (lowercase letters, digits, _ -)")
        }
        guard deployUser != "root" else {
            throw InputError("--user", "the deploy user must not be root (\(user == nil ? "ssh.user in \(inventory.file) is root" : "--user root")); "
                + "give the account fleet deploys as: --user deploy")
        }
        guard Self.isLoginName(login) else { throw InputError("--login", "'\(login)': expected a login name") }
        guard playbooks.files.contains(where: { $0.name == "setup.sh" }) else {
            throw PlaybooksError("\(playbooks.dir) has no setup.sh; use the playbooks/ folder of this fleet version")
        }
        let plan = HostSetup(inventory: inventory, playbooks: playbooks, deployUser: deployUser, login: login)
        if dryRun {
            for host in hosts { context.out(plan.describe(host.name, address: host.address)) }
            return 0
        }
        let targets = hosts.map { host -> HostEntry in
            var h = host
            h.connection.user = Resolved(login, from: .option("--login"))
            return h
        }
        let results = try await context.sessions(inventory).each(targets) { _, session in try await plan.run(on: session) }
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
