import Foundation
import Testing
import HuskCore
@testable import HuskRuntime

/// The compatibility table (ApptainerFlags) and the README section rendered
/// from it: with HUSK_WRITE_COMPAT=1 (Scripts/generate-compat) the test
/// rewrites that section instead of comparing it.
@Suite struct ApptainerFlagsTableTests {
    static let begin = "<!-- apptainer-flags: generated from Sources/HuskRuntime/ApptainerFlags.swift by Scripts/generate-compat; a unit test compares it -->\n"
    static let end = "<!-- end apptainer-flags -->"

    static var readme: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md").path
    }

    @Test func readmeTableIsTheCodes() throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        guard let start = text.range(of: Self.begin), let stop = text.range(of: Self.end, range: start.upperBound..<text.endIndex) else {
            Issue.record("README.md lacks the apptainer-flags section markers")
            return
        }
        let table = ApptainerFlags.markdownTable()
        if ProcessInfo.processInfo.environment["HUSK_WRITE_COMPAT"] == "1" {
            try (text[..<start.upperBound] + table + text[stop.lowerBound...])
                .write(toFile: Self.readme, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(text[start.upperBound..<stop.lowerBound]) == table,
                "README.md's compatibility table differs from ApptainerFlags: run Scripts/generate-compat")
    }

    @Test func namesShortFormsAndVariablesAreUnique() {
        let flags = ApptainerFlags.all
        #expect(Set(flags.map(\.name)).count == flags.count)
        let shorts = flags.compactMap(\.short)
        #expect(Set(shorts).count == shorts.count)
        let keys = flags.flatMap(\.keys)
        #expect(Set(keys).count == keys.count)
    }

    @Test func theIssuesFlagsHaveTheirDecisions() throws {
        for (short, name) in [("B", "bind"), ("H", "home"), ("W", "workdir"), ("S", "scratch"), ("c", "contain"),
                              ("C", "containall"), ("e", "cleanenv"), ("f", "fakeroot"), ("w", "writable"),
                              ("s", "shell"), ("o", "overlay"), ("u", "userns")] {
            #expect(ApptainerFlags.flag(named: name)?.short == Character(short), "-\(short) is --\(name)")
        }
        for name in ["cwd", "no-mount", "mount", "workdir", "scratch", "compat", "no-init", "overlay", "app", "nv", "rocm"] {
            guard case .same = ApptainerFlags.flag(named: name)?.status else { Issue.record("--\(name) is implemented"); continue }
        }
        for name in ["userns", "no-eval"] {
            guard case .noOp = ApptainerFlags.flag(named: name)?.status else { Issue.record("--\(name) is a no-op"); continue }
        }
        for name in ["vm", "boot", "network-args", "apply-cgroups", "writable"] {
            guard case .refused(let reason) = ApptainerFlags.flag(named: name)?.status, !reason.isEmpty else {
                Issue.record("--\(name) is refused with a reason")
                continue
            }
        }
    }

    @Test func rowsNameTheFlagTheVariablesAndTheDecision() {
        let table = ApptainerFlags.markdownTable()
        #expect(table.contains("| `-B, --bind SPEC` | `APPTAINER_BIND`, `APPTAINER_BINDPATH` | same |"))
        #expect(table.contains("| `-u, --userns` | `APPTAINER_USERNS`, `APPTAINER_UNSHARE_USERNS` | no-op: "))
        #expect(table.contains("| `--vm` | `APPTAINER_VM` | refused: Husk runs containers, not virtual machines |"))
        #expect(table.split(separator: "\n").count == ApptainerFlags.all.count + 2)
    }

    @Test func refusalIsOneLineNamingTheFlag() {
        let vm = ApptainerFlags.flag(named: "vm")!
        let line = ApptainerFlags.refusal(vm, as: "--vm")
        #expect(line.hasPrefix("--vm is not supported: ") && !line.contains("\n"))
    }
}

