import HuskCore

/// `--rlimit NAME=SOFT[:HARD]`, applied by the starter just before exec.
/// Values are numbers or `unlimited`; HARD defaults to SOFT. Lowering is
/// always allowed; raising a hard limit needs privilege on the host.
public struct ResourceLimit: Equatable, Sendable {
    public static let names = ["nofile", "nproc", "memlock", "stack", "core"]

    public var name: String
    public var soft: String
    public var hard: String

    /// NAME (one of `names`), SOFT and HARD numbers or `unlimited` (HARD
    /// defaults to SOFT); checked as `--rlimit` is.
    public init(name: String, soft: String, hard: String? = nil) throws {
        try self.init(parsing: "\(name)=\(soft)" + (hard.map { ":\($0)" } ?? ""))
    }

    public init(parsing text: String) throws {
        let usage = "invalid --rlimit \"\(text)\": use NAME=SOFT[:HARD] with NAME one of \(Self.names.joined(separator: ", ")) and numbers or unlimited"
        guard let equals = text.firstIndex(of: "=") else { throw HuskError(.usage, usage) }
        name = String(text[..<equals])
        let values = text[text.index(after: equals)...].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard Self.names.contains(name), (1...2).contains(values.count),
              values.allSatisfy({ $0 == "unlimited" || UInt64($0) != nil }) else {
            throw HuskError(.usage, usage)
        }
        soft = values[0]
        hard = values.count == 2 ? values[1] : values[0]
        if let s = UInt64(soft), hard != "unlimited", let h = UInt64(hard), s > h {
            throw HuskError(.usage, "invalid --rlimit \"\(text)\": the soft limit exceeds the hard one")
        }
        if soft == "unlimited" && hard != "unlimited" {
            throw HuskError(.usage, "invalid --rlimit \"\(text)\": the soft limit exceeds the hard one")
        }
    }
}
