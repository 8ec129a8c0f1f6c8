import HuskCore
import TOMLKit

/// The site's policy, `/etc/husk/husk.toml` (DESIGN.md §5; husk.toml(5)):
/// which registries images may come from, which images are revoked and what
/// replaces them, the site's binds and variables, and what users may ask
/// for. No file means no restriction. Checked before anything is mounted.
public struct SitePolicy: Equatable, Sendable {
    /// An image, config or layer digest that must not run any more.
    public struct Revocation: Equatable, Sendable {
        public var digest: Digest
        public var reason: String
        /// What to use instead (a reference for people), if the site says.
        public var replacement: String?

        public init(digest: Digest, reason: String, replacement: String? = nil) {
            self.digest = digest
            self.reason = reason
            self.replacement = replacement
        }
    }

    /// The file this came from; nil: no policy (everything allowed).
    public var path: String?
    /// Registries `docker://` images may come from (`host[:port]`); nil: any.
    public var allowedRegistries: [String]?
    /// Registries reached over plain HTTP (replaces HUSK_INSECURE_REGISTRIES).
    public var insecureRegistries: [String] = []
    public var revoked: [Revocation] = []
    /// Bound into every container: `SRC[:DST[:ro|rw]]`, as `-B` takes.
    public var siteBinds: [String] = []
    /// Directories users' `-B` sources must lie under; nil: anywhere.
    public var userBindsAllowedUnder: [String]?
    /// Host variables passed on besides the standard list (`NAME`, `PREFIX*`).
    public var envPassthroughExtra: [String] = []
    public var allowFakeroot = true
    public var allowExtract = true
    /// Signatures (containers' simple signing, checked at pull and for every
    /// `docker://` run): required everywhere, or per registry below.
    public var requireSignature = false
    /// OpenPGP public key files the site trusts.
    public var trustedKeys: [String] = []
    /// Where signatures are kept (a lookaside store: `http(s)://` or `file://`).
    public var lookaside: String?
    /// Per registry (`host[:port]`): what differs from the above.
    public var registries: [String: RegistryRule] = [:]

    public struct RegistryRule: Equatable, Sendable {
        public var requireSignature: Bool?
        public var trustedKeys: [String]?
        public var lookaside: String?
    }

    /// The signature rule for `host`: its own entries over the global ones.
    public func signatureRule(for host: String) -> (required: Bool, keys: [String], lookaside: String?) {
        let name = Self.canonicalRegistry(host)
        let rule = registries.first { Self.canonicalRegistry($0.key) == name }?.value
        return (rule?.requireSignature ?? requireSignature, rule?.trustedKeys ?? trustedKeys,
                rule?.lookaside ?? lookaside)
    }

    public init() {}

    /// Where a site keeps its policy.
    public static let systemPath = "/etc/husk/husk.toml"

    /// The policy in effect: `/etc/husk/husk.toml`, else `HUSK_CONFIG`
    /// (read only where the system file is absent), else none. `systemPath`
    /// stands for `/etc/husk/husk.toml` in tests (a fake tree).
    public static func load(environment: [String: String],
                            systemPath: String = SitePolicy.systemPath) throws -> SitePolicy {
        guard let path = PolicyFile.locate(environment: environment, systemPath: systemPath) else { return SitePolicy() }
        return try SitePolicy(parsing: try PolicyFile.readTrusted(path), path: path)
    }

    static let keys = ["allowed_registries", "insecure_registries", "revoked", "site_binds",
                       "user_binds_allowed_under", "env_passthrough_extra", "allow_fakeroot", "allow_extract",
                       "require_signature", "trusted_keys", "lookaside", "registries"]

