import CLibArchive
import Foundation
import Testing
import HuskCore
@testable import HuskOCI
@testable import HuskSquash
import HuskTestSupport

/// Writes tar layers with libarchive (pax format, optionally gzip).
struct TarBuilder {
    enum Item {
        case file(String, String, mode: Int32 = 0o644)
        case directory(String)
        case hardlink(String, to: String)
        case symlink(String, to: String)
    }

    static func build(_ items: [Item], gzip: Bool) -> [UInt8] {
        let archive = archive_write_new()!
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        if gzip { archive_write_add_filter_gzip(archive) }
        archive_write_set_bytes_in_last_block(archive, 1)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var used = 0
        buffer.withUnsafeMutableBytes { raw in
            _ = archive_write_open_memory(archive, raw.baseAddress, raw.count, &used)
            for item in items {
                let entry = archive_entry_new()!
                defer { archive_entry_free(entry) }
                archive_entry_set_mtime(entry, 1_700_000_000, 0)
                var data: [UInt8] = []
                switch item {
                case .file(let path, let text, let mode):
                    data = Array(text.utf8)
                    archive_entry_set_pathname(entry, path)
                    archive_entry_set_filetype(entry, 0o100000)
                    archive_entry_set_perm(entry, mode_t(mode))
                    archive_entry_set_size(entry, la_int64_t(data.count))
                case .directory(let path):
                    archive_entry_set_pathname(entry, path)
                    archive_entry_set_filetype(entry, 0o040000)
                    archive_entry_set_perm(entry, 0o755)
                case .hardlink(let path, let target):
                    archive_entry_set_pathname(entry, path)
                    archive_entry_set_hardlink(entry, target)
                    archive_entry_set_size(entry, 0)
                case .symlink(let path, let target):
                    archive_entry_set_pathname(entry, path)
                    archive_entry_set_filetype(entry, 0o120000)
                    archive_entry_set_perm(entry, 0o777)
                    archive_entry_set_symlink(entry, target)
                }
                archive_write_header(archive, entry)
                if !data.isEmpty { _ = data.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) } }
            }
            archive_write_close(archive)
        }
        return Array(buffer[0..<used])
    }
}

@Suite struct ConvertEndToEndTests {
    func makeLayout(layers: [[UInt8]]) throws -> LayoutBuilder {
        let layout = try LayoutBuilder()
        let layerDescriptors = try layers.map { try layout.blob($0, mediaType: MediaType.ociLayerGzip) }
        let config = #"{"architecture":"amd64","os":"linux","created":"2024-05-01T12:00:00.123456789Z","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[]}}"#
        let configDescriptor = try layout.blob(Array(config.utf8), mediaType: MediaType.ociConfig)
        let manifest = ImageManifest(schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor,
                                     layers: layerDescriptors)
        try layout.writeIndex([try layout.blob(layout.json(manifest), mediaType: MediaType.ociManifest)])
        return layout
    }

    /// LAYERS as an OCI layout, converted with the default options into
    /// the layout's out.sqsh (the caller removes the layout).
    func converted(_ layers: [[UInt8]]) throws -> (layout: LayoutBuilder, output: String) {
        let layout = try makeLayout(layers: layers)
        let output = layout.root + "/out.sqsh"
        do {
            let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
            _ = try ImageConverter.convert(image, to: output, options: .init())
        } catch {
            layout.remove()
            throw error
        }
        return (layout, output)
    }

    var sampleLayers: [[UInt8]] {
        [
            TarBuilder.build([.directory("bin/"), .file("bin/busybox", "BUSYBOX", mode: 0o755),
                              .hardlink("bin/sh", to: "bin/busybox"), .directory("etc/"),
                              .file("etc/old", "old"), .symlink("lib64", to: "lib")], gzip: true),
            TarBuilder.build([.file("etc/.wh.old", ""), .file("etc/new", "new"),
                              .hardlink("bin/ls", to: "bin/busybox")], gzip: true),
        ]
    }

    @Test func convertsAndReadsBack() throws {
        let layout = try makeLayout(layers: sampleLayers)
        defer { layout.remove() }
        let output = layout.root + "/out.sqsh"
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        let result = try ImageConverter.convert(image, to: output, options: .init())
        #expect(result.outputSize % 4096 == 0)

        let reader = try SquashReader(path: output)
        #expect(reader.compressionName == "zstd")
        #expect(try reader.readFile("bin/ls") == Array("BUSYBOX".utf8))
        #expect(try reader.readFile("etc/new") == Array("new".utf8))
        #expect(try reader.readFile("etc/old") == nil)
        #expect(reader.modificationTime == 1_714_564_800)
        let info = try ImageInfo.read(path: output)
        #expect(info.cmd == ["/bin/sh"])
        #expect(info.layers == image.layers.map { $0.descriptor.digest })
        #expect(info.manifestDigest == image.manifestDigest)
    }

