/// Every flag `apptainer exec|run|shell|instance start` takes (Apptainer's
/// cmd/internal/cli/action_flags.go and the common flags it registers for
/// those commands, plus SingularityCE's --sif-fuse and --proot), with what
/// Husk does with it and the `APPTAINER_<KEY>`/`SINGULARITY_<KEY>` variables
/// Apptainer reads for it. One table, so that the CLI (which refuses and
/// ignores flags from it), the README's compatibility table (rendered from
/// it and compared by a unit test) and the man pages cannot disagree.
public enum ApptainerFlags {
    public struct Flag: Sendable, Equatable {
        /// Long name, without dashes.
        public let name: String
        public let short: Character?
        /// The value's placeholder (`SPEC`, `PATH`), or nil for a switch.
        public let value: String?
        /// Apptainer's EnvKeys: read as `APPTAINER_KEY`, then `SINGULARITY_KEY`.
        public let keys: [String]
        public let status: Status

        /// `-B, --bind SPEC`
        public var usage: String {
            let long = "--\(name)" + (value.map { " \($0)" } ?? "")
            return short.map { "-\($0), \(long)" } ?? long
        }

        /// `APPTAINER_BIND`, `APPTAINER_BINDPATH`, `SINGULARITY_BIND`, ...:
        /// Apptainer's names first (they win), then Singularity's.
        public var variables: [String] {
            ApptainerFlagVariables.prefixes.flatMap { prefix in keys.map { prefix + $0 } }
        }
    }

    public enum Status: Sendable, Equatable {
        /// Husk does what Apptainer does; the text says how, or where it
        /// stops (empty: nothing to add).
        case same(String)
        /// Husk's own flag of the same meaning.
        case alias(String)
        /// Accepted and ignored: Husk always (or never) does it. The reason.
        case noOp(String)
        /// Refused in one line: why, and what Husk does instead.
        case refused(String)
    }

