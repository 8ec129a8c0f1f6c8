// swift-tools-version:6.1
// The libFuzzer target for image files, built and run by Scripts/fuzz. A
// package of its own so that the main package's `swift build` never compiles
// or links it.
import PackageDescription

let package = Package(
    name: "HuskFuzzImage",
    dependencies: [.package(name: "Husk", path: "../..")],
    targets: [
        // Starts libFuzzer's driver from a Swift main (see driver.c).
        .target(name: "CFuzzDriver"),
        // Reads one input as an image file the way husk inspect, exec and --mode extract do.
        .executableTarget(
            name: "fuzz-image",
            dependencies: ["CFuzzDriver", .product(name: "HuskImageReader", package: "Husk")]),
    ],
    swiftLanguageModes: [.v6]
)
