import HuskCore

/// The container's environment, reproducible by default (DESIGN.md §3).
/// Lowest to highest precedence:
/// 1. base: PATH (image's, else a standard default), HOME, USER, LOGNAME,
///    SHELL from the user's entry, TERM, LANG, LC_*, TZ, HUSK_CONTAINER, HUSK_NAME,
///    and under an MPI launcher the transport choice that works across user
///    namespaces (`MPILaunchDefaults`);
///    (with `--env-passthrough all`, every host variable sits here too, below
///    the image's, which is what Singularity does);
/// 2. the image config's `Env` (for an image with Singularity metadata and no
///    Husk config: the assignments of its `/.singularity.d/env/*.sh`);
/// 3. host variables on the pass-through list (scheduler, MPI, GPU, DISPLAY,
///    site additions, `--env-passthrough` patterns); none with `--cleanenv`;
/// 4. `--env-file`, then host `SINGULARITYENV_NAME` and `APPTAINERENV_NAME`,
///    then `HUSK_ENV_NAME=value`, then `--env NAME=value` (among these,
///    `APPEND_PATH` and `PREPEND_PATH` extend PATH, as in Apptainer);
/// 5. with `--nv`, `--rocm`, `--bind-mpi`: Husk's directories of host
///    libraries and programs in front of LD_LIBRARY_PATH and PATH.
/// Nothing else from the host gets in.
public struct ContainerEnvironment {
    public static let defaultPath = StandardEnvironment.path

    /// Scheduler and MPI launch variables a batch job needs inside.
    public static let passThroughPatterns = [
        "SLURM_*", "PMI_*", "PMIX_*", "OMPI_*", "PRTE_*", "HYDRA_*", "I_MPI_*", "MPI_*",
        "CUDA_VISIBLE_DEVICES", "DISPLAY",
    ]
    /// Host variables of the base layer (terminal, locale, time zone).
    static let baseHostPatterns = ["TERM", "LANG", "LC_*", "TZ"]

    public struct Identity: Sendable {
        public var user: String
        public var home: String
        public var shell: String
        public init(user: String, home: String, shell: String) {
            self.user = user
            self.home = home
            self.shell = shell
        }
    }

    public enum PassThrough: Equatable, Sendable {
        case standard(extra: [String])
        case all
        case none
    }

    public var host: [String: String]
    public var imageEnv: [String]
    public var identity: Identity
    public var containerPath: String
    public var containerName: String
    public var passThrough: PassThrough = .standard(extra: [])
    public var sitePatterns: [String] = []
    public var envFileEntries: [(String, String)] = []
    public var explicit: [(String, String)] = []
    /// `--nv`, `--rocm`, `--bind-mpi`: directories put in front of
    /// LD_LIBRARY_PATH and PATH after everything else (also in front of an
    /// `--env LD_LIBRARY_PATH=…`), so the host's libraries are found first.
    public var prependedLibraryPath: [String] = []
    public var prependedPath: [String] = []
    /// An image with Singularity metadata and no Husk config: its
    /// `/.singularity.d/env/*.sh`, in order. Their assignments are the
    /// image's layer (2), evaluated after the base layer as sourcing them
    /// would be (`ShellAssignments` says why they are read, not run).
    public var imageScripts: [ShellAssignments] = []
    /// Such an image's path and file name: APPTAINER_CONTAINER and
    /// APPTAINER_NAME (and the SINGULARITY_ forms) in the base layer, which
    /// its runscripts may read, as under Apptainer.
    public var apptainerContainer: (path: String, name: String)?

    public init(host: [String: String], imageEnv: [String], identity: Identity, containerPath: String,
                containerName: String) {
        self.host = host
        self.imageEnv = imageEnv
        self.identity = identity
        self.containerPath = containerPath
        self.containerName = containerName
    }