    /// The flags, in the order of Apptainer's action_flags.go.
    public static let all: [Flag] = [
        f("app", value: "NAME", keys: ["APP", "APPNAME"], .same(
            "the image's SCIF app: `run` runs /scif/apps/NAME/scif/runscript; /scif/apps/NAME/bin and lib go first in PATH and LD_LIBRARY_PATH, SCIF_APPNAME is set; an image without /scif/apps/NAME is refused")),
        f("bind", "B", value: "SPEC", keys: ["BIND", "BINDPATH"], .same("")),
        f("mount", value: "SPEC", keys: ["MOUNT"], .same(
            "type=bind (the only type), src/source, dst/destination/target, ro/readonly, CSV quoting; APPTAINER_MOUNT holds one per line; image-src is refused (Husk binds directories and files, not image contents)")),
        f("home", "H", value: "SPEC", keys: ["HOME"], .same("")),
        f("overlay", "o", value: "PATH", keys: ["OVERLAY", "OVERLAYIMAGE"], .same(
            "a directory: changes go to DIR/upper (work files in DIR/work); DIR:ro is a read-only layer; ext3, squashfs and SIF overlay images are refused (mounting them needs root): use a directory")),
        f("scratch", "S", value: "PATH", keys: ["SCRATCH", "SCRATCHDIR"], .same(
            "a fresh tmpfs at PATH, or WORKDIR/scratch/PATH with --workdir")),
        f("workdir", "W", value: "PATH", keys: ["WORKDIR"], .same(
            "with --contain, /tmp and /var/tmp are WORKDIR/tmp and WORKDIR/var_tmp; --scratch directories go in WORKDIR/scratch")),
        f("disable-cache", keys: ["DISABLE_CACHE"], .noOp(
            "image files and directories use no cache; with a docker:// image it is refused, since Husk converts those once into its cache (--pull always asks the registry again)")),
        f("shell", "s", value: "PATH", keys: ["SHELL"], .same("husk shell only")),
        f("cwd", value: "PATH", keys: ["CWD", "TARGET_CWD"], .same("the same as --pwd")),
        f("pwd", value: "PATH", keys: ["PWD", "TARGET_PWD"], .same("")),
        f("hostname", value: "NAME", keys: ["HOSTNAME"], .same("")),
        f("network", value: "NAME", keys: ["NETWORK"], .same(
            "none only (a network namespace with loopback, as --net); CNI networks (bridge, ptp, ...) are refused: they need root, use the host's network (the default)")),
        f("network-args", value: "ARGS", keys: ["NETWORK_ARGS"], .refused(
            "CNI network arguments need root; Husk uses the host's network, or loopback only with --net")),
        f("dns", value: "LIST", keys: ["DNS"], .same("/etc/resolv.conf holds one nameserver line per address")),
        f("security", value: "ITEM", keys: ["SECURITY"], .same(
            "seccomp:FILE (also seccomp=FILE, seccomp=unconfined); apparmor:, selinux:, uid: and gid: are refused: they need root")),
        f("apply-cgroups", value: "FILE", keys: ["APPLY_CGROUPS"], .refused(
            "Husk does not manage cgroups: use the scheduler's limits (Slurm --mem, --cpus-per-task) or --rlimit")),
        f("vm-ram", value: "SIZE", keys: ["VM_RAM"], .refused(vmReason)),
        f("vm-cpu", value: "N", keys: ["VM_CPU"], .refused(vmReason)),
        f("vm-ip", value: "ADDRESS", keys: ["VM_IP"], .refused(vmReason)),
        f("containlibs", value: "LIST", keys: ["CONTAINLIBS"], .refused(
            "use -B FILE:/DIR/FILE and --env LD_LIBRARY_PATH=/DIR, or --nv, --rocm and --bind-mpi for the host's GPU and MPI libraries")),
        f("fusemount", value: "SPEC", keys: ["FUSESPEC"], .refused(
            "Husk starts no FUSE programs for a container: mount the filesystem on the host and bind it with -B")),
        f("tmpdir", value: "DIR", keys: ["TMPDIR"], .noOp(
            "Husk builds no temporary sandbox; its own scratch is $TMPDIR/husk-$UID")),
        f("boot", keys: ["BOOT"], .refused(
            "Husk runs one command as you, never /sbin/init: start the service itself with husk instance start")),
        f("fakeroot", "f", keys: ["FAKEROOT"], .same("")),
        f("cleanenv", "e", keys: ["CLEANENV"], .same(
            "Husk passes no host variables by default anyway; -e also drops the scheduler and MPI ones")),
        f("compat", keys: ["COMPAT"], .same("--containall --no-init --no-umask --no-eval --writable-tmpfs")),
        f("contain", "c", keys: ["CONTAIN"], .same("")),
        f("containall", "C", keys: ["CONTAINALL"], .same("--contain --pid --ipc --cleanenv")),
        f("nv", keys: ["NV"], .same("")),
        f("nvccli", keys: ["NVCCLI"], .alias("--nv (Husk asks nvidia-container-cli whenever it is installed)")),
        f("rocm", keys: ["ROCM"], .same("")),
        f("writable", "w", keys: ["WRITABLE"], .refused(
            "Husk runs images read-only (a squashfs cannot be written): use --writable-tmpfs (changes vanish at exit) or --overlay DIR (changes kept in DIR)")),
        f("writable-tmpfs", keys: ["WRITABLE_TMPFS"], .same("")),
        f("no-home", keys: ["NO_HOME"], .same("")),
        f("no-mount", value: "LIST", keys: ["NO_MOUNT"], .same(
            "home, cwd, tmp, sys, dev (the minimal /dev of --contain), devpts, hostfs, bind-paths (the site's binds), /etc/hosts, /etc/resolv.conf, /etc/localtime, or a site bind's destination; proc is refused: Husk always mounts /proc")),
        f("no-init", keys: ["NOSHIMINIT"], .same("with --pid the command is PID 1")),
        f("no-nv", keys: ["NV_OFF", "NO_NV"], .same("")),
        f("no-rocm", keys: ["ROCM_OFF", "NO_ROCM"], .same("")),
        f("vm", keys: ["VM"], .refused(vmReason)),
        f("vm-err", keys: ["VMERROR"], .refused(vmReason)),
        f("syos", keys: ["SYOS"], .refused(vmReason)),
        f("pid", "p", keys: ["PID", "UNSHARE_PID"], .same("")),
        f("ipc", "i", keys: ["IPC", "UNSHARE_IPC"], .same("")),
        f("net", "n", keys: ["NET", "UNSHARE_NET"], .same(
            "loopback only, as Apptainer's --network none (its default bridge needs root)")),
        f("uts", keys: ["UTS", "UNSHARE_UTS"], .same("")),
        f("userns", "u", keys: ["USERNS", "UNSHARE_USERNS"], .noOp("Husk always runs in a user namespace")),
        f("keep-privs", keys: ["KEEP_PRIVS"], .refused(rootReason + "; with --fakeroot, --add-caps keeps capabilities")),
        f("no-privs", keys: ["NO_PRIVS"], .same("with --fakeroot: drops every capability (--drop-caps all); without it there are none")),
        f("add-caps", value: "CAPS", keys: ["ADD_CAPS"], .same("with --fakeroot, inside the user namespace")),
        f("drop-caps", value: "CAPS", keys: ["DROP_CAPS"], .same("with --fakeroot")),
        f("allow-setuid", keys: ["ALLOW_SETUID"], .refused(
            rootReason + "; setuid programs run as you (no_new_privs), use --fakeroot to be root inside")),
        f("env", value: "NAME=VALUE", keys: [], .same("comma-separated lists too; APPEND_PATH and PREPEND_PATH extend PATH")),
        f("env-file", value: "FILE", keys: ["ENV_FILE"], .same("")),
        f("no-umask", keys: ["NO_UMASK"], .same("")),
        f("no-eval", keys: ["NO_EVAL"], .noOp("Husk never evaluates variables or arguments through a shell")),
        f("dmtcp-launch", value: "DIR", keys: ["DMTCP_LAUNCH"], .refused(dmtcpReason)),
        f("dmtcp-restart", value: "DIR", keys: ["DMTCP_RESTART"], .refused(dmtcpReason)),
        f("blkio-weight", value: "N", keys: ["BLKIO_WEIGHT"], .refused(cgroupReason)),
        f("blkio-weight-device", value: "SPEC", keys: ["BLKIO_WEIGHT_DEVICE"], .refused(cgroupReason)),
        f("cpu-shares", value: "N", keys: ["CPU_SHARES"], .refused(cgroupReason)),
        f("cpus", value: "N", keys: [], .refused(cgroupReason)),
        f("cpuset-cpus", value: "LIST", keys: ["CPUSET_CPUS"], .refused(cgroupReason)),
        f("cpuset-mems", value: "LIST", keys: ["CPUSET_MEMS"], .refused(cgroupReason)),
        f("memory", value: "BYTES", keys: ["MEMORY"], .refused(cgroupReason)),
        f("memory-reservation", value: "BYTES", keys: ["MEMORY_RESERVATION"], .refused(cgroupReason)),
        f("memory-swap", value: "BYTES", keys: ["MEMORY_SWAP"], .refused(cgroupReason)),
        f("oom-kill-disable", keys: ["OOM_KILL_DISABLE"], .refused(cgroupReason)),
        f("pids-limit", value: "N", keys: ["PIDS_LIMIT"], .refused(cgroupReason)),
        f("unsquash", keys: ["UNSQUASH"], .alias("--mode extract")),
        f("ignore-subuid", keys: ["IGNORE_SUBUID"], .same("with --fakeroot only uid 0 is mapped")),
        f("ignore-fakeroot-command", keys: ["IGNORE_FAKEROOT_COMMAND"], .noOp(
            "Husk never uses the fakeroot(1) command")),
        f("ignore-userns", keys: ["IGNORE_USERNS"], .refused(
            "Husk has no setuid part: it always runs in a user namespace")),
        f("underlay", keys: ["UNDERLAY"], .noOp(
            "Husk makes missing mount points with small overlays or a skeleton root, never an underlay")),
        f("passphrase", keys: [], .refused(encryptionReason)),
        f("pem-path", value: "FILE", keys: [], .refused(encryptionReason)),
        f("no-https", keys: ["NOHTTPS", "NO_HTTPS"], .alias(
            "--insecure (plain HTTP, for loopback registries or those the site allows)")),
        f("nohttps", keys: [], .alias("--insecure")),
        f("docker-login", keys: ["DOCKER_LOGIN"], .refused(credentialReason)),
        f("docker-username", value: "NAME", keys: ["DOCKER_USERNAME"], .refused(credentialReason)),
        f("docker-password", value: "PASSWORD", keys: ["DOCKER_PASSWORD"], .refused(credentialReason)),
        f("docker-host", value: "URL", keys: ["DOCKER_HOST"], .refused(
            "Husk talks to no Docker daemon: docker save the image and run docker-archive:FILE")),
        f("sif-fuse", keys: ["SIF_FUSE"], .noOp("Husk always mounts images through FUSE (or extracts them)")),
        f("proot", value: "PATH", keys: ["PROOT"], .refused(
            "Husk needs no proot: it runs as you in a user namespace (--fakeroot to be root inside)")),
    ]

