/// A refused command-line value (the version, a host selection, the run's identity): which value, and what to do.
/// Nothing was contacted.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The value at fault, as the user knows it: "version", "--hosts", "run id".
    public var what: String
    /// What is wrong and what to do.
    public var message: String

    public init(_ what: String, _ message: String) {
        self.what = what
        self.message = message
    }

    public var description: String { "\(what): \(message)" }
}
