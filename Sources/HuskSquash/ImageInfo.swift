import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI

/// What `husk inspect` shows: the image's `/.husk` metadata and the
/// squashfs superblock, read without mounting.
public struct ImageInfo: Codable, Sendable {
    public var path: String
    public var source: String
    public var manifestDigest: Digest?
    public var configDigest: Digest
    public var layers: [Digest]
    public var platform: String?
    public var created: String?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [String]
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String]
    public var stopSignal: String?
    public var size: Int64
    public var compression: String
    public var blockSize: Int
    public var inodes: Int
    public var tool: String
    /// `/.singularity.d/runscript.help` of an image converted from a SIF file.
    public var help: String?
    /// The SIF file it was converted from.
    public var sif: SourceRecord.SIFSource?

    public static func read(path: String) throws -> ImageInfo {
        let reader = try SquashReader(path: path)
        let dir = SourceRecord.directory
        guard let sourceBytes = try reader.readFile("\(dir)/\(SourceRecord.sourceName)"),
              let configBytes = try reader.readFile("\(dir)/\(SourceRecord.configName)") else {
            throw HuskError(.invalidImage, "\(path): a squashfs image without Husk metadata (/.husk); convert the source with husk convert")
        }
        let source = try ImageMetadata.decode(SourceRecord.self, from: sourceBytes,
                                              file: "\(dir)/\(SourceRecord.sourceName)", image: path)
        let config = try ImageMetadata.decode(ImageConfiguration.self, from: configBytes,
                                              file: "\(dir)/\(SourceRecord.configName)", image: path)
        var st = stat()
        stat(path, &st)
        let settings = config.config
        return ImageInfo(
            path: path, source: source.reference, manifestDigest: source.manifestDigest,
            configDigest: source.configDigest, layers: source.layers.map(\.digest),
            platform: source.platform, created: config.created,
            entrypoint: settings?.Entrypoint, cmd: settings?.Cmd, env: settings?.Env ?? [],
            workingDir: settings?.WorkingDir, user: settings?.User, labels: settings?.Labels ?? [:],
            stopSignal: settings?.StopSignal, size: Int64(st.st_size),
            compression: source.compression.hasPrefix(reader.compressionName) ? source.compression : reader.compressionName,
            blockSize: reader.blockSize, inodes: reader.inodeCount, tool: source.tool,
            help: try reader.readFile("\(SingularityMetadata.directory)/runscript.help", limit: 1 << 20)
                .map { String(decoding: $0, as: UTF8.self) },
            sif: source.sif)
    }
}
