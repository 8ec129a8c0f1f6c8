import HuskCore

/// A SIF file opened for running, inspecting or converting: its header and
/// descriptors (`SIFFile`), the primary system partition, and a reader of
/// the squashfs in that partition, which never reads outside it.
public struct SIFImage {
    public let file: SIFFile
    public let primary: SIFFile.Descriptor
    public let reader: SquashReader

    public init(path: String) throws {
        file = try SIFFile(path: path)
        primary = try file.primaryPartition()
        reader = try SquashReader(path: path, offset: primary.offset, length: primary.size)
    }

    /// The image's `/.singularity.d`, nil when it has none.
    public func singularity() throws -> SingularityMetadata? {
        try SingularityMetadata.read(readFile: { try reader.readFile($0, limit: 1 << 20) },
                                     list: { try reader.directoryEntries($0) })
    }
}