    /// Every start reads these: each in blocks of its own, not in a shared
    /// 128 KiB fragment block that the start would decompress whole.
    @Test func filesEveryStartReadsAreNotInFragmentBlocks() throws {
        var layers = sampleLayers
        layers.append(TarBuilder.build([.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                                        .file("etc/group", "root:x:0:\n"), .file("etc/hostname", "box\n")], gzip: true))
        let (layout, output) = try converted(layers)
        defer { layout.remove() }
        let reader = try SquashReader(path: output)
        for path in [".husk/config.json", ".husk/source.json", "etc/passwd", "etc/group"] {
            #expect(try reader.isInFragmentBlock(path) == false, "\(path)")
        }
        #expect(try reader.isInFragmentBlock("etc/hostname") == true)
        #expect(try reader.isInFragmentBlock("etc/new") == true)
        #expect(try reader.readFile("etc/passwd") == Array("root:x:0:0::/root:/bin/sh\n".utf8))
        #expect(try reader.readFile("etc/group") == Array("root:x:0:\n".utf8))
        #expect(try ImageInfo.read(path: output).cmd == ["/bin/sh"])
    }

    /// Every run binds the host's resolv.conf and hosts: an image without
    /// them gets empty ones to bind on (no overlay on /etc at each run);
    /// what an image has there is kept, a symlink included.
    @Test func addsTheMountPointsEveryRunBindsOn() throws {
        let (layout, output) = try converted(sampleLayers)
        defer { layout.remove() }
        let reader = try SquashReader(path: output)
        #expect(try reader.readFile("etc/resolv.conf") == [])
        #expect(try reader.readFile("etc/hosts") == [])

        let (kept, keptOutput) = try converted(sampleLayers + [
            TarBuilder.build([.file("etc/hosts", "127.0.0.1 box\n"),
                              .symlink("etc/resolv.conf", to: "../run/resolv.conf")], gzip: true),
        ])
        defer { kept.remove() }
        let keptReader = try SquashReader(path: keptOutput)
        #expect(try keptReader.readFile("etc/hosts") == Array("127.0.0.1 box\n".utf8))
        #expect(try keptReader.readLink("etc/resolv.conf") == "../run/resolv.conf")
    }

    @Test func sameInputGivesIdenticalBytesWhateverTheThreadCount() throws {
        let layout = try makeLayout(layers: sampleLayers)
        defer { layout.remove() }
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        var options = ImageConverter.Options()
        options.jobs = 1
        _ = try ImageConverter.convert(image, to: layout.root + "/a.sqsh", options: options)
        options.jobs = 4
        _ = try ImageConverter.convert(image, to: layout.root + "/b.sqsh", options: options)
        let a = try Data(contentsOf: URL(fileURLWithPath: layout.root + "/a.sqsh"))
        let b = try Data(contentsOf: URL(fileURLWithPath: layout.root + "/b.sqsh"))
        #expect(a == b)
    }

    @Test func truncatedGzipLayerFailsAndLeavesNothing() throws {
        var layers = sampleLayers
        layers[1] = Array(layers[1].prefix(layers[1].count / 2))  // digest recorded for the truncated bytes
        let layout = try makeLayout(layers: layers)
        defer { layout.remove() }
        let outDir = layout.root + "/out"
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        let error = try #require(throws: HuskError.self) {
            try ImageConverter.convert(image, to: outDir + "/x.sqsh", options: .init())
        }
        #expect(error.code == .corruptArchive)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outDir).isEmpty)
    }

    @Test func tamperedLayerIsADigestMismatch() throws {
        let layout = try makeLayout(layers: sampleLayers)
        defer { layout.remove() }
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        // Replace the top layer's bytes after resolution, as a corrupted cache would.
        let top = image.layers[1].descriptor.digest
        let other = TarBuilder.build([.file("evil", "x")], gzip: true)
        try Data(other).write(to: URL(fileURLWithPath: "\(layout.root)/blobs/sha256/\(top.hex)"))
        let error = try #require(throws: HuskError.self) {
            try ImageConverter.convert(image, to: layout.root + "/x.sqsh", options: .init())
        }
        #expect(error.code == .digestMismatch)
        #expect(!FilePath.exists(layout.root + "/x.sqsh"))
    }

    @Test func parsesCreatedTimestamps() {
        #expect(ImageConverter.parseCreated("2024-05-01T12:00:00Z") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01T12:00:00.5Z") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01T12:00:00.123456789+00:00") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01T14:30:00+02:30") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01T09:00:00.000-03:00") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01 12:00:00z") == 1_714_564_800)
        #expect(ImageConverter.parseCreated("2024-05-01T12:00:00") == 0)
        #expect(ImageConverter.parseCreated("2024-13-01T12:00:00Z") == 0)
        #expect(ImageConverter.parseCreated("2024-05-01T12:00:00Zjunk") == 0)
        #expect(ImageConverter.parseCreated("1960-05-01T12:00:00Z") == 0)
        #expect(ImageConverter.parseCreated("garbage") == 0)
        #expect(ImageConverter.parseCreated(nil) == 0)
    }
}

