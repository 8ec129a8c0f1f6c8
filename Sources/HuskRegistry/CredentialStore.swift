import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI

public struct RegistryCredentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization: Basic` value and the `auth` field of config files.
    var basic: String { Data("\(username):\(password)".utf8).base64EncodedString() }
}

/// Credentials for registries: Husk's own `$XDG_CONFIG_HOME/husk/auth.json`
/// (written by `husk login`, mode 0600) first, then Docker's
/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. Both use Docker's
/// format, `{"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}`.
public struct CredentialStore: Sendable {
    public let huskFile: String
    public let dockerFile: String

    public init(environment: [String: String]) {
        huskFile = Self.configDirectory(environment: environment) + "/auth.json"
        let home = HuskPaths.home(environment: environment)
        let docker = environment["DOCKER_CONFIG"] ?? ""
        dockerFile = (docker.isEmpty ? "\(home)/.docker" : docker) + "/config.json"
    }

    /// `$XDG_CONFIG_HOME/husk`, else `~/.config/husk`.
    public static func configDirectory(environment: [String: String]) -> String {
        HuskPaths(environment: environment).config
    }

    /// The keys a registry may be stored under (Docker Hub has historic ones).
    static func keys(for registry: String) -> [String] {
        var keys = [registry, "https://\(registry)", "http://\(registry)", "https://\(registry)/v2/", "https://\(registry)/v1/"]
        if registry == RegistryReference.dockerHub || registry == "index.docker.io" {
            keys += ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return keys
    }

    public func lookup(_ registry: String) throws -> RegistryCredentials? {
        for file in [huskFile, dockerFile] {
            guard let auths = try Self.readAuths(file) else { continue }
            for key in Self.keys(for: registry) {
                guard let entry = auths[key] as? [String: Any] else { continue }
                if let credentials = try Self.decode(entry, file: file, key: key) { return credentials }
            }
        }
        return nil
    }

    public func store(_ credentials: RegistryCredentials, for registry: String) throws {
        var document = try Self.readDocument(huskFile) ?? [:]
        var auths = document["auths"] as? [String: Any] ?? [:]
        auths[registry] = ["auth": credentials.basic]
        document["auths"] = auths
        try write(document)
    }

    /// Removes the registry from Husk's file; false when it was not there.
    public func remove(_ registry: String) throws -> Bool {
        guard var document = try Self.readDocument(huskFile), var auths = document["auths"] as? [String: Any] else {
            return false
        }
        let present = Self.keys(for: registry).filter { auths[$0] != nil }
        guard !present.isEmpty else { return false }
        for key in present { auths[key] = nil }
        document["auths"] = auths
        try write(document)
        return true
    }

    private func write(_ document: [String: Any]) throws {
        let directory = FilePath.directory(of: huskFile)
        try PrivateDirectory.prepare(directory, what: "Husk's credentials")
        guard let json = JSONValue(document) else { throw HuskError(.invalidManifest, "\(huskFile): cannot write these credentials") }
        let data = try json.encoded(pretty: true)
        // Created 0600 under a temp name, so the secret is never readable by
        // others, not even for a moment, and a crash leaves the old file.
        let temporary = "\(huskFile).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HuskError.io(errno, temporary, doing: "cannot write credentials") }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, rename(temporary, huskFile) == 0 else {
            unlink(temporary)
            throw HuskError.io(errno, huskFile, doing: "cannot write credentials")
        }
    }

    static func readDocument(_ file: String) throws -> [String: Any]? {
        guard FilePath.exists(file) else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HuskError(.io, "cannot read \(file) (check its permissions)")
        }
        guard let document = JSONValue.parse(Array(data))?.any as? [String: Any] else {
            throw HuskError(.invalidManifest, "\(file) is not valid JSON (fix or remove it)")
        }
        return document
    }

    static func readAuths(_ file: String) throws -> [String: Any]? {
        try readDocument(file)?["auths"] as? [String: Any]
    }

    static func decode(_ entry: [String: Any], file: String, key: String) throws -> RegistryCredentials? {
        if let auth = entry["auth"] as? String, !auth.isEmpty {
            guard let data = Data(base64Encoded: auth), let text = String(data: data, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else {
                throw HuskError(.invalidManifest, "\(file): the \"auth\" of \(key) is not base64 of user:password (log in again)")
            }
            return RegistryCredentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        if let user = entry["username"] as? String, let password = entry["password"] as? String {
            return RegistryCredentials(username: user, password: password)
        }
        return nil
    }
}
