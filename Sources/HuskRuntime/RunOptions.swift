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
    /// `--workdir`: with `contain`, /tmp and /var/tmp are DIR/tmp and
    /// DIR/var_tmp; `scratch` directories are made in DIR/scratch.
    public var workdir: String?
    /// `--scratch`: fresh, empty directories at these paths inside (a
    /// tmpfs each, or directories in `workdir`).
    public var scratch: [String] = []
    /// `--no-mount`: default mounts left out.
    public var noMount: Set<DefaultMount> = []
    /// `--overlay`: a writable directory and read-only layers over the image.
    public var overlay = OverlayOption()
    /// `--no-init`: with `pid`, the command is PID 1 (no init process).
    public var noInit = false
    /// The command's umask (`--no-umask`: 022); nil: the caller's.
    public var umask: UInt16?
    /// `--dns`: /etc/resolv.conf names these servers instead of the host's.
    public var dns: [String] = []
    /// `--app`: the image's SCIF app /scif/apps/NAME.
    public var app: String?
    /// `--ignore-subuid`: with `fakeroot`, map only uid 0 (no /etc/subuid range).
    public var ignoreSubuid = false

    /// A mount Husk makes by default, which `--no-mount` leaves out.
    public enum DefaultMount: Hashable, Sendable {
        case home, cwd, tmp, sys
        /// /dev: the minimal one of `--contain` instead of the host's.
        case dev
        /// /dev/pts in the minimal /dev.
        case devpts
        case hosts, resolvConf
        /// Every site bind (`site_binds`).
        case siteBinds
        /// The site bind at this destination.
        case siteBind(String)
    }

    /// Whether /dev is the minimal one (`--contain`, `--no-mount dev`).
    public var minimalDev: Bool { contain || noMount.contains(.dev) }

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

        /// `--security` items: `seccomp=unconfined` or `seccomp=FILE.json`
        /// (also `seccomp:FILE.json`, Apptainer's spelling); the last wins.
        /// Apptainer's other items need root there and are refused.
        public init(securityItems items: [String]) throws {
            self = .standard
            for item in items.flatMap({ $0.split(separator: ",").map(String.init) }) {
                for module in ["apparmor", "selinux", "uid", "gid"] where item.hasPrefix(module + ":") {
                    throw HuskError(.usage, "--security \(item) is not supported: \(module) settings need root in Apptainer, and Husk never runs with privilege on the host; only seccomp items are taken")
                }
                guard item.hasPrefix("seccomp=") || item.hasPrefix("seccomp:"), item.count > 8 else {
                    throw HuskError(.usage, "unknown --security \"\(item)\": use seccomp=unconfined or seccomp:FILE.json")
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

extension EnvironmentVariable {
    /// `--env A=1,B=2` as Apptainer reads it: a comma starts a new variable
    /// where NAME= follows it; elsewhere it belongs to the value
    /// (`--env LIST=a,b` is one variable).
    public static func parseList(_ text: String, what: String) throws -> [EnvironmentVariable] {
        var result: [EnvironmentVariable] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let name = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if piece.contains("="), ContainerEnvironment.isValidName(String(name)) {
                result.append(EnvironmentVariable(name: String(name), value: String(piece.dropFirst(name.count + 1))))
            } else if !result.isEmpty {
                result[result.count - 1].value += "," + piece
            } else {
                result.append(try EnvironmentVariable(parsing: piece, what: what))  // throws: not NAME=VALUE
            }
        }
        return result
    }
}
