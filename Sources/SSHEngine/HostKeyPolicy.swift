/// What to do with a host key that known_hosts does not hold.
public enum HostKeyPolicy: String, Sendable, Codable, CaseIterable {
    /// An unknown or changed key is refused (the default).
    case strict
    /// An unknown key is appended to known_hosts; a changed key is still refused.
    case acceptNew = "accept-new"
}
