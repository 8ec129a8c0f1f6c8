import Foundation
import Testing
import HuskCore
@testable import HuskRuntime

/// `husk check` on fake /proc, /etc and /dev trees, with the kernel probe's
/// answers given. The real probe runs in Integration/test-check.sh.
@Suite struct NodeCheckTests {
    /// A fake root: /proc/self/status, a private TMPDIR and HOME, no
    /// /dev/fuse, nothing in /etc unless a test writes it.
    final class Tree {
        let root: String

        init() throws {
            root = NSTemporaryDirectory() + "husk-node-\(UUID().uuidString)"
            for directory in ["", "/tmp", "/home"] {
                try FileManager.default.createDirectory(atPath: root + directory, withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o700])
            }
            try write("/proc/self/status", "Name:\thusk\nSeccomp:\t0\nSeccomp_filters:\t0\n")
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
            try FileManager.default.createDirectory(atPath: FilePath.directory(of: root + path),
                                                    withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: false, encoding: .utf8)
            chmod(root + path, mode)
        }
    }

    static let user = UserIdentity(uid: getuid(), gid: getgid(), name: "alice", groupName: "alice", gecos: "",
                                   home: "/home/alice", shell: "/bin/sh")

    /// Every check, by name, in the documented order.
    func check(_ tree: Tree, probe: KernelProbe = KernelProbe(), environment: [String: String] = [:],
               kernel: String = "6.1.0") -> [String: NodeCheckResult] {
        let base = ["HOME": tree.root + "/home", "TMPDIR": tree.root + "/tmp", "PATH": tree.root + "/bin"]
        let results = NodeCheck(environment: base.merging(environment) { $1 }, root: tree.root, user: Self.user,
                                kernelRelease: kernel, probe: { _ in probe }).run()
        #expect(results.map(\.check) == NodeCheck.names)
        for result in results {
            #expect((result.fix == nil) == (result.status == .ok), "\(result.check): a fix exactly for WARN and FAIL")
        }
        return Dictionary(uniqueKeysWithValues: results.map { ($0.check, $0) })
    }

    @Test func aWorkingNodeHasNoFailures() throws {
        let tree = try Tree()
        try tree.write("/proc/sys/user/max_user_namespaces", "63000\n")
        let results = check(tree)
        #expect(results["userns"]?.status == .ok)
        #expect(results["userns"]?.detail.contains("user.max_user_namespaces = 63000") == true)
        #expect(results["apparmor"]?.status == .ok)
        #expect(results["overlay"]?.status == .ok)
        #expect(results["seccomp"]?.status == .ok)
        #expect(results["policy"]?.status == .ok)
        #expect(results["policy"]?.detail.contains("no site policy") == true)
        #expect(results["slurm"]?.detail.contains("no Slurm here") == true)
        #expect(!NodeCheck.failed(Array(results.values)))
    }

    @Test func noUserNamespacesAllowedFailsWithTheSysctl() throws {
        let tree = try Tree()
        try tree.write("/proc/sys/user/max_user_namespaces", "0\n")
        let results = check(tree, probe: KernelProbe(userNamespace: ENOSPC, idMap: nil, tmpfs: nil, overlay: nil,
                                                     fuseMount: nil))
        let userns = try #require(results["userns"])
        #expect(userns.status == .fail)
        #expect(userns.detail.contains("unshare(CLONE_NEWUSER|CLONE_NEWNS) fails"))
        #expect(userns.detail.contains("user.max_user_namespaces = 0"))
        #expect(userns.fix?.contains("sysctl -w user.max_user_namespaces=") == true)
        #expect(results["overlay"]?.detail.contains("not tried") == true)
        #expect(NodeCheck.failed(Array(results.values)))
    }

    @Test func debiansSysctlIsNamed() throws {
        let tree = try Tree()
        try tree.write("/proc/sys/kernel/unprivileged_userns_clone", "0\n")
        let results = check(tree, probe: KernelProbe(userNamespace: EPERM, idMap: nil, tmpfs: nil, overlay: nil,
                                                     fuseMount: nil))
        #expect(results["userns"]?.status == .fail)
        #expect(results["userns"]?.fix?.contains("kernel.unprivileged_userns_clone=1") == true)
        // Where the probe passes anyway (root), the sysctl still stops everyone else.
        #expect(check(tree)["userns"]?.status == .warn)
    }

    @Test func appArmorsRestrictionIsReported() throws {
        let tree = try Tree()
        try tree.write("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n")
        // Ubuntu 24.04: unshare works, mounting in the namespace does not.
        let results = check(tree, probe: KernelProbe(tmpfs: EACCES, overlay: nil, fuseMount: nil))
        let apparmor = try #require(results["apparmor"])
        #expect(apparmor.status == .fail)
        #expect(apparmor.detail.contains("kernel.apparmor_restrict_unprivileged_userns = 1"))
        #expect(apparmor.fix?.contains("userns,") == true)
        #expect(apparmor.fix?.contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") == true)
        #expect(results["userns"]?.status == .fail)
        #expect(results["userns"]?.fix?.contains("apparmor") == true)
        // A profile lets husk through: still a warning, for husk-starter.
        #expect(check(tree)["apparmor"]?.status == .warn)
        try tree.write("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n")
        #expect(check(tree)["apparmor"]?.status == .ok)
    }

    @Test func missingSubordinateIDsWarn() throws {
        let tree = try Tree()
        try tree.write("/etc/subgid", "alice:100000:65536\n")
        let subids = try #require(check(tree)["subids"])
        #expect(subids.status == .warn)
        #expect(subids.detail.contains("no /etc/subuid"))
        #expect(subids.detail.contains("--fakeroot maps only uid 0"))
        #expect(subids.fix?.contains("usermod --add-subuids") == true)
        try tree.write("/etc/subuid", "bob:100000:65536\n")
        #expect(check(tree)["subids"]?.detail.contains("no range for alice in /etc/subuid") == true)
        try tree.write("/etc/subuid", "bob:100000:65536\nalice:165536:65536\n")
        let ranges = try #require(check(tree)["subids"])
        #expect(ranges.detail.contains("/etc/subuid: 165536-231071"))
        #expect(!ranges.detail.contains("no range"))
        for helper in ["newuidmap", "newgidmap"] {
            try tree.write("/usr/bin/" + helper, "#!/bin/sh\n", mode: 0o4755)
        }
        // Setuid root only when root made them.
        #expect(check(tree)["subids"]?.status == (getuid() == 0 ? .ok : .warn))
    }

    @Test func anUnsafePolicyFails() throws {
        let tree = try Tree()
        try tree.write("/etc/husk/husk.toml", "allow_fakeroot = false\n", mode: 0o664)
        let results = check(tree)
        let policy = try #require(results["policy"])
        #expect(policy.status == .fail)
        #expect(policy.detail.hasPrefix("refused: the site policy \(tree.root)/etc/husk/husk.toml"))
        #expect(policy.fix?.contains("husk.toml(5)") == true)
        #expect(NodeCheck.failed(Array(results.values)))
        if getuid() == 0 {
            chmod(tree.root + "/etc/husk/husk.toml", 0o644)
            let valid = try #require(check(tree)["policy"])
            #expect(valid.status == .ok)
            #expect(valid.detail == "/etc/husk/husk.toml is valid (no --fakeroot)")
            try tree.write("/etc/husk/husk.toml", "allow_fakroot = false\n")
            #expect(check(tree)["policy"]?.detail.contains("unknown key \"allow_fakroot\"") == true)
        }
    }

    @Test func fuseAndOverlay() throws {
        let tree = try Tree()
        let results = check(tree)
        #expect(results["fuse"]?.status == .warn)
        #expect(results["fuse"]?.detail.contains("extract mode") == true)
        let overlay = try #require(check(tree, probe: KernelProbe(overlay: EINVAL), kernel: "5.10.0-28-amd64")["overlay"])
        #expect(overlay.status == .warn)
        #expect(overlay.detail.contains("Linux 5.10.0-28-amd64"))
        #expect(overlay.fix?.contains("5.11") == true)
        #expect(NodeCheck.kernelAtLeast("5.11.0", 5, 11) && NodeCheck.kernelAtLeast("6.1.0-13-amd64", 5, 11))
        #expect(!NodeCheck.kernelAtLeast("4.18.0-553.el8_10.x86_64", 5, 11))
    }

    @Test func scratchDirectories() throws {
        let tree = try Tree()
        #expect(check(tree)["scratch"]?.detail.contains("husk creates it (0700)") == true)
        #expect(!FileManager.default.fileExists(atPath: "\(tree.root)/tmp/husk-\(getuid())"), "nothing created")
        let missing = try #require(check(tree, environment: ["TMPDIR": tree.root + "/gone"])["scratch"])
        #expect(missing.status == .warn)
        #expect(missing.detail.contains("TMPDIR=\(tree.root)/gone does not exist"))
        try FileManager.default.createDirectory(atPath: tree.root + "/shared", withIntermediateDirectories: false)
        chmod(tree.root + "/shared", 0o777)
        let shared = try #require(check(tree, environment: ["TMPDIR": tree.root + "/shared"])["scratch"])
        #expect(shared.status == .fail)
        #expect(shared.detail.contains("\(tree.root)/shared can be written by others"))
        let cache = try #require(check(tree, environment: ["HUSK_CACHEDIR": tree.root + "/shared/cache"])["cache"])
        #expect(cache.status == .fail)
        #expect(cache.detail.hasPrefix("HUSK_CACHEDIR=\(tree.root)/shared/cache: "))
    }

    @Test func slurmPlugin() throws {
        let tree = try Tree()
        try tree.write("/bin/srun", "#!/bin/sh\n", mode: 0o755)
        try tree.write("/etc/slurm/plugstack.conf", "include /etc/slurm/plugstack.conf.d/*.conf\n")
        #expect(check(tree)["slurm"]?.detail.contains("no husk SPANK plugin") == true)
        try tree.write("/etc/slurm/plugstack.conf.d/husk.conf",
                       "# optional /old/husk_spank.so\nrequired /usr/lib/slurm/husk_spank.so image_dir=/apps\n")
        let missing = try #require(check(tree)["slurm"])
        #expect(missing.status == .warn)
        #expect(missing.detail.hasPrefix("/etc/slurm/plugstack.conf.d/husk.conf:2 names /usr/lib/slurm/husk_spank.so, which does not exist"))
        try tree.write("/usr/lib/slurm/husk_spank.so", "")
        let present = try #require(check(tree)["slurm"])
        #expect(present.status == .ok)
        #expect(present.detail == "husk SPANK plugin /usr/lib/slurm/husk_spank.so in /etc/slurm/plugstack.conf.d/husk.conf:2; srun is \(tree.root)/bin/srun")
    }

    @Test func seccompWithoutKernelSupportFails() throws {
        let tree = try Tree()
        try tree.write("/proc/self/status", "Name:\thusk\n")
        #expect(check(tree)["seccomp"]?.status == .fail)
        try tree.write("/proc/self/status", "Seccomp:\t2\n")
        #expect(check(tree)["seccomp"]?.detail.contains("already filtered") == true)
        #expect(check(tree, probe: KernelProbe(seccomp: EINVAL))["seccomp"]?.status == .fail)
    }

    @Test func jsonHasEveryKey() throws {
        let result = NodeCheckResult(check: "userns", status: .ok, detail: "works")
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(result)) as? [String: Any]
        #expect(object?.keys.sorted() == ["check", "detail", "fix", "status"])
        #expect(object?["fix"] is NSNull)
        #expect(object?["status"] as? String == "OK")
    }
}
