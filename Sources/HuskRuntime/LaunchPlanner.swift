import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI
import HuskSquash
import HuskSystem
import HuskTrust
import Logging

/// Builds the `LaunchPlan` for one container: identity, filesystem, working
/// directory, environment and command (DESIGN.md §3).
public struct LaunchPlanner {
    public var image: RuntimeImage
    public var options: RunOptions
    public var user: UserIdentity
    public var hostEnvironment: [String: String]
    public var currentDirectory: String
    /// The site's (husk.toml(5)): checked before anything is mounted; adds
    /// its binds and variables.
    public var policy = SitePolicy()
    /// The host as `--nv`, `--rocm` and `--bind-mpi` see it (nil: the real
    /// host, with `hostEnvironment`'s PATH).
    public var hostProbe: HostProbe?
    /// Warn about statements of an image's `/.singularity.d/env` scripts
    /// that Husk skips (`husk env`); other commands say it with --debug.
    public var reportsSkippedEnvironment = false
    /// Called once with the plan as far as an image server's choice depends
    /// on it (the image, the ids, fakeroot), after the site policy and the
    /// image's signatures passed: `Container` starts a first run's server
    /// then, while the rest is planned (`ImageServer.prestart`).
    public var whenServerIsSettled: ((LaunchPlan) -> Void)?

    public init(image: RuntimeImage, options: RunOptions, user: UserIdentity,
                hostEnvironment: [String: String], currentDirectory: String) {
        self.image = image
        self.options = options
        self.user = user
        self.hostEnvironment = hostEnvironment
        self.currentDirectory = currentDirectory
    }

    /// Paths a current directory is never bound over: the image's own tree.
    static let systemDirectories: Set<String> = ["/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64",
                                                 "/libx32", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys",
                                                 "/usr", "/var"]

    public func plan(arguments: [String]) throws -> LaunchPlan {
        guard let command = arguments.first, !command.isEmpty else {
            throw HuskError(.usage, "no command to run in \(image.name): give one after the image (husk exec IMAGE COMMAND [ARG...])")
        }
        if let pwd = options.workingDirectory, !pwd.hasPrefix("/") {
            throw HuskError(.usage, "invalid --pwd \"\(pwd)\": use an absolute path inside the container")
        }
        try ImageConfigCheck.validate(image.config, image: image.name)
        if let digests = image.digests { try policy.checkRevocation(of: image.reference, digests) }
        if let instance = image.instance { return try joinPlan(instance, arguments: arguments) }
        try policy.checkOptions(fakeroot: options.fakeroot, extract: extracts)
        if let app = options.app, !Self.isAppName(app) || !image.has(String(Self.appRoot(app).dropFirst())) {
            throw HuskError(.usage, "--app \(app): \(image.name) has no SCIF app \(Self.appRoot(app)) (Husk runs an image's SCIF apps where it has them)")
        }
        let paths = HuskPaths(environment: hostEnvironment)
        let state = try paths.prepareAll()
        try SignedImageGate.check(image, policy: policy, cacheDirectory: state.cache, scratch: state.scratch)
        let inside = user.inside(fakeroot: options.fakeroot)
        var plan = LaunchPlan(name: image.name, root: try root(), outsideUID: user.uid, outsideGID: user.gid,
                              insideUID: inside.uid, insideGID: inside.gid)
        plan.fakeroot = options.fakeroot
        if options.fakeroot && !options.ignoreSubuid { plan.subordinateIDs = SubordinateIDs.lookup(user: user) }
        whenServerIsSettled?(plan)
        plan.writableTmpfs = options.writableTmpfs
        try overlays(into: &plan)
        plan.pidNamespace = options.pid
        plan.noInit = options.noInit
        plan.umask = options.umask
        plan.netNamespace = options.net
        plan.ipcNamespace = options.ipc
        plan.utsNamespace = options.uts || options.hostname != nil
        plan.hostname = options.hostname
        plan.resourceLimits = options.resourceLimits
        let capabilities = try capabilitySet()
        plan.capabilities = capabilities.mask
        plan.seccomp = try seccompFilter(capabilities: capabilities)?.program
        // The converter keeps these two files out of fragment blocks, since every
        // start reads them (SquashWriter.isReadByEveryStart).
        plan.files = [
            .init(destination: "/etc/passwd", mode: 0o644,
                  content: IdentityFiles.passwd(image: try imageText("etc/passwd"), user: inside)),
            .init(destination: "/etc/group", mode: 0o644,
                  content: IdentityFiles.group(image: try imageText("etc/group"), user: inside)),
        ]
        if let resolver = try resolvConf() { plan.files.append(resolver) }
        plan.binds = try binds(inside: inside, hidden: state.all.map(\.path))
        let hostLibraries = try self.hostLibraries()
        plan.binds += hostLibraries?.binds ?? []
        plan.protectedPaths = state.all.map { .init(path: $0.path, what: $0.what) }
        plan.keptDescriptors = Launcher.inheritedDescriptors
        plan.serverSeccomp = try SeccompFilter.fuseServer().program
        plan.tmpfs = tmpfsMounts()
        if options.minimalDev { plan.symlinks = Self.minimalDevLinks }
        plan.workingDirectory = workingDirectory(binds: plan.binds)
        if plan.workingDirectory == image.config?.WorkingDir, !image.has(String(plan.workingDirectory.dropFirst())) {
            plan.directories = [plan.workingDirectory]  // OCI runtimes create a missing WorkingDir
        }
        plan.environment = try environment(inside: inside, hostLibraries: hostLibraries).resolve()
        plan.arguments = arguments
        return plan
    }

