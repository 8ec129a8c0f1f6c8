import FoundationEssentials
import Glibc
import HuskCore

/// The host's files and programs as host-library discovery sees them;
/// `live` is the real host, tests build a fake tree.
public struct HostProbe {
    /// Where programs are looked up (the caller's PATH, then /usr/sbin and /sbin for ldconfig).
    public var searchPath: [String]
    /// The host's LD_LIBRARY_PATH (an MPI module sets it), searched as the dynamic loader does.
    public var libraryPath: [String] = []
    /// The machine, as `uname -m` prints it (x86_64, aarch64, ppc64le).
    public var machine: String
    /// Whether a path exists (following symlinks).
    public var exists: (String) -> Bool
    public var isDirectory: (String) -> Bool
    public var isExecutable: (String) -> Bool
    /// A character device (the GPU nodes under /dev).
    public var isCharacterDevice: (String) -> Bool
    /// The names in a directory, sorted; empty when it cannot be read.
    public var list: (String) -> [String]
    /// The path with symlinks resolved (as given when it cannot be).
    public var realPath: (String) -> String
    /// The standard output of a program that exited 0, else nil.
    public var run: (String, [String]) -> String?
    /// A file's ELF headers, nil when it is not ELF.
    public var elf: (String) -> ELFFile?

    public init(searchPath: [String], machine: String, exists: @escaping (String) -> Bool,
                isDirectory: @escaping (String) -> Bool, isExecutable: @escaping (String) -> Bool,
                isCharacterDevice: @escaping (String) -> Bool, list: @escaping (String) -> [String],
                realPath: @escaping (String) -> String, run: @escaping (String, [String]) -> String?,
                elf: @escaping (String) -> ELFFile?) {
        self.searchPath = searchPath
        self.machine = machine
        self.exists = exists
        self.isDirectory = isDirectory
        self.isExecutable = isExecutable
        self.isCharacterDevice = isCharacterDevice
        self.list = list
        self.realPath = realPath
        self.run = run
        self.elf = elf
    }

    /// The first executable `name` in `searchPath` (plus `extra` directories).
    public func which(_ name: String, extra: [String] = []) -> String? {
        (searchPath + extra).lazy.map { $0 + "/" + name }.first { isExecutable($0) && !isDirectory($0) }
    }

