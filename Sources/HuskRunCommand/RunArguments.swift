import FoundationEssentials
import HuskCore
import HuskRuntime
import HuskTrust

/// What husk run, exec, shell, env and instance start were given before
/// the command: RunFlags' values as plain data (help texts and names live
/// there; husk-run(1) documents them), filled by ArgumentParser or by
/// RunCommandLine's quick parse. Turns them, with the APPTAINER_<FLAG>
/// variables, into RunOptions and a Container.
package struct RunArguments: Equatable {
    package var debug = false
    package var quiet = false
    package var bind: [String] = []
    package var mount: [String] = []
    package var env: [String] = []
    package var envFile: String?
    package var cleanenv = false
    package var envPassthrough: String?
    package var contain = false
    package var noHome = false
    package var home: String?
    package var pwd: String?
    package var workdir: String?
    package var scratch: [String] = []
    package var noMount: [String] = []
    package var writableTmpfs = false
    package var overlay: [String] = []
    package var fakeroot = false
    package var ignoreSubuid = false
    package var pid = false
    package var noInit = false
    package var net = false
    package var network: String?
    package var dns: [String] = []
    package var ipc = false
    package var uts = false
    package var hostname: String?
    package var containall = false
    package var compat = false
    package var noUmask = false
    package var rlimit: [String] = []
    package var security: [String] = []
    package var allowNested = false
    package var addCaps: [String] = []
    package var dropCaps: [String] = []
    package var noPrivs = false
    package var mode: RunOptions.Mode = .auto
    package var unsquash = false
    package var nv = false
    package var nvccli = false
    package var noNv = false
    package var rocm = false
    package var noRocm = false
    package var bindMPI = false
    package var app: String?
    package var pull: PullPolicy = .missing
    package var caCert: [String] = []
    package var insecure = false
    /// Apptainer's flags Husk ignores or refuses (ApptainerOnlyFlags).
    package var apptainerOnly = ApptainerOnlyFlags.Count()
    package var image: String

    package init(image: String) { self.image = image }

    /// The command line being run: this process's, or in a warm planner's
    /// child the launcher's (WarmPlanner).
    package nonisolated(unsafe) static var processArguments = CommandLine.arguments

    package func runOptions() throws -> RunOptions {
        let host = ProcessInfo.processInfo.environment
        let variables = ApptainerFlagVariables(host: host)
        try ApptainerOnlyFlags.check(apptainerOnly, arguments: Self.processArguments, image: image, variables: variables)
        func on(_ flag: Bool, _ name: String) throws -> Bool { try flag || variables.isOn(name) }
        func value(_ given: String?, _ names: String...) -> String? {
            given ?? names.lazy.compactMap { variables.value(of: $0)?.value }.first
        }
        func list(_ given: [String], _ name: String) -> [String] {
            let items = given.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
            return items.isEmpty ? variables.list(of: name) : items
        }
        let cwd = FileManager.default.currentDirectoryPath
        let compat = try on(compat, "compat")
        let containall = try on(containall, "containall") || compat

        var options = RunOptions()
        // Binds a Singularity/Apptainer job script sets in its environment come first.
        options.binds = try BindOption.parse(ApptainerVariables.binds(host: host) + bind, currentDirectory: cwd)
        let mounts = (variables.value(of: "mount").map { MountOption.specifications(fromVariable: $0.value) } ?? []) + mount
        options.binds += try mounts.map { try MountOption.parse($0, currentDirectory: cwd) }
        options.environment = try env.flatMap { try EnvironmentVariable.parseList($0, what: "--env") }
        options.envFile = value(envFile, "env-file")
        options.cleanenv = try on(cleanenv, "cleanenv") || containall
        options.envPassthrough = envPassthrough
        options.contain = try on(contain, "contain") || containall
        options.noHome = try on(noHome, "no-home")
        options.home = value(home, "home")
        options.workingDirectory = value(pwd, "cwd", "pwd")
        options.workdir = value(workdir, "workdir")
        options.scratch = list(scratch, "scratch")
        options.noMount = try NoMountOption.parse(list(noMount, "no-mount"))
        options.writableTmpfs = try on(writableTmpfs, "writable-tmpfs") || compat
        for spec in list(overlay, "overlay") { try options.overlay.add(spec, currentDirectory: cwd) }
        options.fakeroot = try on(fakeroot, "fakeroot")
        options.ignoreSubuid = try on(ignoreSubuid, "ignore-subuid")
        options.pid = try on(pid, "pid") || containall
        options.noInit = try on(noInit, "no-init") || compat
        // Checked first: --net --network bridge must refuse, not short-circuit.
        let loopbackNetwork = try networkNamespace(network.map { ("--network", $0) }
                                                   ?? variables.value(of: "network").map { ($0.variable, $0.value) })
        options.net = try on(net, "net") || loopbackNetwork
        options.ipc = try on(ipc, "ipc") || containall
        options.uts = try on(uts, "uts")
        options.hostname = value(hostname, "hostname")
        options.dns = list(dns, "dns")
        options.umask = try on(noUmask, "no-umask") || compat ? 0o022 : nil
        options.resourceLimits = try rlimit.map { try ResourceLimit(parsing: $0) }
        options.seccomp = try RunOptions.Seccomp(securityItems: list(security, "security"))
        options.allowNested = allowNested
        options.addCaps = list(addCaps, "add-caps")
        options.dropCaps = list(dropCaps, "drop-caps")
        if try on(noPrivs, "no-privs"), options.fakeroot { options.dropCaps.append("all") }
        options.mode = mode
        if try on(unsquash, "unsquash") {
            guard mode != .fuse else { throw HuskError(.usage, "--unsquash and --mode fuse contradict each other: use one") }
            options.mode = .extract
        }
        options.nv = try (on(nv, "nv") || on(nvccli, "nvccli")) && !on(noNv, "no-nv")
        options.rocm = try on(rocm, "rocm") && !on(noRocm, "no-rocm")
        options.bindMPI = bindMPI
        options.app = value(app, "app")
        return options
    }

    /// --network (or its variable, named in WHAT): none is a network
    /// namespace with loopback only (--net); CNI networks are refused.
    func networkNamespace(_ given: (String, String)?) throws -> Bool {
        guard let (what, network) = given else { return false }
        guard network == "none" else {
            throw HuskError(.usage, "\(what) \(network) is not supported: CNI networks need root; Husk uses the host's network (the default), or loopback only with --net or --network none")
        }
        return true
    }

    /// Makes the registry client for a docker:// image (and an instance of
    /// one): husk-full sets it (HuskPull's RegistryImages). husk, which
    /// starts containers, has none: it hands such a command to husk-full.
    package nonisolated(unsafe) static var remoteImages: ((RunArguments, SitePolicy) throws -> any RemoteImages)?

    /// Sets up logging, resolves the image and makes the container. The
    /// registry client is made for docker:// images (and instances) only: a
    /// file or directory needs neither it nor a second check of the cache,
    /// which Container prepares itself.
    package func container() throws -> Container {
        GlobalOptions.bootstrapLogging(debug: debug, quiet: quiet)
        let policy = try HuskSettings.sitePolicy()
        var registry: (any RemoteImages)?
        if image.hasPrefix("docker://") || image.hasPrefix("instance://"), let remoteImages = Self.remoteImages {
            registry = try remoteImages(self, policy)
        }
        return try Container(image: image, options: try runOptions(), policy: policy, registry: registry)
    }
}
