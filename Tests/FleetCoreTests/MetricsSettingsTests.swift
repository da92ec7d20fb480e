import Foundation
import Testing
@testable import FleetCore

/// The inventory keys of the report: `metrics`, `notify`, `image_checks`.
@Suite("Metrics, notify and image_checks inventory keys")
struct MetricsSettingsTests {
    @Test func defaults() throws {
        let inv = try Fixture.load(Fixture.minimal)
        #expect(inv.metrics == MetricsSettings(textfileDir: "", pushgateway: ""))
        #expect(inv.notify == NotifySettings(webhooks: [], format: .json))
        #expect(inv.imageChecks == ImageCheckSettings(maxSizeMB: 500))
    }

    @Test func allKeys() throws {
        let inv = try Fixture.load(Fixture.minimal + """
        metrics: {textfile_dir: /var/lib/node_exporter/textfile, pushgateway: "http://127.0.0.1:9091"}
        notify:
          webhooks: ["https://hooks.slack.com/services/T0/B0/abc", "http://127.0.0.1:8099/hook"]
          format: slack
        image_checks: {max_size_mb: 0}

        """)
        #expect(inv.metrics.textfileDir == "/var/lib/node_exporter/textfile")
        #expect(inv.metrics.pushgateway == "http://127.0.0.1:9091")
        #expect(inv.notify.webhooks.count == 2)
        #expect(inv.notify.format == .slack)
        #expect(inv.imageChecks.maxSizeMB == 0)
    }

    @Test func oneWebhookAsAString() throws {
        let inv = try Fixture.load(Fixture.minimal + "notify: {webhooks: \"http://127.0.0.1:8099/x\"}\n")
        #expect(inv.notify.webhooks == ["http://127.0.0.1:8099/x"])
    }

    @Test func badPushgatewayURL() throws {
        let error = Fixture.error(Fixture.minimal + "metrics:\n  pushgateway: 127.0.0.1:9091\n")
        #expect(error?.line == 7)
        #expect(error?.message.contains("'metrics.pushgateway' must be an http:// or https:// URL") == true)
    }

    /// The message names the line but shows only scheme and host: a webhook's path is its secret.
    @Test func badWebhookURLKeepsThePathSecret() throws {
        let error = Fixture.error(Fixture.minimal + "notify:\n  webhooks:\n    - https://hooks.example.com/ok\n    - ftp://hooks.example.com/T0/SECRETTOKEN\n")
        #expect(error?.line == 9)
        #expect(error?.message.contains("'notify.webhooks' must be an http:// or https:// URL") == true)
        #expect(error?.description.contains("SECRETTOKEN") == false)
    }

    @Test func badFormat() throws {
        let error = Fixture.error(Fixture.minimal + "notify: {format: teams}\n")
        #expect(error?.message.contains("'notify.format' must be json or slack, found 'teams'") == true)
    }

    @Test func badSize() throws {
        let error = Fixture.error(Fixture.minimal + "image_checks: {max_size_mb: -1}\n")
        #expect(error?.message.contains("'image_checks.max_size_mb' must be between 0 and 1000000, found -1") == true)
        let unknown = Fixture.error(Fixture.minimal + "image_checks: {max_size: 10}\n")
        #expect(unknown?.message.contains("unknown key 'image_checks.max_size'") == true)
    }

    @Test func envFileValuesForMasking() throws {
        let env = EnvFile(path: "/x.env", keys: ["A", "B", "C"], contents: SecretText("A=one-secret\n# c\nB=\"quoted value\"\nC=\n"))
        #expect(Set(env.secretValues) == ["one-secret", "\"quoted value\"", "quoted value"])
    }
}
