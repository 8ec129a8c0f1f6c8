import Foundation
import Testing
import HuskCore
@testable import HuskRuntime

/// A fake host: files, directories, devices, symlinks, programs and ELF
/// headers, so discovery runs without a GPU or an MPI.
final class FakeHost: @unchecked Sendable {
    var files: Set<String> = []
    var executables: Set<String> = []
    var devices: Set<String> = []
    var directories: Set<String> = []
    /// path -> resolved path (symlinks)
    var links: [String: String] = [:]
    var commands: [String: ([String]) -> String?] = [:]
    var elfs: [String: ELFFile] = [:]
    var libraryPath: [String] = []

    func program(_ path: String, _ body: @escaping ([String]) -> String?) {
        executables.insert(path)
        commands[path] = body
    }

    func ldconfig(_ entries: [(String, String, String)]) {
        let text = "\(entries.count) libs found in cache `/etc/ld.so.cache'\n"
            + entries.map { "\t\($0.0) (\($0.1)) => \($0.2)\n" }.joined()
        program("/usr/sbin/ldconfig") { $0 == ["-p"] ? text : nil }
    }

    var probe: HostProbe {
        var probe = HostProbe(
            searchPath: ["/usr/bin", "/usr/sbin"], machine: "x86_64",
            exists: { [self] in files.contains($0) || executables.contains($0) || devices.contains($0) || directories.contains($0) || links[$0] != nil },
            isDirectory: { [self] in directories.contains($0) },
            isExecutable: { [self] in executables.contains($0) },
            isCharacterDevice: { [self] in devices.contains($0) },
            list: { [self] dir in
                let all = files.union(executables).union(devices).union(directories).union(links.keys)
                return all.filter { ($0 as NSString).deletingLastPathComponent == dir }
                    .map { ($0 as NSString).lastPathComponent }.sorted()
            },
            realPath: { [self] in links[$0] ?? $0 },
            run: { [self] program, arguments in commands[program]?(arguments) },
            elf: { [self] in elfs[links[$0] ?? $0] })
        probe.libraryPath = libraryPath
        return probe
    }
}

