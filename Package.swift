// swift-tools-version:6.1
// Husk: rootless containers for HPC from one squashfs file. Layout: DESIGN.md §1.
import PackageDescription

// Members are found only in modules a file imports itself: otherwise
// swift-corelibs-foundation's String and CharacterSet extensions, which a
// dependency (swift-crypto, TOMLKit) imports, shadow FoundationEssentials'
// and link all of corelibs Foundation and ICU into husk (README, "Where a
// start's time goes"); test-cli.sh checks that husk holds none of it.
let ownImportsOnly: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

// husk and husk-full: an empty dynamic symbol table, every start 1.5 ms shorter
// (Sources/husk-plan/exports.map says why), and libstdc++ (the Swift runtime's, TOMLKit's)
// linked in: loading the shared one costs every start 0.5 ms (Linking/static-libstdc++).
let programLinking: [LinkerSetting] = [.unsafeFlags([
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/husk-plan/exports.map",
    "-L\(Context.packageDirectory)/Linking/static-libstdc++",
])]

// The C programs that run the starter (husk-starter, and husk, the launcher, in place):
// squashfuse's calls to ZSTD_decompress bind to the starter's own (exported whether or
// not the build exports all), and no libstdc++ or libm, which the Swift toolchain adds to
// every executable and C does not use (Linking/as-needed).
let starterLinking: [LinkerSetting] = [.unsafeFlags([
    "-Xlinker", "--export-dynamic-symbol=ZSTD_decompress",
    "-L\(Context.packageDirectory)/Linking/as-needed",
])]

