#if canImport(Glibc)
import Glibc
#endif
import CHuskShim
import FoundationEssentials
import HuskCore
import HuskTrust

/// One finding of `husk check`: OK, WARN (Husk runs, with less) or FAIL
/// (something Husk needs is missing), what was found, and the fix.
public struct NodeCheckResult: Equatable, Sendable, Encodable {
    public enum Status: String, Equatable, Sendable, Encodable {
        case ok = "OK", warn = "WARN", fail = "FAIL"
    }

    public var check: String
    public var status: Status
    public var detail: String
    /// One line for WARN and FAIL; nil for OK.
    public var fix: String?

    public init(check: String, status: Status, detail: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }

    enum CodingKeys: String, CodingKey { case check, status, detail, fix }

    /// `fix` is always there, null for OK.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(check, forKey: .check)
        try container.encode(status, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(fix, forKey: .fix)
    }
}

/// What husk-starter will do, tried in a forked child (CHuskShim's
/// `husk_probe_node`): per step nil when it was not tried, 0 when it
/// worked, else its errno.
public struct KernelProbe: Equatable, Sendable {
    public var userNamespace: Int32?
    public var idMap: Int32?
    public var tmpfs: Int32?
    public var overlay: Int32?
    public var fuseMount: Int32?
    public var noNewPrivs: Int32?
    public var seccomp: Int32?
    /// false: the child died before the end (killed, or timed out).
    public var finished: Bool

    public init(userNamespace: Int32? = 0, idMap: Int32? = 0, tmpfs: Int32? = 0, overlay: Int32? = 0,
                fuseMount: Int32? = 0, noNewPrivs: Int32? = 0, seccomp: Int32? = 0, finished: Bool = true) {
        self.userNamespace = userNamespace
        self.idMap = idMap
        self.tmpfs = tmpfs
        self.overlay = overlay
        self.fuseMount = fuseMount
        self.noNewPrivs = noNewPrivs
        self.seccomp = seccomp
        self.finished = finished
    }

    /// Forks the probe; `fuse`: also open /dev/fuse inside and mount it.
    public static func run(fuse: Bool) -> KernelProbe {
        var raw = husk_node_probe()
        guard husk_probe_node(fuse ? 1 : 0, &raw) == 0 else {
            return KernelProbe(userNamespace: nil, idMap: nil, tmpfs: nil, overlay: nil, fuseMount: nil,
                               noNewPrivs: nil, seccomp: nil, finished: false)
        }
        func step(_ value: Int32) -> Int32? { value < 0 ? nil : value }
        return KernelProbe(userNamespace: step(raw.userns), idMap: step(raw.idmap), tmpfs: step(raw.tmpfs),
                           overlay: step(raw.overlay), fuseMount: step(raw.fuse_mount),
                           noNewPrivs: step(raw.no_new_privs), seccomp: step(raw.seccomp), finished: raw.finished != 0)
    }
}

/// `husk check`: whether this node has what Husk needs, for users and
/// administrators. Files are read under `root` ("" on the node; a fake
/// tree in tests) and the kernel probe is injectable; nothing is created
/// (the state directories are inspected, not prepared).
public struct NodeCheck: Sendable {
    /// Every check, in the order they are printed.
    public static let names = ["userns", "apparmor", "fuse", "overlay", "subids", "scratch", "cache", "config",
                               "runtime", "policy", "slurm", "seccomp"]
    /// Less free space than this in the scratch or cache filesystem is a warning.
    public static let lowSpace: UInt64 = 1 << 30

    public var environment: [String: String]
    public var root: String
    public var user: UserIdentity
    public var kernelRelease: String
    /// husk-starter, for the AppArmor fix; nil when not found.
    public var starter: String?
    public var probe: @Sendable (_ fuse: Bool) -> KernelProbe

