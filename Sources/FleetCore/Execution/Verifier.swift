import Foundation
import SSHEngine

/// One endpoint checked on one host.
public struct VerifyCheck: Sendable, Encodable, Equatable {
    public var path: String
    public var expected: Int
    /// The HTTP status nginx answered; 0 when nothing answered.
    public var status: Int
    public var timeMs: Int
    public var ok: Bool { status == expected }

    public init(path: String, expected: Int, status: Int, timeMs: Int) {
        self.path = path
        self.expected = expected
        self.status = status
        self.timeMs = timeMs
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(expected, forKey: .expected)
        try c.encode(status, forKey: .status)
        try c.encode(timeMs, forKey: .timeMs)
        try c.encode(ok, forKey: .ok)
    }

    enum CodingKeys: String, CodingKey { case path, expected, status, timeMs, ok }
}

/// A host's verification: every endpoint's answer, or why the host could not be checked.
public struct VerifyResult: Sendable, Encodable, Equatable {
    public var host: String
    public var checks: [VerifyCheck]
    /// Set when the host could not be reached or curl could not run; then `checks` is empty.
    public var error: String?
    public var unreachable: Bool

    public var ok: Bool { error == nil && !checks.isEmpty && checks.allSatisfy(\.ok) }
    public var failedChecks: [VerifyCheck] { checks.filter { !$0.ok } }

    public init(host: String, checks: [VerifyCheck], error: String? = nil, unreachable: Bool = false) {
        self.host = host
        self.checks = checks
        self.error = error
        self.unreachable = unreachable
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        try c.encode(ok, forKey: .ok)
        try c.encode(checks, forKey: .checks)
        try c.encode(error, forKey: .error)
        try c.encode(unreachable, forKey: .unreachable)
    }

    enum CodingKeys: String, CodingKey { case host, ok, checks, error, unreachable }

    /// One line for a recap: "web2: /metrics answered 502 (expected 200)".
    public var problem: String? {
        if let error { return error }
        if checks.isEmpty { return "\(host): no endpoints to verify" }
        let failed = failedChecks.map { "\($0.path) answered \($0.status == 0 ? "nothing" : String($0.status)) (expected \($0.expected))" }
        return failed.isEmpty ? nil : "\(host): " + failed.joined(separator: ", ")
    }
}

/// Checks the inventory's `verify` endpoints on every host through its own nginx (`curl` against `nginx.url`
/// over SSH), all hosts in parallel. Deploy calls this after each batch and counts a failed host as unhealthy.
public enum Verifier {
    /// Seconds curl may take per endpoint.
    public static let timeoutSeconds = 10

    /// `fleet verify`: every host checked in parallel, each on a session of its own (closed when done).
    public static func verify(inventory: Inventory, hosts: [HostEntry], sessions: Sessions) async -> [VerifyResult] {
        let endpoints = inventory.verify
        let command = self.command(inventory: inventory)
        let results = await sessions.each(hosts) { host, session in
            let output = try await session.run(command, timeout: .seconds(timeoutSeconds * max(1, endpoints.count) + 60),
                                               stdin: [], onLine: nil)
            return try parse(output.stdoutText, endpoints: endpoints, host: host.name, stderr: output.stderrText)
        }
        return zip(hosts, results).map { host, result in
            switch result {
            case .success(let checks): return VerifyResult(host: host.name, checks: checks)
            case .failure(let failure):
                return VerifyResult(host: host.name, checks: [], error: failure.description, unreachable: failure.unreachable)
            }
        }
    }

    /// What a rollout's verify step gave on one host, as the failure to report; nil when every endpoint answered
    /// as expected.
    static func problem(_ result: CommandResult, endpoints: [VerifyEndpoint], host: String) -> String? {
        do {
            let checks = try parse(result.stdoutText, endpoints: endpoints, host: host, stderr: result.stderrText)
            let failed = checks.filter { !$0.ok }.map { "\($0.path) gave \($0.status), expected \($0.expected)" }
            return failed.isEmpty ? nil : "verify through nginx failed: " + failed.joined(separator: "; ")
        } catch {
            return "verify through nginx failed: \((error as? HostFailure)?.message ?? "\(error)")"
        }
    }

    /// The line a swap's command prints before its endpoints' answers (the swap's own output comes before it).
    static let marker = "fleet-verify:"

    /// What a swap followed by its verify gave: the endpoints' problem, nil when all answered as expected.
    static func problemAfterSwap(_ result: CommandResult, endpoints: [VerifyEndpoint], host: String) -> String? {
        let stdout = result.stdoutText
        let answers = stdout.range(of: "\n" + marker + "\n").map { String(stdout[$0.upperBound...]) }
            ?? (stdout.hasPrefix(marker + "\n") ? String(stdout.dropFirst(marker.count + 1)) : "")
        var answered = result
        answered.stdout = Array(answers.utf8)
        return problem(answered, endpoints: endpoints, host: host)
    }

    /// The one remote command: one `STATUS SECONDS` line per endpoint, in order (`000` when nothing answered).
    public static func command(inventory: Inventory) -> String {
        let urls = inventory.verify.map { ShellWords.quote(inventory.nginx.url + $0.path) }.joined(separator: " ")
        guard !urls.isEmpty else { return "true" }
        return "command -v curl >/dev/null || { echo 'curl is not installed' >&2; exit 127; }; "
            + "for u in \(urls); do curl -s -o /dev/null --connect-timeout 3 --max-time \(timeoutSeconds) "
            + "-w '%{http_code} %{time_total}\\n' \"$u\" || true; done"
    }

    static func parse(_ stdout: String, endpoints: [VerifyEndpoint], host: String, stderr: String) throws -> [VerifyCheck] {
        let lines = stdout.split(separator: "\n").map { $0.split(separator: " ") }
        guard lines.count == endpoints.count else {
            let why = stderr.split(separator: "\n").last.map(String.init) ?? "unexpected output"
            throw HostFailure(host: host, message: "could not check the endpoints with curl: \(why); install curl on the host (fleet setup does)")
        }
        return zip(endpoints, lines).map { endpoint, words in
            let status = words.first.flatMap { Int($0) } ?? 0
            let seconds = words.count > 1 ? Double(words[1]) ?? 0 : 0
            return VerifyCheck(path: endpoint.path, expected: endpoint.status, status: status, timeMs: Int((seconds * 1000).rounded()))
        }
    }

    /// The table for people: one row per host and endpoint.
    public static func table(_ results: [VerifyResult]) -> String {
        var rows: [[String]] = []
        for result in results {
            if let error = result.error {
                rows.append([result.host, "-", "-", "-", "-", (result.unreachable ? "UNREACHABLE: " : "ERROR: ") + StatusFormat.oneLine(error)])
                continue
            }
            for check in result.checks {
                rows.append([result.host, check.path, String(check.expected), check.status == 0 ? "none" : String(check.status),
                             "\(check.timeMs)ms", check.ok ? "ok" : "FAILED"])
            }
        }
        return StatusFormat.table(["HOST", "ENDPOINT", "WANT", "GOT", "TIME", "RESULT"], rows)
    }
}
