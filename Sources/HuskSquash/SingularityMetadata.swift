import FoundationEssentials
import Glibc
import HuskCore

/// What a Singularity/Apptainer image keeps in `/.singularity.d` (its
/// runscript, startscript, environment scripts, labels and help), read from
/// the image without running anything. Husk honours it for images that have
/// no Husk metadata (`/.husk/config.json`): SIF files, and squashfs files
/// or sandbox directories Apptainer made.
public struct SingularityMetadata: Sendable {
    public static let directory = ".singularity.d"
    public static let runscript = "/.singularity.d/runscript"
    public static let startscript = "/.singularity.d/startscript"

    /// Scripts Apptainer itself writes into every image for its own runtime
    /// features (the `/.singularity.d/libs` library path, the `Apptainer>`
    /// prompt, SCIF apps, `APPTAINERENV_PREPEND_PATH`). Husk provides its
    /// own equivalents (`--nv`'s `/.husk/host/lib`, its prompt,
    /// `APPTAINERENV_*`), so these are not read; the scripts an image's
    /// author wrote (`10-docker2singularity.sh` from a Docker image's ENV,
    /// `90-environment.sh` from `%environment`, any other) are.
    public static let runtimeScripts: Set<String> = ["01-base.sh", "94-appsbase.sh", "95-apps.sh", "99-base.sh",
                                                      "99-runtimevars.sh"]

    public struct EnvironmentScript: Sendable {
        public var name: String
        public var assignments: ShellAssignments
        public var path: String { "/\(SingularityMetadata.directory)/env/\(name)" }
    }

    public var hasRunscript: Bool
    public var hasStartscript: Bool
    /// In the order Apptainer sources them (the shell's `env/*.sh` glob:
    /// bytewise by name).
    public var environmentScripts: [EnvironmentScript]

    /// nil when the image has no `/.singularity.d`. `readFile` gives a
    /// regular file's content (nil for anything else), `list` a directory's
    /// names (nil when it is not one); paths are relative to the image root.
    public static func read(readFile: (String) throws -> [UInt8]?,
                            list: (String) throws -> [String]?) throws -> SingularityMetadata? {
        guard let entries = try list(directory) else { return nil }
        var scripts: [EnvironmentScript] = []
        for name in try list("\(directory)/env") ?? [] where name.hasSuffix(".sh") && !runtimeScripts.contains(name) {
            guard let bytes = try readFile("\(directory)/env/\(name)") else { continue }  // a symlink or directory
            scripts.append(EnvironmentScript(name: name,
                                             assignments: ShellAssignments(parsing: String(decoding: bytes, as: UTF8.self))))
        }
        scripts.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        return SingularityMetadata(hasRunscript: entries.contains("runscript"), hasStartscript: entries.contains("startscript"),
                                   environmentScripts: scripts)
    }

    /// One warning per script with statements Husk did not apply.
    public func warnings(image: String) -> [String] {
        environmentScripts.filter { !$0.assignments.skipped.isEmpty }.map { script in
            let skipped = script.assignments.skipped
            let lines = ShellAssignments.lineList(skipped)
            return "\(image): \(script.path): Husk applies only variable assignments and skips line\(skipped.count == 1 && !lines.contains("-") ? "" : "s") \(lines) (\(skipped[0].text)); set what they would with --env, or run them in the command (husk-run(1), ENVIRONMENT)"
        }
    }

    /// The environment after the scripts, from `base`; and the variables
    /// they read while unset.
    public func environment(base: [String: String]) -> (environment: [String: String], unsetReads: [String]) {
        var state = ShellAssignments.State(environment: base)
        for script in environmentScripts { script.assignments.apply(to: &state) }
        return (state.environment, state.unsetReads)
    }

    /// `/.singularity.d/labels.json`: a JSON object; values that are not
    /// strings are shown as JSON.
    public static func labels(from bytes: [UInt8], image: String) throws -> [String: String] {
        guard let dictionary = JSONValue.parse(bytes)?.object else {
            throw HuskError(.invalidImage, "\(image): /\(directory)/labels.json is not a JSON object; rebuild the image")
        }
        var labels: [String: String] = [:]
        for (key, value) in dictionary {
            if let text = value.string {
                labels[key] = text
            } else if let json = try? value.encoded() {
                labels[key] = String(decoding: json, as: UTF8.self)
            }
        }
        return labels
    }
}