    /// `--nv`, `--rocm`, `--bind-mpi`: the host's files to bind and the
    /// directories for LD_LIBRARY_PATH and PATH; warnings are printed here.
    /// Throws when `--bind-mpi` finds no MPI or the image's glibc cannot
    /// load it.
    public func hostLibraries() throws -> HostLibrarySet? {
        guard options.hostLibraries else { return nil }
        let probe = hostProbe ?? HostProbe.live(environment: hostEnvironment)
        var set = HostLibrarySet()
        // Under --contain /dev is a fresh tmpfs: the GPU nodes are bound into it.
        if options.nv { set.merge(HostLibraries.nvidia(probe, devices: options.minimalDev)) }
        if options.rocm { set.merge(HostLibraries.rocm(probe, devices: options.minimalDev)) }
        if options.bindMPI {
            let mpi = try HostLibraries.mpi(probe)
            try GlibcCheck.check(mpi, image: GlibcCheck.imageLibc(image, machine: probe.machine), imageName: image.name)
            set.merge(mpi)
        }
        for warning in set.warnings { HuskLog.logger.warning("\(warning)") }
        return set
    }

    /// The default filter; none with `--security seccomp=unconfined`; a
    /// Docker/OCI JSON profile with `--security seccomp=FILE`.
    /// `husk exec instance://NAME`: the instance's identity and namespaces;
    /// environment, working directory, limits and confinement as for exec.
    func joinPlan(_ instance: InstanceState, arguments: [String]) throws -> LaunchPlan {
        var planner = self
        planner.options.fakeroot = instance.fakeroot
        planner.options.pid = true  // instances always have their own PID namespace
        let inside = user.inside(fakeroot: instance.fakeroot)
        var plan = LaunchPlan(name: image.name, root: image.root, outsideUID: user.uid, outsideGID: user.gid,
                              insideUID: inside.uid, insideGID: inside.gid)
        plan.join = instance.pid
        plan.fakeroot = instance.fakeroot
        plan.workingDirectory = options.workingDirectory ?? BindOption.normalize(currentDirectory)
        // The instance's binds are made: --nv and the like only put their
        // directories in front of LD_LIBRARY_PATH and PATH.
        var joined: HostLibrarySet?
        if options.hostLibraries {
            joined = HostLibrarySet()
            joined?.libraryPath = [HostLibraries.libraryDirectory]
            joined?.path = options.nv || options.rocm ? [HostLibraries.binaryDirectory] : []
        }
        plan.environment = try planner.environment(inside: inside, hostLibraries: joined).resolve()
        plan.resourceLimits = options.resourceLimits
        let capabilities = try planner.capabilitySet()
        plan.capabilities = capabilities.mask
        plan.seccomp = try planner.seccompFilter(capabilities: capabilities)?.program
        plan.keptDescriptors = Launcher.inheritedDescriptors
        plan.arguments = arguments
        return plan
    }

