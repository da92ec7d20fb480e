/// fleet's host scripts could not be found or read on this machine. Nothing was contacted.
public struct PlaybooksError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
