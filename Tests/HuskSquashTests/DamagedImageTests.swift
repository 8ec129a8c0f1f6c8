import Foundation
import Testing
import HuskCore
@testable import HuskOCI
@testable import HuskSquash
import HuskTestSupport

/// A damaged or crafted image file must give a one-line `HuskError`, never a
/// crash (issue 10 item 7). The images are converted here from a tiny layout;
/// the only binary inputs are the fuzzer's crashes in Fuzz/regressions/image/.
@Suite struct DamagedImageTests {
    /// A valid image with a file in a fragment, a file in full blocks, a hard
    /// link, a symlink and nested directories; `config` replaces the config
    /// JSON written verbatim into `/.husk/config.json`.
    static func makeImage(in layout: LayoutBuilder, config: String? = nil) throws -> String {
        let layer = try layout.blob(TarBuilder.build([
            .directory("etc/"), .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
            .directory("bin/"), .file("bin/busybox", noise, mode: 0o755),
            .hardlink("bin/sh", to: "bin/busybox"), .symlink("lib64", to: "lib"),
            .directory("usr/share/doc/"), .file("usr/share/doc/readme", "tiny"),
        ], gzip: true), mediaType: MediaType.ociLayerGzip)
        let configJSON = #"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]}}"#
        let configBlob = try layout.blob(Array(configJSON.utf8), mediaType: MediaType.ociConfig)
        try layout.writeIndex([try layout.blob(layout.json(ImageManifest(config: configBlob, layers: [layer])),
                                               mediaType: MediaType.ociManifest)])
        var image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        if let config { image.configBytes = Array(config.utf8) }
        let output = layout.root + "/image.sqsh"
        _ = try ImageConverter.convert(image, to: output, options: .init())
        return output
    }