    /// The real host: `environment` gives PATH and LD_LIBRARY_PATH.
    public static func live(environment: [String: String]) -> HostProbe {
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
        var probe = HostProbe(
            searchPath: path + ["/usr/sbin", "/sbin"].filter { !path.contains($0) },
            machine: machineName(),
            exists: { access($0, F_OK) == 0 },
            isDirectory: { FilePath.isDirectory($0) },
            isExecutable: { access($0, X_OK) == 0 },
            isCharacterDevice: { var st = stat(); return stat($0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR },
            list: { ((try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? []).sorted() },
            realPath: { LaunchPlanner.realPath($0) },
            run: { runProgram($0, $1) },
            elf: { ELFFile(path: $0) })
        probe.libraryPath = (environment["LD_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init)
            .filter { $0.hasPrefix("/") }
        return probe
    }

    static func machineName() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Runs a host program (stdin and stderr /dev/null, LC_ALL=C), killed after 10 s.
    static func runProgram(_ program: String, _ arguments: [String]) -> String? {
        guard let process = try? ChildProcess.run(program, arguments, environment: [
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C"], timeout: 10),
            process.succeeded else { return nil }
        return String(decoding: process.output, as: UTF8.self)
    }
}

/// What `--nv`, `--rocm` and `--bind-mpi` add to a container: read-only
/// binds of host files, directories put in front of LD_LIBRARY_PATH and
/// PATH inside, and warnings for the user.
public struct HostLibrarySet: Equatable, Sendable {
    public var binds: [LaunchPlan.Bind] = []
    public var libraryPath: [String] = []
    public var path: [String] = []
    public var warnings: [String] = []
    /// For `--bind-mpi`: the highest glibc the bound libraries need, and
    /// the library that needs it.
    public var glibcNeeded: GlibcVersion?
    public var glibcNeededBy: String?
    /// For `--bind-mpi` messages: "Open MPI 4.1.4", "MPICH", "MPI".
    public var mpiName: String?

    public init() {}

    public mutating func merge(_ other: HostLibrarySet) {
        for bind in other.binds where !binds.contains(where: { $0.destination == bind.destination }) { binds.append(bind) }
        for dir in other.libraryPath where !libraryPath.contains(dir) { libraryPath.append(dir) }
        for dir in other.path where !path.contains(dir) { path.append(dir) }
        warnings += other.warnings
        if let needed = other.glibcNeeded, glibcNeeded.map({ needed > $0 }) ?? true {
            glibcNeeded = needed
            glibcNeededBy = other.glibcNeededBy
        }
    }
}

/// Host-library discovery for `--nv`, `--rocm` and `--bind-mpi`.
///
/// Libraries are bound, one file each, into `libraryDirectory` and
/// programs into `binaryDirectory`, as Apptainer binds them into
/// /.singularity.d/libs. Both are under /.husk, the directory of Husk's
/// metadata that every image Husk converts has: their mount points go into
/// a small overlay on that directory, which nothing else reads, rather than
/// one on /usr/local, which every PATH lookup crosses (or a skeleton root
/// for a new top-level directory); and no image has files there that the
/// host's would hide.
public enum HostLibraries {
    public static let libraryDirectory = "/.husk/host/lib"
    public static let binaryDirectory = "/.husk/host/bin"

    // MARK: the lists (Apptainer keeps them in nvliblist.conf and rocmliblist.conf)

    /// NVIDIA driver libraries, as `ldconfig -p` names them (`*` matches
    /// anything): CUDA, NVML, the video codecs, OptiX, OpenCL, and the
    /// vendor halves of EGL/GLX/GLES and VDPAU. The vendor-neutral GL
    /// dispatch libraries (libGL, libEGL, libGLX, libGLdispatch, libOpenCL)
    /// are the image's own, so they are not bound.
    public static let nvidiaLibraries = [
        "libcuda.so*", "libcudadebugger.so*", "libnvidia-*.so*", "libnvcuvid.so*", "libnvoptix.so*",
        "libEGL_nvidia.so*", "libGLX_nvidia.so*", "libGLESv1_CM_nvidia.so*", "libGLESv2_nvidia.so*",
        "libvdpau_nvidia.so*",
    ]
    /// NVIDIA driver programs, found on PATH.
    public static let nvidiaBinaries = [
        "nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server",
    ]
    /// NVIDIA device nodes in /dev (regular expressions on the name), and
    /// the directory of MIG capabilities.
    public static let nvidiaDevices = ["^nvidiactl$", "^nvidia-uvm$", "^nvidia-uvm-tools$", "^nvidia[0-9]+$", "^nvidia-modeset$"]
    public static let nvidiaDeviceDirectories = ["/dev/nvidia-caps"]

    /// AMD ROCm runtime libraries, as `ldconfig -p` names them.
    public static let rocmLibraries = [
        "libamdhip64.so*", "libhsa-runtime64.so*", "libhsakmt.so*", "libamd_comgr.so*", "librocm_smi64.so*",
        "libamd_smi.so*", "librocm-core.so*", "libhsa-amd-aqlprofile64.so*", "libdrm_amdgpu.so*", "libdrm.so*",
    ]
    public static let rocmBinaries = ["rocm-smi", "rocminfo", "amd-smi"]
    /// ROCm's own bin directory, searched after PATH.
    public static let rocmBinaryDirectories = ["/opt/rocm/bin"]
    public static let rocmDevices = ["/dev/kfd"]
    public static let rocmDeviceDirectories = ["/dev/dri"]

    /// glibc's own libraries: never bound (the image's glibc must serve the
    /// host's libraries; the check in `GlibcCheck` says when it cannot).
    public static let glibcLibraries = [
        "libc.so.*", "libm.so.*", "libmvec.so.*", "libpthread.so.*", "libdl.so.*", "librt.so.*", "libresolv.so.*",
        "libutil.so.*", "libanl.so.*", "libBrokenLocale.so.*", "libthread_db.so.*", "libnsl.so.1", "libnss_*",
        "libc_malloc_debug.so.*", "ld-linux*", "ld64.so.*", "ld.so.*", "linux-vdso.so.*", "linux-gate.so.*",
    ]

    /// MPI plugin directories: (a library that loads plugins, the name of
    /// its plugin directory next to it). Open MPI's own pkglibdir comes from
    /// `ompi_info --path all`.
    public static let mpiPluginDirectories = [
        ("libmpi.so", "openmpi"), ("libopen-pal.so", "openmpi"), ("libpmix.so", "pmix"), ("libprrte.so", "prte"),
        ("libucs.so", "ucx"), ("libfabric.so", "libfabric"),
    ]

    // MARK: --nv and --rocm

    /// `--nv`. `devices`: also bind the device nodes (a fresh /dev under
    /// --contain; otherwise the host's /dev is bound whole already).
    public static func nvidia(_ probe: HostProbe, devices: Bool) -> HostLibrarySet {
        var libraries: [(name: String, path: String)] = []
        var binaries: [String] = []
        var source = "ldconfig -p"
        if let cli = probe.which("nvidia-container-cli"),
           let output = probe.run(cli, ["list", "--libraries", "--binaries"]) {
            source = "nvidia-container-cli"
            for line in output.split(separator: "\n").map({ $0.trimming(" \t") }) where line.hasPrefix("/") {
                let base = String(line.split(separator: "/").last ?? "")
                if base.contains(".so") {
                    libraries.append((probe.elf(line)?.soname ?? base, line))
                } else {
                    binaries.append(line)
                }
            }
        } else {
            libraries = ldconfigMatches(probe, nvidiaLibraries)
            binaries = nvidiaBinaries.compactMap { probe.which($0) }
        }
        let nodes = probe.list("/dev").filter { name in nvidiaDevices.contains { (try? Regex($0)).map { name.firstMatch(of: $0) != nil } ?? false } }
            .map { "/dev/" + $0 }.filter(probe.isCharacterDevice)
        guard !libraries.isEmpty else {
            var set = HostLibrarySet()
            let cli = source == "nvidia-container-cli" ? "nvidia-container-cli lists none" : "no libcuda or libnvidia-ml in ldconfig -p"
            set.warnings.append("--nv: no NVIDIA driver found on this host (\(cli), \(nodes.isEmpty ? "no /dev/nvidia* devices" : "only \(nodes.joined(separator: " "))")); running without GPUs")
            return set
        }
        var set = assemble(libraries: libraries, binaries: binaries)
        if nodes.isEmpty {
            set.warnings.append("--nv: NVIDIA driver libraries found (\(source)) but no /dev/nvidia* devices on this host; the command will see no GPU")
        }
        if devices {
            set.binds += nodes.map { .init(source: $0, destination: $0, readOnly: false, devices: true) }
            set.binds += nvidiaDeviceDirectories.filter(probe.isDirectory).map {
                .init(source: $0, destination: $0, readOnly: false, recursive: true, devices: true)
            }
        }
        return set
    }

    /// `--rocm`: like `--nv`, for AMD GPUs (/dev/kfd, /dev/dri).
    public static func rocm(_ probe: HostProbe, devices: Bool) -> HostLibrarySet {
        let libraries = ldconfigMatches(probe, rocmLibraries)
        let binaries = rocmBinaries.compactMap { probe.which($0, extra: rocmBinaryDirectories) }
        let kfd = rocmDevices.filter(probe.isCharacterDevice)
        let runtime = libraries.contains { matches($0.name, "libamdhip64.so*") || matches($0.name, "libhsa-runtime64.so*") }
        // /dev/kfd is made by the amdgpu kernel driver when it loads: without
        // it no ROCm program can run, whatever libraries the host has.
        guard runtime, !kfd.isEmpty else {
            var set = HostLibrarySet()
            let missing = [kfd.isEmpty ? "no /dev/kfd" : nil, runtime ? nil : "no libamdhip64 or libhsa-runtime64 in ldconfig -p"]
            set.warnings.append("--rocm: no AMD ROCm driver found on this host (\(missing.compactMap { $0 }.joined(separator: ", "))); running without GPUs")
            return set
        }
        var set = assemble(libraries: libraries, binaries: binaries)
        if devices {
            set.binds += kfd.map { .init(source: $0, destination: $0, readOnly: false, devices: true) }
            set.binds += rocmDeviceDirectories.filter(probe.isDirectory).map {
                .init(source: $0, destination: $0, readOnly: false, recursive: true, devices: true)
            }
        }
        return set
    }

    /// Libraries (by the name the loader looks for) into `libraryDirectory`,
    /// programs into `binaryDirectory`; the first of a name wins, as in the
    /// loader's search.
    static func assemble(libraries: [(name: String, path: String)], binaries: [String]) -> HostLibrarySet {
        var set = HostLibrarySet()
        var names: Set<String> = []
        for library in libraries where names.insert(library.name).inserted {
            set.binds.append(.init(source: library.path, destination: libraryDirectory + "/" + library.name, readOnly: true))
        }
        for binary in binaries {
            let name = String(binary.split(separator: "/").last ?? "")
            guard !name.isEmpty, names.insert("bin/" + name).inserted else { continue }
            set.binds.append(.init(source: binary, destination: binaryDirectory + "/" + name, readOnly: true))
        }
        if !names.filter({ !$0.hasPrefix("bin/") }).isEmpty { set.libraryPath = [libraryDirectory] }
        if !binaries.isEmpty { set.path = [binaryDirectory] }
        return set
    }

    // MARK: ldconfig

    /// The ldconfig ABI tag of this machine's native libraries.
    static func abiTag(_ machine: String) -> String? {
        switch machine {
        case "x86_64": return "x86-64"
        case "aarch64": return "AArch64"
        case "ppc64le", "ppc64", "s390x": return "64bit"
        default: return nil
        }
    }

    /// `ldconfig -p` entries: `\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1`,
    /// only those of this machine's ABI (not the 32-bit ones beside them).
    public static func parseLdconfig(_ text: String, machine: String) -> [(name: String, path: String)] {
        let tag = abiTag(machine)
        return text.split(separator: "\n").compactMap { raw in
            let line = raw.trimming(" \t")
            guard let arrow = line.firstRange(of: " => "), let open = line.firstIndex(of: "("),
                  open < arrow.lowerBound else { return nil }
            let name = line[..<open].trimming(" ")
            let flags = line[line.index(after: open)..<arrow.lowerBound].trimming(" )").split(separator: ",")
            let path = String(line[arrow.upperBound...])
            if let tag, !flags.contains(where: { $0 == tag }) { return nil }
            if tag == nil, flags.count > 1 { return nil }
            guard path.hasPrefix("/"), !name.isEmpty else { return nil }
            return (name, path)
        }
    }

    static func ldconfigCache(_ probe: HostProbe) -> [(name: String, path: String)] {
        guard let ldconfig = probe.which("ldconfig"), let text = probe.run(ldconfig, ["-p"]) else { return [] }
        return parseLdconfig(text, machine: probe.machine)
    }

    static func ldconfigMatches(_ probe: HostProbe, _ patterns: [String]) -> [(name: String, path: String)] {
        ldconfigCache(probe).filter { entry in patterns.contains { matches(entry.name, $0) } && probe.exists(entry.path) }
    }

    /// Shell-style `*` patterns.
    static func matches(_ name: String, _ pattern: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }

    static func isGlibc(_ name: String) -> Bool { glibcLibraries.contains { matches(name, $0) } }

    // MARK: --bind-mpi

    /// `--bind-mpi`: the host's MPI libraries (the MPI library directory's
    /// libraries and everything they need but glibc, read from their
    /// DT_NEEDED as the loader resolves them) into `libraryDirectory`, and
    /// the plugin, help-text and configuration directories at their own
    /// paths, where the libraries look for them. Throws when the host has
    /// no MPI.
    public static func mpi(_ probe: HostProbe) throws -> HostLibrarySet {
        let cache = ldconfigCache(probe)
        var libraryDirectories: [String] = []
        var flavour = "MPI"
        var extraDirectories: [String] = []  // help texts and configuration
        var pluginDirectories: [String] = []
        let mpicc = probe.which("mpicc")
        if let mpicc {
            if let dirs = probe.run(mpicc, ["-showme:libdirs"]) {  // Open MPI
                libraryDirectories += dirs.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init).filter { $0.hasPrefix("/") }
            } else if let line = probe.run(mpicc, ["-show"]) {  // MPICH, Intel MPI, MVAPICH
                libraryDirectories += line.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { word in
                    word.hasPrefix("-L/") ? String(word.dropFirst(2)) : nil
                }
            }
        }
        // Open MPI's plugins (pkglibdir) are in a directory openmpi* of its
        // libdir holding mca_*.so; its help texts and configuration in
        // PREFIX/share/openmpi and PREFIX/etc (/etc for /usr), PREFIX being
        // where bin/mpirun is. Found so without ompi_info, which takes a
        // quarter of a second (it loads every plugin); ompi_info only when
        // they are not there.
        for dir in libraryDirectories {
            for name in probe.list(dir) where name.hasPrefix("openmpi") && probe.isDirectory(dir + "/" + name) {
                if probe.list(dir + "/" + name).contains(where: { $0.hasPrefix("mca_") && $0.hasSuffix(".so") }) {
                    pluginDirectories.append(dir + "/" + name)
                }
            }
        }
        if let mpirun = probe.which("mpirun") {
            let prefix = String(probe.realPath(mpirun).split(separator: "/").dropLast(2).joined(separator: "/"))
            for dir in ["/\(prefix)/share/openmpi", prefix == "usr" ? "/etc/openmpi" : "/\(prefix)/etc"]
            where probe.isDirectory(BindOption.normalize(dir)) && !pluginDirectories.isEmpty {
                extraDirectories.append(BindOption.normalize(dir))
            }
        }
        if pluginDirectories.isEmpty, let ompiInfo = probe.which("ompi_info"),
           let text = probe.run(ompiInfo, ["--path", "all", "--parsable"]) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2).map(String.init)
                guard parts.count == 3, parts[0] == "path", parts[2].hasPrefix("/") else { continue }
                if ["pkgdatadir", "sysconfdir"].contains(parts[1]), !extraDirectories.contains(parts[2]) {
                    extraDirectories.append(parts[2])
                }
                if parts[1] == "pkglibdir", probe.isDirectory(parts[2]), !pluginDirectories.contains(parts[2]) {
                    pluginDirectories.append(parts[2])
                }
                if parts[1] == "libdir", !libraryDirectories.contains(parts[2]) { libraryDirectories.append(parts[2]) }
            }
        }
        if let mpirun = probe.which("mpirun"), let text = probe.run(mpirun, ["--version"]),
           let line = text.split(separator: "\n").first {
            // "mpirun (Open MPI) 4.1.4", "HYDRA build details:", "Intel(R) MPI Library …"
            if let open = line.firstIndex(of: "("), let close = line.firstIndex(of: ")"), open < close {
                flavour = String(line[line.index(after: open)..<close]) + String(line[line.index(after: close)...])
            } else if line.contains("HYDRA") {
                flavour = "MPICH"
            }
        }

        // The MPI's own libraries: lib*.so* in its library directories (the
        // C, C++ and Fortran bindings), else libmpi from the ldconfig cache.
        var roots: [String] = []
        for dir in libraryDirectories where probe.isDirectory(dir) {
            for name in probe.list(dir) where name.hasPrefix("lib") && name.contains(".so") && !isGlibc(name) {
                let path = dir + "/" + name
                if probe.exists(path), !probe.isDirectory(path) { roots.append(path) }
            }
        }
        if !roots.contains(where: { $0.split(separator: "/").last?.hasPrefix("libmpi") ?? false }) {
            roots += cache.filter { matches($0.name, "libmpi.so.*") || matches($0.name, "libmpich.so.*") }
                .map(\.path).filter(probe.exists)
        }
        guard roots.contains(where: { $0.split(separator: "/").last.map { $0.hasPrefix("libmpi") } ?? false }) else {
            throw HuskError(.notFound, "--bind-mpi: no MPI found on this host (\(mpicc == nil ? "no mpicc on PATH" : "mpicc names no library directory with libmpi"), no libmpi.so in ldconfig -p); load the MPI module first, as for an MPI job outside containers")
        }

        // Bound libraries by the name the loader looks for.
        var bound: [(name: String, path: String)] = []
        var boundNames: Set<String> = []
        var readFiles: Set<String> = []
        var queue: [String] = []
        var set = HostLibrarySet()
        func visit(_ path: String, as name: String?) {
            let real = probe.realPath(path)
            if let name, boundNames.insert(name).inserted { bound.append((name, path)) }
            if readFiles.insert(real).inserted { queue.append(real) }
        }
        for root in roots {
            guard let elf = probe.elf(root) else { continue }
            visit(root, as: elf.soname ?? String(root.split(separator: "/").last!))
        }
        let knownOpenMPI = !pluginDirectories.isEmpty
        var round = 0
        while !queue.isEmpty && round < 10_000 {
            round += 1
            let file = queue.removeFirst()
            guard let elf = probe.elf(file) else { continue }
            if let needed = elf.glibcNeeded, set.glibcNeeded.map({ needed > $0 }) ?? true {
                set.glibcNeeded = needed
                set.glibcNeededBy = String(file.split(separator: "/").last ?? "")
            }
            for name in elf.needed where !isGlibc(name) && !boundNames.contains(name) {
                if let path = locate(name, neededBy: file, elf: elf, probe: probe, cache: cache) {
                    visit(path, as: name)
                }
            }
            // A library that loads plugins brings its plugin directory.
            let base = String(file.split(separator: "/").last ?? "")
            let dir = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])
            for (library, subdirectory) in mpiPluginDirectories where base.hasPrefix(library) {
                if knownOpenMPI && subdirectory == "openmpi" { continue }  // ompi_info named it
                let plugins = dir + "/" + subdirectory
                if probe.isDirectory(plugins), !pluginDirectories.contains(plugins) { pluginDirectories.append(plugins) }
            }
            for plugins in pluginDirectories where readFiles.insert(plugins + "/").inserted {
                for name in probe.list(plugins) where name.hasSuffix(".so") {
                    visit(plugins + "/" + name, as: nil)
                }
            }
        }
        set.merge(assemble(libraries: bound, binaries: []))
        for dir in pluginDirectories {
            set.binds.append(.init(source: dir, destination: dir, readOnly: true))
        }
        for dir in extraDirectories where !pluginDirectories.contains(dir) && probe.isDirectory(dir) {
            set.binds.append(.init(source: dir, destination: dir, readOnly: true, optional: true))
        }
        set.mpiName = flavour
        return set
    }