    /// Kept inside: none, or with `--fakeroot` the default set adjusted by
    /// `--add-caps` and `--drop-caps` (in that order).
    func capabilitySet() throws -> CapabilitySet {
        guard options.fakeroot else {
            if !options.addCaps.isEmpty || !options.dropCaps.isEmpty {
                throw HuskError(.usage, "--add-caps and --drop-caps need --fakeroot: without it the container runs as you and keeps no capabilities")
            }
            return CapabilitySet(mask: 0)
        }
        var set = CapabilitySet.fakerootDefault
        for name in options.addCaps.flatMap({ $0.split(separator: ",").map(String.init) }) { try set.insert(named: name) }
        for name in options.dropCaps.flatMap({ $0.split(separator: ",").map(String.init) }) { try set.remove(named: name) }
        return set
    }

    func seccompFilter(capabilities: CapabilitySet) throws -> SeccompFilter? {
        switch options.seccomp {
        case .unconfined: return nil
        case .profile(let path):
            return try SeccompProfile.load(path: path).filter(capabilities: capabilities.names, path: path)
        case .standard: break
        }
        var filter = SeccompFilter.Options()
        filter.pidNamespace = options.pid
        filter.allowNested = options.allowNested
        return try SeccompFilter(filter)
    }

    /// Whether the image will be extracted (`--mode extract`, or `auto`
    /// where FUSE is unusable).
    var extracts: Bool {
        guard case .squashfs = image.root else { return false }
        return options.mode == .extract || (options.mode == .auto && !ExtractedRootfs.fuseUsable)
    }

    /// The squashfs through FUSE, or its extracted copy (`--mode`).
    func root() throws -> LaunchPlan.Root {
        guard case .squashfs = image.root else { return image.root }
        switch options.mode {
        case .fuse:
            guard ExtractedRootfs.fuseUsable else {
                throw HuskError(.usage, "--mode fuse: /dev/fuse is missing or not readable and writable here; use --mode extract")
            }
            return image.root
        case .extract:
            return .directory(try ExtractedRootfs.directory(for: image, environment: hostEnvironment))
        case .auto:
            if ExtractedRootfs.fuseUsable { return image.root }
            return .directory(try ExtractedRootfs.directory(for: image, environment: hostEnvironment))
        }
    }

