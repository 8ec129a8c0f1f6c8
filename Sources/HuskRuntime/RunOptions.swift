import HuskCore

/// How to run a container, as typed values: the library's options (the
/// CLI parses its flags into these; `BindOption`, `EnvironmentVariable`,
/// `ResourceLimit` and `Seccomp` parse the flags' grammar).
public struct RunOptions: Sendable {
    /// Extra binds (`-B`), in order, after the default ones.
    public var binds: [LaunchPlan.Bind] = []
    /// Variables set inside (`--env`), highest precedence; later ones win.
    public var environment: [EnvironmentVariable] = []
    /// A file of NAME=VALUE lines (`--env-file`), below `environment`.
    public var envFile: String?
    public var cleanenv = false
    /// `all`, `none`, or a comma-separated list of names and `PREFIX*` patterns.
    public var envPassthrough: String?
    public var contain = false
    public var noHome = false
    /// `SRC[:DST]`
    public var home: String?
    public var workingDirectory: String?
    public var writableTmpfs = false
    public var fakeroot = false
    public var pid = false
    /// A network namespace with only a loopback device.
    public var net = false
    public var ipc = false
    /// A UTS namespace; `hostname` sets its host name (and implies it).
    public var uts = false
    public var hostname: String?
    /// Applied just before the command starts.
    public var resourceLimits: [ResourceLimit] = []
    /// The system-call filter.
    public var seccomp: Seccomp = .standard
    /// Allow mount and new namespaces inside (nested containers).
    public var allowNested = false
    /// With `fakeroot`: capabilities (libcap names, or `all`) added to or
    /// dropped from the default set.
    public var addCaps: [String] = []
    public var dropCaps: [String] = []
    public var mode: Mode = .auto
    /// Bind the host's NVIDIA driver libraries, tools and devices (`--nv`).
    public var nv = false
    /// The same for AMD ROCm (`--rocm`).
    public var rocm = false
    /// Bind the host's MPI libraries into the image (`--bind-mpi`).
    public var bindMPI = false

    /// Whether any host libraries are asked for.
    public var hostLibraries: Bool { nv || rocm || bindMPI }

    /// How a squashfs image becomes the root: FUSE-mounted (`fuse`), or
    /// extracted once into a cache (`extract`); `auto` extracts only when
    /// /dev/fuse is unusable.
    public enum Mode: String, CaseIterable, Sendable {
        case auto, fuse, extract
    }

    /// The container's system-call filter.
    public enum Seccomp: Equatable, Sendable {
        /// Husk's deny-list (kexec, modules, keyrings, bpf, mount, setns, ...).
        case standard
        /// No filter.
        case unconfined
        /// A Docker/OCI JSON seccomp profile.
        case profile(path: String)

        /// `--security` items: `seccomp=unconfined` or `seccomp=FILE.json`; the last wins.
        public init(securityItems items: [String]) throws {
            self = .standard
            for item in items {
                guard item.hasPrefix("seccomp="), item.count > 8 else {
                    throw HuskError(.usage, "unknown --security \"\(item)\": use seccomp=unconfined or seccomp=FILE.json")
                }
                let value = String(item.dropFirst(8))
                self = value == "unconfined" ? .unconfined : .profile(path: value)
            }
        }
    }

    public init() {}
}

/// A variable set inside the container.
public struct EnvironmentVariable: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `NAME=VALUE` (WHAT names the flag or file for messages).
    public init(parsing text: String, what: String) throws {
        (name, value) = try ContainerEnvironment.parseAssignment(text, what: what)
    }
}