    /// Where the dynamic loader finds `name` for `neededBy`: its DT_RPATH
    /// (when it has no DT_RUNPATH), the host's LD_LIBRARY_PATH, its
    /// DT_RUNPATH, the ldconfig cache, then the default directories.
    static func locate(_ name: String, neededBy file: String, elf: ELFFile, probe: HostProbe,
                       cache: [(name: String, path: String)]) -> String? {
        if name.contains("/") { return probe.exists(name) ? name : nil }
        let origin = String(file[..<(file.lastIndex(of: "/") ?? file.startIndex)])
        func expand(_ list: String?) -> [String] {
            (list ?? "").split(separator: ":").map {
                String($0).replacing("${ORIGIN}", with: origin).replacing("$ORIGIN", with: origin)
            }
        }
        let triplet = multiarchTriplet(probe.machine)
        var directories = elf.runpath == nil ? expand(elf.rpath) : []
        directories += probe.libraryPath + expand(elf.runpath)
        for dir in directories where probe.exists(dir + "/" + name) { return dir + "/" + name }
        if let hit = cache.first(where: { $0.name == name }), probe.exists(hit.path) { return hit.path }
        for dir in ["/lib/\(triplet)", "/usr/lib/\(triplet)", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
        where probe.exists(dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    static func multiarchTriplet(_ machine: String) -> String {
        switch machine {
        case "ppc64le": return "powerpc64le-linux-gnu"
        case "armv7l": return "arm-linux-gnueabihf"
        default: return "\(machine)-linux-gnu"
        }
    }
}
