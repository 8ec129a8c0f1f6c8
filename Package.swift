// swift-tools-version:6.1
// Husk: rootless containers for HPC from one squashfs file. Layout: DESIGN.md §1.
import PackageDescription

let package = Package(
    name: "Husk",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Husk", targets: ["HuskCore", "HuskOCI", "HuskSquash", "HuskSystem", "HuskRuntime"]),
        .executable(name: "husk", targets: ["husk"]),
        .executable(name: "husk-starter", targets: ["husk-starter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // C libraries from Debian, one module map + shim.h each.
        .systemLibrary(name: "CLibSquashFS", pkgConfig: "libsquashfs1",
                       providers: [.apt(["libsquashfs-dev"])]),
        .systemLibrary(name: "CLibArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        // Intel ISA-L: gzip layers inflate ~3x faster than with zlib (DESIGN.md §7).
        .systemLibrary(name: "CLibISAL", pkgConfig: "libisal",
                       providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CLibSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CLibCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CFuse3", pkgConfig: "fuse3",
                       providers: [.apt(["libfuse3-dev"])]),
        // Syscalls Glibc's module hides and async-signal-safe helpers.
        .target(name: "CHuskShim"),

        .target(name: "HuskCore", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            "CHuskShim",
        ]),
        .target(name: "HuskOCI", dependencies: ["HuskCore", "CLibArchive"]),
        .target(name: "HuskSquash", dependencies: ["HuskCore", "HuskOCI", "CLibSquashFS", "CLibArchive", "CLibISAL", "CHuskShim"]),
        // Serves a squashfs through FUSE from inside the starter (libsquashfuse_ll).
        .target(name: "CSquashFuse", dependencies: ["CFuse3"],
                cSettings: [.define("FUSE_USE_VERSION", to: "32")],
                linkerSettings: [.linkedLibrary("squashfuse_ll"), .linkedLibrary("fuse3")]),
        // Single-threaded C: everything from unshare to execve (DESIGN.md §1).
        .executableTarget(name: "husk-starter", dependencies: ["CSquashFuse"]),
        .target(name: "HuskSystem", dependencies: ["HuskCore", "CHuskShim", "CLibSeccomp", "CLibCap"]),
        .target(name: "HuskRuntime", dependencies: ["HuskCore", "HuskOCI", "HuskSquash", "HuskSystem", "CHuskShim"]),
        .executableTarget(name: "husk", dependencies: [
            "HuskCore", "HuskOCI", "HuskSquash", "HuskRuntime", "CHuskShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .target(name: "HuskTestSupport", dependencies: ["HuskCore", "HuskOCI"], path: "Tests/HuskTestSupport"),
        .testTarget(name: "HuskCoreTests", dependencies: ["HuskCore"]),
        .testTarget(name: "HuskSystemTests", dependencies: ["HuskSystem"]),
        .testTarget(name: "HuskRuntimeTests", dependencies: ["HuskRuntime", "HuskSystem", "HuskTestSupport"]),
        .testTarget(name: "HuskOCITests", dependencies: ["HuskOCI", "CLibArchive", "HuskTestSupport"]),
        .testTarget(name: "HuskSquashTests", dependencies: ["HuskSquash", "HuskOCI", "CLibArchive", "CLibSquashFS", "HuskTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
