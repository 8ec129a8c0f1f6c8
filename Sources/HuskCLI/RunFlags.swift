import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskRunCommand
import HuskRuntime

extension RunOptions.Mode: ExpressibleByArgument {}

/// The options and IMAGE argument of run, exec, shell, env and instance
/// start (husk-run(1) documents them); each command adds its own trailing
/// arguments. Apptainer's spellings (short forms, --cwd, --mount, ...) and
/// their APPTAINER_<FLAG> variables are taken too (ApptainerFlags has the
/// table): the command line wins over those variables.
struct RunFlags: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("B"), .long], help: ArgumentHelp(
        "Bind SRC at DST (default: the same path), read-only with :ro. Repeatable; comma-separated lists too.",
        valueName: "SRC[:DST[:ro|rw]]"))
    var bind: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "A bind in Docker's form: type=bind,source=SRC,destination=DST[,ro] (src, dst and target too; a field in double quotes may hold commas). Repeatable.",
        valueName: "SPEC"))
    var mount: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Set a variable inside (highest precedence); NAME=VALUE,NAME2=VALUE2 sets two; APPEND_PATH and PREPEND_PATH extend PATH. Repeatable.",
        valueName: "NAME=VALUE"))
    var env: [String] = []

    @Option(name: .long, help: ArgumentHelp("Read NAME=VALUE lines (# comments, optional export and quotes).",
                                            valueName: "FILE"))
    var envFile: String?

    @Flag(name: [.customShort("e"), .long], help: "Pass no host variables, not even the scheduler/MPI ones.")
    var cleanenv = false

    @Option(name: .long, help: ArgumentHelp(
        "Also pass these host variables (NAME or PREFIX*, comma-separated); all: every host variable (Singularity's behaviour); none: like --cleanenv.",
        valueName: "LIST|all|none"))
    var envPassthrough: String?

    @Flag(name: [.customShort("c"), .long], help: "Fresh /tmp and /var/tmp, a minimal /dev, no home and no current directory: only what is asked.")
    var contain = false

    @Flag(name: .long, help: "Do not bind the home directory.")
    var noHome = false

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("Bind SRC as the home directory (at DST, default SRC).", valueName: "SRC[:DST]"))
    var home: String?

    @Option(name: [.long, .customLong("cwd")], help: ArgumentHelp("Working directory inside.", valueName: "DIR"))
    var pwd: String?

    @Option(name: [.customShort("W"), .long], help: ArgumentHelp(
        "With --contain, /tmp and /var/tmp are DIR/tmp and DIR/var_tmp (kept after exit); --scratch directories are made in DIR/scratch.",
        valueName: "DIR"))
    var workdir: String?

    @Option(name: [.customShort("S"), .long], help: ArgumentHelp(
        "An empty, writable directory at PATH inside (a fresh tmpfs, or DIR/scratch/PATH with --workdir). Repeatable; comma-separated lists too.",
        valueName: "PATH"))
    var scratch: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Leave out default mounts (comma-separated): home, cwd, tmp, sys, dev (a minimal /dev instead), devpts, bind-paths (the site's binds), /etc/hosts, /etc/resolv.conf, or a site bind's destination.",
        valueName: "LIST"))
    var noMount: [String] = []

    @Flag(name: .long, help: "A writable tmpfs layer over the image; changes vanish when the container exits.")
    var writableTmpfs = false

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp(
        "An overlay directory: changes to the image go to DIR/upper and stay for the next run (DIR/work holds overlayfs's work files); DIR:ro adds a read-only layer. Repeatable; one writable.",
        valueName: "DIR[:ro]"))
    var overlay: [String] = []

    @Flag(name: [.customShort("f"), .long], help: "Be uid 0 inside the user namespace (no privilege on the host); uses your /etc/subuid range when there is one.")
    var fakeroot = false

    @Flag(name: .long, help: .hidden)
    var ignoreSubuid = false

    @Flag(name: [.customShort("p"), .long], help: "A PID namespace: the container sees only its own processes.")
    var pid = false

    @Flag(name: .long, help: "With --pid: no init process; the command is PID 1.")
    var noInit = false

    @Flag(name: [.customShort("n"), .long], help: "A network namespace with only a loopback device (no network).")
    var net = false

    @Option(name: .long, help: ArgumentHelp(
        "none: as --net (loopback only). Apptainer's CNI networks (bridge, ptp, ...) are refused: they need root.",
        valueName: "none"))
    var network: String?

    @Option(name: .long, help: ArgumentHelp("/etc/resolv.conf names these DNS servers (comma-separated addresses) instead of the host's.",
                                            valueName: "LIST"))
    var dns: [String] = []

    @Flag(name: [.customShort("i"), .long], help: "An IPC namespace (own System V IPC and POSIX message queues).")
    var ipc = false

    @Flag(name: .long, help: "A UTS namespace (own host name).")
    var uts = false

    @Option(name: .long, help: ArgumentHelp("The host name inside (implies --uts).", valueName: "NAME"))
    var hostname: String?

    @Flag(name: [.customShort("C"), .long], help: "--contain --pid --ipc --cleanenv together.")
    var containall = false

    @Flag(name: .long, help: "Apptainer's OCI/Docker compatibility: --containall --no-init --no-umask --writable-tmpfs.")
    var compat = false

    @Flag(name: .long, help: "The command's umask is 022 instead of yours.")
    var noUmask = false

    @Option(name: .long, help: ArgumentHelp(
        "A resource limit before the command starts: nofile, nproc, memlock, stack or core; numbers or unlimited; HARD defaults to SOFT. Repeatable.",
        valueName: "NAME=SOFT[:HARD]"))
    var rlimit: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "seccomp=unconfined: run without the default seccomp filter (a deny-list: kexec, module loading, keyrings, bpf, perf, io_uring, mount, new namespaces, setns, reboot, swap and clock changes fail with EPERM; everything else is allowed); seccomp=FILE.json (or seccomp:FILE.json): a Docker/OCI seccomp profile instead.",
        valueName: "ITEM"))
    var security: [String] = []

    @Flag(name: .long, help: "Allow mount, umount and new namespaces inside the container (nested containers; most useful with --fakeroot).")
    var allowNested = false

    @Option(name: .long, help: ArgumentHelp(
        "With --fakeroot: keep these capabilities too (libcap names, comma-separated, or all). The default set is CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_SYS_ADMIN, CAP_SETFCAP, all confined to the user namespace.",
        valueName: "CAPS"))
    var addCaps: [String] = []

    @Option(name: .long, help: ArgumentHelp("With --fakeroot: drop these capabilities (libcap names, comma-separated, or all).",
                                            valueName: "CAPS"))
    var dropCaps: [String] = []

    @Flag(name: .long, help: "With --fakeroot: keep no capability at all (--drop-caps all).")
    var noPrivs = false

    @Option(help: ArgumentHelp(
        "fuse: mount the image through FUSE; extract: extract it once into $TMPDIR/husk-$UID/rootfs and run from there; auto: extract only when /dev/fuse is unusable.",
        valueName: "auto|fuse|extract"))
    var mode: RunOptions.Mode = .auto

    @Flag(name: .long, help: "Apptainer's name for --mode extract.")
    var unsquash = false

    @Flag(name: .long, help: "NVIDIA GPUs: bind the host's driver libraries into /.husk/host/lib (first in LD_LIBRARY_PATH), nvidia-smi and the other driver tools into /.husk/host/bin (first in PATH); warns and goes on without GPUs when the host has no NVIDIA driver.")
    var nv = false

    @Flag(name: .long, help: "The same as --nv (Husk asks nvidia-container-cli for the driver's files whenever it is installed).")
    var nvccli = false

    @Flag(name: .long, help: .hidden)
    var noNv = false

    @Flag(name: .long, help: "AMD GPUs: bind the host's ROCm libraries (libamdhip64, libhsa-runtime64, ...) and rocm-smi as --nv does; warns and goes on without GPUs when the host has none.")
    var rocm = false

    @Flag(name: .long, help: .hidden)
    var noRocm = false

    @Flag(name: .customLong("bind-mpi"), help: "Bind the host's MPI (its libraries and what they need but glibc, into /.husk/host/lib; its plugin, help and configuration directories at their own paths) into an image without one; fails when the image's glibc is older than those libraries need, or it has none.")
    var bindMPI = false

    @Option(name: .long, help: ArgumentHelp(
        "The image's SCIF app /scif/apps/NAME: run runs its scif/runscript; its bin and lib directories come first in PATH and LD_LIBRARY_PATH.",
        valueName: "NAME"))
    var app: String?

    @OptionGroup var apptainerOnly: ApptainerOnlyFlags

    @Option(help: "For docker:// images: always ask the registry what the tag names now, use the cached image when there is one (missing, the default), or never use the network.")
    var pull: PullPolicy = .missing

    @OptionGroup var registry: RegistryFlags

    @Argument(help: "The image: FILE.sqsh, FILE.sif, a directory, docker://REF, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var image: String

    /// The values given, for RunArguments to act on.
    var arguments: RunArguments {
        var given = RunArguments(image: image)
        given.debug = global.debug
        given.quiet = global.quiet
        given.bind = bind
        given.mount = mount
        given.env = env
        given.envFile = envFile
        given.cleanenv = cleanenv
        given.envPassthrough = envPassthrough
        given.contain = contain
        given.noHome = noHome
        given.home = home
        given.pwd = pwd
        given.workdir = workdir
        given.scratch = scratch
        given.noMount = noMount
        given.writableTmpfs = writableTmpfs
        given.overlay = overlay
        given.fakeroot = fakeroot
        given.ignoreSubuid = ignoreSubuid
        given.pid = pid
        given.noInit = noInit
        given.net = net
        given.network = network
        given.dns = dns
        given.ipc = ipc
        given.uts = uts
        given.hostname = hostname
        given.containall = containall
        given.compat = compat
        given.noUmask = noUmask
        given.rlimit = rlimit
        given.security = security
        given.allowNested = allowNested
        given.addCaps = addCaps
        given.dropCaps = dropCaps
        given.noPrivs = noPrivs
        given.mode = mode
        given.unsquash = unsquash
        given.nv = nv
        given.nvccli = nvccli
        given.noNv = noNv
        given.rocm = rocm
        given.noRocm = noRocm
        given.bindMPI = bindMPI
        given.app = app
        given.pull = pull
        given.caCert = registry.caCert
        given.insecure = registry.insecure
        given.apptainerOnly = apptainerOnly.count
        return given
    }

    /// Sets up logging, resolves the image and makes the container.
    func container() throws -> Container { try arguments.container() }
}

