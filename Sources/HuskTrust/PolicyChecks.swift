#if canImport(Glibc)
import Glibc
#endif
import HuskCore
import HuskOCI

/// What an image is made of, as far as revocation goes: a site revokes a
/// base image by any of these, and every image built on it is refused.
public struct ImageDigests: Equatable, Sendable {
    public var manifest: Digest?
    public var config: Digest?
    /// The layers as stored (compressed blobs).
    public var layers: [Digest]
    /// The same layers uncompressed (the config's rootfs.diff_ids): the same
    /// base recompressed is still found.
    public var diffIDs: [Digest]

    public init(manifest: Digest?, config: Digest?, layers: [Digest], diffIDs: [Digest]) {
        self.manifest = manifest
        self.config = config
        self.layers = layers
        self.diffIDs = diffIDs
    }
}

/// The checks every run path and `husk pull` make before anything is
/// fetched or mounted. A refusal is one line starting "refused:" that says
/// why and what to do (HuskError.Code.refused: exit status 1).
extension SitePolicy {
    /// The policy file, for messages.
    var named: String { path.map { "the site policy (\($0))" } ?? "the site policy" }

    public func checkRevocation(of image: String, _ digests: ImageDigests) throws {
        if let found = revocation(of: image, digests) { throw HuskError(.refused, "refused: \(found)") }
    }

    /// Why `image` is revoked ("IMAGE is built on layer ... (reason); use
    /// ..."), or nil when it is not.
    public func revocation(of image: String, _ digests: ImageDigests) -> String? {
        for revocation in revoked {
            let digest = revocation.digest
            let what: String
            if digests.manifest == digest {
                what = "\(image) (manifest \(Self.short(digest))) is revoked"
            } else if digests.config == digest {
                what = "\(image) (config \(Self.short(digest))) is revoked"
            } else if digests.layers.contains(digest) || digests.diffIDs.contains(digest) {
                what = "\(image) is built on layer \(Self.short(digest)) which is revoked"
            } else {
                continue
            }
            let instead = revocation.replacement.map { "use \($0)" } ?? "ask your administrator what replaces it"
            return "\(what) (\(revocation.reason)); \(instead)"
        }
        return nil
    }

    /// `docker://HOST/...` may be pulled and run only from an allowed registry.
    public func checkRegistry(_ host: String, image: String) throws {
        guard let allowed = allowedRegistries else { return }
        let name = Self.canonicalRegistry(host)
        guard !allowed.map(Self.canonicalRegistry).contains(name) else { return }
        let list = allowed.isEmpty ? "none" : allowed.joined(separator: ", ")
        throw HuskError(.refused, "refused: \(image) comes from \(host), a registry \(named) does not allow (allowed: \(list)); use an image from an allowed registry")
    }

    public func checkOptions(fakeroot: Bool, extract: Bool) throws {
        if fakeroot && !allowFakeroot {
            throw HuskError(.refused, "refused: --fakeroot is not allowed by \(named); run without it")
        }
        if extract && !allowExtract {
            throw HuskError(.refused, "refused: extracting images (--mode extract, or when /dev/fuse is unusable) is not allowed by \(named); run where FUSE works (--mode fuse)")
        }
    }

    /// A user's `-B` source must lie (symlinks resolved) under a directory
    /// the site allows, if it names any.
    public func checkUserBind(source: String) throws {
        guard let prefixes = userBindsAllowedUnder else { return }
        var resolved = source
        if let real = realpath(source, nil) {
            resolved = String(cString: real)
            free(real)
        }
        let inside = prefixes.contains { prefix in
            let root = prefix.count > 1 && prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            return resolved == root || resolved.hasPrefix(root == "/" ? "/" : root + "/")
        }
        guard !inside else { return }
        throw HuskError(.refused, "refused: -B \(source) is not under a directory \(named) allows binds from (\(prefixes.joined(separator: ", "))); copy what you need there")
    }

    /// `sha256:0123456789ab…`, as people read digests.
    static func short(_ digest: Digest) -> String {
        "\(digest.algorithm):\(digest.hex.prefix(12))…"
    }

    /// Docker Hub answers to several names.
    static func canonicalRegistry(_ host: String) -> String {
        let name = host.lowercased()
        return ["index.docker.io", "registry-1.docker.io"].contains(name) ? RegistryReference.dockerHub : name
    }
}
