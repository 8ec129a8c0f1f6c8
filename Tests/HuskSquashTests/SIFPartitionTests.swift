import Foundation
import Testing
import HuskCore
import HuskOCI
@testable import HuskSquash
import HuskTestSupport

/// A squashfs inside a SIF file: read in place through its range, and
/// converted into a Husk image.
@Suite struct SIFPartitionTests {
    static let runscript = "#!/bin/sh\necho run \"$@\"\n"

    /// A squashfs with Singularity metadata (and a /.husk the conversion
    /// must replace), wrapped in a SIF after a labels object.
    func makeSIF(in layout: LayoutBuilder, trailing: [UInt8] = [], cut: Int = 0) throws -> (sif: String, squashfs: [UInt8]) {
        let layer = try layout.blob(TarBuilder.build([
            .directory("etc/"), .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
            .directory("bin/"), .file("bin/busybox", DamagedImageTests.noise, mode: 0o755),
            .hardlink("bin/sh", to: "bin/busybox"), .symlink("lib64", to: "lib"),
            .directory(".singularity.d/env/"),
            .file(".singularity.d/runscript", Self.runscript, mode: 0o755),
            .file(".singularity.d/startscript", "#!/bin/sh\n", mode: 0o755),
            .file(".singularity.d/runscript.help", "Help text.\n"),
            .file(".singularity.d/labels.json", #"{"VERSION": "2", "N": 3}"#),
            .file(".singularity.d/env/90-environment.sh", "export GREETING=hi\nexport PATH=/opt/bin:$PATH\nmodule load x\n"),
            .file(".singularity.d/env/01-base.sh", "export NOT_READ=1\n"),
        ], gzip: true), mediaType: MediaType.ociLayerGzip)
        let config = try layout.blob(Array(#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]}}"#.utf8),
                                     mediaType: MediaType.ociConfig)
        try layout.writeIndex([try layout.blob(layout.json(ImageManifest(config: config, layers: [layer])),
                                               mediaType: MediaType.ociManifest)])
        let image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        let squashfsPath = layout.root + "/partition.sqsh"
        _ = try ImageConverter.convert(image, to: squashfsPath, options: .init())
        let squashfs = try DamagedImageTests.bytes(squashfsPath)
        let labels = SIFBytes.Object(type: 0x4003, data: Array(#"{"FROM": "descriptor"}"#.utf8))
        let partition = SIFBytes.Object(type: 0x4004, data: Array(squashfs.dropLast(cut)) + trailing)
        let sif = layout.root + "/image.sif"
        try DamagedImageTests.write(SIFBytes(objects: [labels, partition]).build().bytes, to: sif)
        return (sif, squashfs)
    }

    @Test func readsThePartitionInPlace() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let (path, squashfs) = try makeSIF(in: layout, trailing: Array(repeating: 0xee, count: 5000))
        let image = try SIFImage(path: path)
        #expect(image.primary.id == 2 && image.primary.offset % 4096 == 0)
        #expect(image.reader.offset == image.primary.offset)
        #expect(try image.reader.readFile("etc/passwd") == Array("root:x:0:0:root:/root:/bin/sh\n".utf8))
        #expect(try image.reader.readFile("bin/sh")?.count == DamagedImageTests.noise.utf8.count)
        #expect(try image.reader.directoryEntries(".singularity.d/env") == ["01-base.sh", "90-environment.sh"])
        #expect(try image.reader.directoryEntries("etc/passwd") == nil)
        #expect(image.reader.bytesUsed <= UInt64(squashfs.count))
        let metadata = try #require(try image.singularity())
        #expect(metadata.hasRunscript && metadata.hasStartscript)
        #expect(metadata.environmentScripts.map(\.name) == ["90-environment.sh"], "01-base.sh is Apptainer's own")
        let env = metadata.environment(base: ["PATH": "/bin"]).environment
        #expect(env == ["GREETING": "hi", "PATH": "/opt/bin:/bin"])
        #expect(metadata.warnings(image: "img").count == 1)
        #expect(metadata.warnings(image: "img")[0].contains("90-environment.sh") && metadata.warnings(image: "img")[0].contains("line 3"))
    }

    @Test func aSquashfsLargerThanItsPartitionIsRefused() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        // The partition ends 100 KiB before the squashfs's bytes_used: every
        // table beyond it must be out of reach, not read from the next object.
        let (path, _) = try makeSIF(in: layout, trailing: [], cut: 100 << 10)
        let error = try #require(throws: HuskError.self) { try SIFImage(path: path) }
        #expect(error.message.contains("truncated") && !error.message.contains("\n"))
        #expect(throws: HuskError.self) { try SquashReader(path: path) }  // not a squashfs at 0: a SIF
    }

    @Test func aPlainReaderOfASIFSaysToConvertIt() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let (path, _) = try makeSIF(in: layout)
        let error = try #require(throws: HuskError.self) { try SquashReader(path: path) }
        #expect(error.message.contains("husk convert sif:"))
    }

    @Test func convertKeepsTheTreeAndAddsHuskMetadata() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let (path, squashfs) = try makeSIF(in: layout)
        let output = layout.root + "/converted.sqsh"
        let result = try SIFConverter.convert(path, reference: "sif:image.sif", to: output, options: .init())
        let reader = try SquashReader(path: output)
        #expect(try reader.readFile(".singularity.d/runscript") == Array(Self.runscript.utf8))
        #expect(try reader.readFile("bin/sh") == (try reader.readFile("bin/busybox")))
        #expect(try reader.readLink("lib64") == "lib")
        let config = try JSONDecoder().decode(ImageConfiguration.self, from: Data(try #require(try reader.readFile(".husk/config.json"))))
        #expect(config.config?.Env == ["GREETING=hi", "PATH=/opt/bin:\(StandardEnvironment.path)"])
        #expect(config.config?.Entrypoint == SingularityActions.run([]))
        #expect(config.config?.Labels == ["VERSION": "2", "N": "3"])
        #expect(config.architecture == "amd64" && config.os == "linux")
        #expect(config.rootfs?.diff_ids == [Digest.sha256(of: squashfs)])
        let source = try JSONDecoder().decode(SourceRecord.self, from: Data(try #require(try reader.readFile(".husk/source.json"))))
        #expect(source == result.source)
        #expect(source.reference == "sif:image.sif" && source.manifestDigest == nil)
        #expect(source.layers.map(\.digest) == [Digest.sha256(of: squashfs)])
        #expect(source.layers.map(\.mediaType) == [SIFConverter.layerMediaType])
        #expect(source.sif?.partition == 2 && source.sif?.signedBy == nil)
        #expect(try reader.readFile(".husk/startscript").map { String(decoding: $0, as: UTF8.self) } == SIFConverter.startscript)
        #expect(try reader.readFile(".husk/packages.json") == nil, "no inventory without the standard options")

        let again = layout.root + "/again.sqsh"
        _ = try SIFConverter.convert(path, reference: "sif:image.sif", to: again, options: .init())
        #expect(try DamagedImageTests.bytes(again) == DamagedImageTests.bytes(output), "reproducible")
    }
}
