/// fleet's core: inventory -> plan -> execution -> report.
public enum FleetVersion {
    public static let current = "0.1.0"
}
