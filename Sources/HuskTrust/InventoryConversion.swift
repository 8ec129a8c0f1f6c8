import FoundationEssentials
import HuskCore
import HuskSquash

/// Every conversion records the image's packages (DESIGN.md §5): the
/// converter keeps the package databases of the final image as they stream
/// past and writes `/.husk/packages.json` beside config.json and source.json.
extension PackageInventory {
    public static var conversionMetadata: ImageConverter.DerivedMetadata {
        .init(wants: { wants($0) }, files: { files in
            [(name: fileName, bytes: try PackageInventory(files: files).encoded())]
        })
    }

    /// Sorted keys and a trailing newline: the same image gives the same bytes.
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0a]
    }

    /// The inventory recorded in a Husk image; nil for images converted
    /// before Husk kept one (or not by Husk).
    public static func read(imageAt path: String) throws -> PackageInventory? {
        let reader = try SquashReader(path: path)
        let file = "\(SourceRecord.directory)/\(fileName)"
        guard let bytes = try reader.readFile(file) else { return nil }
        return try ImageMetadata.decode(PackageInventory.self, from: bytes, file: "/" + file, image: path)
    }
}

extension ImageConverter.Options {
    /// What `husk convert` and the image cache convert with: the defaults,
    /// and the package inventory.
    public static var standard: ImageConverter.Options {
        var options = ImageConverter.Options()
        options.metadata = PackageInventory.conversionMetadata
        return options
    }
}
