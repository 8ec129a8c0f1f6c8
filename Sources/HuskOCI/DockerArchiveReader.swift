import FoundationEssentials
import HuskCore

/// Reads the `docker save`/`podman save` format: `manifest.json` naming a
/// config file and layer tars inside one archive.
enum DockerArchiveReader {
    struct Entry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    static func resolve(reference: ImageReference, path: String, repoTag: String?) throws -> ResolvedImage {
        let members = try ArchiveMembers(path: path, what: "\(reference)")
        guard let manifestSource = try members.open("manifest.json") else {
            throw HuskError(.invalidLayout, "\(reference): not a docker-archive (no manifest.json inside \(path))")
        }
        let entries = try LocalImageResolver.decode([Entry].self, try manifestSource.readAll(what: "manifest.json"),
                                                    what: "\(reference) manifest.json")
        let entry: Entry
        if let repoTag {
            let wanted = repoTag.contains(":") ? repoTag : "\(repoTag):latest"
            guard let found = entries.first(where: { ($0.RepoTags ?? []).contains { $0 == wanted || $0.hasSuffix("/\(wanted)") } }) else {
                let tags = entries.flatMap { $0.RepoTags ?? [] }
                throw HuskError(.notFound, "\(reference): no image \(wanted) in the archive (it has: \(tags.isEmpty ? "no tags" : tags.joined(separator: ", ")))")
            }
            entry = found
        } else {
            guard entries.count == 1, let only = entries.first else {
                let tags = entries.flatMap { $0.RepoTags ?? [] }
                throw HuskError(.usage, "\(reference): the archive holds \(entries.count) images; name one as docker-archive:\(path):REPO:TAG (\(tags.joined(separator: ", ")))")
            }
            entry = only
        }

        guard let configSource = try members.open(entry.Config) else {
            throw HuskError(.invalidLayout, "\(reference): config \(entry.Config) named in manifest.json is missing from the archive")
        }
        let configBytes = try configSource.readAll(what: entry.Config)
        let configDigest = Digest.sha256(of: configBytes)
        if let named = digestNamed(by: entry.Config), named != configDigest {
            throw HuskError(.digestMismatch, "\(reference): config \(entry.Config): digest mismatch: content is \(configDigest), expected \(named) (the archive is corrupt; re-export it)")
        }
        let config = try LocalImageResolver.decode(ImageConfiguration.self, configBytes, what: "config \(entry.Config)")
        let diffIDs = config.rootfs?.diff_ids ?? []
        guard diffIDs.isEmpty || diffIDs.count == entry.Layers.count else {
            throw HuskError(.invalidManifest, "\(reference): config lists \(diffIDs.count) layers but manifest.json \(entry.Layers.count)")
        }
        let layers = try entry.Layers.enumerated().map { (i, member) -> ResolvedImage.Layer in
            // Legacy `<id>/layer.tar` names are not content digests; the
            // uncompressed layer must then match the config's diff_id.
            guard let digest = digestNamed(by: member) ?? (diffIDs.isEmpty ? nil : diffIDs[i]) else {
                throw HuskError(.invalidManifest, "\(reference): layer \(member) has neither a digest name nor a diff_id to verify it against")
            }
            let descriptor = Descriptor(mediaType: MediaType.dockerLayerTar, digest: digest, size: -1)
            return ResolvedImage.Layer(descriptor: descriptor, open: {
                guard let raw = try members.open(member) else {
                    throw HuskError(.invalidLayout, "\(reference): layer \(member) named in manifest.json is missing from the archive")
                }
                return VerifyingByteSource(raw, digest: digest, size: nil, what: "layer \(member) in \(reference)")
            })
        }
        let store = ArchiveBlobStore(members: members, location: "\(reference)")
        return ResolvedImage(reference: reference, manifestDigest: nil, configDigest: configDigest,
                             configBytes: configBytes, config: config, layers: layers, store: store)
    }

    /// `blobs/sha256/HEX`, `HEX.json`, `HEX/layer.tar` or `HEX.tar` → the digest HEX names.
    static func digestNamed(by member: String) -> Digest? {
        let name = ArchiveMembers.normalize(member)
        let candidates: [String]
        if name.hasPrefix("blobs/sha256/") {
            candidates = [String(name.dropFirst("blobs/sha256/".count))]
        } else if name.hasSuffix(".json") || name.hasSuffix(".tar") {
            candidates = [String(name.split(separator: ".").first ?? "")]
        } else {
            candidates = []
        }
        return candidates.compactMap { try? Digest(parsing: "sha256:\($0)") }.first
    }
}