@Suite struct ApptainerFlagVariablesTests {
    @Test func apptainerWinsEmptyIsUnset() {
        let variables = ApptainerFlagVariables(host: ["APPTAINER_HOME": "", "SINGULARITY_HOME": "/s",
                                                      "APPTAINER_WORKDIR": "/a", "SINGULARITY_WORKDIR": "/b",
                                                      "APPTAINER_TARGET_CWD": "/t"])
        #expect(variables.value(of: "home")! == ("SINGULARITY_HOME", "/s"))
        #expect(variables.value(of: "workdir")!.value == "/a")
        #expect(variables.value(of: "cwd")! == ("APPTAINER_TARGET_CWD", "/t"))
        #expect(variables.value(of: "hostname") == nil)
    }

    @Test func switches() throws {
        for on in ["1", "true", "TRUE", "yes", "y", "on", "t"] {
            #expect(try ApptainerFlagVariables(host: ["APPTAINER_CONTAINALL": on]).isOn("containall"))
        }
        for off in ["0", "false", "no", "off", ""] {
            #expect(try !ApptainerFlagVariables(host: ["APPTAINER_CONTAINALL": off]).isOn("containall"))
        }
        #expect(try ApptainerFlagVariables(host: ["SINGULARITY_UNSHARE_PID": "1"]).isOn("pid"))
        #expect(throws: HuskError.self) { try ApptainerFlagVariables(host: ["APPTAINER_CLEANENV": "maybe"]).isOn("cleanenv") }
    }

    @Test func refusedVariables() throws {
        #expect(try ApptainerFlagVariables(host: ["APPTAINER_VM": "0", "APPTAINER_CONTAIN": "1"]).firstRefused() == nil)
        let refused = try #require(try ApptainerFlagVariables(host: ["SINGULARITY_MEMORY": "1G"]).firstRefused())
        #expect(refused.flag.name == "memory" && refused.variable == "SINGULARITY_MEMORY")
    }

    @Test func lists() {
        #expect(ApptainerFlagVariables(host: ["APPTAINER_SCRATCH": "/a,,/b"]).list(of: "scratch") == ["/a", "/b"])
    }
}

@Suite struct ApptainerOptionParsingTests {
    @Test func mountSpecifications() throws {
        let plain = try MountOption.parse("type=bind,src=/data,dst=/mnt", currentDirectory: "/")
        #expect(plain == LaunchPlan.Bind(source: "/data", destination: "/mnt", readOnly: false, user: true))
        let ro = try MountOption.parse("type=bind,source=/data,dest=/mnt,ro", currentDirectory: "/")
        #expect(ro.readOnly)
        #expect(try MountOption.parse("source=rel,target=/t,readonly=false", currentDirectory: "/w").source == "/w/rel")
        #expect(try MountOption.parse("type=bind,src=/my:path,dst=/mnt", currentDirectory: "/").source == "/my:path")
        #expect(try MountOption.parse("type=bind,\"src=/comma,dir\",dst=/mnt", currentDirectory: "/").source == "/comma,dir")
        #expect(try MountOption.parse("type=bind,src=\"/a \"\"q\"\"\",dst=/m", currentDirectory: "/").source == "/a \"q\"")
        #expect(MountOption.specifications(fromVariable: "type=bind,src=/a,dst=/a\n\ntype=bind,src=/b,dst=/b\n").count == 2)
    }

    @Test(arguments: ["type=volume,src=/a,dst=/b", "src=/a", "dst=/b", "src=/a,dst=b", "src=/a,dst=/b,image-src=/",
                      "src=/a,dst=/b,color=red", "src=\"/a,dst=/b", "src=/a,dst=/b,ro=maybe"])
    func mountRejects(_ spec: String) {
        #expect(throws: HuskError.self) { try MountOption.parse(spec, currentDirectory: "/") }
    }

