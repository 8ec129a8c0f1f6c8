import Foundation
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