/// Shared by the pages of run, exec, shell and env.
let runDiscussion = """
    IMAGE is a .sqsh file written by husk convert, a Singularity/Apptainer .sif file, a directory (a \
    sandbox), or any source husk convert takes (oci:DIR, oci-archive:FILE, docker-archive:FILE), or a \
    registry image docker://REF, pulled (see husk-pull(1)) and converted once into \
    ${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}/images and reused by manifest digest; --pull says when the \
    registry is asked again. A squashfs file or directory without Husk's /.husk/ metadata that \
    Charliecloud or enroot built runs with its own: Charliecloud's /ch/metadata.json (env, cwd, labels) \
    or /ch/environment, enroot's /etc/environment and, for husk run, its /etc/rc with the arguments.

    SIF FILES: a .sif file (Apptainer, SingularityCE) runs its primary system partition where it lies in \
    the file (served through FUSE at its offset, or extracted once with --mode extract); other \
    partitions are left alone, and signature objects are neither needed nor trusted (husk inspect lists \
    them; a site that requires signed images refuses SIF files: convert and sign them). An ext3 or \
    encrypted partition, or a truncated or damaged file, is refused in one line. An image with \
    /.singularity.d and no Husk config (a SIF file, an Apptainer sandbox) is run as Apptainer runs it: \
    husk run runs /.singularity.d/runscript with the arguments and husk instance start its startscript \
    (the instance then stays up until stopped), both through the image's /bin/sh; APPTAINER_CONTAINER, \
    APPTAINER_NAME and their SINGULARITY_ forms are set. Its /.singularity.d/env/*.sh scripts are read, \
    not run: their variable assignments (NAME=value, export, unset, quoting, $NAME and ${NAME:-word} \
    expansions over what is set so far) are the image's environment, layer (2) below, so the \
    environment stays reproducible, husk env shows it, and the scheduler's variables and --env still \
    win. Other statements (source, conda activate, commands, if and for blocks) are skipped; husk env \
    and husk inspect name them; run them in the command when they are needed (husk exec IMAGE sh -c \
    '. /opt/conda/etc/profile.d/conda.sh && conda activate && CMD'). Apptainer's own scripts \
    (01-base.sh, 94-appsbase.sh, 95-apps.sh, 99-base.sh, 99-runtimevars.sh), which serve its runtime's \
    features, are not read: Husk provides its own.

    IDENTITY: you run as yourself (same uid, gid and user name; /etc/passwd and /etc/group are the image's \
    plus your entry; supplementary groups show as nogroup), or as uid 0 with --fakeroot (with an /etc/subuid and /etc/subgid range and Debian's \
    uidmap tools, ids 1 and up map to that range so the image's other owners are kept), inside a user \
    namespace: no root and no daemon are involved, and nothing gains privilege on the host.

    FILESYSTEM: the image is mounted read-only through FUSE (or, with --mode extract or \
    when /dev/fuse is unusable, extracted once into $TMPDIR/husk-$UID/rootfs). A squashfs image is mounted \
    by your image server for it on this node (see husk-server(1)): the first run starts it, later runs of \
    the same image and id mapping join it, and it ends HUSK_IDLE seconds (default 30) after its last \
    container; HUSK_IDLE=0 mounts the image for this container alone. Bound by default: /dev, \
    /proc, /sys (read-only), /tmp and /var/tmp (fresh with --contain), $HOME (not with --no-home or \
    --contain), the current directory (kept as the working directory), /etc/resolv.conf and /etc/hosts. \
    Binds in APPTAINER_BIND, APPTAINER_BINDPATH, SINGULARITY_BIND and SINGULARITY_BINDPATH (comma-separated, \
    as -B takes them) come before -B's, so Apptainer job scripts keep their binds. \
    -B destinations are created when missing (never where a symlink of the image points); binds over \
    /proc, /dev or /sys are refused. No mount or temporary directory outlives the container, and no process but the image server \
    and the warm planner (see husk-server(1)).

    WHAT A CONTAINER CAN REACH: the image (read-only), what is bound (by default your home directory, the \
    current directory, /tmp and /var/tmp, read-write, as you: an image you run can change your files \
    there; use --contain, --no-home and -B ...:ro for images you do not trust), /dev, /proc and /sys. \
    It cannot reach Husk's own state, whatever is bound: the image cache \
    (${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}), $XDG_CONFIG_HOME/husk with your registry credentials, \
    extracted images and instance state ($TMPDIR/husk-$UID, $XDG_RUNTIME_DIR/husk) show as empty \
    read-only directories, the directories above them cannot be renamed, and binding them is refused. \
    Only descriptors 0-2 and those its caller passed (such as Slurm's PMI_FD) are open in the command. \
    Every process it starts ends with it, also without --pid and after kill -9 of husk. Husk's state \
    directories must be yours, real directories (no symlinks) and mode 0700, under directories nobody \
    else can write to (or sticky ones, like /tmp): another user's or an open one is refused. \
    SECURITY.md has the threat model.

    ENVIRONMENT (reproducible: the same image gives the same variables for every user and host), lowest \
    to highest precedence: (1) PATH (the image's, else a standard one), HOME, USER, LOGNAME, SHELL from \
    your entry, TERM, LANG, LC_*, TZ, HUSK_CONTAINER, HUSK_NAME, and under an MPI launcher (OMPI_COMM_WORLD_* or \
    PMIX_* set) OMPI_MCA_btl_vader_single_copy_mechanism=none, OMPI_MCA_btl_vader_max_send_size=262144 and with \
    PMIx PMIX_MCA_gds=hash, which work across the ranks' user namespaces; (2) the image's Env (for a SIF \
    file: the assignments of its /.singularity.d/env scripts, see SIF FILES); (3) host \
    SLURM_*, PMI_*, PMIX_*, OMPI_*, PRTE_*, HYDRA_*, I_MPI_*, MPI_*, CUDA_VISIBLE_DEVICES, DISPLAY and \
    the --env-passthrough patterns (none with --cleanenv; --env-passthrough all adds every host variable \
    below the image's Env, as Singularity does); (4) --env-file FILE, then host SINGULARITYENV_NAME and APPTAINERENV_NAME, then HUSK_ENV_NAME=VALUE as \
    NAME, then --env NAME=VALUE. Nothing else from the host gets in; husk env IMAGE prints the result.

    SECURITY: no privilege is ever gained: no_new_privs is always set, every mount is nosuid and nodev \
    (but the /dev bind), setuid binaries in the image run as you, and all capabilities are dropped; with \
    --fakeroot a minimal set is kept inside the user namespace (see --add-caps; --drop-caps and --add-caps \
    change it). The default seccomp filter is a deny-list, as Docker's and Podman's are: everything is \
    allowed but kexec, module loading, keyrings, bpf, perf_event_open, userfaultfd, io_uring, setns, \
    reboot, swap and clock changes and a few more, and (unless --allow-nested) mount, umount, pivot_root \
    and new user namespaces, which fail with EPERM, and ptrace unless --pid; --security \
    seccomp=FILE.json uses a Docker/OCI profile instead, seccomp=unconfined none. /proc/sys and /sys are \
    read-only. The host's PID and network namespaces are shared by default, so MPI and batch jobs work; \
    --pid, --net, --ipc, --uts/--hostname and --containall (--contain --pid --ipc --cleanenv) separate \
    more; --rlimit lowers resource limits.

    HOST LIBRARIES: --nv binds the host's NVIDIA driver libraries (those nvidia-container-cli lists when \
    it is installed, else those of ldconfig -p named libcuda, \
    libcudadebugger, libnvidia-*, libnvcuvid, libnvoptix, libEGL_nvidia, libGLX_nvidia, libGLESv1_CM_nvidia, \
    libGLESv2_nvidia, libvdpau_nvidia) one file each into /.husk/host/lib, and nvidia-smi, nvidia-debugdump, \
    nvidia-persistenced, nvidia-cuda-mps-control and nvidia-cuda-mps-server from PATH into /.husk/host/bin; \
    --rocm does the same for AMD (libamdhip64, libhsa-runtime64, libhsakmt, libamd_comgr, librocm_smi64, \
    libamd_smi, librocm-core, libhsa-amd-aqlprofile64, libdrm_amdgpu, libdrm; rocm-smi, rocminfo, amd-smi). \
    The device nodes (/dev/nvidia*, /dev/nvidia-caps; /dev/kfd, /dev/dri) come with /dev, and are bound into \
    --contain's fresh /dev. On a host without the driver, one warning line says so and the command runs \
    without GPUs. --bind-mpi binds the host's MPI into an image that has none: the libraries of its library \
    directory (mpicc -showme:libdirs, mpicc -show, else libmpi in ldconfig -p) and every library they need \
    but glibc's own, found from their DT_NEEDED entries as the dynamic loader finds them, into \
    /.husk/host/lib, and its plugin directories (openmpi* beside its libraries, else ompi_info's \
    pkglibdir; PMIx's, UCX's), help texts and \
    configuration at their own paths; run it under the host's mpirun or srun (mpirun -np 4 husk exec \
    --bind-mpi IMAGE ./app). The image's glibc must be at least the newest GLIBC_x.y those libraries need: \
    when it is older, or the image has no glibc (busybox, musl), husk fails with one line saying so. \
    /.husk/host/lib is put in front of LD_LIBRARY_PATH inside and /.husk/host/bin in front of PATH, after \
    every other rule (even --env). CUDA_VISIBLE_DEVICES and the MPI variables pass through as usual.

    APPTAINER AND SINGULARITY: Apptainer's flags work with their meaning: -B, --mount, -H, -W, -S, \
    -c, -C, -e, -f, -p, -i, -n, -o/--overlay DIR, --cwd, --no-mount, --compat, --no-init, --no-umask, \
    --dns, --app (an image's /scif/apps/NAME), --security seccomp:FILE, --network none, --nvccli (as \
    --nv), --no-nv and --no-rocm (cancel --nv and --rocm), --ignore-subuid (--fakeroot maps only uid 0), \
    --unsquash (as --mode extract), --no-https (as --insecure), and husk shell -s; so do their \
    APPTAINER_<FLAG> and SINGULARITY_<FLAG> variables (APPTAINER_CONTAINALL=1, APPTAINER_NO_HOME=true, \
    APPTAINER_HOME=DIR, ...: 1, true or yes set a switch; the command line wins). \
    \(ApptainerFlags.helpSummary()) Husk differs on purpose where Apptainer trades reproducibility or \
    safety: host variables are not passed by default (Apptainer passes them all; --env-passthrough all \
    does, and the scheduler and MPI variables always pass), nothing is evaluated by a shell (--no-eval \
    is always on: --env 'PATH=\\$PATH:/x' sets that text; APPEND_PATH and PREPEND_PATH extend PATH), \
    images are never written (--writable is refused: use --writable-tmpfs or --overlay DIR), --net has \
    loopback only (CNI networks need root), and limits come from the scheduler or --rlimit, not cgroups.

    EXIT STATUS: the command's; 128+N when it is killed by signal N; 127 when it is not found in the \
    image; 126 when it is not executable; 255 with a one-line message when Husk fails before the command \
    starts. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are forwarded.
    """

