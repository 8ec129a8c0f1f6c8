#if canImport(Glibc)
import Glibc
#endif

/// Where Husk keeps its own state (DESIGN.md §4), from the environment.
/// Each directory is created and checked by `PrivateDirectory` before use;
/// a container never sees any of them (DESIGN.md §3, trust boundary 3).
public struct HuskPaths: Equatable, Sendable {
    /// `${HUSK_CACHEDIR:-${XDG_CACHE_HOME:-~/.cache}/husk}`: blobs and converted images
    /// (`$APPTAINER_CACHEDIR/husk` where a job script sets that and not HUSK_CACHEDIR).
    public var cache: String
    /// `${XDG_CONFIG_HOME:-~/.config}/husk`: credentials and certificates.
    public var config: String
    /// `${TMPDIR:-/tmp}/husk-UID`: extracted root filesystems (large).
    public var scratch: String
    /// `$XDG_RUNTIME_DIR/husk` where there is one (a 0700 tmpfs of the
    /// user's own), else the scratch directory: instance state (small).
    public var runtime: String

    /// `$HOME`, else the password database's home directory, else `/`.
    public static func home(environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? getpwuid(getuid()).map { String(cString: $0.pointee.pw_dir) } ?? "/"
    }

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = Self.home(environment: environment)
        cache = value("HUSK_CACHEDIR") ?? ApptainerVariables.cacheDirectory(host: environment)
            ?? (value("XDG_CACHE_HOME") ?? home + "/.cache") + "/husk"
        config = (value("XDG_CONFIG_HOME") ?? home + "/.config") + "/husk"
        scratch = (value("TMPDIR") ?? "/tmp") + "/husk-\(getuid())"
        runtime = value("XDG_RUNTIME_DIR").map { $0 + "/husk" } ?? scratch
    }

    /// The state directories as `prepareAll` left them: created, checked,
    /// symlinks resolved.
    public struct Prepared: Sendable {
        public var cache: String
        public var config: String
        public var scratch: String
        /// Each with what it holds (for messages): what the starter hides
        /// from the container.
        public var all: [(path: String, what: String)]
    }

    /// Every state directory, created and checked once per start.
    public func prepareAll() throws -> Prepared {
        let cache = try PrivateDirectory.prepare(cache, what: "the image cache")
        let config = try PrivateDirectory.prepare(config, what: "Husk's configuration and credentials")
        let scratch = try PrivateDirectory.prepare(scratch, what: "extracted images")
        var all = [(cache, "image cache"), (config, "credentials"), (scratch, "extracted images")]
        if runtime != scratch {
            all.append((try PrivateDirectory.prepare(runtime, what: "instance state"), "instance state"))
        }
        return Prepared(cache: cache, config: config, scratch: scratch, all: all)
    }
}
