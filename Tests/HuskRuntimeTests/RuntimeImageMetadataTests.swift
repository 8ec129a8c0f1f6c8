import Foundation
import Testing
import HuskCore
import HuskOCI
import HuskSquash
import HuskTestSupport
@testable import HuskRuntime

/// `husk run/exec/shell` on an image whose `/.husk` JSON is damaged: one
/// line naming the image, the file and the fix (ArgumentParser would print a
/// DecodingError over many lines).
@Suite struct RuntimeImageMetadataTests {
    /// A squashfs image whose `/.husk/config.json` is `config` verbatim (the
    /// converter copies the config as stored); the one layer is an empty tar.
    func convertedImage(in layout: LayoutBuilder, config: String) throws -> String {
        let layer = try layout.blob([UInt8](repeating: 0, count: 1024), mediaType: MediaType.ociLayerTar)
        let configBlob = try layout.blob(Array(#"{"architecture":"amd64","os":"linux"}"#.utf8), mediaType: MediaType.ociConfig)
        try layout.writeIndex([try layout.blob(layout.json(ImageManifest(config: configBlob, layers: [layer])),
                                               mediaType: MediaType.ociManifest)])
        var image = try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        image.configBytes = Array(config.utf8)
        let output = layout.root + "/image.sqsh"
        _ = try ImageConverter.convert(image, to: output, options: .init())
        return output
    }

    @Test func invalidConfigInASquashfsImage() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = try convertedImage(in: layout, config: #"{"config": {"Cmd": ["/bin/sh""#)
        let error = try #require(throws: HuskError.self) { try RuntimeImage.open(path, cacheDirectory: layout.root) }
        #expect(error.code == .invalidImage)
        #expect(error.message.hasPrefix("\(path): /.husk/config.json is not valid image metadata ("))
        #expect(error.message.hasSuffix("); convert the image again"))
        #expect(!error.message.contains("\n"))
    }

    @Test func validConfigInASquashfsImage() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let path = try convertedImage(in: layout, config: #"{"config": {"Cmd": ["/bin/sh"]}}"#)
        #expect(try RuntimeImage.open(path, cacheDirectory: layout.root).config?.Cmd == ["/bin/sh"])
    }

    @Test func invalidConfigInADirectoryImage() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let root = layout.root + "/rootfs"
        try FileManager.default.createDirectory(atPath: root + "/.husk", withIntermediateDirectories: true)
        try Data(#"{"config": {"Env": "PATH=/bin"}}"#.utf8).write(to: URL(fileURLWithPath: root + "/.husk/config.json"))
        let error = try #require(throws: HuskError.self) { try RuntimeImage.open(root, cacheDirectory: layout.root) }
        #expect(error.code == .invalidImage)
        #expect(error.message.hasPrefix("\(root): /.husk/config.json is not valid image metadata ("))
        #expect(error.message.contains("at config.Env"))
    }
}
