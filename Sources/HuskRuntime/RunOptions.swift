/// What the user asked for on the command line of run/exec/shell/env.
public struct RunOptions: Sendable {
    public var binds: [String] = []
    public var environment: [String] = []
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
    /// `NAME=SOFT[:HARD]` (nofile, nproc, memlock, stack, core).
    public var rlimits: [String] = []
    /// `--security` items; `seccomp=unconfined` turns the default filter off.
    public var security: [String] = []
    /// Allow mount and new namespaces inside (nested containers).
    public var allowNested = false
    /// With `fakeroot`: capabilities added to or dropped from the default set.
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

    public init() {}
}
