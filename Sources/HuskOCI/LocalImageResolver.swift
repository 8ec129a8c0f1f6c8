import FoundationEssentials
import HuskCore

/// Resolves the local transports (`oci:`, `oci-archive:`, `docker-archive:`)
/// to one image for a platform.
public enum LocalImageResolver {
    public static func resolve(_ reference: ImageReference, platform: Platform?) throws -> ResolvedImage {
        switch reference {
        case .ociLayout(let path, let selector):
            guard FilePath.exists(path) else {
                throw HuskError(.notFound, "\(reference): no such directory \(path)")
            }
            guard FilePath.exists("\(path)/index.json"), FilePath.exists("\(path)/oci-layout") else {
                throw HuskError(.invalidLayout, "\(reference): not an OCI image layout (no oci-layout and index.json in \(path))")
            }
            let store = LayoutBlobStore(root: path)
            let index = try FileByteSource(path: "\(path)/index.json").readAll(what: "\(path)/index.json")
            return try resolveLayout(reference: reference, indexBytes: index, selector: selector,
                                     store: store, platform: platform)
        case .ociArchive(let path, let selector):
            let members = try ArchiveMembers(path: path, what: "\(reference)")
            let store = ArchiveBlobStore(members: members, location: "\(reference)")
            guard let index = try members.open("index.json"), try members.open("oci-layout") != nil else {
                throw HuskError(.invalidLayout, "\(reference): not an OCI image layout archive (no oci-layout and index.json inside \(path))")
            }
            return try resolveLayout(reference: reference, indexBytes: try index.readAll(what: "index.json"),
                                     selector: selector, store: store, platform: platform)
        case .dockerArchive(let path, let repoTag):
            return try DockerArchiveReader.resolve(reference: reference, path: path, repoTag: repoTag)
        case .registry:
            throw HuskError(.usage, "\(reference): registry sources are read by the registry client, not from local files")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as HuskError {
            throw error
        } catch {
            throw HuskError(.invalidManifest, "\(what) is not valid JSON of the expected shape (\(describe(error)))")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "at \(path): \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    /// Index → (tag/digest selection) → (platform selection) → manifest → config.
    static func resolveLayout(reference: ImageReference, indexBytes: [UInt8], selector: ImageReference.Selector?,
                              store: BlobStore, platform: Platform?) throws -> ResolvedImage {
        let index = try decode(ImageIndex.self, indexBytes, what: "\(reference) index.json")
        var candidates = index.manifests
        switch selector {
        case .tag(let tag)?:
            candidates = candidates.filter { Self.refName(of: $0) == tag }
            guard !candidates.isEmpty else {
                let tags = index.manifests.compactMap { Self.refName(of: $0) }
                let known = tags.isEmpty ? "it has no tagged images" : "tags: \(tags.joined(separator: ", "))"
                throw HuskError(.notFound, "\(reference): no image tagged \"\(tag)\" in the layout (\(known))")
            }
        case .digest(let digest)?:
            candidates = candidates.filter { $0.digest == digest }
            guard !candidates.isEmpty else {
                throw HuskError(.notFound, "\(reference): no manifest \(digest) in the layout's index")
            }
        case nil:
            break
        }
        let wanted = platform ?? Platform.host
        let (manifestDescriptor, manifest) = try selectManifest(candidates, wanted: wanted, explicit: platform != nil,
                                                                 store: store, reference: reference, depth: 0)
        return try resolveManifest(reference: reference, descriptor: manifestDescriptor, manifest: manifest, store: store)
    }

    static func refName(of descriptor: Descriptor) -> String? {
        if let name = descriptor.annotations?["org.opencontainers.image.ref.name"] { return name }
        // containerd writes the full name; take its tag.
        if let name = descriptor.annotations?["io.containerd.image.name"], let colon = name.lastIndex(of: ":"),
           !name[colon...].contains("/") {
            return String(name[name.index(after: colon)...])
        }
        return nil
    }

    /// Walks nested indexes; a manifest without a platform in its descriptor is
    /// matched through its config's os/architecture.
    static func selectManifest(_ candidates: [Descriptor], wanted: Platform, explicit: Bool, store: BlobStore,
                               reference: ImageReference, depth: Int) throws -> (Descriptor, ImageManifest) {
        guard depth < 4 else {
            throw HuskError(.invalidManifest, "\(reference): indexes nested deeper than 4 levels")
        }
        var seen: [String] = []
        for descriptor in candidates {
            if MediaType.indexTypes.contains(descriptor.mediaType) {
                let bytes = try store.readVerified(descriptor, what: "index")
                let nested = try decode(ImageIndex.self, bytes, what: "index \(descriptor.digest)")
                if let found = try? selectManifest(nested.manifests, wanted: wanted, explicit: explicit, store: store,
                                                   reference: reference, depth: depth + 1) {
                    return found
                }
                seen.append(contentsOf: nested.manifests.compactMap { $0.platform?.description })
                continue
            }
            guard MediaType.manifestTypes.contains(descriptor.mediaType) else {
                throw HuskError(.unsupportedMediaType,
                    "\(reference): unsupported media type \"\(descriptor.mediaType)\" for manifest \(descriptor.digest) (Husk reads OCI and Docker schema 2 images)")
            }
            if let platform = descriptor.platform {
                seen.append(platform.description)
                if platform.satisfies(wanted) {
                    return (descriptor, try loadManifest(descriptor, store: store, reference: reference))
                }
                continue
            }
            let manifest = try loadManifest(descriptor, store: store, reference: reference)
            let configBytes = try store.readVerified(manifest.config, what: "config")
            let config = try decode(ImageConfiguration.self, configBytes, what: "config \(manifest.config.digest)")
            if let platform = config.platform {
                seen.append(platform.description)
                if platform.satisfies(wanted) { return (descriptor, manifest) }
            } else if candidates.count == 1 && !explicit {
                return (descriptor, manifest)
            }
        }
        let available = seen.isEmpty ? "none declared" : Array(Set(seen)).sorted().joined(separator: ", ")
        throw HuskError(.noMatchingPlatform,
            "\(reference): no manifest for platform \(wanted) (available: \(available)); choose one with --platform")
    }

    static func loadManifest(_ descriptor: Descriptor, store: BlobStore, reference: ImageReference) throws -> ImageManifest {
        let bytes = try store.readVerified(descriptor, what: "manifest")
        let manifest = try decode(ImageManifest.self, bytes, what: "manifest \(descriptor.digest)")
        if let type = manifest.mediaType, !MediaType.manifestTypes.contains(type) {
            throw HuskError(.unsupportedMediaType,
                "\(reference): unsupported media type \"\(type)\" in manifest \(descriptor.digest) (Husk reads OCI and Docker schema 2 images)")
        }
        return manifest
    }

    public static func resolveManifest(reference: ImageReference, descriptor: Descriptor, manifest: ImageManifest,
                                store: BlobStore) throws -> ResolvedImage {
        guard MediaType.configTypes.contains(manifest.config.mediaType) else {
            throw HuskError(.unsupportedMediaType,
                "\(reference): unsupported media type \"\(manifest.config.mediaType)\" for config \(manifest.config.digest) (not a container image)")
        }
        for layer in manifest.layers where !MediaType.layerTypes.contains(layer.mediaType) {
            throw HuskError(.unsupportedMediaType,
                "\(reference): unsupported media type \"\(layer.mediaType)\" for layer \(layer.digest) (Husk reads tar, tar+gzip and tar+zstd layers)")
        }
        let configBytes = try store.readVerified(manifest.config, what: "config")
        let config = try decode(ImageConfiguration.self, configBytes, what: "config \(manifest.config.digest)")
        let layers = manifest.layers.map { layer in
            ResolvedImage.Layer(descriptor: layer, open: { try store.open(layer, what: "layer") })
        }
        return ResolvedImage(reference: reference, manifestDigest: descriptor.digest,
                             configDigest: manifest.config.digest, configBytes: configBytes, config: config,
                             layers: layers, store: store)
    }
}