    func imageText(_ path: String) throws -> String? {
        try image.readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The home directory inside: the user's, or DST of `--home SRC:DST`.
    func homeBind() throws -> (source: String, destination: String)? {
        if let home = options.home {
            let parts = home.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let source = parts[0], destination = parts.count == 2 ? parts[1] : parts[0]
            guard !source.isEmpty, destination.hasPrefix("/") else {
                throw HuskError(.usage, "invalid --home \"\(home)\": use SRC[:DST], DST an absolute path inside the container")
            }
            return (source.hasPrefix("/") ? source : currentDirectory + "/" + source, destination)
        }
        if options.noHome || options.contain || options.noMount.contains(.home) || options.fakeroot && user.home == "/" {
            return nil
        }
        return (user.home, user.home)
    }

    /// `--contain`'s /dev: a fresh tmpfs with only these nodes, pts and shm.
    static let minimalDevNodes = ["null", "zero", "full", "random", "urandom", "tty"]
    static let minimalDevLinks: [LaunchPlan.Symlink] = [
        .init(destination: "/dev/fd", target: "/proc/self/fd"),
        .init(destination: "/dev/stdin", target: "/proc/self/fd/0"),
        .init(destination: "/dev/stdout", target: "/proc/self/fd/1"),
        .init(destination: "/dev/stderr", target: "/proc/self/fd/2"),
        .init(destination: "/dev/ptmx", target: "pts/ptmx"),
    ]

    func devBinds() -> [LaunchPlan.Bind] {
        guard options.minimalDev else {
            return [.init(source: "/dev", destination: "/dev", readOnly: false, recursive: true, devices: true)]
        }
        let nodes: [LaunchPlan.Bind] = Self.minimalDevNodes.map {
            .init(source: "/dev/\($0)", destination: "/dev/\($0)", readOnly: false, optional: true, devices: true)
        }
        if options.noMount.contains(.devpts) { return nodes }
        return nodes + [
            .init(source: "/dev/pts", destination: "/dev/pts", readOnly: false, recursive: true, optional: true, devices: true),
        ]
    }

    /// Fresh tmpfs mounts: --contain's /dev (or --no-mount dev's), /tmp and
    /// /var/tmp (not with --workdir, whose directories are bound there),
    /// and --scratch directories without --workdir.
    func tmpfsMounts() -> [LaunchPlan.Tmpfs] {
        var mounts: [LaunchPlan.Tmpfs] = []
        if options.minimalDev {
            // /dev must not be sticky and world-writable: the kernel then
            // refuses O_CREAT opens of devices owned by others (> /dev/null).
            mounts += [.init(destination: "/dev", mode: 0o755), .init(destination: "/dev/shm")]
        }
        if options.contain && options.workdir == nil && !options.noMount.contains(.tmp) {
            mounts += [.init(destination: "/tmp"), .init(destination: "/var/tmp")]
        }
        if options.workdir == nil {
            mounts += options.scratch.map { .init(destination: BindOption.normalize($0), mode: 0o755) }
        }
        return mounts
    }

    /// --workdir's directories on the host, created (0700) where missing:
    /// DIR/tmp and DIR/var_tmp for /tmp and /var/tmp with --contain
    /// (`scratch: false`), or DIR/scratch/PATH for each --scratch PATH.
    func workdirBinds(scratch: Bool) throws -> [LaunchPlan.Bind] {
        guard let workdir = options.workdir else { return [] }
        let base = BindOption.normalize(workdir.hasPrefix("/") ? workdir : currentDirectory + "/" + workdir)
        var pairs: [(String, String)] = []
        if !scratch && options.contain && !options.noMount.contains(.tmp) {
            pairs += [(base + "/tmp", "/tmp"), (base + "/var_tmp", "/var/tmp")]
        }
        if scratch {
            pairs += options.scratch.map { (base + "/scratch" + BindOption.normalize($0), BindOption.normalize($0)) }
        }
        for (source, _) in pairs {
            do {
                try FilePath.makeDirectories(source, mode: 0o700)
            } catch let error as HuskError {
                throw HuskError(.io, "--workdir \(workdir): \(error.message)")
            }
        }
        return pairs.map { .init(source: $0.0, destination: $0.1, readOnly: false) }
    }

    /// --overlay: the writable directory's upper and work directories, the
    /// read-only layers; refused with --writable-tmpfs (one writable layer).
    func overlays(into plan: inout LaunchPlan) throws {
        let overlay = options.overlay
        guard !overlay.isEmpty else { return }
        if overlay.writable != nil && options.writableTmpfs {
            throw HuskError(.usage, "--overlay \(overlay.writable!) and --writable-tmpfs both make the root writable: use one of them")
        }
        for directory in [overlay.writable].compactMap({ $0 }) + overlay.readOnly {
            try policy.checkUserBind(source: directory)
        }
        if let dirs = try overlay.writableDirectories() { plan.overlay = .init(upper: dirs.upper, work: dirs.work) }
        plan.overlayLower = overlay.readOnly
    }

    /// --dns: /etc/resolv.conf naming those servers (each an IPv4 or IPv6
    /// address), instead of the host's file.
    func resolvConf() throws -> LaunchPlan.File? {
        let servers = options.dns.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        guard !servers.isEmpty else { return nil }
        for server in servers where !Self.isAddress(server) {
            throw HuskError(.usage, "invalid --dns \"\(server)\": give IPv4 or IPv6 addresses, comma-separated")
        }
        return .init(destination: "/etc/resolv.conf", mode: 0o644,
                     content: servers.map { "nameserver \($0)\n" }.joined())
    }

    static func isAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }

    /// Where `--app NAME` lives in the image (SCIF's layout).
    static func appRoot(_ name: String) -> String { "/scif/apps/\(name)" }