struct Exec: ParsableCommand, RunsContainer {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in an image, as yourself, without root.",
        discussion: runDiscussion)

    @OptionGroup var flags: RunFlags

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() throws { try ContainerCommand.exec.start(flags.arguments, trailing: command) }
}

struct Run: ParsableCommand, RunsContainer {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an image's own command: Entrypoint + (ARGS, or else Cmd), as OCI runtimes do; a SIF's runscript with ARGS, as Apptainer does.",
        discussion: runDiscussion)

    @OptionGroup var flags: RunFlags

    @Argument(parsing: .captureForPassthrough, help: "Arguments replacing the image's Cmd.")
    var arguments: [String] = []

    func run() throws { try ContainerCommand.run.start(flags.arguments, trailing: arguments) }
}

struct Shell: ParsableCommand, RunsContainer {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "An interactive shell in an image (its /bin/bash, else /bin/sh), with a prompt naming the image.",
        discussion: runDiscussion)

    @OptionGroup var flags: RunFlags

    @Option(name: [.customShort("s"), .long], help: ArgumentHelp(
        "The shell to run (a program in the image) instead of /bin/bash or /bin/sh.", valueName: "PATH"))
    var shell: String?

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the shell, as apptainer shell passes them (husk shell IMAGE -c 'CMD').")
    var arguments: [String] = []

    func run() throws { try ContainerCommand.shell.start(flags.arguments, trailing: arguments, shell: shell) }
}

struct Env: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Print the environment a container of the image would get, one NAME=VALUE per line, sorted.",
        discussion: runDiscussion)

    @OptionGroup var flags: RunFlags

    func run() throws {
        var container = try flags.container()
        container.planner.reportsSkippedEnvironment = true
        let plan = try container.planner.plan(arguments: ["true"])
        print(plan.environment.joined(separator: "\n"))
    }
}