    @Test func envLists() throws {
        let parsed = try EnvironmentVariable.parseList("MYVAR=A,MYVAR2=B,LIST=x,y,3=z", what: "--env")
        #expect(parsed == [.init(name: "MYVAR", value: "A"), .init(name: "MYVAR2", value: "B"),
                           .init(name: "LIST", value: "x,y,3=z")])
        #expect(try EnvironmentVariable.parseList("A=", what: "--env") == [.init(name: "A", value: "")])
        #expect(throws: HuskError.self) { try EnvironmentVariable.parseList("novalue,A=1", what: "--env") }
    }

    @Test func noMount() throws {
        let parsed = try NoMountOption.parse(["tmp,sys,dev", "hostfs", "bind-paths", "/data2/", "/etc/hosts"])
        #expect(parsed == [.tmp, .sys, .dev, .siteBinds, .siteBind("/data2"), .hosts])
        #expect(throws: HuskError.self) { try NoMountOption.parse(["proc"]) }
        #expect(throws: HuskError.self) { try NoMountOption.parse(["floppy"]) }
    }

    @Test func securityItems() throws {
        #expect(try RunOptions.Seccomp(securityItems: ["seccomp:/p.json"]) == .profile(path: "/p.json"))
        #expect(try RunOptions.Seccomp(securityItems: ["seccomp=unconfined"]) == .unconfined)
        for item in ["uid:1000", "apparmor:/usr/bin/man", "selinux:context", "gid:1000:1:0"] {
            #expect(throws: HuskError.self) { try RunOptions.Seccomp(securityItems: [item]) }
        }
    }

    @Test func overlays() throws {
        let root = NSTemporaryDirectory() + "husk-overlay-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: root + "/w", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/old/upper", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/image.img", contents: Data())
        defer { try? FileManager.default.removeItem(atPath: root) }
        var overlay = OverlayOption()
        try overlay.add("w", currentDirectory: root)
        try overlay.add(root + "/old:ro", currentDirectory: "/")
        #expect(overlay.writable == root + "/w" && overlay.readOnly == [root + "/old/upper"])
        #expect(throws: HuskError.self) { try overlay.add(root + "/old", currentDirectory: "/") }  // a second writable one
        var other = OverlayOption()
        #expect(throws: HuskError.self) { try other.add(root + "/image.img", currentDirectory: "/") }
        #expect(throws: HuskError.self) { try other.add(root + "/nope", currentDirectory: "/") }
        let dirs = try #require(try overlay.writableDirectories())
        #expect(FileManager.default.fileExists(atPath: dirs.upper) && FileManager.default.fileExists(atPath: dirs.work))
    }

    @Test func planRecords() throws {
        var plan = LaunchPlan(name: "i", root: .directory("/r"), outsideUID: 1, outsideGID: 1, insideUID: 1, insideGID: 1)
        plan.arguments = ["sh"]
        plan.overlay = .init(upper: "/o/upper", work: "/o/work")
        plan.overlayLower = ["/ro"]
        plan.noInit = true
        plan.umask = 0o022
        let records = decodePlan(try plan.encoded())
        #expect(records.contains("overlay=/o/upper|/o/work") && records.contains("overlay_lower=/ro"))
        #expect(records.contains("no_init=1") && records.contains("umask=22"))
    }
}

@Suite struct ApptainerEnvironmentTests {
    func environment(host: [String: String], explicit: [(String, String)] = []) -> [String] {
        var environment = ContainerEnvironment(host: host, imageEnv: ["PATH=/usr/bin:/bin"],
                                               identity: .init(user: "u", home: "/home/u", shell: "/bin/sh"),
                                               containerPath: "/i.sqsh", containerName: "i.sqsh")
        environment.explicit = explicit
        return environment.resolve()
    }

