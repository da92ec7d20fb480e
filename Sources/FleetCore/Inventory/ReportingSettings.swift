import Foundation
import Yams

/// `notify:`: webhooks told when a deploy or rollback starts and ends.
public struct NotifySettings: Sendable, Equatable {
    /// http(s) URLs; empty: no notifications.
    public var webhooks: [String]
    public var format: NotifyFormat
}

/// `image_checks:`: the budget of the pre-flight image inspection.
public struct ImageCheckSettings: Sendable, Equatable {
    /// Warn above this size (MB); 0: no size check.
    public var maxSizeMB: Int
}

/// The reporting keys (`metrics`, `notify`, `image_checks`), parsed apart from the rest of the inventory.
extension InventoryParser {
    static let metricsKeys = ["textfile_dir", "pushgateway"]

    func parseMetrics(_ top: YAMLSection) throws -> MetricsSettings {
        let s = try top.section("metrics", allowed: Self.metricsKeys)
        let textfile = try remotePath(s, "textfile_dir", default: "", allowEmpty: true)
        let pushgateway = try s?.string("pushgateway", default: "") ?? ""
        if !pushgateway.isEmpty {
            try checkURL(pushgateway, s, "pushgateway", example: "http://127.0.0.1:9091")
        }
        return MetricsSettings(textfileDir: textfile, pushgateway: pushgateway)
    }

    func parseNotify(_ top: YAMLSection) throws -> NotifySettings {
        let s = try top.section("notify", allowed: ["webhooks", "format"])
        var webhooks: [String] = []
        if let s, let node = s.value("webhooks") {
            let list: [(String, Node)]
            if case .scalar = node {
                list = [(try s.scalarText(node, "webhooks", expected: "a URL or a list of URLs"), node)]
            } else {
                list = try s.stringList("webhooks") ?? []
            }
            for (url, node) in list {
                try checkURL(url, s, "webhooks", example: "https://hooks.slack.com/services/...", node: node)
                webhooks.append(url)
            }
        }
        let formatText = try s?.string("format", default: "json") ?? "json"
        guard let format = NotifyFormat(rawValue: formatText) else {
            throw top.error(s?.value("format"), "'notify.format' must be json or slack, found '\(YAMLSection.printable(formatText))'")
        }
        return NotifySettings(webhooks: webhooks, format: format)
    }

    func parseImageChecks(_ top: YAMLSection) throws -> ImageCheckSettings {
        let s = try top.section("image_checks", allowed: ["max_size_mb"])
        return ImageCheckSettings(maxSizeMB: try s?.int("max_size_mb", default: ImageCheck.defaultMaxSizeMB,
                                                         range: 0...1_000_000) ?? ImageCheck.defaultMaxSizeMB)
    }

    /// An http(s) URL with a host. The message shows only scheme and host: webhook paths are secrets.
    func checkURL(_ url: String, _ s: YAMLSection?, _ key: String, example: String, node: Node? = nil) throws {
        let where_ = node ?? s?.value(key)
        guard HTTPPost.checkedURL(url) != nil, !url.contains(where: { $0.isWhitespace }) else {
            let name = s?.qualified(key) ?? key
            throw YAMLSection.error(file, where_, "'\(name)' must be an http:// or https:// URL with a host, like \(example), found \(HTTPPost.redact(url))")
        }
    }
}
