import FoundationEssentials

/// The `--json` output of every command: pretty, keys sorted (stable for
/// scripts and diffs), slashes as they are, dates in ISO 8601.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