    @Test func appendAndPrependPathExtendPath() {
        let env = environment(host: ["APPTAINERENV_APPEND_PATH": "/endpath"], explicit: [("PREPEND_PATH", "/startpath")])
        #expect(env.contains("PATH=/startpath:/usr/bin:/bin:/endpath"))
        #expect(!env.contains { $0.hasPrefix("APPEND_PATH=") || $0.hasPrefix("PREPEND_PATH=") })
    }
}

/// What the planner makes of Apptainer's filesystem flags.
@Suite struct ApptainerMountPlanTests {
    let user = UserIdentity(uid: 1001, gid: 1001, name: "alice", groupName: "alice", gecos: "", home: "/home/alice",
                            shell: "/bin/sh")

    func planner(_ options: RunOptions, root: String) throws -> LaunchPlanner {
        try FileManager.default.createDirectory(atPath: root + "/image", withIntermediateDirectories: true)
        return LaunchPlanner(image: try RuntimeImage.openDirectory(root + "/image"), options: options, user: user,
                             hostEnvironment: [:], currentDirectory: "/home/alice/work")
    }

    func temporary() -> String { NSTemporaryDirectory() + "husk-mount-plan-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }

    @Test func noMountLeavesOutWhatItNames() throws {
        let root = temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = RunOptions()
        options.noMount = [.home, .cwd, .tmp, .sys, .hosts, .dev, .devpts]
        let planner = try planner(options, root: root)
        let destinations = try planner.binds(inside: user).map(\.destination)
        for gone in ["/home/alice", "/home/alice/work", "/tmp", "/var/tmp", "/sys", "/etc/hosts", "/dev/pts"] {
            #expect(!destinations.contains(gone), "\(gone) is left out")
        }
        #expect(destinations.contains("/dev/null") && destinations.contains("/etc/resolv.conf"))
        #expect(planner.tmpfsMounts().map(\.destination) == ["/dev", "/dev/shm"])
    }

    @Test func scratchAndWorkdir() throws {
        let root = temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = RunOptions()
        options.scratch = ["/scratch"]
        #expect(try planner(options, root: root).tmpfsMounts() == [.init(destination: "/scratch", mode: 0o755)])
        options.contain = true
        options.workdir = root + "/work"
        let planner = try planner(options, root: root)
        #expect(!planner.tmpfsMounts().contains { ["/tmp", "/var/tmp", "/scratch"].contains($0.destination) })
        let binds = try planner.binds(inside: user).filter { $0.source.hasPrefix(root + "/work") }
        #expect(binds.map(\.destination) == ["/tmp", "/var/tmp", "/scratch"])
        #expect(binds.map(\.source) == [root + "/work/tmp", root + "/work/var_tmp", root + "/work/scratch/scratch"])
        #expect(binds.allSatisfy { FileManager.default.fileExists(atPath: $0.source) })
    }

    @Test func dnsReplacesTheHostsResolver() throws {
        let root = temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = RunOptions()
        options.dns = ["8.8.8.8,2001:4860:4860::8888"]
        let planner = try planner(options, root: root)
        #expect(try planner.resolvConf()?.content == "nameserver 8.8.8.8\nnameserver 2001:4860:4860::8888\n")
        #expect(!(try planner.binds(inside: user)).contains { $0.destination == "/etc/resolv.conf" })
        var bad = options
        bad.dns = ["dns.example.org"]
        #expect(throws: HuskError.self) { try self.planner(bad, root: root).resolvConf() }
    }

    @Test func appRunsItsRunscriptAndLeadsPath() throws {
        let root = temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = RunOptions()
        options.app = "foo"
        let planner = try planner(options, root: root)
        #expect(try planner.runArguments(["a"]) == ["/scif/apps/foo/scif/runscript", "a"])
        let env = try planner.environment(inside: user).resolve()
        #expect(env.contains("SCIF_APPNAME=foo"))
        #expect(env.contains { $0.hasPrefix("PATH=/scif/apps/foo/bin:") })
        #expect(!LaunchPlanner.isAppName("../x") && LaunchPlanner.isAppName("my-app_1.0"))
    }
}
