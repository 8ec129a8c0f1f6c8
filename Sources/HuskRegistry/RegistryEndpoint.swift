import FoundationEssentials
import HuskCore
import HuskOCI
import NIOSSL

/// How to reach one registry: scheme, API host and the certificates to trust.
/// `name` is the registry as references and credentials spell it
/// (`127.0.0.1:5000`, `docker.io`); `apiHost` is where requests go.
public struct RegistryEndpoint: Sendable {
    public let name: String
    public let apiHost: String
    public let useTLS: Bool
    /// Extra CA certificates (PEM files) trusted for this registry.
    public let caCertificates: [String]

    public var baseURL: String { "\(useTLS ? "https" : "http")://\(apiHost)" }

    /// Docker Hub's API lives on another host than its references name.
    static func apiHost(for name: String) -> String {
        name == RegistryReference.dockerHub || name == "index.docker.io" ? "registry-1.docker.io" : name
    }

    public init(name: String, settings: RegistrySettings) throws {
        self.name = name
        apiHost = Self.apiHost(for: name)
        let listed = settings.insecureRegistries.contains(name)
        if settings.insecure && !listed && !Self.isLoopback(name) {
            throw HuskError(.usage,
                "refusing plain HTTP to \(name): --insecure applies to loopback registries only; a site allows others with insecure_registries in /etc/husk/husk.toml")
        }
        useTLS = !(listed || settings.insecure)
        var certificates = settings.caCertificates
        for file in certificates where !FilePath.exists(file) {
            throw HuskError(.notFound, "CA certificate \(file) does not exist (check --ca-cert)")
        }
        for directory in settings.certificateDirectories {
            certificates += Self.certificateFiles(in: "\(directory)/\(name)")
        }
        caCertificates = certificates
    }

    /// `*.crt` in a Docker-style `certs.d/HOST:PORT/` directory.
    static func certificateFiles(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".crt") }.sorted().map { "\(directory)/\($0)" }
    }

    /// `localhost`, 127.0.0.0/8 and ::1, with or without a port.
    public static func isLoopback(_ name: String) -> Bool {
        var host = Substring(name)
        if host.hasPrefix("[") {
            host = host.dropFirst().prefix { $0 != "]" }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !caCertificates.isEmpty {
            tls.additionalTrustRoots = [.certificates(try caCertificates.flatMap { file in
                do {
                    return try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw HuskError(.invalidImage, "CA certificate \(file) is not a PEM certificate (check --ca-cert)")
                }
            })]
        }
        return tls
    }
}

/// What the user and the site say about registries: extra CAs, plain HTTP.
public struct RegistrySettings: Sendable {
    /// `--ca-cert FILE` (repeatable).
    public var caCertificates: [String] = []
    /// `--insecure`: plain HTTP, for loopback registries.
    public var insecure = false
    /// Plain HTTP allowed by the site (its policy's `insecure_registries`).
    public var insecureRegistries: Set<String> = []
    /// Docker-style `certs.d` roots searched for `NAME/*.crt`.
    public var certificateDirectories: [String] = []
    /// Where `husk login` keeps credentials and where Docker's are read.
    public var credentials: CredentialStore

    public init(environment: [String: String]) {
        let config = CredentialStore.configDirectory(environment: environment)
        certificateDirectories = ["\(config)/certs.d", "/etc/husk/certs.d", "/etc/docker/certs.d"]
        credentials = CredentialStore(environment: environment)
    }
}