@Suite struct CompressionTests {
    @Test(arguments: ["zstd", "zstd:19", "gzip:9", "xz", "lz4"])
    func everyCompressorRoundTrips(_ name: String) throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let layer = try layout.blob(TarBuilder.build([.file("a", "tiny"), .file("b", String(repeating: "x", count: 200_000))], gzip: true),
                                    mediaType: MediaType.ociLayerGzip)
        let config = try layout.blob(Array(#"{"architecture":"amd64","os":"linux"}"#.utf8), mediaType: MediaType.ociConfig)
        let manifest = ImageManifest(schemaVersion: 2, mediaType: MediaType.ociManifest, config: config, layers: [layer])
        try layout.writeIndex([try layout.blob(layout.json(manifest), mediaType: MediaType.ociManifest)])
        var options = ImageConverter.Options()
        options.compression = try Compression(parsing: name)
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        _ = try ImageConverter.convert(image, to: layout.root + "/out.sqsh", options: options)
        let reader = try SquashReader(path: layout.root + "/out.sqsh")
        #expect(reader.compressionName == String(name.prefix { $0 != ":" }))
        #expect(try reader.readFile("a") == Array("tiny".utf8))
        #expect(try reader.readFile("b")?.count == 200_000)
    }

    @Test(arguments: ["zstd:0", "zstd:23", "gzip:10", "lz4:3", "brotli", "xz:1"])
    func rejectsBadCompressionOptions(_ name: String) {
        #expect(throws: HuskError.self) { try Compression(parsing: name) }
    }
}

@Suite struct SquashExtractorTests {
    /// 5 MB of lines that differ, so a chunk out of place would show.
    static let huge = (0..<400_000).map { "line \($0)\n" }.joined()

    @Test func extractsFilesLinksAndSymlinks() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let layer = try layout.blob(TarBuilder.build([
            .directory("bin/"), .file("bin/tool", "#!/bin/sh\necho tool\n", mode: 0o4755),
            .hardlink("bin/alias", to: "bin/tool"), .symlink("bin/link", to: "tool"),
            .directory("data/"), .file("data/big", String(repeating: "0123456789", count: 50_000)),
            // Larger than the chunks file contents come through (2 MiB), and files after it.
            .file("data/huge", Self.huge), .file("data/z-after", "after\n"),
        ], gzip: true), mediaType: MediaType.ociLayerGzip)
        let config = try layout.blob(Array(#"{"architecture":"amd64","os":"linux"}"#.utf8), mediaType: MediaType.ociConfig)
        try layout.writeIndex([try layout.blob(layout.json(ImageManifest(config: config, layers: [layer])),
                                               mediaType: MediaType.ociManifest)])
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        _ = try ImageConverter.convert(image, to: layout.root + "/img.sqsh", options: .init())

        let target = layout.root + "/rootfs"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try SquashExtractor.extract(try SquashReader(path: layout.root + "/img.sqsh"), into: target)

        #expect(try String(contentsOfFile: target + "/bin/alias", encoding: .utf8) == "#!/bin/sh\necho tool\n")
        #expect(try String(contentsOfFile: target + "/data/big", encoding: .utf8).count == 500_000)
        #expect(try String(contentsOfFile: target + "/data/huge", encoding: .utf8) == Self.huge)
        #expect(try String(contentsOfFile: target + "/data/z-after", encoding: .utf8) == "after\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/bin/link") == "tool")
        var a = stat(), b = stat()
        stat(target + "/bin/tool", &a)
        stat(target + "/bin/alias", &b)
        #expect(a.st_ino == b.st_ino, "hard links stay hard links")
        #expect(a.st_mode & 0o7777 == 0o755, "no setuid bit on an unprivileged copy")
        #expect(FileManager.default.fileExists(atPath: target + "/.husk/config.json"))
    }
}
