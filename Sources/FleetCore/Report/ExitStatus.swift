/// fleet's exit statuses (docs/design.md), and the one place an error becomes one.
public enum ExitStatus {
    public static let ok: Int32 = 0
    /// A host failed: the rollout halted, or finished within `max_failures`; a host of a read-only command did not
    /// answer or was not healthy.
    public static let hostFailed: Int32 = 1
    /// Usage, inventory, env file, version or host-script error: nothing was contacted.
    public static let usage: Int32 = 2
    /// The fleet lock is held.
    public static let lockHeld: Int32 = 3
    /// Pre-flight (or the probe) failed or could not reach a host: nothing was changed.
    public static let preflight: Int32 = 4
    public static let interrupted: Int32 = 130

    /// The exit status for an error that ended a command before its hosts' work began.
    public static func of(_ error: any Error) -> Int32 {
        switch error {
        case is InventoryError, is InputError, is PlaybooksError, is HistoryError: return usage
        default: return hostFailed
        }
    }
}