    /// A name, not a path: letters, digits, `_`, `-`, `.`, not `.` or `..`.
    static func isAppName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || "0123456789_.-".unicodeScalars.contains($0)) }
    }

    /// `hidden`: Husk's state directories (resolved), which the current
    /// directory is never bound from.
    func binds(inside: UserIdentity, hidden: [String] = []) throws -> [LaunchPlan.Bind] {
        var binds: [LaunchPlan.Bind] = devBinds()
        if !options.pid {
            // Without a PID namespace, a new procfs cannot be mounted; the host's is bound.
            binds.append(.init(source: "/proc", destination: "/proc", readOnly: false, recursive: true))
        }
        // Kernel tunables stay read-only even for --fakeroot (with --pid,
        // over the fresh procfs the starter mounts first).
        binds.append(.init(source: "/proc/sys", destination: "/proc/sys", readOnly: true, recursive: true))
        if !options.noMount.contains(.sys) {
            binds.append(.init(source: "/sys", destination: "/sys", readOnly: true, recursive: true))
        }
        if !options.contain && !options.noMount.contains(.tmp) {
            binds.append(.init(source: "/tmp", destination: "/tmp", readOnly: false))
            binds.append(.init(source: "/var/tmp", destination: "/var/tmp", readOnly: false, optional: true))
        }
        binds += try workdirBinds(scratch: false)
        if let home = try homeBind(), home.source != "/" {
            binds.append(.init(source: BindOption.normalize(home.source), destination: BindOption.normalize(home.destination),
                               readOnly: false))
        }
        if options.dns.isEmpty && !options.noMount.contains(.resolvConf) {
            binds.append(.init(source: "/etc/resolv.conf", destination: "/etc/resolv.conf", readOnly: true, optional: true))
        }
        if !options.noMount.contains(.hosts) {
            binds.append(.init(source: "/etc/hosts", destination: "/etc/hosts", readOnly: true, optional: true))
        }
        if !options.contain && !options.noMount.contains(.cwd), let cwd = currentDirectoryBind(existing: binds),
           !Self.isInside(Self.realPath(cwd.source), hidden) {
            binds.append(cwd)
        }
        binds += try siteBinds()
        // Whoever built them, the caller's binds get the checks of -B's
        // (never over /proc, /dev or /sys; the site's bind rules).
        let user = options.binds.map {
            var bind = $0
            bind.user = true
            bind.source = BindOption.normalize(bind.source.hasPrefix("/") ? bind.source : currentDirectory + "/" + bind.source)
            bind.destination = BindOption.normalize(bind.destination)
            return bind
        }
        for bind in user { try policy.checkUserBind(source: bind.source) }
        return binds + user + (try workdirBinds(scratch: true))
    }

    /// The site's binds (`site_binds`): skipped where the source is
    /// missing on this node; never over /proc, /dev or /sys.
    func siteBinds() throws -> [LaunchPlan.Bind] {
        if options.noMount.contains(.siteBinds) { return [] }
        do {
            return try BindOption.parse(policy.siteBinds, currentDirectory: "/").compactMap {
                if options.noMount.contains(.siteBind($0.destination)) { return nil }
                var bind = $0
                bind.optional = true
                return bind
            }
        } catch let error as HuskError {
            throw HuskError(.usage, "site policy \(policy.path ?? ""): site_binds: \(error.message)")
        }
    }

    /// The current directory is bound at the same path unless it is already
    /// inside a bind or is part of the image's own tree.
    func currentDirectoryBind(existing: [LaunchPlan.Bind]) -> LaunchPlan.Bind? {
        let cwd = BindOption.normalize(currentDirectory)
        guard !Self.systemDirectories.contains(cwd), !Self.isInside(cwd, existing.map(\.destination)) else { return nil }
        return .init(source: cwd, destination: cwd, readOnly: false)
    }

    /// `path` with symlinks resolved, or as given when it cannot be.
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isInside(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root == "/" ? "/" : root + "/") }
    }

    /// `--pwd`, else the current directory when it is visible inside, else
    /// the image's WorkingDir, else `/`.
    func workingDirectory(binds: [LaunchPlan.Bind]) -> String {
        if let pwd = options.workingDirectory { return pwd }
        let cwd = BindOption.normalize(currentDirectory)
        if !options.contain, Self.isInside(cwd, binds.filter { !["/dev", "/proc", "/sys"].contains($0.destination) }.map(\.destination)) {
            return cwd
        }
        if let dir = image.config?.WorkingDir, !dir.isEmpty { return dir }
        return "/"
    }

    public func environment(inside: UserIdentity, hostLibraries: HostLibrarySet? = nil) throws -> ContainerEnvironment {
        let shell = image.has(String(inside.shell.dropFirst())) ? inside.shell : "/bin/sh"
        let home = try homeBind()?.destination ?? (options.fakeroot ? "/root" : inside.home)
        var environment = ContainerEnvironment(
            host: hostEnvironment, imageEnv: image.config?.Env ?? [],
            identity: .init(user: inside.name, home: home, shell: shell),
            containerPath: image.path, containerName: image.name)
        // The site's extra variables (env_passthrough_extra) join the standard
        // list; --cleanenv and --env-passthrough none pass nothing at all.
        environment.passThrough = .standard(extra: policy.envPassthroughExtra)
        if options.cleanenv {
            environment.passThrough = .none
        } else if let list = options.envPassthrough {
            switch list {
            case "all": environment.passThrough = .all
            case "none": environment.passThrough = .none
            default:
                environment.passThrough = .standard(extra: policy.envPassthroughExtra
                                                    + list.split(separator: ",").map(String.init))
            }
        }
        if let file = options.envFile {
            let text = String(decoding: try FileByteSource(path: file).readAll(what: file), as: UTF8.self)
            environment.envFileEntries = try ContainerEnvironment.parseEnvFile(text, path: file)
        }
        environment.explicit = options.environment.map { ($0.name, $0.value) }
        if image.config == nil, let singularity = image.singularity {
            environment.imageScripts = singularity.environmentScripts.map(\.assignments)
            environment.apptainerContainer = (path: image.path, name: String(image.path.split(separator: "/").last ?? ""))
            // Said once where the environment is the point (husk env); a
            // debug line on every run would otherwise fill a job's log.
            for warning in singularity.warnings(image: image.name) {
                if reportsSkippedEnvironment { HuskLog.logger.warning("\(warning)") } else { HuskLog.logger.debug("\(warning)") }
            }
        }
        environment.prependedLibraryPath = hostLibraries?.libraryPath ?? []
        environment.prependedPath = hostLibraries?.path ?? []
        if let app = options.app {
            // SCIF's variables and directories for the app, as Apptainer sets them.
            let root = Self.appRoot(app)
            environment.explicit.insert(contentsOf: [("SCIF_APPNAME", app), ("SCIF_APPROOT", root),
                                                     ("SCIF_APPBIN", root + "/bin"), ("SCIF_APPLIB", root + "/lib"),
                                                     ("SCIF_APPDATA", "/scif/data/" + app),
                                                     ("SCIF_APPRUN", root + "/scif/runscript")], at: 0)
            environment.prependedPath += [root + "/bin"]
            environment.prependedLibraryPath += [root + "/lib"]
        }
        return environment
    }

    /// OCI semantics for `husk run`: Entrypoint + (arguments, or else Cmd);
    /// for an image with Singularity metadata and no Husk config, its
    /// runscript with the arguments, as `apptainer run` does.
    public func runArguments(_ arguments: [String]) throws -> [String] {
        if let app = options.app { return [Self.appRoot(app) + "/scif/runscript"] + arguments }
        if image.config == nil, let singularity = image.singularity {
            guard singularity.hasRunscript else {
                throw HuskError(.usage, "\(image.name) has no runscript (\(SingularityMetadata.runscript)) to run: use husk exec \(image.path) COMMAND")
            }
            return SingularityActions.run(arguments)
        }
        let entrypoint = image.config?.Entrypoint ?? []
        let command = arguments.isEmpty ? (image.config?.Cmd ?? []) : arguments
        let result = entrypoint + command
        guard !result.isEmpty else {
            throw HuskError(.usage, "\(image.name) has no Entrypoint or Cmd to run: use husk exec \(image.path) COMMAND")
        }
        return result
    }

    /// `husk shell`: the image's bash, else sh, with `arguments` (`-c CMD`).
    public func shellArguments(_ arguments: [String] = []) -> [String] {
        (image.has("bin/bash") ? ["/bin/bash"] : ["/bin/sh"]) + arguments
    }

    /// `husk instance start`: the image's `/.husk/startscript`; for an
    /// image with Singularity metadata and no Husk config, its startscript
    /// as `apptainer instance start` runs it; else what `husk run` runs.
    public func instanceArguments(_ arguments: [String]) throws -> [String] {
        if image.has(".husk/startscript") { return ["/.husk/startscript"] + arguments }
        if image.config == nil, image.singularity != nil { return SingularityActions.start(arguments) }
        return try runArguments(arguments)
    }
}
