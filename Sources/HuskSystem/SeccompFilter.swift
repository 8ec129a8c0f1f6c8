#if canImport(Glibc)
import Glibc
#endif
import CHuskShim
import CLibSeccomp
import HuskCore

/// The seccomp filter a container runs under, compiled to BPF here with
/// libseccomp so the starter only has to install it (DESIGN.md §1).
/// System calls of another architecture (32-bit x86 on x86_64) kill the
/// process: a filter only describes the native table.
public struct SeccompFilter: Sendable {
    /// A libseccomp action (`SCMP_ACT_*` values).
    public struct Action: Equatable, Sendable {
        public let rawValue: UInt32
        public static let allow = Action(rawValue: 0x7fff_0000)
        public static let log = Action(rawValue: 0x7ffc_0000)
        public static let killThread = Action(rawValue: 0x0000_0000)
        public static let killProcess = Action(rawValue: 0x8000_0000)
        public static let trap = Action(rawValue: 0x0003_0000)
        public static func errno(_ code: Int32) -> Action { Action(rawValue: 0x0005_0000 | (UInt32(code) & 0xffff)) }
        public static func trace(_ message: UInt32) -> Action { Action(rawValue: 0x7ff0_0000 | (message & 0xffff)) }
    }

    /// One argument comparison: `(argument[index] OP value[, valueTwo])`.
    public struct ArgumentCheck: Equatable, Sendable {
        public var index: UInt32
        public var op: scmp_compare
        public var value: UInt64
        public var valueTwo: UInt64

        public init(index: UInt32, op: scmp_compare, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    public struct Rule: Equatable, Sendable {
        public var names: [String]
        public var action: Action
        public var arguments: [ArgumentCheck] = []

        public init(names: [String], action: Action, arguments: [ArgumentCheck] = []) {
            self.names = names
            self.action = action
            self.arguments = arguments
        }
    }

    public struct Options: Sendable {
        /// With a PID namespace the container cannot see, so cannot trace,
        /// anything outside it: ptrace is then allowed (gdb, strace).
        public var pidNamespace = false
        /// Allow mount and new namespaces inside (nested containers).
        public var allowNested = false
        public init() {}
    }

    /// Denied with EPERM by the default profile in every case.
    public static let denied = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "get_kernel_syms", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load",
        "kexec_load", "keyctl", "lookup_dcookie", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
        "perf_event_open", "quotactl", "quotactl_fd", "reboot", "request_key", "setns", "settimeofday",
        "stime", "swapoff", "swapon", "_sysctl", "sysfs", "uselib", "userfaultfd", "ustat", "vm86",
        "vm86old",
        // io_uring performs system calls on the kernel's side, past any
        // filter, and has been a steady source of kernel exploits.
        "io_uring_setup", "io_uring_enter", "io_uring_register",
    ]
    /// Denied by the default profile unless `allowNested`: mounting and new namespaces.
    public static let nested = [
        "mount", "umount", "umount2", "pivot_root", "unshare", "fsopen", "fsconfig", "fsmount",
        "fspick", "move_mount", "open_tree", "mount_setattr",
    ]
    static let cloneNewUser: UInt64 = 0x1000_0000  // CLONE_NEWUSER (hidden by Glibc's module)

    /// The default profile, following Docker's and Podman's: everything is
    /// allowed but the system calls that reach past the container (kernel
    /// modules, kexec, keyrings, BPF, perf, mounts and new namespaces, clock
    /// and swap control, rebooting...), which fail with EPERM rather than
    /// killing the process.
    public static func defaultRules(_ options: Options) -> (Action, [Rule]) {
        let eperm = Action.errno(EPERM)
        var names = denied
        if !options.allowNested { names += nested }
        if !options.pidNamespace { names.append("ptrace") }
        var rules = [Rule(names: names, action: eperm)]
        if !options.allowNested {
            // clone cannot create a user namespace either. clone3 passes its
            // flags in memory a filter cannot read, so it fails with ENOSYS
            // and the C library falls back to clone (as Docker does).
            rules.append(Rule(names: ["clone"], action: eperm, arguments: [
                ArgumentCheck(index: 0, op: SCMP_CMP_MASKED_EQ, value: cloneNewUser, valueTwo: cloneNewUser),
            ]))
            rules.append(Rule(names: ["clone3"], action: .errno(ENOSYS)))
        }
        return (.allow, rules)
    }