    static let vmReason = "Husk runs containers, not virtual machines"
    static let rootReason = "root only in Apptainer, and Husk never runs with privilege on the host"
    static let cgroupReason = "Husk does not manage cgroups: use the scheduler's limits (Slurm --mem, --cpus-per-task) or --rlimit"
    static let dmtcpReason = "Husk does not checkpoint containers: run DMTCP inside the image"
    static let encryptionReason = "Husk images are not encrypted (husk sign and verify prove where they come from)"
    static let credentialReason = "Husk never takes registry credentials on the command line or in variables: use husk login (--password-stdin)"

    private static func f(_ name: String, _ short: Character? = nil, value: String? = nil, keys: [String],
                          _ status: Status) -> Flag {
        Flag(name: name, short: short, value: value, keys: keys, status: status)
    }

    public static func flag(named name: String) -> Flag? {
        all.first { $0.name == name }
    }

    /// The flags Husk refuses (`refused`) or accepts and ignores (`noOp`):
    /// the CLI declares these from the table, hidden from --help.
    public static func flags(where predicate: (Status) -> Bool) -> [Flag] {
        all.filter { predicate($0.status) }
    }

    /// The one-line refusal for FLAG, given as WHAT (`--vm`, or the
    /// variable `APPTAINER_VM`).
    public static func refusal(_ flag: Flag, as what: String) -> String {
        guard case .refused(let reason) = flag.status else { return "\(what): accepted" }
        return "\(what) is not supported: \(reason)"
    }
}
