import FoundationEssentials
import HuskCore
import HuskOCI

/// `/.husk/source.json`: where the image came from and how it was converted
/// (DESIGN.md §2). Encoded with sorted keys so conversion stays reproducible.
public struct SourceRecord: Codable, Sendable, Equatable {
    public var reference: String
    public var manifestDigest: Digest?
    public var configDigest: Digest
    public var layers: [LayerRecord]
    public var platform: String?
    public var created: String?
    public var tool: String
    public var compression: String
    public var blockSize: Int
    /// Set when the image was converted from a SIF file.
    public var sif: SIFSource? = nil

    /// The SIF file an image was converted from: its UUID, the partition
    /// taken (its digest is the one layer), and the keys that signed it as
    /// the file says (reported, never verified).
    public struct SIFSource: Codable, Sendable, Equatable {
        public var id: String
        public var partition: UInt32
        public var arch: String
        public var signedBy: [String]?
    }

    public struct LayerRecord: Codable, Sendable, Equatable {
        public var digest: Digest
        public var mediaType: String
        public var size: Int64?
    }

    public static let directory = ".husk"
    public static let configName = "config.json"
    public static let sourceName = "source.json"

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0a]
    }
}
