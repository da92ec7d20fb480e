import Foundation
import SSHEngine

/// One of the common failures an image can carry into production. Plain data: the caller prints the
/// message and, with `--strict-image`, refuses to deploy.
public struct ImageWarning: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// No `USER`, or user 0 / root.
        case runsAsRoot = "runs_as_root"
        /// No `HEALTHCHECK` (or `HEALTHCHECK NONE`).
        case noHealthcheck = "no_healthcheck"
        /// Larger than `image_checks.max_size_mb`.
        case tooLarge = "too_large"
        /// The image could not be inspected on the host (not pulled, docker not answering, odd output).
        case inspectFailed = "inspect_failed"
    }

    public var kind: Kind
    public var host: String
    public var image: String
    /// Said for people: what is wrong and what to do.
    public var message: String

    public init(kind: Kind, host: String, image: String, message: String) {
        self.kind = kind
        self.host = host
        self.image = image
        self.message = message
    }

    public var description: String { "\(host): \(image): \(message)" }
}

/// Inspects an image on a host and reports the card's "common failures": root user, no HEALTHCHECK, too big.
public enum ImageCheck {
    /// The default size budget (MB, 1 MB = 1,000,000 bytes as `docker images` shows it).
    public static let defaultMaxSizeMB = 500

    /// The one read-only command: the image's config and size on one line.
    public static func command(image: String) -> String {
        "docker image inspect \(ShellWords.quote(image)) --format '{{json .Config}}|{{.Size}}'"
    }

    /// Warnings for what the command gave on `host` (a failure to inspect is itself a warning).
    public static func judge(_ result: CommandResult, host: String, image: String, maxSizeMB: Int) -> [ImageWarning] {
        guard result.succeeded else {
            let why = result.stderrText.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit \(result.exitStatus)"
            return [ImageWarning(kind: .inspectFailed, host: host, image: image,
                                 message: "could not inspect the image (\(short(why))); pull it first (fleet runs pre-flight with --pull), or check docker on the host")]
        }
        return check(output: result.stdoutText, host: host, image: image, maxSizeMB: maxSizeMB)
    }

    /// The pure part: warnings for the output of the inspect command.
    public static func check(output: String, host: String, image: String, maxSizeMB: Int) -> [ImageWarning] {
        let line = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        guard let bar = line.lastIndex(of: "|"), let bytes = Int64(line[line.index(after: bar)...].trimmingCharacters(in: .whitespaces)),
              let config = try? JSONDecoder().decode(ImageConfig.self, from: Data(line[..<bar].utf8)) else {
            return [ImageWarning(kind: .inspectFailed, host: host, image: image,
                                 message: "docker image inspect gave output fleet cannot read ('\(short(line))'); is docker on the host a recent Docker Engine?")]
        }
        var warnings: [ImageWarning] = []
        if isRoot(config.user) {
            let shown = (config.user ?? "").isEmpty ? "no USER" : "USER \(config.user ?? "")"
            warnings.append(ImageWarning(kind: .runsAsRoot, host: host, image: image,
                                         message: "runs as root (\(shown)); add a non-root user to the Dockerfile, e.g. `USER 1001`"))
        }
        let test = config.healthcheck?.test ?? []
        if test.isEmpty || test.first == "NONE" {
            warnings.append(ImageWarning(kind: .noHealthcheck, host: host, image: image,
                                         message: "has no HEALTHCHECK; add one (e.g. `HEALTHCHECK CMD wget -qO- http://127.0.0.1:$PORT/health`) so docker sees a hung app"))
        }
        let megabytes = Double(bytes) / 1_000_000
        if maxSizeMB > 0, megabytes > Double(maxSizeMB) {
            warnings.append(ImageWarning(kind: .tooLarge, host: host, image: image,
                                         message: "is \(Int(megabytes.rounded())) MB, over the budget of \(maxSizeMB) MB (image_checks.max_size_mb); use a smaller base image or a multi-stage build, or raise the budget"))
        }
        return warnings
    }

    /// Empty, `0`, `root`, or either with a group (`0:0`, `root:1000`).
    public static func isRoot(_ user: String?) -> Bool {
        let name = (user ?? "").split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "root" || (Int(trimmed) == 0)
    }

    static func short(_ text: String) -> String {
        let clean = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init))
        return clean.count > 200 ? String(clean.prefix(200)) + "..." : clean
    }

    struct ImageConfig: Decodable {
        var user: String?
        var healthcheck: Health?
        enum CodingKeys: String, CodingKey {
            case user = "User"
            case healthcheck = "Healthcheck"
        }
        struct Health: Decodable {
            var test: [String]?
            enum CodingKeys: String, CodingKey { case test = "Test" }
        }
    }
}
