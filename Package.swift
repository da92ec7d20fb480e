// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "fleet",
    products: [
        .executable(name: "fleet", targets: ["fleet"]),
        .library(name: "FleetCore", targets: ["FleetCore"]),
        .library(name: "SSHEngine", targets: ["SSHEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libssh2 1.10 from Debian's libssh2-1-dev.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // TLS for the webhook and Pushgateway posts, through the OpenSSL that libssh2 already links (libssl-dev).
        .target(
            name: "CFleetTLS",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // Generates the source that carries playbooks/*.sh inside the binary (run by the EmbedPlaybooks plugin).
        .executableTarget(name: "EmbedPlaybooksTool", path: "Plugins/EmbedPlaybooksTool"),
        .plugin(name: "EmbedPlaybooks", capability: .buildTool(), dependencies: ["EmbedPlaybooksTool"]),
        // The SSH engine: sessions on dedicated threads, known_hosts, commands, uploads.
        .target(
            name: "SSHEngine",
            dependencies: ["CLibSSH2"]
        ),
        // Inventory -> plan -> execution -> report. The plan is pure data.
        .target(
            name: "FleetCore",
            dependencies: ["SSHEngine", "CFleetTLS", "Yams"],
            plugins: ["EmbedPlaybooks"]
        ),
        // The subcommands, each taking an injected context so tests can drive them.
        .target(
            name: "FleetCLI",
            dependencies: ["FleetCore", "SSHEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "fleet", dependencies: ["FleetCLI"]),
        // What the test targets share (running a shell command on the controller).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FleetCoreTests", dependencies: ["FleetCore", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "SSHEngineTests", dependencies: ["SSHEngine", "TestSupport"]),
        .testTarget(name: "FleetCLITests", dependencies: ["FleetCLI", "FleetCore", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