@Suite struct HostLibrariesTests {
    func destinations(_ set: HostLibrarySet) -> [String: String] {
        Dictionary(set.binds.map { ($0.destination, $0.source) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func nvidiaFromTheLdconfigCache() {
        let host = FakeHost()
        let lib = "/usr/lib/x86_64-linux-gnu"
        host.ldconfig([
            ("libnvidia-ml.so.1", "libc6,x86-64", "\(lib)/libnvidia-ml.so.1"),
            ("libcuda.so.1", "libc6,x86-64", "\(lib)/libcuda.so.1"),
            ("libcuda.so.1", "libc6", "/usr/lib/i386-linux-gnu/libcuda.so.1"),
            ("libcuda.so", "libc6,x86-64", "\(lib)/libcuda.so"),
            ("libEGL_nvidia.so.0", "libc6,x86-64", "\(lib)/libEGL_nvidia.so.0"),
            ("libGL.so.1", "libc6,x86-64", "\(lib)/libGL.so.1"),
            ("libc.so.6", "libc6,x86-64", "\(lib)/libc.so.6"),
        ])
        host.files = ["\(lib)/libnvidia-ml.so.1", "\(lib)/libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.1",
                      "\(lib)/libcuda.so", "\(lib)/libEGL_nvidia.so.0", "\(lib)/libGL.so.1", "/dev/null-ish"]
        host.executables.insert("/usr/bin/nvidia-smi")
        host.devices = ["/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-modeset", "/dev/null"]
        host.directories = ["/dev", "/dev/nvidia-caps"]

        let set = HostLibraries.nvidia(host.probe, devices: true)
        #expect(set.warnings.isEmpty)
        let binds = destinations(set)
        #expect(binds["/.husk/host/lib/libcuda.so.1"] == "\(lib)/libcuda.so.1", "the 64-bit one, not the i386 one")
        #expect(binds["/.husk/host/lib/libcuda.so"] == "\(lib)/libcuda.so")
        #expect(binds["/.husk/host/lib/libnvidia-ml.so.1"] == "\(lib)/libnvidia-ml.so.1")
        #expect(binds["/.husk/host/lib/libEGL_nvidia.so.0"] != nil)
        #expect(binds["/.husk/host/lib/libGL.so.1"] == nil, "vendor-neutral GL stays the image's")
        #expect(binds["/.husk/host/lib/libc.so.6"] == nil)
        #expect(binds["/.husk/host/bin/nvidia-smi"] == "/usr/bin/nvidia-smi")
        for node in ["/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-modeset", "/dev/nvidia-caps"] {
            #expect(binds[node] == node)
        }
        #expect(binds["/dev/null"] == nil)
        #expect(set.binds.filter { $0.destination.hasPrefix("/.husk/") }.allSatisfy { $0.readOnly && !$0.devices && !$0.user })
        #expect(set.binds.filter { $0.destination.hasPrefix("/dev/") }.allSatisfy { $0.devices })
        #expect(set.libraryPath == ["/.husk/host/lib"])
        #expect(set.path == ["/.husk/host/bin"])

        // Without --contain the host's /dev is bound whole: no node binds.
        #expect(!HostLibraries.nvidia(host.probe, devices: false).binds.contains { $0.destination.hasPrefix("/dev/") })
    }

    @Test func nvidiaFromNvidiaContainerCli() {
        let host = FakeHost()
        let lib = "/usr/lib64"
        host.program("/usr/bin/nvidia-container-cli") { arguments in
            arguments == ["list", "--libraries", "--binaries"]
                ? "/usr/bin/nvidia-smi\n/usr/bin/nvidia-debugdump\n\(lib)/libcuda.so.550.54.14\n\(lib)/libnvidia-ml.so.550.54.14\n" : nil
        }
        host.ldconfig([("libcuda.so.1", "libc6,x86-64", "/elsewhere/libcuda.so.1")])
        host.elfs = ["\(lib)/libcuda.so.550.54.14": ELFFile(soname: "libcuda.so.1"),
                     "\(lib)/libnvidia-ml.so.550.54.14": ELFFile(soname: "libnvidia-ml.so.1")]
        host.devices = ["/dev/nvidiactl", "/dev/nvidia0"]
        host.directories = ["/dev"]
        let set = HostLibraries.nvidia(host.probe, devices: false)
        let binds = destinations(set)
        #expect(binds["/.husk/host/lib/libcuda.so.1"] == "\(lib)/libcuda.so.550.54.14", "named by its soname")
        #expect(binds["/.husk/host/lib/libnvidia-ml.so.1"] == "\(lib)/libnvidia-ml.so.550.54.14")
        #expect(binds["/.husk/host/bin/nvidia-smi"] == "/usr/bin/nvidia-smi")
        #expect(binds["/.husk/host/bin/nvidia-debugdump"] == "/usr/bin/nvidia-debugdump")
        #expect(set.binds.count == 4)
        #expect(set.warnings.isEmpty)
    }

    @Test func noNvidiaDriverIsOneWarning() {
        let host = FakeHost()
        host.ldconfig([("libc.so.6", "libc6,x86-64", "/lib/x86_64-linux-gnu/libc.so.6")])
        host.directories = ["/dev"]
        host.devices = ["/dev/null"]
        let set = HostLibraries.nvidia(host.probe, devices: true)
        #expect(set.binds.isEmpty && set.libraryPath.isEmpty && set.path.isEmpty)
        #expect(set.warnings.count == 1)
        #expect(set.warnings[0].hasPrefix("--nv: no NVIDIA driver found on this host ("))
        #expect(set.warnings[0].hasSuffix("); running without GPUs"))
    }

    @Test func rocmLibrariesDevicesAndTools() {
        let host = FakeHost()
        host.ldconfig([
            ("libamdhip64.so.6", "libc6,x86-64", "/opt/rocm/lib/libamdhip64.so.6"),
            ("libhsa-runtime64.so.1", "libc6,x86-64", "/opt/rocm/lib/libhsa-runtime64.so.1"),
            ("libdrm_amdgpu.so.1", "libc6,x86-64", "/usr/lib/x86_64-linux-gnu/libdrm_amdgpu.so.1"),
        ])
        host.files = ["/opt/rocm/lib/libamdhip64.so.6", "/opt/rocm/lib/libhsa-runtime64.so.1",
                      "/usr/lib/x86_64-linux-gnu/libdrm_amdgpu.so.1"]
        host.executables.insert("/opt/rocm/bin/rocm-smi")
        host.devices = ["/dev/kfd"]
        host.directories = ["/dev", "/dev/dri"]
        let set = HostLibraries.rocm(host.probe, devices: true)
        let binds = destinations(set)
        #expect(binds["/.husk/host/lib/libamdhip64.so.6"] == "/opt/rocm/lib/libamdhip64.so.6")
        #expect(binds["/.husk/host/lib/libdrm_amdgpu.so.1"] != nil)
        #expect(binds["/.husk/host/bin/rocm-smi"] == "/opt/rocm/bin/rocm-smi", "found in /opt/rocm/bin")
        #expect(binds["/dev/kfd"] == "/dev/kfd" && binds["/dev/dri"] == "/dev/dri")
        #expect(set.warnings.isEmpty)

        host.devices = []  // libraries but no amdgpu driver loaded
        let noDriver = HostLibraries.rocm(host.probe, devices: true)
        #expect(noDriver.binds.isEmpty && noDriver.libraryPath.isEmpty)
        #expect(noDriver.warnings == ["--rocm: no AMD ROCm driver found on this host (no /dev/kfd); running without GPUs"])

        let none = HostLibraries.rocm(FakeHost().probe, devices: false)
        #expect(none.binds.isEmpty)
        #expect(none.warnings.count == 1 && none.warnings[0].hasPrefix("--rocm: no AMD ROCm driver found on this host ("))
    }

    /// Debian's Open MPI 4.1 layout, reduced.
    func openMPIHost() -> FakeHost {
        let host = FakeHost()
        let lib = "/usr/lib/x86_64-linux-gnu"
        let ompi = "\(lib)/openmpi/lib"
        host.program("/usr/bin/mpicc") { $0 == ["-showme:libdirs"] ? "\(ompi)\n" : nil }
        host.program("/usr/bin/mpirun") { $0 == ["--version"] ? "mpirun (Open MPI) 4.1.4\n\nReport bugs to ...\n" : nil }
        host.program("/usr/bin/ompi_info") {
            $0 == ["--path", "all", "--parsable"]
                ? "path:prefix:/usr\npath:libdir:\(ompi)\npath:pkglibdir:\(ompi)/openmpi3\npath:sysconfdir:/etc/openmpi\npath:pkgdatadir:/usr/share/openmpi\n" : nil
        }
        host.ldconfig([
            ("libopen-pal.so.40", "libc6,x86-64", "\(lib)/libopen-pal.so.40"),
            ("libhwloc.so.15", "libc6,x86-64", "\(lib)/libhwloc.so.15"),
            ("libz.so.1", "libc6,x86-64", "\(lib)/libz.so.1"),
            ("libc.so.6", "libc6,x86-64", "\(lib)/libc.so.6"),
        ])
        host.directories = [ompi, "\(ompi)/openmpi3", "/etc/openmpi", "/usr/share/openmpi", "\(lib)/pmix2/lib/pmix"]
        host.links = ["\(ompi)/libmpi.so": "\(lib)/libmpi.so.40.30.4", "\(lib)/libpmix.so.2": "\(lib)/pmix2/lib/libpmix.so.2.6.2"]
        host.files = ["\(lib)/libmpi.so.40.30.4", "\(lib)/libopen-pal.so.40", "\(lib)/libhwloc.so.15", "\(lib)/libz.so.1",
                      "\(lib)/libc.so.6", "\(ompi)/openmpi3/mca_btl_vader.so", "\(ompi)/openmpi3/mca_pmix_ext3x.so",
                      "\(ompi)/openmpi3/mca_pmix_ext3x.la", "\(lib)/pmix2/lib/libpmix.so.2.6.2",
                      "\(lib)/pmix2/lib/pmix/mca_gds_hash.so"]
        host.elfs = [
            "\(lib)/libmpi.so.40.30.4": ELFFile(soname: "libmpi.so.40", needed: ["libopen-pal.so.40", "libc.so.6", "libhwloc.so.15"],
                                                versionsNeeded: ["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_PRIVATE"]),
            "\(lib)/libopen-pal.so.40": ELFFile(soname: "libopen-pal.so.40", needed: ["libz.so.1", "libm.so.6"],
                                                versionsNeeded: ["GLIBC_2.33"]),
            "\(lib)/libhwloc.so.15": ELFFile(soname: "libhwloc.so.15", needed: ["libc.so.6"], versionsNeeded: ["GLIBC_2.14"]),
            "\(lib)/libz.so.1": ELFFile(soname: "libz.so.1", needed: ["libc.so.6"]),
            "\(ompi)/openmpi3/mca_btl_vader.so": ELFFile(needed: ["libc.so.6"], versionsNeeded: ["GLIBC_2.35"]),
            "\(ompi)/openmpi3/mca_pmix_ext3x.so": ELFFile(needed: ["libpmix.so.2", "libmissing.so.9"], runpath: "\(lib)"),
            "\(lib)/pmix2/lib/libpmix.so.2.6.2": ELFFile(soname: "libpmix.so.2", needed: ["libc.so.6"]),
            "\(lib)/pmix2/lib/pmix/mca_gds_hash.so": ELFFile(needed: ["libc.so.6"]),
        ]
        return host
    }

    @Test func mpiLibrariesPluginsAndTheGlibcTheyNeed() throws {
        let host = openMPIHost()
        let lib = "/usr/lib/x86_64-linux-gnu"
        let set = try HostLibraries.mpi(host.probe)
        let binds = destinations(set)
        #expect(binds["/.husk/host/lib/libmpi.so.40"] == "\(lib)/openmpi/lib/libmpi.so")
        #expect(binds["/.husk/host/lib/libopen-pal.so.40"] == "\(lib)/libopen-pal.so.40")
        #expect(binds["/.husk/host/lib/libhwloc.so.15"] == "\(lib)/libhwloc.so.15")
        #expect(binds["/.husk/host/lib/libz.so.1"] == "\(lib)/libz.so.1")
        #expect(binds["/.husk/host/lib/libpmix.so.2"] == "\(lib)/libpmix.so.2", "found through the plugin's RUNPATH")
        #expect(binds["/.husk/host/lib/libc.so.6"] == nil && binds["/.husk/host/lib/libm.so.6"] == nil, "glibc is the image's")
        #expect(binds["/.husk/host/lib/libmissing.so.9"] == nil)
        #expect(binds["\(lib)/openmpi/lib/openmpi3"] == "\(lib)/openmpi/lib/openmpi3", "the plugins where Open MPI looks")
        #expect(binds["\(lib)/pmix2/lib/pmix"] == "\(lib)/pmix2/lib/pmix", "PMIx's plugins beside libpmix")
        #expect(binds["/etc/openmpi"] == "/etc/openmpi" && binds["/usr/share/openmpi"] == "/usr/share/openmpi")
        #expect(set.binds.allSatisfy { $0.readOnly })
        #expect(set.libraryPath == ["/.husk/host/lib"])
        #expect(set.path.isEmpty)
        #expect(set.glibcNeeded == GlibcVersion("2.35"))
        #expect(set.glibcNeededBy == "mca_btl_vader.so")
        #expect(set.mpiName == "Open MPI 4.1.4")
    }

    @Test func mpiPluginsFromOmpiInfoWhenNotBesideTheLibraries() throws {
        let host = openMPIHost()
        let lib = "/usr/lib/x86_64-linux-gnu"
        var ran = false
        host.program("/usr/bin/ompi_info") {
            ran = true
            return $0 == ["--path", "all", "--parsable"] ? "path:pkglibdir:/opt/plugins\npath:sysconfdir:/etc/openmpi\n" : nil
        }
        host.directories.remove("\(lib)/openmpi/lib/openmpi3")
        host.directories.insert("/opt/plugins")
        host.files.insert("/opt/plugins/mca_btl_self.so")
        host.elfs["/opt/plugins/mca_btl_self.so"] = ELFFile(needed: ["libnuma.so.1"])
        host.files.insert("\(lib)/libnuma.so.1")
        host.elfs["\(lib)/libnuma.so.1"] = ELFFile(soname: "libnuma.so.1")
        let binds = destinations(try HostLibraries.mpi(host.probe))
        #expect(ran)
        #expect(binds["/opt/plugins"] == "/opt/plugins")
        #expect(binds["/.husk/host/lib/libnuma.so.1"] == "\(lib)/libnuma.so.1", "found in the default directories")
        #expect(binds["/etc/openmpi"] == "/etc/openmpi")
    }

    @Test func mpiFromTheHostLibraryPathFirst() throws {
        let host = openMPIHost()
        host.libraryPath = ["/opt/site/lib"]
        host.files.insert("/opt/site/lib/libhwloc.so.15")
        host.elfs["/opt/site/lib/libhwloc.so.15"] = ELFFile(soname: "libhwloc.so.15")
        let binds = destinations(try HostLibraries.mpi(host.probe))
        #expect(binds["/.husk/host/lib/libhwloc.so.15"] == "/opt/site/lib/libhwloc.so.15")
    }

    @Test func noMPIOnTheHost() {
        let host = FakeHost()
        host.ldconfig([("libc.so.6", "libc6,x86-64", "/lib/x86_64-linux-gnu/libc.so.6")])
        #expect(throws: HuskError.self) { try HostLibraries.mpi(host.probe) }
        do { _ = try HostLibraries.mpi(host.probe) } catch let error as HuskError {
            #expect(error.message.hasPrefix("--bind-mpi: no MPI found on this host"))
        } catch {}
    }

    @Test func ldconfigParsing() {
        let text = """
            3 libs found in cache `/etc/ld.so.cache'
            \tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1
            \tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1
            \tlibfoo.so (libc6,x86-64, OS ABI: Linux 3.2.0) => /usr/lib/libfoo.so
            Cache generated by: ldconfig (GNU libc) stable release version 2.36
            """
        let entries = HostLibraries.parseLdconfig(text, machine: "x86_64")
        #expect(entries.map(\.name) == ["libz.so.1", "libfoo.so"])
        #expect(entries.map(\.path) == ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/libfoo.so"])
    }

    @Test func environmentPutsTheDirectoriesFirst() {
        var environment = ContainerEnvironment(
            host: ["LD_LIBRARY_PATH": "/host/only"], imageEnv: ["PATH=/opt/app/bin:/usr/bin", "LD_LIBRARY_PATH=/usr/local/cuda/lib64"],
            identity: .init(user: "alice", home: "/home/alice", shell: "/bin/sh"), containerPath: "/i.sqsh", containerName: "i")
        environment.prependedLibraryPath = ["/.husk/host/lib"]
        environment.prependedPath = ["/.husk/host/bin"]
        var env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["LD_LIBRARY_PATH"] == "/.husk/host/lib:/usr/local/cuda/lib64", "the image's kept behind it; never the host's")
        #expect(env["PATH"] == "/.husk/host/bin:/opt/app/bin:/usr/bin")
        environment.imageEnv = []
        environment.explicit = [("LD_LIBRARY_PATH", "/mine:/.husk/host/lib")]
        env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["LD_LIBRARY_PATH"] == "/.husk/host/lib:/mine", "in front of --env too, once")
        environment.prependedLibraryPath = []
        environment.explicit = []
        env = Dictionary(uniqueKeysWithValues: environment.resolve().map { ContainerEnvironment.split($0) })
        #expect(env["LD_LIBRARY_PATH"] == nil, "without the flags nothing is set")
    }
}

@Suite struct GlibcCheckTests {
    func mpi(_ needed: String?) -> HostLibrarySet {
        var set = HostLibrarySet()
        set.glibcNeeded = needed.flatMap { GlibcVersion($0) }
        set.glibcNeededBy = "libmpi.so.40"
        set.mpiName = "Open MPI 4.1.4"
        return set
    }

