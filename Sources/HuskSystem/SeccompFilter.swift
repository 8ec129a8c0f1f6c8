#if canImport(Glibc)
import Glibc
#endif
import CHuskShim
import CLibSeccomp
import HuskCore

/// The seccomp filter a container runs under, compiled to BPF here with
/// libseccomp so the starter only has to install it (DESIGN.md §1). The
/// default profile follows Docker's and Podman's: everything is allowed but
/// the system calls that reach past the container (kernel modules, kexec,
/// keyrings, BPF, perf, mounts and new namespaces, clock and swap control,
/// rebooting...), which fail with EPERM rather than killing the process.
/// System calls of another architecture (32-bit x86 on x86_64) kill it:
/// the filter only describes the native table.
public struct SeccompFilter: Sendable {
    public struct Options: Sendable {
        /// With a PID namespace the container cannot see, so cannot trace,
        /// anything outside it: ptrace is then allowed (gdb, strace).
        public var pidNamespace = false
        /// `--fakeroot` workloads that need mount/unshare inside the
        /// user namespace (e.g. nested containers).
        public var allowNested = false
        public init() {}
    }

    /// Denied with EPERM in every case.
    public static let denied = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "get_kernel_syms", "init_module", "ioperm", "iopl", "kcmp", "kexec_file_load",
        "kexec_load", "keyctl", "lookup_dcookie", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
        "perf_event_open", "quotactl", "quotactl_fd", "reboot", "request_key", "setns", "settimeofday",
        "stime", "swapoff", "swapon", "_sysctl", "sysfs", "uselib", "userfaultfd", "ustat", "vm86",
        "vm86old",
    ]
    /// Denied unless `allowNested`: mounting and new namespaces inside.
    public static let nested = [
        "mount", "umount", "umount2", "pivot_root", "unshare", "fsopen", "fsconfig", "fsmount",
        "fspick", "move_mount", "open_tree", "mount_setattr",
    ]

    /// The filter as classic BPF instructions (8 bytes each), ready for
    /// PR_SET_SECCOMP.
    public let program: [UInt8]

    public init(_ options: Options) throws {
        guard let context = seccomp_init(0x7fff_0000 /* SCMP_ACT_ALLOW */) else {
            throw HuskError(.io, "seccomp: cannot create a filter (out of memory)")
        }
        defer { seccomp_release(context) }
        let eperm: UInt32 = 0x0005_0000 | UInt32(EPERM)  // SCMP_ACT_ERRNO(EPERM)
        var names = Self.denied
        if !options.allowNested { names += Self.nested }
        if !options.pidNamespace { names.append("ptrace") }
        for name in names {
            let number = seccomp_syscall_resolve_name(name)
            guard number >= 0 else { continue }  // not a system call on this architecture
            let status = seccomp_rule_add_array(context, eperm, number, 0, nil)
            guard status == 0 else {
                throw HuskError(.io, "seccomp: cannot add a rule for \(name) (\(String(cString: strerror(-status))))")
            }
        }
        if !options.allowNested {
            // clone and clone3 cannot create a user namespace either. clone3
            // passes its flags in memory a filter cannot read, so it fails
            // with ENOSYS and the C library falls back to clone (as Docker does).
            let clone = seccomp_syscall_resolve_name("clone")
            let cloneNewUser: UInt64 = 0x1000_0000  // CLONE_NEWUSER (hidden by Glibc's module)
            var newUser = scmp_arg_cmp(arg: 0, op: SCMP_CMP_MASKED_EQ, datum_a: cloneNewUser, datum_b: cloneNewUser)
            if clone >= 0 {
                let status = seccomp_rule_add_array(context, eperm, clone, 1, &newUser)
                guard status == 0 else { throw HuskError(.io, "seccomp: cannot add the clone rule") }
            }
            let clone3 = seccomp_syscall_resolve_name("clone3")
            if clone3 >= 0 {
                let status = seccomp_rule_add_array(context, 0x0005_0000 | UInt32(ENOSYS), clone3, 0, nil)
                guard status == 0 else { throw HuskError(.io, "seccomp: cannot add the clone3 rule") }
            }
        }
        program = try Self.export(context)
    }

    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        let fd = husk_memfd("husk-seccomp")
        guard fd >= 0 else { throw HuskError.io(errno, "memfd", doing: "seccomp: cannot export the filter to") }
        defer { close(fd) }
        let status = seccomp_export_bpf(context, fd)
        guard status == 0 else { throw HuskError(.io, "seccomp: cannot compile the filter (\(String(cString: strerror(-status))))") }
        let size = lseek(fd, 0, SEEK_END)
        lseek(fd, 0, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == Int(size), size % 8 == 0 else { throw HuskError(.io, "seccomp: short read of the compiled filter") }
        return bytes
    }

    /// Lowercase hex, the launch plan's encoding for binary data.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(program.count * 2)
        for byte in program {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