    /// `NAME=VALUE` lines sorted by name: the same inputs always give the same list.
    public func resolve() -> [String] {
        var env: [String: String] = [:]
        if passThrough == .all {
            for (name, value) in host where !name.hasPrefix("HUSK_ENV_") && !ApptainerVariables.isPrefixed(name) {
                env[name] = value
            }
        }
        env["PATH"] = Self.defaultPath
        env["HOME"] = identity.home
        env["USER"] = identity.user
        env["LOGNAME"] = identity.user
        env["SHELL"] = identity.shell
        for (name, value) in host where Self.matches(name, Self.baseHostPatterns) { env[name] = value }
        env["HUSK_CONTAINER"] = containerPath
        env["HUSK_NAME"] = containerName
        if let apptainerContainer {
            for prefix in ["APPTAINER", "SINGULARITY"] {
                env[prefix + "_CONTAINER"] = apptainerContainer.path
                env[prefix + "_NAME"] = apptainerContainer.name
            }
        }
        // Below everything else: the image or the job may choose otherwise.
        if passThrough != .none {
            for (name, value) in MPILaunchDefaults.apply(host: host) { env[name] = value }
        }

        for entry in imageEnv {
            let (name, value) = Self.split(entry)
            if !name.isEmpty { env[name] = value }
        }
        if !imageScripts.isEmpty {
            var state = ShellAssignments.State(environment: env)
            for script in imageScripts { script.apply(to: &state) }
            env = state.environment
        }

        switch passThrough {
        case .standard(let extra):
            let patterns = Self.passThroughPatterns + sitePatterns + extra
            for (name, value) in host where Self.matches(name, patterns) { env[name] = value }
        case .all:
            let patterns = Self.passThroughPatterns + sitePatterns
            for (name, value) in host where Self.matches(name, patterns) { env[name] = value }
        case .none:
            break
        }

        // The variables asked for (layer 4). APPEND_PATH and PREPEND_PATH
        // among them extend PATH instead, as in Apptainer.
        var asked: [(String, String)] = envFileEntries + ApptainerVariables.containerVariables(host: host)
        asked += host.filter { $0.key.hasPrefix("HUSK_ENV_") && $0.key.count > 9 }
            .map { (String($0.key.dropFirst(9)), $0.value) }.sorted { $0.0 < $1.0 }
        asked += explicit
        var pathAround: [String: String] = [:]
        for (name, value) in asked {
            if Self.pathExtensions.contains(name) { pathAround[name] = value } else { env[name] = value }
        }
        if let prepend = pathAround["PREPEND_PATH"] { env["PATH"] = prepend + ":" + (env["PATH"] ?? "") }
        if let append = pathAround["APPEND_PATH"] { env["PATH"] = (env["PATH"] ?? "") + ":" + append }
        for (name, dirs) in [("LD_LIBRARY_PATH", prependedLibraryPath), ("PATH", prependedPath)] where !dirs.isEmpty {
            let rest = (env[name] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty && !dirs.contains($0) }
            env[name] = (dirs + rest).joined(separator: ":")
        }
        return env.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { "\($0.key)=\($0.value)" }
    }

    /// Asked-for variables that extend PATH rather than being set.
    static let pathExtensions: Set<String> = ["APPEND_PATH", "PREPEND_PATH"]

    /// `NAME` exactly, or `PREFIX*`.
    static func matches(_ name: String, _ patterns: [String]) -> Bool {
        patterns.contains { pattern in
            pattern.hasSuffix("*") ? name.hasPrefix(pattern.dropLast()) : name == pattern
        }
    }

    static func split(_ entry: String) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else { return (entry, "") }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    /// `--env NAME=VALUE` (VALUE may be empty; NAME must be a valid name).
    public static func parseAssignment(_ text: String, what: String) throws -> (String, String) {
        let (name, value) = split(text)
        guard text.contains("="), isValidName(name) else {
            throw HuskError(.usage, "invalid \(what) \"\(text)\": use NAME=VALUE with NAME of letters, digits and _")
        }
        return (name, value)
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// An env file: `NAME=VALUE` per line, `#` comments, blank lines, an
    /// optional `export ` prefix, and values optionally in matching quotes.
    public static func parseEnvFile(_ text: String, path: String) throws -> [(String, String)] {
        var result: [(String, String)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimming(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimming(" \t") }
            guard line.contains("=") else {
                throw HuskError(.usage, "\(path):\(number + 1): expected NAME=VALUE, found \"\(line)\"")
            }
            var (name, value) = split(line)
            guard isValidName(name) else {
                throw HuskError(.usage, "\(path):\(number + 1): invalid variable name \"\(name)\"")
            }
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            result.append((name, value))
        }
        return result
    }
}