    public init(environment: [String: String], root: String = "", user: UserIdentity = .current(),
                kernelRelease: String = NodeCheck.currentKernelRelease(), starter: String? = nil,
                probe: @escaping @Sendable (_ fuse: Bool) -> KernelProbe = KernelProbe.run) {
        self.environment = environment
        self.root = root
        self.user = user
        self.kernelRelease = kernelRelease
        self.starter = starter
        self.probe = probe
    }

    public static func currentKernelRelease() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Whether anything failed: `husk check` exits 1 then.
    public static func failed(_ results: [NodeCheckResult]) -> Bool { results.contains { $0.status == .fail } }

    public func run() -> [NodeCheckResult] {
        let fuse = fuseDevice()
        let kernel = probe(fuse.usable)
        return [userNamespaces(kernel), appArmor(kernel), fuseCheck(fuse, kernel), overlay(kernel), subordinateIDs()]
            + stateDirectories() + [policy(), slurm(), seccomp(kernel)]
    }

    // MARK: - files

    func read(_ path: String, limit: Int = 1 << 20) -> String? {
        (try? FileByteSource(path: root + path).readAll(limit: limit, what: path)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A /proc/sys value, trimmed; nil when the file is absent.
    func sysctl(_ path: String) -> String? {
        read(path, limit: 4096).map { $0.filter { !$0.isWhitespace } }
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

    static func message(_ error: any Error) -> String { (error as? HuskError)?.message ?? "\(error)" }

    // MARK: - 1. user namespaces

    static let userNamespaceFile = "/proc/sys/user/max_user_namespaces"
    static let debianCloneFile = "/proc/sys/kernel/unprivileged_userns_clone"
    static let appArmorFile = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"

    func userNamespaces(_ kernel: KernelProbe) -> NodeCheckResult {
        var found: [String] = []
        var blocker: (what: String, fix: String)?
        if let max = sysctl(Self.userNamespaceFile) {
            found.append("user.max_user_namespaces = \(max)")
            if max == "0" {
                blocker = ("user.max_user_namespaces = 0 allows none",
                           "as root: sysctl -w user.max_user_namespaces=15000 (and the same in /etc/sysctl.d/ to keep it)")
            }
        }
        if let clone = sysctl(Self.debianCloneFile) {
            found.append("kernel.unprivileged_userns_clone = \(clone)")
            if clone == "0" {
                blocker = blocker ?? ("kernel.unprivileged_userns_clone = 0 allows them to root only",
                                      "as root: sysctl -w kernel.unprivileged_userns_clone=1 (and the same in /etc/sysctl.d/ to keep it)")
            }
        }
        let settings = found.isEmpty ? "" : " (\(found.joined(separator: ", ")))"
        let restricted = sysctl(Self.appArmorFile) == "1"
        let failure: String?
        if let code = kernel.userNamespace, code != 0 {
            failure = "unshare(CLONE_NEWUSER|CLONE_NEWNS) fails: \(Self.reason(code))"
        } else if let code = kernel.idMap, code != 0 {
            failure = "a new user namespace, but writing its uid_map/gid_map fails: \(Self.reason(code))"
        } else if let code = kernel.tmpfs, code != 0 {
            failure = "a new user namespace, but mounting in it fails: \(Self.reason(code))"
        } else if kernel.userNamespace == nil || kernel.tmpfs == nil {
            failure = "the probe did not finish (no fork, killed, or timed out)"
        } else {
            failure = nil
        }
        guard let failure else {
            if let blocker {
                // Root passes what stops everyone else.
                return NodeCheckResult(check: "userns", status: .warn,
                                       detail: "they work for uid \(user.uid), but \(blocker.what)\(settings)", fix: blocker.fix)
            }
            return NodeCheckResult(check: "userns", status: .ok,
                                   detail: "user and mount namespaces work: unshare, uid_map, a tmpfs mount\(settings)")
        }
        let fix = blocker?.fix
            ?? (restricted ? "see apparmor below: AppArmor keeps unprivileged user namespaces from mounting"
                : "enable unprivileged user namespaces (an enclosing container's seccomp filter or a security module may forbid them); Husk cannot run without them")
        return NodeCheckResult(check: "userns", status: .fail,
                               detail: failure + (blocker.map { "; \($0.what)" } ?? "") + settings, fix: fix)
    }

    func appArmor(_ kernel: KernelProbe) -> NodeCheckResult {
        guard let value = sysctl(Self.appArmorFile) else {
            return NodeCheckResult(check: "apparmor", status: .ok, detail: "no AppArmor restriction on user namespaces")
        }
        let setting = "kernel.apparmor_restrict_unprivileged_userns = \(value)"
        guard value != "0" else {
            return NodeCheckResult(check: "apparmor", status: .ok, detail: setting + ": not restricted")
        }
        let starter = self.starter ?? "/usr/libexec/husk/husk-starter"
        // AppArmor attaches profiles by executable: this probe runs as husk, runs as husk-starter.
        let fix = "as root: AppArmor profiles allowing userns for husk-starter and for husk, whose probe this is (/etc/apparmor.d/husk: `abi <abi/4.0>, profile husk-starter \(starter) flags=(unconfined) { userns, }` and the same for husk, then apparmor_parser -r /etc/apparmor.d/husk), or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
        if kernel.tmpfs == 0 {
            return NodeCheckResult(check: "apparmor", status: .warn,
                                   detail: "\(setting), yet this check could mount in a user namespace (a profile allows it); husk-starter needs one too",
                                   fix: fix)
        }
        return NodeCheckResult(check: "apparmor", status: .fail,
                               detail: "\(setting): unconfined programs get no capabilities in their user namespaces, so husk-starter cannot mount",
                               fix: fix)
    }

    // MARK: - 2. FUSE

    struct FuseDevice {
        var usable: Bool
        var problem: String?
    }

    /// /dev/fuse opened read-write, as husk-starter (libfuse) will.
    func fuseDevice() -> FuseDevice {
        let path = root + "/dev/fuse"
        var st = stat()
        guard stat(path, &st) == 0 else { return FuseDevice(usable: false, problem: "/dev/fuse: \(Self.reason(errno))") }
        guard (st.st_mode & S_IFMT) == S_IFCHR else { return FuseDevice(usable: false, problem: "/dev/fuse is not a device") }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            return FuseDevice(usable: false, problem: "/dev/fuse cannot be opened read-write: \(Self.reason(errno))")
        }
        close(fd)
        return FuseDevice(usable: true)
    }

    func fuseCheck(_ device: FuseDevice, _ kernel: KernelProbe) -> NodeCheckResult {
        if let problem = device.problem {
            return NodeCheckResult(check: "fuse", status: .warn,
                                   detail: "\(problem): husk runs images in extract mode (unpacked once into $TMPDIR/husk-\(user.uid)/rootfs: a slower first start, and scratch space)",
                                   fix: "as root: modprobe fuse (and load it at boot); /dev/fuse must be mode 0666 (Debian's fuse3 package)")
        }
        switch kernel.fuseMount {
        case 0:
            return NodeCheckResult(check: "fuse", status: .ok,
                                   detail: "/dev/fuse opens read-write and mounts in a user namespace (no fusermount3 needed)")
        case nil:
            return NodeCheckResult(check: "fuse", status: .warn,
                                   detail: "/dev/fuse opens read-write; a FUSE mount was not tried (no user namespace)",
                                   fix: "fix userns first")
        case let code?:
            return NodeCheckResult(check: "fuse", status: .fail,
                                   detail: "/dev/fuse opens read-write, but a FUSE mount in a user namespace fails: \(Self.reason(code)); husk run fails unless --mode extract",
                                   fix: "a kernel with FUSE in user namespaces (Linux 4.18+); meanwhile husk run --mode extract")
        }
    }

    // MARK: - 3. overlayfs

    func overlay(_ kernel: KernelProbe) -> NodeCheckResult {
        let uses = "--writable-tmpfs and mount points the image lacks (resolv.conf in /etc, $HOME in /home)"
        let fix = "a kernel of 5.11 or later (overlayfs in user namespaces); meanwhile images that have their mount points, without --writable-tmpfs"
        switch kernel.overlay {
        case 0:
            return NodeCheckResult(check: "overlay", status: .ok,
                                   detail: "overlayfs mounts in a user namespace (Linux \(kernelRelease)): \(uses) work")
        case nil:
            let version = Self.kernelAtLeast(kernelRelease, 5, 11) ? "5.11 or later" : "older than 5.11"
            return NodeCheckResult(check: "overlay", status: .warn,
                                   detail: "not tried (no user namespace); Linux \(kernelRelease) is \(version)",
                                   fix: Self.kernelAtLeast(kernelRelease, 5, 11) ? "fix userns first" : fix)
        case let code?:
            return NodeCheckResult(check: "overlay", status: .warn,
                                   detail: "overlayfs in a user namespace fails: \(Self.reason(code)) (Linux \(kernelRelease)); \(uses) fail",
                                   fix: fix)
        }
    }

    static func kernelAtLeast(_ release: String, _ major: Int, _ minor: Int) -> Bool {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return (parts[0], parts[1]) >= (major, minor)
    }

    // MARK: - 4. subordinate ids for --fakeroot

    func subordinateIDs() -> NodeCheckResult {
        var found: [String] = []
        var problems: [String] = []
        var fixes: [String] = []
        for name in ["newuidmap", "newgidmap"] {
            if SubordinateIDs.helper(name, root: root) != nil { continue }
            let present = SubordinateIDs.helperDirectories.first { access(root + $0 + "/" + name, F_OK) == 0 }
            problems.append(present.map { "\($0)/\(name) is not setuid root" } ?? "no \(name)")
            if fixes.isEmpty { fixes.append("as root: apt install uidmap (dnf install shadow-utils)") }
        }
        if problems.isEmpty { found.append("newuidmap and newgidmap are setuid root") }
        var missingRange = false
        for file in ["/etc/subuid", "/etc/subgid"] {
            guard let text = read(file) else {
                problems.append("no \(file)")
                missingRange = true
                continue
            }
            if let (start, count) = SubordinateIDs.range(in: text, name: user.name, id: user.uid) {
                found.append("\(file): \(start)-\(start + count - 1)")
            } else {
                problems.append("no range for \(user.name) in \(file)")
                missingRange = true
            }
        }
        if missingRange {
            fixes.append("as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user.name) (a range no other user has)")
        }
        guard problems.isEmpty else {
            return NodeCheckResult(check: "subids", status: .warn,
                                   detail: (problems + found).joined(separator: "; ") + ": --fakeroot maps only uid 0 (files of other owners in an image show as nobody)",
                                   fix: fixes.joined(separator: "; "))
        }
        return NodeCheckResult(check: "subids", status: .ok,
                               detail: found.joined(separator: "; ") + ": --fakeroot maps a full id range")
    }

    // MARK: - 5. Husk's state directories

    func stateDirectories() -> [NodeCheckResult] {
        let paths = HuskPaths(environment: environment)
        var results = [
            stateDirectory("scratch", paths.scratch, what: "extracted images", variable: "TMPDIR", freeSpace: true),
            stateDirectory("cache", paths.cache, what: "the image cache", variable: "HUSK_CACHEDIR", freeSpace: true),
            stateDirectory("config", paths.config, what: "Husk's configuration and credentials", variable: "XDG_CONFIG_HOME",
                           freeSpace: false),
        ]
        if paths.runtime == paths.scratch {
            results.append(NodeCheckResult(check: "runtime", status: .ok,
                                           detail: "no XDG_RUNTIME_DIR: instance state goes in the scratch directory"))
        } else {
            results.append(stateDirectory("runtime", paths.runtime, what: "instance state", variable: "XDG_RUNTIME_DIR",
                                          freeSpace: false))
        }
        return results
    }

    /// `path` as `PrivateDirectory.prepare` would find it, created or not;
    /// every run prepares it, so a refusal is a failure.
    func stateDirectory(_ check: String, _ path: String, what: String, variable: String, freeSpace: Bool) -> NodeCheckResult {
        let setting = environment[variable].flatMap { $0.isEmpty ? nil : "\(variable)=\($0): " } ?? ""
        let fix = "set \(variable) to a directory of your own that nobody else can write to"
        if check == "scratch", let tmpdir = environment["TMPDIR"], !tmpdir.isEmpty, access(tmpdir, F_OK) != 0 {
            let reason = Self.reason(errno)
            if case .absent(_, creatable: true)? = try? PrivateDirectory.inspect(path, what: what) {
                return NodeCheckResult(check: check, status: .warn,
                                       detail: "TMPDIR=\(tmpdir) does not exist (\(reason)); husk would create it (0700), other programs may fail",
                                       fix: "create it, or unset TMPDIR")
            }
        }
        let state: PrivateDirectory.Inspection
        do {
            state = try PrivateDirectory.inspect(path, what: what)
        } catch {
            return NodeCheckResult(check: check, status: .fail, detail: setting + Self.message(error) + "; every run needs it",
                                   fix: fix)
        }
        var detail: String
        switch state {
        case .ready(let real):
            detail = "\(setting)\(real) is yours and private"
        case .absent(let first, creatable: true):
            detail = "\(setting)\(path) does not exist yet: husk creates it (0700) at its first run"
            if first != path { detail += ", from \(first)" }
        case .absent(let first, creatable: false):
            return NodeCheckResult(check: check, status: .fail,
                                   detail: "\(setting)\(path) does not exist, and you cannot create \(first); every run needs it",
                                   fix: fix)
        }
        guard freeSpace, let free = Self.freeBytes(path) else {
            return NodeCheckResult(check: check, status: .ok, detail: detail)
        }
        detail += "; \(Self.size(free)) free"
        guard free >= Self.lowSpace else {
            let use = check == "scratch" ? "extracted images (--mode extract, no FUSE)" : "pulled and converted images"
            return NodeCheckResult(check: check, status: .warn, detail: detail + ", little for \(use)",
                                   fix: "set \(variable) to a larger filesystem (node-local scratch)")
        }
        return NodeCheckResult(check: check, status: .ok, detail: detail)
    }

    /// Free bytes for the user in the filesystem that holds `path`, or its
    /// nearest existing parent.
    static func freeBytes(_ path: String) -> UInt64? {
        var current = path
        while true {
            var fs = statvfs()
            if statvfs(current, &fs) == 0 { return UInt64(fs.f_bavail) * UInt64(fs.f_frsize) }
            guard errno == ENOENT, current != "/", !current.isEmpty else { return nil }
            current = FilePath.directory(of: current)
        }
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : "\(NumberText.oneDecimal(value)) \(units[unit])"
    }

    // MARK: - 6. site policy

    func policy() -> NodeCheckResult {
        let systemPath = root + SitePolicy.systemPath
        let policy: SitePolicy
        do {
            policy = try SitePolicy.load(environment: environment, systemPath: systemPath)
        } catch {
            return NodeCheckResult(check: "policy", status: .fail, detail: Self.message(error),
                                   fix: "as root: correct the policy file (husk.toml(5)); until then husk runs nothing")
        }
        guard let path = policy.path else {
            return NodeCheckResult(check: "policy", status: .ok,
                                   detail: "no site policy (\(SitePolicy.systemPath) absent): everything is allowed")
        }
        var notes: [String] = []
        if path != systemPath { notes.append("from HUSK_CONFIG") }
        if policy.allowedRegistries != nil { notes.append("registries restricted") }
        if !policy.revoked.isEmpty { notes.append("\(policy.revoked.count) revoked") }
        if policy.requireSignature || policy.registries.values.contains(where: { $0.requireSignature == true }) {
            notes.append("signatures required")
        }
        if !policy.allowFakeroot { notes.append("no --fakeroot") }
        if !policy.allowExtract { notes.append("no extract mode") }
        let shown = path == systemPath ? SitePolicy.systemPath : path
        return NodeCheckResult(check: "policy", status: .ok,
                               detail: "\(shown) is valid" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))"))
    }

    // MARK: - 7. Slurm

    func slurm() -> NodeCheckResult {
        var files = ["/etc/slurm/plugstack.conf"]
        let directory = "/etc/slurm/plugstack.conf.d"
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: root + directory) {
            files += entries.sorted().map { "\(directory)/\($0)" }
        }
        var plugins: [(place: String, path: String)] = []
        var sawPlugstack = false
        for file in files {
            guard let text = read(file) else { continue }
            sawPlugstack = true
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                let lower = content.lowercased()
                guard lower.contains("husk"), lower.contains(".so") else { continue }
                let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
                let plugin = fields.first { $0.lowercased().contains(".so") }.map(String.init) ?? String(content)
                plugins.append(("\(file):\(number + 1)", plugin))
            }
        }
        let candidates: [String] = (environment["PATH"] ?? "").split(separator: ":").map { String($0) + "/srun" }
        let srun = candidates.first { access($0, X_OK) == 0 }
        let srunText = srun.map { "srun is \($0)" } ?? "no srun on PATH"
        if let missing = plugins.first(where: { $0.path.hasPrefix("/") && access(root + $0.path, F_OK) != 0 }) {
            return NodeCheckResult(check: "slurm", status: .warn,
                                   detail: "\(missing.place) names \(missing.path), which does not exist (a required plugin fails every job step); \(srunText)",
                                   fix: "as root: install the husk SPANK plugin there, or remove the line")
        }
        if let plugin = plugins.first {
            return NodeCheckResult(check: "slurm", status: .ok,
                                   detail: "husk SPANK plugin \(plugin.path) in \(plugin.place); \(srunText)")
        }
        if srun == nil && !sawPlugstack {
            return NodeCheckResult(check: "slurm", status: .ok, detail: "no Slurm here (no srun on PATH, no plugstack.conf)")
        }
        return NodeCheckResult(check: "slurm", status: .ok,
                               detail: "\(srunText); no husk SPANK plugin in plugstack.conf: husk runs in jobs as an ordinary command")
    }

    // MARK: - 8. seccomp and no_new_privs

    func seccomp(_ kernel: KernelProbe) -> NodeCheckResult {
        let fix = "a kernel with seccomp filters (CONFIG_SECCOMP_FILTER); meanwhile husk run --security seccomp=unconfined"
        let field = read("/proc/self/status", limit: 1 << 16)?.split(separator: "\n")
            .first { $0.hasPrefix("Seccomp:") }
            .map { $0.dropFirst("Seccomp:".count).trimming(" \t") }
        guard let field else {
            return NodeCheckResult(check: "seccomp", status: .fail,
                                   detail: "no Seccomp field in /proc/self/status: this kernel has no seccomp", fix: fix)
        }
        if let code = kernel.noNewPrivs, code != 0 {
            return NodeCheckResult(check: "seccomp", status: .fail,
                                   detail: "prctl(PR_SET_NO_NEW_PRIVS) fails: \(Self.reason(code))",
                                   fix: "a kernel of 3.5 or later; husk-starter sets no_new_privs before every command")
        }
        switch kernel.seccomp {
        case 0:
            let mode = field == "0" ? "" : " (this process is already filtered: Seccomp \(field); filters stack)"
            return NodeCheckResult(check: "seccomp", status: .ok,
                                   detail: "no_new_privs and a seccomp filter install\(mode)")
        case nil:
            return NodeCheckResult(check: "seccomp", status: .fail,
                                   detail: "the probe did not reach seccomp (no fork, killed, or timed out)",
                                   fix: "run husk check again; a probe that hangs points at the kernel (uname -r)")
        case let code?:
            return NodeCheckResult(check: "seccomp", status: .fail, detail: "installing a seccomp filter fails: \(Self.reason(code))",
                                   fix: fix)
        }
    }
}