    /// What the FUSE server (a process of the starter's that reads the
    /// image file and answers the kernel) may do: read its descriptors,
    /// write answers, manage its memory, wait, end. Anything else, as after
    /// an exploited bug in libsquashfuse on a crafted image, kills it; the
    /// starter then reports the image as damaged (DESIGN.md §3).
    public static let fuseServerCalls = [
        "read", "pread64", "readv", "preadv", "write", "writev", "lseek", "poll", "ppoll",
        "close", "fstat", "newfstatat", "statx", "brk", "mmap", "munmap", "mremap", "madvise",
        "futex", "getpid", "gettid", "clock_gettime", "gettimeofday", "rt_sigprocmask",
        "rt_sigreturn", "exit", "exit_group", "restart_syscall",
    ]

    public static func fuseServer() throws -> SeccompFilter {
        try SeccompFilter(defaultAction: .killProcess, rules: [Rule(names: fuseServerCalls, action: .allow)])
    }

    /// The filter as classic BPF instructions (8 bytes each), ready for PR_SET_SECCOMP.
    public let program: [UInt8]

    public init(_ options: Options) throws {
        let (defaultAction, rules) = Self.defaultRules(options)
        try self.init(defaultAction: defaultAction, rules: rules)
    }

    /// Compiles rules; names this architecture lacks are skipped, as
    /// Docker does, so one profile serves x86_64 and aarch64. The same
    /// action and rules give the same program: it is compiled once per
    /// process (0.15 ms a filter; a start needs two, and a warm planner's
    /// children find the ones its warm-up compiled).
    public init(defaultAction: Action, rules: [Rule]) throws {
        program = try CompiledFilters.shared.program(defaultAction, rules) {
            try Self.compile(defaultAction: defaultAction, rules: rules)
        }
    }

    private static func compile(defaultAction: Action, rules: [Rule]) throws -> [UInt8] {
        guard let context = seccomp_init(defaultAction.rawValue) else {
            throw HuskError(.io, "seccomp: cannot create a filter (out of memory)")
        }
        defer { seccomp_release(context) }
        for rule in rules where rule.action != defaultAction {
            var checks = rule.arguments.map {
                scmp_arg_cmp(arg: $0.index, op: $0.op, datum_a: $0.value, datum_b: $0.valueTwo)
            }
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                guard number >= 0 else { continue }
                let status = checks.withUnsafeMutableBufferPointer {
                    seccomp_rule_add_array(context, rule.action.rawValue, number, UInt32($0.count), $0.baseAddress)
                }
                guard status == 0 else {
                    throw HuskError(.usage, "seccomp: cannot add a rule for \(name) (\(String(cString: strerror(-status))))")
                }
            }
        }
        return try export(context)
    }

    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        let fd = husk_memfd("husk-seccomp")
        guard fd >= 0 else { throw HuskError.io(errno, "memfd", doing: "seccomp: cannot export the filter to") }
        defer { close(fd) }
        let status = seccomp_export_bpf(context, fd)
        guard status == 0 else {
            throw HuskError(.io, "seccomp: cannot compile the filter (\(String(cString: strerror(-status))))")
        }
        let size = lseek(fd, 0, SEEK_END)
        lseek(fd, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == Int(size), size % 8 == 0 else { throw HuskError(.io, "seccomp: short read of the compiled filter") }
        return bytes
    }
}

/// The programs this process compiled, by what they were compiled from.
private final class CompiledFilters: @unchecked Sendable {
    static let shared = CompiledFilters()
    private let lock = ConditionLock()
    private var programs: [(action: SeccompFilter.Action, rules: [SeccompFilter.Rule], program: [UInt8])] = []

    func program(_ action: SeccompFilter.Action, _ rules: [SeccompFilter.Rule],
                 compile: () throws -> [UInt8]) throws -> [UInt8] {
        lock.lock()
        let known = programs.first { $0.action == action && $0.rules == rules }?.program
        lock.unlock()
        if let known { return known }
        let program = try compile()
        lock.lock()
        programs.append((action, rules, program))
        lock.unlock()
        return program
    }
}