    @Test func versionsCompareByNumber() {
        #expect(GlibcVersion("2.9")! < GlibcVersion("2.10")!)
        #expect(GlibcVersion("2.34") == GlibcVersion("2.34"))
        #expect(GlibcVersion("2.34")! < GlibcVersion("2.34.1")!)
        #expect(GlibcVersion(symbolVersion: "GLIBC_2.2.5") == GlibcVersion("2.2.5"))
        #expect(GlibcVersion(symbolVersion: "GLIBC_PRIVATE") == nil)
        #expect(GlibcVersion(symbolVersion: "GLIBC_ABI_DT_RELR") == nil)
        #expect(GlibcVersion(libcFileName: "libc-2.28.so") == GlibcVersion("2.28"))
        #expect(ELFFile(versionsNeeded: ["GLIBC_2.3", "GLIBC_2.14", "GLIBC_2.2.5", "GCC_3.0"]).glibcNeeded == GlibcVersion("2.14"))
    }

    @Test func tooOldImageGlibcIsOneLine() throws {
        #expect(throws: HuskError.self) { try GlibcCheck.check(mpi("2.34"), image: .glibc(GlibcVersion("2.31")!), imageName: "focal") }
        do { try GlibcCheck.check(mpi("2.34"), image: .glibc(GlibcVersion("2.31")!), imageName: "focal") } catch let error as HuskError {
            #expect(error.message == "--bind-mpi: focal has glibc 2.31, older than the glibc 2.34 the host's Open MPI 4.1.4 libraries need (libmpi.so.40 needs GLIBC_2.34); use an image with glibc 2.34 or newer")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func equalOrNewerImageGlibcIsFine() throws {
        try GlibcCheck.check(mpi("2.34"), image: .glibc(GlibcVersion("2.34")!), imageName: "i")
        try GlibcCheck.check(mpi("2.34"), image: .glibc(GlibcVersion("2.36")!), imageName: "i")
        try GlibcCheck.check(mpi(nil), image: .glibc(GlibcVersion("2.17")!), imageName: "i")
    }

    @Test func noGlibcOrMuslFails() {
        for libc in [ImageLibc.none, .musl] {
            do {
                try GlibcCheck.check(mpi("2.34"), image: libc, imageName: "busybox")
                Issue.record("no error for \(libc)")
            } catch let error as HuskError {
                #expect(error.message.hasPrefix(libc == .none ? "--bind-mpi: busybox has no glibc" : "--bind-mpi: busybox has musl libc"))
                #expect(error.message.contains("glibc 2.34 or newer"))
            } catch { Issue.record("\(error)") }
        }
    }

    /// A directory image: merged /usr (lib -> usr/lib) and an old-style
    /// libc.so.6 -> libc-2.28.so; one with musl; one with no C library.
    @Test func imageLibcFromTheImageFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("husk-glibc-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/old/usr/lib/x86_64-linux-gnu", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/old/lib", withDestinationPath: "usr/lib")
        fm.createFile(atPath: root + "/old/usr/lib/x86_64-linux-gnu/libc-2.28.so", contents: Data())
        try fm.createSymbolicLink(atPath: root + "/old/usr/lib/x86_64-linux-gnu/libc.so.6", withDestinationPath: "libc-2.28.so")
        let old = try RuntimeImage.openDirectory(root + "/old")
        #expect(old.resolve("lib/x86_64-linux-gnu/libc.so.6") == "usr/lib/x86_64-linux-gnu/libc-2.28.so")
        #expect(GlibcCheck.imageLibc(old, machine: "x86_64") == .glibc(GlibcVersion("2.28")!))

        try fm.createDirectory(atPath: root + "/musl/lib", withIntermediateDirectories: true)
        fm.createFile(atPath: root + "/musl/lib/ld-musl-x86_64.so.1", contents: Data())
        #expect(GlibcCheck.imageLibc(try RuntimeImage.openDirectory(root + "/musl"), machine: "x86_64") == .musl)

        try fm.createDirectory(atPath: root + "/busybox/bin", withIntermediateDirectories: true)
        fm.createFile(atPath: root + "/busybox/bin/busybox", contents: Data())
        #expect(GlibcCheck.imageLibc(try RuntimeImage.openDirectory(root + "/busybox"), machine: "x86_64") == .none)

        // The host's own libc.so.6, read from its .gnu.version_d.
        let hostLibc = "/usr/lib/\(HostLibraries.multiarchTriplet(HostProbe.machineName()))/libc.so.6"
        if fm.fileExists(atPath: hostLibc) {
            try fm.createDirectory(atPath: root + "/new/usr/lib64", withIntermediateDirectories: true)
            try fm.copyItem(atPath: hostLibc, toPath: root + "/new/usr/lib64/libc.so.6")
            let new = try RuntimeImage.openDirectory(root + "/new")
            guard case .glibc(let version) = GlibcCheck.imageLibc(new, machine: HostProbe.machineName()) else {
                Issue.record("no glibc version read from \(hostLibc)")
                return
            }
            #expect(version >= GlibcVersion("2.17")!)
            #expect(ELFFile(path: hostLibc)?.soname == "libc.so.6")
        }
    }

    @Test func damagedELFReadsAsNil() {
        #expect(ELFFile(bytes: []) == nil)
        #expect(ELFFile(bytes: [0x7f, 0x45, 0x4c, 0x46, 2, 1] + [UInt8](repeating: 0xff, count: 58)) == nil)
        var header = [UInt8](repeating: 0, count: 64)
        header[0...5] = [0x7f, 0x45, 0x4c, 0x46, 2, 1]
        header[0x28] = 0x40; header[0x3a] = 64; header[0x3c] = 2  // two section headers past the end
        #expect(ELFFile(bytes: header) == nil)
    }
}