    /// 300 KB that compress to about 180 KB: three data blocks, so truncations and
    /// flips land in file data as well as in the tables.
    static let noise: String = {
        var state: UInt32 = 1
        return String((0..<300_000).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return Character(UnicodeScalar(UInt8(97 + (state >> 16) % 26)))
        })
    }()

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Reads `path` the way `husk inspect`, `husk exec` and `--mode extract` do,
    /// step by step, and returns the errors; anything but a one-line
    /// `HuskError` naming the file is recorded as a failure.
    static func readLikeHusk(_ path: String, scratch: String) -> [HuskError] {
        var errors: [HuskError] = []
        func step(_ body: () throws -> Void) -> Bool {
            do {
                try body()
                return true
            } catch let error as HuskError {
                #expect(!error.message.contains("\n"), "one line: \(error.message)")
                // Extraction errors may name the file being written instead.
                #expect(error.message.contains(path + ":") || error.message.contains(scratch),
                        "names the file: \(error.message)")
                errors.append(error)
            } catch {
                Issue.record("not a HuskError: \(error)")
            }
            return false
        }
        _ = step { _ = try ImageInfo.read(path: path) }
        var opened: SquashReader?
        guard step({ opened = try SquashReader(path: path) }), let reader = opened else { return errors }
        _ = step {
            if let bytes = try reader.readFile(".husk/config.json") {
                _ = try ImageMetadata.decode(ImageConfiguration.self, from: bytes, file: ".husk/config.json", image: path)
            }
        }
        _ = step {
            if let bytes = try reader.readFile(".husk/source.json") {
                _ = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: ".husk/source.json", image: path)
            }
        }
        for entry in ["bin/sh", "etc/passwd", "no/such/entry", ".husk"] {
            _ = step { _ = try reader.entryExists(entry) }
        }
        _ = step { _ = try reader.readFile("etc/passwd") }
        let target = scratch + "/rootfs-\(UUID().uuidString)"
        _ = step {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try SquashExtractor.extract(reader, into: target)
        }
        try? FileManager.default.removeItem(atPath: target)
        return errors
    }

    @Test func validImageReadsWithoutErrors() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let image = try Self.makeImage(in: layout)
        #expect(Self.readLikeHusk(image, scratch: layout.root).isEmpty)
    }

    @Test func truncatedImageNamesBothSizes() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let image = try Self.bytes(try Self.makeImage(in: layout))
        let bytesUsed = Int(SuperblockCheck(image).bytesUsed)
        let path = layout.root + "/cut.sqsh"
        for length in [96, 97, 4096, bytesUsed / 3, bytesUsed / 2, bytesUsed - 100, bytesUsed - 1] {
            try Self.write(Array(image.prefix(length)), to: path)
            let errors = Self.readLikeHusk(path, scratch: layout.root)
            #expect(errors.count == 2, "ImageInfo.read and SquashReader.init both refuse it")
            #expect(errors.allSatisfy { $0.code == .invalidImage })
            #expect(errors.first?.message == "\(path): truncated: \(length) of \(bytesUsed) bytes (an interrupted copy?); copy or convert it again")
        }
        for length in [1, 4, 50, 95] {
            try Self.write(Array(image.prefix(length)), to: path)
            let error = try #require(throws: HuskError.self) { try SquashReader(path: path) }
            #expect(error.code == .invalidImage)
            #expect(error.message.contains(length >= 4 ? "truncated: \(length) of at least 96 bytes" : "not a squashfs image"))
        }
    }

    @Test func paddingAndATrailerAfterBytesUsedAreFine() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = try Self.makeImage(in: layout)
        try Self.write(try Self.bytes(path) + Array("HUSKSIG1 trailer".utf8), to: path)
        #expect(Self.readLikeHusk(path, scratch: layout.root).isEmpty)
    }

    @Test func everySuperblockByteFlipIsRefusedOrHarmless() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let image = try Self.bytes(try Self.makeImage(in: layout))
        let path = layout.root + "/flipped.sqsh"
        // inode_count and modification_time are not used to read; most flags are informative.
        let informative = Set(4..<12).union(24..<26)
        for offset in 0..<SuperblockCheck.size {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = image
                damaged[offset] ^= mask
                try Self.write(damaged, to: path)
                let refused = !Self.readLikeHusk(path, scratch: layout.root).isEmpty
                // A bytes_used that grew but still lies within the 4 KiB padding.
                let bytesUsed = { (bytes: [UInt8]) in (40..<48).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) } }
                let withinPadding = bytesUsed(damaged) > bytesUsed(image) && bytesUsed(damaged) <= UInt64(image.count)
                let harmless = informative.contains(offset) || withinPadding
                #expect(refused || harmless, "byte \(offset) ^ \(mask) was accepted")
            }
        }
    }

    @Test(arguments: [
        (12, UInt8(0x03), "block size"),        // block_size 128 KiB + 3
        (22, UInt8(0x01), "block_log"),         // block_log 17 → 16
        (20, UInt8(0x40), "unknown compressor id"),
        (26, UInt8(0x01), "no entries in the uid/gid table"),  // id_count 1 → 0
        (47, UInt8(0x01), "truncated"),         // bytes_used + 2^56
        (55, UInt8(0x01), "the id table"),      // id_table_start + 2^56
        (71, UInt8(0x01), "the inode table"),   // inode_table_start + 2^56
        (79, UInt8(0x01), "the directory table"),
        (37, UInt8(0x01), "root inode reference"),
        (0, UInt8(0x01), "no squashfs magic"),
        (28, UInt8(0x01), "squashfs version 5.0"),
    ])
    func superblockDamageIsNamed(offset: Int, mask: UInt8, expected: String) throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        var image = try Self.bytes(try Self.makeImage(in: layout))
        image[offset] ^= mask
        let path = layout.root + "/damaged.sqsh"
        try Self.write(image, to: path)
        let error = try #require(throws: HuskError.self) { try SquashReader(path: path) }
        #expect(error.code == .invalidImage)
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(error.message.hasSuffix("again") || error.message.contains("give a .sqsh"), "says what to do: \(error.message)")
    }

    @Test func flippedBytesInTheTablesAreErrorsNotCrashes() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let image = try Self.bytes(try Self.makeImage(in: layout))
        let superblock = SuperblockCheck(image)
        let path = layout.root + "/tables.sqsh"
        // Everything from the inode table to the end: inodes, directories, fragment and id tables.
        let tables = Int(superblock.inodeTableStart)..<Int(superblock.bytesUsed)
        for offset in stride(from: tables.lowerBound, to: tables.upperBound, by: max(1, tables.count / 200)) {
            var damaged = image
            damaged[offset] ^= 0xFF
            try Self.write(damaged, to: path)
            _ = Self.readLikeHusk(path, scratch: layout.root)  // failures are recorded inside
        }
    }

    @Test func zeroLengthFile() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = layout.root + "/empty.sqsh"
        try Self.write([], to: path)
        let errors = Self.readLikeHusk(path, scratch: layout.root)
        #expect(errors.first?.code == .invalidImage)
        #expect(errors.first?.message == "\(path): empty file, not a squashfs image (an interrupted copy?); copy or convert it again")
    }

    @Test func directoryGivenAsImage() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let error = try #require(throws: HuskError.self) { try ImageInfo.read(path: layout.root) }
        #expect(error.code == .invalidImage)
        #expect(error.message == "\(layout.root): a directory, not a squashfs image file; give a .sqsh file")
        let missing = try #require(throws: HuskError.self) { try SquashReader(path: layout.root + "/none.sqsh") }
        #expect(missing.code == .notFound)
    }

    @Test func invalidConfigJSONIsOneLine() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = try Self.makeImage(in: layout, config: #"{"config": {"Env": ["A=1"], "#)
        let error = try #require(throws: HuskError.self) { try ImageInfo.read(path: path) }
        #expect(error.code == .invalidImage)
        #expect(error.message.hasPrefix("\(path): /.husk/config.json is not valid image metadata ("))
        #expect(error.message.hasSuffix("); convert the image again"))
        #expect(!error.message.contains("\n"))
    }

    @Test func wrongTypeInConfigNamesTheField() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = try Self.makeImage(in: layout, config: #"{"config": {"Env": "PATH=/bin"}}"#)
        let error = try #require(throws: HuskError.self) { try ImageInfo.read(path: path) }
        #expect(error.message.contains("at config.Env"), "\(error.message)")
    }

    /// Inputs the fuzzer (Scripts/fuzz) found crashing; each must now be refused.
    @Test(arguments: Self.regressionInputs())
    func fuzzerRegression(_ input: String) throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        #expect(!Self.readLikeHusk(input, scratch: layout.root).isEmpty, "\(input) is refused")
    }

    static func regressionInputs() -> [String] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/regressions/image").standardized.path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { directory + "/" + $0 }
    }
}
