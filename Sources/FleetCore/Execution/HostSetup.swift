import Foundation

/// What `fleet setup` does on one host: the host scripts and the host's `fleet.conf` unpacked from one tar stream
/// into a fresh folder under /tmp, `setup.sh --user USER` run there as root, the folder removed, in one round
/// trip. As data (for --dry-run) and as an action.
public struct HostSetup: Sendable {
    public let inventory: Inventory
    public let playbooks: Playbooks
    public let deployUser: String
    public let login: String

    public init(inventory: Inventory, playbooks: Playbooks, deployUser: String, login: String) {
        self.inventory = inventory
        self.playbooks = playbooks
        self.deployUser = deployUser
        self.login = login
    }

    var sudo: String { login == "root" ? "" : "sudo -n " }

    /// The one command; `DIR` is the temporary folder, named `"$d"` on the host.
    public var command: String {
        let setup = sudo + "bash \"$d\"/setup.sh --config \"$d\"/fleet.conf --user " + ShellWords.quote(deployUser)
        return "set -e; d=$(mktemp -d /tmp/fleet-setup.XXXXXX); trap 'rm -rf \"$d\"' EXIT; tar -x -o -f - -C \"$d\"; " + setup
    }

    public func describe(_ host: String, address: String) -> String {
        var text = "== \(host) (\(login)@\(address))\n"
        text += "  send    one tar stream on stdin, unpacked into a fresh folder under /tmp (\"$d\"):\n"
        for file in playbooks.files { text += "            \(file.name) (0755)\n" }
        text += "            fleet.conf (0644):\n"
        text += FleetConf.render(inventory, host: host, fleetVersion: playbooks.fleetVersion).split(separator: "\n").map { "              \($0)\n" }.joined()
        text += "  run     \(command)\n"
        return text
    }

    /// Runs setup.sh on the host; returns what it changed.
    public func run(on session: any HostSession) async throws -> [String] {
        let host = session.hostName
        var entries = playbooks.files.map { Tarball.Entry(name: $0.name, mode: 0o755, bytes: $0.bytes) }
        entries.append(Tarball.Entry(name: "fleet.conf", mode: 0o644, bytes: Array(FleetConf.render(inventory, host: host, fleetVersion: playbooks.fleetVersion).utf8)))
        let stream = try Tarball.pack(entries, mtime: Int(Date().timeIntervalSince1970))
        let result = try await session.run(command, timeout: .seconds(1800), stdin: stream, onLine: nil)
        let json = JSONValue.resultLine(in: result.stdoutText)
        guard result.succeeded else {
            let said = json?["error"]?.text ?? result.stderrText.split(separator: "\n").suffix(3).joined(separator: " / ")
            let hint = login == "root" ? "" : " (as \(login) through sudo -n: that user needs passwordless sudo, or use --login root)"
            throw HostFailure(host: host, message: "setup.sh failed with exit \(result.exitStatus)\(hint): \(said)")
        }
        if case .array(let items)? = json?["changed"] { return items.compactMap(\.text) }
        return []
    }
}
