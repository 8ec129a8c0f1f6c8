import Foundation
import HuskCore
import HuskOCI
import HuskRegistry
import HuskSquash
import HuskTrust

/// What `husk run|exec|shell|env` runs: a Husk squashfs file, a directory
/// (sandbox), or any source `husk convert` takes, converted once into the
/// cache and reused (keyed by manifest digest).
public struct RuntimeImage {
    public var root: LaunchPlan.Root
    /// For messages and `HUSK_NAME`: the file name without `.sqsh`.
    public var name: String
    /// For `HUSK_CONTAINER`: the absolute path of the image.
    public var path: String
    /// The image as the user named it (`app.sqsh`, `docker://reg/app:1`), for messages.
    public var reference: String = ""
    public var config: ImageConfiguration.ContainerConfig?
    /// What the image is made of (from `/.husk/`), for the site's
    /// revocations; nil for an image without Husk's metadata.
    public var digests: ImageDigests?
    /// Names the content for the extraction cache: manifest (or config)
    /// digest from `/.husk/source.json`, else path, size and mtime.
    public var contentKey: String
    private let fileReader: (String) throws -> [UInt8]?
    /// Set for squashfs images (extract mode reads through it).
    let squashReader: SquashReader?
    /// Set for `instance://NAME`: the running instance to enter.
    public var instance: InstanceState?

    public static let instancePrefix = "instance://"

    /// A regular file of the image (e.g. `etc/passwd`), nil if absent.
    public func readFile(_ path: String) throws -> [UInt8]? { try fileReader(path) }

    /// The target of a symlink of the image (`lib` -> `usr/lib`), nil if
    /// `path` is not one.
    public func readLink(_ path: String) -> String? {
        if let squashReader { return (try? squashReader.readLink(path)) ?? nil }
        var st = stat()
        guard lstat(self.path + "/" + path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return nil }
        return try? FileManager.default.destinationOfSymbolicLink(atPath: self.path + "/" + path)
    }

    /// `path` (relative to the image root) with the image's symlinks
    /// resolved inside the image, as they would be at run time; nil when
    /// some part is missing or the links go round.
    public func resolve(_ path: String) -> String? {
        var pending = path.split(separator: "/").map(String.init)
        var done: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = done.popLast(); continue }
            let candidate = (done + [part]).joined(separator: "/")
            if let target = readLink(candidate) {
                hops += 1
                if hops > 40 { return nil }
                if target.hasPrefix("/") { done = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            guard has(candidate) else { return nil }
            done.append(part)
        }
        return done.joined(separator: "/")
    }

    /// Whether the image has an entry at `path` (relative to its root).
    public func has(_ path: String) -> Bool {
        if let squashReader { return (try? squashReader.entryExists(path)) ?? false }
        var st = stat()
        return lstat(self.path + "/" + path, &st) == 0
    }

    /// `registry` fetches `docker://` images (with its `--pull` policy);
    /// `policy` may forbid their registry before anything is fetched.
    public static func open(_ argument: String, cacheDirectory: String,
                            registry: (RegistryImages, PullPolicy)? = nil,
                            policy: SitePolicy = SitePolicy()) throws -> RuntimeImage {
        var image = try resolve(argument, cacheDirectory: cacheDirectory, registry: registry, policy: policy)
        if image.reference.isEmpty { image.reference = argument }
        return image
    }

