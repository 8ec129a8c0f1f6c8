import FoundationEssentials
import HuskCore

/// Decodes the JSON files in an image's `/.husk/` (DESIGN.md §2). These bytes
/// come from the image, so anything wrong in them is the image's fault: one
/// line naming the image, the file and the fix, never Swift's multi-line
/// `DecodingError` description.
public enum ImageMetadata {
    /// `file` is the name inside the image, such as `.husk/config.json`;
    /// `image` is the image's path (a `.sqsh` file or a directory).
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], file: String, image: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            let name = file.hasPrefix("/") ? file : "/" + file
            throw HuskError(.invalidImage, "\(image): \(name) is not valid image metadata (\(reason(error))); convert the image again")
        }
    }

    /// What is wrong, in a few words on one line; text from the image is cut short.
    static func reason(_ error: Error) -> String {
        let text: String
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            text = "missing \"\(key.stringValue)\"" + location(context)
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            text = context.debugDescription + location(context)
        case let error as HuskError:
            text = error.message  // e.g. an invalid digest string
        default:
            text = "\(error)"
        }
        let line = text.map { $0.isNewline ? " " : $0 }
        return line.count > 200 ? String(line.prefix(200)) + "…" : String(line)
    }

    private static func location(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return path.isEmpty ? "" : " at \(path)"
    }
}
