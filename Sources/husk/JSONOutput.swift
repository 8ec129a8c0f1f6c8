import Foundation

/// The `--json` output of every command: pretty, keys sorted (stable for
/// scripts and diffs), slashes as they are, dates in ISO 8601.
func printJSON<T: Encodable>(_ value: T) throws {
    try printJSON(value)
}
