/// The environment variables Apptainer and Singularity users already set in
/// their job scripts, read the way those tools read them, so that changing
/// the command name is all a script needs (issue 14). Apptainer's names win
/// over Singularity's, and Husk's own (`HUSK_ENV_*`, `-B`, `HUSK_CACHEDIR`)
/// over both.
public enum ApptainerVariables {
    /// Prefixes whose variables set NAME inside: `APPTAINERENV_NAME=value`.
    /// Lowest precedence first.
    public static let environmentPrefixes = ["SINGULARITYENV_", "APPTAINERENV_"]

    /// `NAME=value` pairs for inside, from `SINGULARITYENV_NAME` then
    /// `APPTAINERENV_NAME` (later wins), as `--env` would set them.
    public static func containerVariables(host: [String: String]) -> [(String, String)] {
        environmentPrefixes.flatMap { prefix in
            host.filter { $0.key.hasPrefix(prefix) && $0.key.count > prefix.count }
                .map { (String($0.key.dropFirst(prefix.count)), $0.value) }
                .sorted { $0.0 < $1.0 }
        }
    }

    /// Whether `name` only carries a value for inside (never passed as itself).
    public static func isPrefixed(_ name: String) -> Bool {
        environmentPrefixes.contains { name.hasPrefix($0) }
    }

    /// The bind specifications of `SINGULARITY_BINDPATH`, `SINGULARITY_BIND`,
    /// `APPTAINER_BINDPATH` and `APPTAINER_BIND` (comma-separated, as `-B`
    /// takes them), in that order, before the command line's.
    public static func binds(host: [String: String]) -> [String] {
        ["SINGULARITY_BINDPATH", "SINGULARITY_BIND", "APPTAINER_BINDPATH", "APPTAINER_BIND"].flatMap { name in
            (host[name] ?? "").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        }
    }

    /// `APPTAINER_CACHEDIR` (else `SINGULARITY_CACHEDIR`): Husk keeps its
    /// cache in a `husk` directory there, beside Apptainer's own files.
    public static func cacheDirectory(host: [String: String]) -> String? {
        for name in ["APPTAINER_CACHEDIR", "SINGULARITY_CACHEDIR"] {
            if let value = host[name], !value.isEmpty { return value + "/husk" }
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