    /// Parses the TOML text of `path`. Every key must be known and of the
    /// right type: a typo must not silently weaken the site's policy.
    public init(parsing text: String, path: String) throws {
        self.path = path
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw HuskError(.usage, "site policy \(path):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        }
        let read = PolicyReader(table: table, path: path)
        try read.rejectUnknown(Self.keys, in: "")
        allowedRegistries = try read.strings("allowed_registries")
        insecureRegistries = try read.strings("insecure_registries") ?? []
        siteBinds = try read.strings("site_binds") ?? []
        userBindsAllowedUnder = try read.strings("user_binds_allowed_under")
        envPassthroughExtra = try read.strings("env_passthrough_extra") ?? []
        allowFakeroot = try read.bool("allow_fakeroot") ?? true
        allowExtract = try read.bool("allow_extract") ?? true
        revoked = try read.revocations("revoked")
        requireSignature = try read.bool("require_signature") ?? false
        trustedKeys = try read.strings("trusted_keys") ?? []
        lookaside = try read.string("lookaside")
        registries = try read.registryRules("registries")
        for (host, keys) in [("", trustedKeys)] + registries.map({ ($0.key, $0.value.trustedKeys ?? []) }) {
            if let bad = keys.first(where: { !$0.hasPrefix("/") }) {
                throw HuskError(.usage, "site policy \(path): trusted key \"\(bad)\"\(host.isEmpty ? "" : " of \(host)") is not an absolute path")
            }
        }
        // Required signatures need keys to check them with, everywhere they are required.
        for host in [""] + registries.keys.sorted() {
            let rule = host.isEmpty ? (requireSignature, trustedKeys, lookaside) : signatureRule(for: host)
            if rule.0 && rule.1.isEmpty {
                throw HuskError(.usage, "site policy \(path): require_signature\(host.isEmpty ? "" : " for \(host)") without trusted_keys: no signature could ever be trusted")
            }
        }
        if let prefixes = userBindsAllowedUnder, let bad = prefixes.first(where: { !$0.hasPrefix("/") }) {
            throw HuskError(.usage, "site policy \(path): user_binds_allowed_under entry \"\(bad)\" is not an absolute path")
        }
    }
}

/// Typed, strict access to the policy's TOML table, with errors that name
/// the file and the key.
struct PolicyReader {
    let table: TOMLTable
    let path: String

    func rejectUnknown(_ known: [String], in section: String) throws {
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw HuskError(.usage, "site policy \(path): unknown key \"\(section)\(unknown)\" (known: \(known.joined(separator: ", ")))")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = table[key] else { return nil }
        let strings = value.array?.compactMap(\.string)
        guard let strings, strings.count == value.array?.count else {
            throw HuskError(.usage, "site policy \(path): \(key) must be an array of strings")
        }
        return strings
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw HuskError(.usage, "site policy \(path): \(key) must be a string") }
        return string
    }

    /// `[registries."HOST"]` tables: require_signature, trusted_keys, lookaside.
    func registryRules(_ key: String) throws -> [String: SitePolicy.RegistryRule] {
        guard let value = table[key] else { return [:] }
        guard let registries = value.table else {
            throw HuskError(.usage, "site policy \(path): \(key) must be tables [registries.\"HOST\"]")
        }
        var rules: [String: SitePolicy.RegistryRule] = [:]
        for host in registries.keys.sorted() {
            guard let entry = registries[host]?.table else {
                throw HuskError(.usage, "site policy \(path): registries.\"\(host)\" must be a table")
            }
            let reader = PolicyReader(table: entry, path: path)
            try reader.rejectUnknown(["require_signature", "trusted_keys", "lookaside"], in: "registries.\"\(host)\".")
            rules[host] = .init(requireSignature: try reader.bool("require_signature"),
                                trustedKeys: try reader.strings("trusted_keys"), lookaside: try reader.string("lookaside"))
        }
        return rules
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.bool else { throw HuskError(.usage, "site policy \(path): \(key) must be true or false") }
        return bool
    }

    /// `[[revoked]]` tables: digest and reason required, replacement optional.
    func revocations(_ key: String) throws -> [SitePolicy.Revocation] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else {
            throw HuskError(.usage, "site policy \(path): \(key) must be an array of tables ([[revoked]])")
        }
        return try array.enumerated().map { index, element in
            let entry = "\(key)[\(index)]"
            guard let item = element.table else {
                throw HuskError(.usage, "site policy \(path): \(entry) must be a table with digest, reason and replacement")
            }
            let reader = PolicyReader(table: item, path: path)
            try reader.rejectUnknown(["digest", "reason", "replacement"], in: entry + ".")
            guard let text = item["digest"]?.string, let digest = try? Digest(parsing: text) else {
                throw HuskError(.usage, "site policy \(path): \(entry) needs digest = \"sha256:<64 hex digits>\"")
            }
            guard let reason = item["reason"]?.string, !reason.isEmpty else {
                throw HuskError(.usage, "site policy \(path): \(entry) needs a reason (users see it)")
            }
            if item["replacement"] != nil && item["replacement"]?.string == nil {
                throw HuskError(.usage, "site policy \(path): \(entry).replacement must be a string")
            }
            return .init(digest: digest, reason: reason, replacement: item["replacement"]?.string)
        }
    }
}