    static func resolve(_ argument: String, cacheDirectory: String, registry: (RegistryImages, PullPolicy)?,
                        policy: SitePolicy) throws -> RuntimeImage {
        guard !argument.isEmpty else {
            throw HuskError(.usage, "no image given: name a .sqsh file, a directory, or a docker://, oci:, oci-archive: or docker-archive: source")
        }
        if argument.hasPrefix("docker://") {
            guard case .registry(let reference) = try ImageReference(parsing: argument) else {
                throw HuskError(.invalidReference, "\(argument): not a registry reference")
            }
            try policy.checkRegistry(reference.host, image: argument)
            let (images, pullPolicy) = registry ?? (RegistryImages(cacheRoot: cacheDirectory,
                settings: policy.registrySettings(environment: ProcessInfo.processInfo.environment), policy: policy), .missing)
            return try openSquashfs(try images.image(reference, policy: pullPolicy))
        }
        if argument.hasPrefix(instancePrefix) {
            let name = String(argument.dropFirst(instancePrefix.count))
            let store = try InstanceStore(environment: ProcessInfo.processInfo.environment)
            guard let state = try store.load(name), InstanceStore.isAlive(state) else {
                throw HuskError(.notFound, "no running instance \(name) (husk instance list shows them)")
            }
            var image = try open(state.image, cacheDirectory: cacheDirectory, registry: registry, policy: policy)
            image.instance = state
            image.name = name
            return image
        }
        if argument.hasPrefix("oci:") || argument.hasPrefix("oci-archive:") || argument.hasPrefix("docker-archive:") {
            return try openSquashfs(try convertIntoCache(argument, cacheDirectory: cacheDirectory))
        }
        let path = BindOption.normalize(argument.hasPrefix("/") ? argument : FileManager.default.currentDirectoryPath + "/" + argument)
        guard FilePath.exists(path) else {
            throw HuskError(.notFound, "\(argument): no such image (give a .sqsh file, a directory, or oci:/oci-archive:/docker-archive: source)")
        }
        if FilePath.isDirectory(path) { return try openDirectory(path) }
        return try openSquashfs(path)
    }

    static func openSquashfs(_ path: String) throws -> RuntimeImage {
        let reader = try SquashReader(path: path)
        var full: ImageConfiguration?
        if let bytes = try reader.readFile(".husk/config.json") {
            full = try ImageMetadata.decode(ImageConfiguration.self, from: bytes, file: ".husk/config.json", image: path)
        }
        var key: String
        var digests: ImageDigests?
        if let bytes = try reader.readFile(".husk/source.json") {
            // Damaged metadata means a damaged image: say so rather than run it under another key.
            let source = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: ".husk/source.json", image: path)
            key = (source.manifestDigest ?? source.configDigest).hex
            digests = ImageDigests(manifest: source.manifestDigest, config: source.configDigest,
                                   layers: source.layers.map(\.digest), diffIDs: full?.rootfs?.diff_ids ?? [])
        } else {
            var st = stat()
            stat(path, &st)
            key = Digest.sha256(of: Array("\(path)|\(st.st_size)|\(st.st_mtim.tv_sec)".utf8)).hex
        }
        // The same manifest converted with other options is other bytes.
        key += "-" + String(reader.bytesUsed, radix: 16)
        return RuntimeImage(root: .squashfs(path: path, offset: 0), name: displayName(path), path: path,
                            config: full?.config, digests: digests, contentKey: key,
                            fileReader: { try reader.readFile($0) }, squashReader: reader)
    }

    static func openDirectory(_ path: String) throws -> RuntimeImage {
        func read(_ relative: String) throws -> [UInt8]? {
            let full = path + "/" + relative
            var st = stat()
            // lstat: a symlink in a sandbox may point anywhere on the host.
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return try FileByteSource(path: full).readAll(what: full)
        }
        var full: ImageConfiguration?
        if let bytes = try read(".husk/config.json") {
            full = try ImageMetadata.decode(ImageConfiguration.self, from: bytes, file: ".husk/config.json", image: path)
        }
        var digests: ImageDigests?
        if let bytes = try read(".husk/source.json") {
            let source = try ImageMetadata.decode(SourceRecord.self, from: bytes, file: ".husk/source.json", image: path)
            digests = ImageDigests(manifest: source.manifestDigest, config: source.configDigest,
                                   layers: source.layers.map(\.digest), diffIDs: full?.rootfs?.diff_ids ?? [])
        }
        return RuntimeImage(root: .directory(path), name: displayName(path), path: path, config: full?.config,
                            digests: digests, contentKey: path, fileReader: read, squashReader: nil)
    }

    static func displayName(_ path: String) -> String {
        var name = String(path.split(separator: "/").last ?? "image")
        if name.hasSuffix(".sqsh") { name = String(name.dropLast(5)) }
        return name
    }

    /// `${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}`, DESIGN.md §4.
    public static func defaultCacheDirectory(environment: [String: String]) -> String {
        HuskPaths(environment: environment).cache
    }

    static func convertIntoCache(_ source: String, cacheDirectory: String) throws -> String {
        let image = try LocalImageResolver.resolve(try ImageReference(parsing: source), platform: nil)
        return try ImageCache(root: cacheDirectory).converted(image)
    }
}
