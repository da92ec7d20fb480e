import Foundation

/// The host scripts fleet installs on every host: its own copy, built into the binary from `playbooks/`, or a
/// folder of customised scripts named explicitly.
public struct Playbooks: Sendable {
    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: [UInt8]

        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// Where the scripts come from: fleet's own, or a folder (and why that folder: the option, the variable, ...).
    public enum Origin: Sendable, Equatable {
        case builtIn
        case folder(String)
    }

    /// The folder they were read from (absolute), or `fleet VERSION (built in)` for fleet's own: the plan names
    /// each installed script as `dir/NAME`.
    public var dir: String
    /// Every `*.sh`, sorted by name.
    public var files: [File]
    public var origin: Origin

    /// `origin` nil: a folder, named by `dir`.
    public init(dir: String, files: [File], origin: Origin? = nil) {
        self.dir = dir
        self.files = files
        self.origin = origin ?? .folder(dir)
    }

    /// How fleet's own scripts are named in plans and messages.
    public static var builtInDir: String { "fleet \(FleetVersion.current) (built in)" }

    /// fleet's own scripts, as `playbooks/*.sh` were when this binary was built.
    public static func builtIn() -> Playbooks {
        Playbooks(dir: builtInDir, files: EmbeddedPlaybooks.files.map { File(name: $0.name, bytes: Array($0.text.utf8)) },
                  origin: .builtIn)
    }

    /// What the hosts' `fleet.conf` says of the scripts installed with it (`FLEET_VERSION`): fleet's version,
    /// with `+custom` when they came from a folder.
    public var fleetVersion: String { origin == .builtIn ? FleetVersion.current : FleetVersion.current + "+custom" }

    /// Every script the hosts need, by name (setup.sh runs only through `fleet setup`).
    public var names: [String] { files.map(\.name).filter { $0 != "setup.sh" } }

    /// The bytes of each script by the path the plan names it with (`dir/NAME`), for `UploadFiles`.
    public var bytesByPath: [String: [UInt8]] {
        Dictionary(files.map { (dir + "/" + $0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    }

    /// The one place every command finds its host scripts: the folder of `--playbooks DIR` (`option`), else
    /// `$FLEET_PLAYBOOKS`, else the inventory's `playbooks:` key (`key`, absolute), else fleet's own, built in.
    /// Only a folder named explicitly is used (never one fleet happens to find), and it must hold host scripts
    /// (lib.sh and status.sh); an error says what was found there.
    public static func locate(inventoryFile: String, environment: [String: String], option: String? = nil,
                              currentDirectory: String? = nil, key: String? = nil) throws -> (dir: String, origin: Origin) {
        func absolute(_ path: String) -> String {
            let base = currentDirectory ?? FileManager.default.currentDirectoryPath
            return ((path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)) as NSString).standardizingPath
        }
        let explicit: [(String?, String)] = [(option, "--playbooks"), (environment["FLEET_PLAYBOOKS"], "$FLEET_PLAYBOOKS"),
                                             (key, "playbooks: in \(inventoryFile)")]
        for case let (path?, why) in explicit where !path.isEmpty {
            let dir = absolute(path)
            guard isPlaybooksFolder(dir) else {
                throw PlaybooksError("\(dir) (\(why)) holds no host scripts (lib.sh, status.sh...); name a copy of fleet's "
                    + "playbooks/ (fleet init --with-playbooks writes one), or leave \(why) out to use fleet's own")
            }
            return (dir, .folder(why))
        }
        return (builtInDir, .builtIn)
    }

    static func isPlaybooksFolder(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/lib.sh") && FileManager.default.fileExists(atPath: dir + "/status.sh")
    }

    /// The scripts `locate` finds, read once.
    public static func load(inventoryFile: String, environment: [String: String], option: String? = nil,
                            currentDirectory: String? = nil, key: String? = nil) throws -> Playbooks {
        let found = try locate(inventoryFile: inventoryFile, environment: environment, option: option, currentDirectory: currentDirectory,
                               key: key)
        guard case .folder = found.origin else { return builtIn() }
        var loaded = try load(dir: found.dir)
        loaded.origin = found.origin
        return loaded
    }

    /// Every `*.sh` of a folder.
    public static func load(dir: String) throws -> Playbooks {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".sh") }.sorted()
        let files = try names.map { name -> File in
            guard let data = FileManager.default.contents(atPath: dir + "/" + name) else {
                throw PlaybooksError("cannot read the host script \(dir)/\(name); check its permissions")
            }
            return File(name: name, bytes: Array(data))
        }
        guard !files.isEmpty else { throw PlaybooksError("no host scripts (*.sh) in \(dir)") }
        return Playbooks(dir: dir, files: files, origin: .folder(dir))
    }

    /// For a folder: one line saying that fleet uses it, and how it differs from fleet's own scripts (which
    /// differ, which are only there, which are missing). Nil for fleet's own.
    public func notice() -> String? {
        guard case .folder(let why) = origin else { return nil }
        let own = Dictionary(Playbooks.builtIn().files.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        let mine = Dictionary(files.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        let differ = files.filter { own[$0.name] != nil && own[$0.name] != $0.bytes }.map(\.name)
        let extra = files.filter { own[$0.name] == nil }.map(\.name)
        let missing = own.keys.filter { mine[$0] == nil }.sorted()
        var parts: [String] = []
        if !differ.isEmpty { parts.append("\(differ.count) differ (\(differ.joined(separator: ", ")))") }
        if !extra.isEmpty { parts.append("\(extra.count) not in fleet's (\(extra.joined(separator: ", ")))") }
        if !missing.isEmpty { parts.append("\(missing.count) of fleet's missing (\(missing.joined(separator: ", ")))") }
        let how = parts.isEmpty ? "identical to them" : parts.joined(separator: ", ")
        return "fleet: host scripts from \(dir) (\(why)), not fleet \(FleetVersion.current)'s own: \(how)\n"
    }
}