let package = Package(
    name: "Husk",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Husk", targets: ["HuskCore", "HuskOCI", "HuskRegistry", "HuskSquash", "HuskSystem", "HuskTrust",
                                         "HuskRuntime", "HuskPull"]),
        // The image reader alone, for Fuzz/ (its own package): building it skips the registry client.
        .library(name: "HuskImageReader", targets: ["HuskCore", "HuskOCI", "HuskSquash"]),
        // husk, the program users run: a container start planned by the user's warm planner,
        // everything else handed to husk-plan unchanged (Sources/husk-launcher/launcher.c).
        .executable(name: "husk", targets: ["husk"]),
        // husk-plan starts containers (and is the warm planner) and hands every other command
        // to husk-full (Sources/husk-plan/main.swift).
        .executable(name: "husk-plan", targets: ["husk-plan"]),
        .executable(name: "husk-full", targets: ["husk-full"]),
        .executable(name: "husk-starter", targets: ["husk-starter"]),
        .executable(name: "husk-rpmdb", targets: ["husk-rpmdb"]),
        // The Slurm SPANK plugin (libhusk_spank.so) and what its tasks run.
        .library(name: "husk_spank", type: .dynamic, targets: ["HuskSpank"]),
        .executable(name: "husk-spank-task", targets: ["husk-spank-task"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries from Debian, one module map + shim.h each.
        .systemLibrary(name: "CLibSquashFS", pkgConfig: "libsquashfs1",
                       providers: [.apt(["libsquashfs-dev"])]),
        // Opening a C library on its first call (include/husk_lazy_library.h).
        .target(name: "CLazyLibrary"),
        // libarchive (Debian's libarchive-dev) and GPGME (libgpgme-dev) are opened on
        // first use, not at every start: their trampolines (CLazyLibrary).
        .target(name: "CLibArchive", dependencies: ["CLazyLibrary", "CHuskShim"]),
        // Intel ISA-L (Debian's libisal-dev): gzip layers inflate ~3x faster than
        // with zlib (DESIGN.md §7); opened on the first gzip layer (CLazyLibrary).
        .target(name: "CLibISAL", dependencies: ["CLazyLibrary", "CHuskShim"]),
        .systemLibrary(name: "CLibSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        // libcap (Debian's libcap-dev): capability names, for --add-caps,
        // --drop-caps and seccomp profiles alone; opened on first use (CLazyLibrary).
        .target(name: "CLibCap", dependencies: ["CLazyLibrary"]),
        // OpenPGP signatures (DESIGN.md §5): GnuPG through GPGME.
        .target(name: "CGPGME", dependencies: ["CLazyLibrary", "CHuskShim"]),
        // RPM package databases for the inventory (DESIGN.md §5).
        .systemLibrary(name: "CLibRPM", pkgConfig: "rpm",
                       providers: [.apt(["librpm-dev"])]),
        // Syscalls Glibc's module hides and async-signal-safe helpers.
        .target(name: "CHuskShim"),
        // The warm planner's socket, serving loop and messages: shared by husk (the
        // launcher, C) and husk-plan (Swift).
        .target(name: "CHuskPlanner"),
        // For the C programs alone: no Swift runtime linked in (no_swift_runtime.c says why).
        .target(name: "CNoSwiftRuntime"),

        .target(name: "HuskCore", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            "CHuskShim",
        ], swiftSettings: ownImportsOnly),
        .target(name: "HuskOCI", dependencies: ["HuskCore", "CLibArchive"], swiftSettings: ownImportsOnly),
        // The OCI distribution client and the blob cache (DESIGN.md §4). Its own
        // module so that conversion and its tests do not pull in SwiftNIO.
        .target(name: "HuskRegistry", dependencies: [
            "HuskCore", "HuskOCI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: ownImportsOnly),
        // libsquashfs's zstd decompression with one context per reader (decompressor.c).
        .target(name: "CSquashDecompressor", dependencies: ["CLibSquashFS"], linkerSettings: [.linkedLibrary("zstd")]),
        .target(name: "HuskSquash", dependencies: ["HuskCore", "HuskOCI", "CLibSquashFS", "CSquashDecompressor", "CLibArchive",
                                                   "CLibISAL", "CHuskShim"], swiftSettings: ownImportsOnly),
        // Serves a squashfs through FUSE from inside the starter (libsquashfuse_ll).
        // libsquashfuse_ll and libfuse3 are opened by the starter that mounts, not by one
        // that joins an image server (CLazyLibrary).
        .target(name: "CSquashFuse", dependencies: ["CLazyLibrary"],
                cSettings: [.define("FUSE_USE_VERSION", to: "32")]),
        // The starter, single-threaded C: everything from unshare to execve (DESIGN.md §1).
        // The program husk-starter runs it, and so does the launcher (husk) in place.
        .target(name: "CHuskStarter", dependencies: ["CSquashFuse"]),
        // squashfuse's ZSTD_decompress keeps its context (CSquashFuse/zstd_context.c).
        .executableTarget(name: "husk-starter", dependencies: ["CHuskStarter", "CNoSwiftRuntime"],
                          linkerSettings: starterLinking),
        // Reads an image's RPM database with librpm in a confined process of its own.
        .executableTarget(name: "husk-rpmdb", dependencies: ["CLibRPM", "CLibSeccomp"]),
        // srun --husk-image: C against Debian's libslurm-dev spank.h; Slurm provides the spank_* symbols.
        .target(name: "HuskSpank"),
        .executableTarget(name: "husk-spank-task"),
        .target(name: "HuskSystem", dependencies: ["HuskCore", "CHuskShim", "CLibSeccomp", "CLibCap"], swiftSettings: ownImportsOnly),
        // Site policy and package inventory (DESIGN.md §5): below HuskRuntime,
        // which enforces the policy on every run path before anything is mounted.
        .target(name: "HuskTrust", dependencies: [
            "HuskCore", "HuskOCI", "HuskSquash", "CGPGME",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], swiftSettings: ownImportsOnly),
        // Everything a container start needs, and no registry client: docker:// images come
        // through a RemoteImages (HuskPull's RegistryImages) that the caller gives.
        .target(name: "HuskRuntime", dependencies: ["HuskCore", "HuskOCI", "HuskSquash", "HuskSystem",
                                                    "HuskTrust", "CHuskShim"], swiftSettings: ownImportsOnly),
        // docker:// images for the runtime, push sources and policy verdicts: the registry side.
        .target(name: "HuskPull", dependencies: [
            "HuskCore", "HuskOCI", "HuskRegistry", "HuskSquash", "HuskTrust", "HuskRuntime",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: ownImportsOnly),
        // The command line of a container start (both programs) and what every command shares.
        .target(name: "HuskRunCommand", dependencies: [
            "HuskCore", "HuskRuntime", "HuskTrust", "CHuskShim", "CHuskPlanner",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: ownImportsOnly),
        // Every command (husk-full).
        .target(name: "HuskCLI", dependencies: [
            "HuskCore", "HuskOCI", "HuskRegistry", "HuskSquash", "HuskTrust", "HuskRuntime", "HuskPull",
            "HuskRunCommand", "CHuskShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: ownImportsOnly),
        .executableTarget(name: "husk-plan", dependencies: ["HuskCore", "HuskRuntime", "HuskRunCommand", "CHuskShim"],
                          exclude: ["exports.map"], swiftSettings: ownImportsOnly, linkerSettings: programLinking),
        // C, so that a start does not load the Swift program: libc alone (Linking/as-needed).
        .executableTarget(name: "husk", dependencies: ["CHuskPlanner", "CHuskStarter", "CNoSwiftRuntime"],
                          path: "Sources/husk-launcher", linkerSettings: starterLinking),
        .executableTarget(name: "husk-full", dependencies: ["HuskCLI"], swiftSettings: ownImportsOnly,
                          linkerSettings: programLinking),

        // The README's library example: uses only the public API of the library targets.
        .executableTarget(name: "husk-example", dependencies: ["HuskCore", "HuskOCI", "HuskSquash", "HuskRuntime"],
                          path: "Examples/husk-example", swiftSettings: ownImportsOnly),

        .target(name: "HuskTestSupport", dependencies: ["HuskCore", "HuskOCI"], path: "Tests/HuskTestSupport"),
        .testTarget(name: "HuskCoreTests", dependencies: ["HuskCore", "HuskTestSupport"]),
        .testTarget(name: "HuskSystemTests", dependencies: ["HuskSystem"]),
        .testTarget(name: "HuskRuntimeTests", dependencies: ["HuskRuntime", "HuskSystem", "HuskSquash", "HuskOCI", "HuskTestSupport"]),
        // The CLI's own parsing (RunCommandLine against ArgumentParser).
        .testTarget(name: "HuskCLITests", dependencies: ["HuskCLI", "HuskRunCommand"]),
        .testTarget(name: "HuskRegistryTests", dependencies: ["HuskRegistry", "HuskOCI"]),
        .testTarget(name: "HuskTrustTests", dependencies: ["HuskTrust", "HuskCore", "HuskRegistry", "HuskSquash", "HuskOCI",
                                                           "HuskTestSupport"]),
        .testTarget(name: "HuskOCITests", dependencies: ["HuskOCI", "CLibArchive", "HuskTestSupport"]),
        .testTarget(name: "HuskSquashTests", dependencies: ["HuskSquash", "HuskOCI", "CLibArchive", "CLibSquashFS", "CSquashDecompressor",
                                                            "HuskTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
