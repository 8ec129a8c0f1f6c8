/// The one error type Husk's library throws. `message` is a complete sentence
/// for the user: it names the thing that failed and, where there is one, the fix.
/// The CLI prints it as one line prefixed with `husk: `.
public struct HuskError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Open set of error categories; tests and callers match on these, never on text.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let usage = Code(rawValue: "usage")
        public static let notFound = Code(rawValue: "not-found")
        public static let invalidReference = Code(rawValue: "invalid-reference")
        public static let invalidLayout = Code(rawValue: "invalid-layout")
        public static let invalidManifest = Code(rawValue: "invalid-manifest")
        public static let unsupportedMediaType = Code(rawValue: "unsupported-media-type")
        public static let digestMismatch = Code(rawValue: "digest-mismatch")
        public static let corruptArchive = Code(rawValue: "corrupt-archive")
        public static let unsafePath = Code(rawValue: "unsafe-path")
        public static let missingLinkTarget = Code(rawValue: "missing-link-target")
        public static let noMatchingPlatform = Code(rawValue: "no-matching-platform")
        public static let io = Code(rawValue: "io")
        public static let squashfs = Code(rawValue: "squashfs")
        public static let invalidImage = Code(rawValue: "invalid-image")
        /// The site's policy forbids it: the CLI exits 1, also for run and exec.
        public static let refused = Code(rawValue: "refused")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
