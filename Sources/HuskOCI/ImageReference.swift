import HuskCore

/// Where an image comes from, as the user writes it on the command line.
public enum ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// `oci:DIR[:TAG|@DIGEST]` — an OCI image layout directory.
    case ociLayout(path: String, selector: Selector?)
    /// `oci-archive:FILE[:TAG|@DIGEST]` — a tar of an OCI image layout.
    case ociArchive(path: String, selector: Selector?)
    /// `docker-archive:FILE[:REPO:TAG]` — the format of `docker save`/`podman save`.
    case dockerArchive(path: String, repoTag: String?)
    /// `docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]` — a registry.
    case registry(RegistryReference)

    /// Selects one manifest of an index: by `org.opencontainers.image.ref.name` or by digest.
    public enum Selector: Hashable, Sendable, CustomStringConvertible {
        case tag(String)
        case digest(Digest)
        public var description: String {
            switch self {
            case .tag(let t): return ":\(t)"
            case .digest(let d): return "@\(d)"
            }
        }
    }

    public init(parsing text: String) throws {
        func split(_ rest: String, transport: String) throws -> (String, Selector?) {
            if let at = rest.lastIndex(of: "@"), rest[rest.index(after: at)...].contains(":") {
                let digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
                return (String(rest[..<at]), .digest(digest))
            }
            if let colon = rest.firstIndex(of: ":") {
                let tag = String(rest[rest.index(after: colon)...])
                guard !tag.isEmpty else {
                    throw HuskError(.invalidReference, "invalid reference \"\(text)\": empty tag after \":\"")
                }
                return (String(rest[..<colon]), .tag(tag))
            }
            return (rest, nil)
        }
        func requirePath(_ path: String) throws -> String {
            guard !path.isEmpty else {
                throw HuskError(.invalidReference, "invalid reference \"\(text)\": missing path after the transport")
            }
            return path
        }
        if let rest = text.dropPrefix("oci:") {
            let (path, selector) = try split(rest, transport: "oci")
            self = .ociLayout(path: try requirePath(path), selector: selector)
        } else if let rest = text.dropPrefix("oci-archive:") {
            let (path, selector) = try split(rest, transport: "oci-archive")
            self = .ociArchive(path: try requirePath(path), selector: selector)
        } else if let rest = text.dropPrefix("docker-archive:") {
            if let colon = rest.firstIndex(of: ":") {
                let repoTag = String(rest[rest.index(after: colon)...])
                self = .dockerArchive(path: try requirePath(String(rest[..<colon])),
                                      repoTag: repoTag.isEmpty ? nil : repoTag)
            } else {
                self = .dockerArchive(path: try requirePath(rest), repoTag: nil)
            }
        } else if let rest = text.dropPrefix("docker://") {
            self = .registry(try RegistryReference(parsing: rest))
        } else {
            throw HuskError(.invalidReference,
                "unknown image source \"\(text)\": write oci:DIR, oci-archive:FILE.tar, docker-archive:FILE.tar or docker://REPO[:TAG]")
        }
    }

    public var description: String {
        switch self {
        case .ociLayout(let p, let s): return "oci:\(p)\(s?.description ?? "")"
        case .ociArchive(let p, let s): return "oci-archive:\(p)\(s?.description ?? "")"
        case .dockerArchive(let p, let t): return "docker-archive:\(p)\(t.map { ":\($0)" } ?? "")"
        case .registry(let r): return "docker://\(r)"
        }
    }
}

/// A registry reference normalized the way Docker does: no host means Docker
/// Hub (`docker.io`, one-component names get `library/`), no tag means `latest`.
public struct RegistryReference: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public static let dockerHub = "docker.io"

    public init(parsing text: String) throws {
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var host = RegistryReference.dockerHub
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" {
                host = String(first)
                rest = rest[rest.index(after: slash)...]
            }
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var repository = String(rest)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-/")
        guard !repository.isEmpty, repository.allSatisfy({ allowed.contains($0) }),
              !repository.hasPrefix("/"), !repository.hasSuffix("/"), !repository.contains("//") else {
            throw HuskError(.invalidReference,
                "invalid registry reference \"docker://\(text)\": repository names are lowercase letters, digits, '.', '_', '-' and '/'")
        }
        if let tag, tag.isEmpty || tag.count > 128 || !tag.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) {
            throw HuskError(.invalidReference, "invalid tag \"\(tag)\" in docker://\(text)")
        }
        if host == RegistryReference.dockerHub && !repository.contains("/") {
            repository = "library/" + repository
        }
        if tag == nil && digest == nil { tag = "latest" }
        self.host = host
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public var description: String {
        var text = "\(host)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
