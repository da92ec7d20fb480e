import Foundation
import Testing

/// The fleet binary as a child process, and the lab's host-side processes, for the interruption tests.
extension E2E {
    /// The `fleet` executable built beside the test bundle (`swift build` builds both).
    static func fleetBinary() -> String? {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        return [bundleDir + "/fleet", repo + "/.build/debug/fleet"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Child {
        let pid: pid_t

        /// Waits on a thread of its own (never on the cooperative pool); the exit code, or 128 + the signal.
        func exitStatus() async -> Int32 {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    var status: Int32 = 0
                    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                    let signal = status & 0x7F
                    continuation.resume(returning: signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
                }
            }
        }
    }

    /// Starts `binary` with stdout and stderr into `output`, default signal handling and an empty signal mask
    /// (a test runner's threads block signals; a child must not inherit that).
    static func spawn(_ binary: String, _ arguments: [String], output: String) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let environment = ["FLEET_PLAYBOOKS=\(repo)/playbooks", "USER=e2e", "NO_COLOR=1",
                           "PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"]
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, binary, &actions, &attributes, argv, envp)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
        return Child(pid: pid)
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Polls a file until it contains `text`; false after `seconds`.
    static func waitFor(_ path: String, containing text: String, seconds: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if read(path).contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Whether a fleet lock file is on lab host `host` (the e2e inventory's state folder).
    static func fleetLockHeld(_ host: Int) async -> Bool {
        await !sh("find \(Lab.dir)/hosts/web\(host)/state -name fleet.lock 2>/dev/null").isEmpty
    }

    static func health(_ host: Int) async -> String {
        await sh("curl -s -m 5 -o /dev/null -w '%{http_code}' http://10.77.0.\(10 + host)/health")
    }

    /// Kills (SIGKILL) the sshd processes that carry the connection running web`host`'s deploy script, found
    /// by walking up from the script to the lab's sshd listener (which stays). Returns how many were killed.
    static func dropConnections(host: Int) async -> Int {
        let script = """
        listener=$(cat '\(Lab.dir)/hosts/web\(host)/sshd.pid')
        p=$(pgrep -o -f 'hosts/web\(host)/opt/bin/deploy.sh') || exit 0
        victims=()
        while p=$(ps -o ppid= -p "$p" | tr -d ' ') && [ -n "$p" ] && [ "$p" != "$listener" ] && [ "$p" != 1 ]; do
          [ "$(ps -o comm= -p "$p")" = sshd ] && victims+=("$p")
        done
        [ "${#victims[@]}" -gt 0 ] && kill -KILL "${victims[@]}"
        echo "${#victims[@]}"
        """
        let path = NSTemporaryDirectory() + "fleet-drop-\(UInt32.random(in: 0...UInt32.max)).sh"
        try? script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return Int(await sh("bash \(path)").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Waits (up to 2 minutes) until no deploy or rollback script of web`host` runs any more.
    static func waitForHostScripts(host: Int) async {
        await sh("for _ in $(seq 240); do pgrep -f 'hosts/web\(host)/opt/bin/(deploy|rollback).sh' >/dev/null || break; sleep 0.5; done")
    }
}
