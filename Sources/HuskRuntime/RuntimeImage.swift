import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI
import HuskSquash
import HuskTrust

/// What `husk run|exec|shell|env` runs: a Husk squashfs file, a SIF file
/// (its primary partition, in place), a directory (sandbox), or any source
/// `husk convert` takes, converted once into the cache and reused (keyed by
/// manifest digest).
public struct RuntimeImage {
    public var root: LaunchPlan.Root
    /// For messages and `HUSK_NAME`: the file name without `.sqsh` or `.sif`.
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
    /// digest from `/.husk/source.json`, else for a SIF file the digest of
    /// its header and descriptors and its size, else path, size and mtime.
    public var contentKey: String
    private let fileReader: (String) throws -> [UInt8]?
    /// Set for squashfs images (extract mode reads through it).
    let squashReader: SquashReader?
    /// Set for `instance://NAME`: the running instance to enter.
    public var instance: InstanceState?
    /// `/.singularity.d` of an image without Husk's config (a SIF file, or
    /// an image Apptainer made): its runscript, startscript and environment
    /// scripts drive `run`, `instance start` and the environment.
    public var singularity: SingularityMetadata?
    /// Set for a SIF file: its header and descriptors.
    public var sif: SIFFile?

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

    /// `registry` fetches `docker://` images (HuskPull's RegistryImages);
    /// `policy` may forbid their registry before anything is fetched.
    public static func open(_ argument: String, cacheDirectory: String,
                            registry: (any RemoteImages)? = nil,
                            policy: SitePolicy = SitePolicy()) throws -> RuntimeImage {
        var image = try resolve(argument, cacheDirectory: cacheDirectory, registry: registry, policy: policy)
        if image.reference.isEmpty { image.reference = argument }
        return image
    }

    static func resolve(_ argument: String, cacheDirectory: String, registry: (any RemoteImages)?,
                        policy: SitePolicy) throws -> RuntimeImage {
        guard !argument.isEmpty else {
            throw HuskError(.usage, "no image given: name a .sqsh or .sif file, a directory, or a docker://, oci:, oci-archive: or docker-archive: source")
        }
        if argument.hasPrefix("docker://") {
            guard case .registry(let reference) = try ImageReference(parsing: argument) else {
                throw HuskError(.invalidReference, "\(argument): not a registry reference")
            }
            try policy.checkRegistry(reference.host, image: argument)
            guard let registry else {
                throw HuskError(.noRegistryClient, "\(argument): this program has no registry client (husk-full and HuskPull's RegistryImages have one)")
            }
            return try openSquashfs(try registry.image(reference))
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
        if convertsIntoCache(argument) {
            return try openSquashfs(try convertIntoCache(argument, cacheDirectory: cacheDirectory))
        }
        let path = BindOption.normalize(argument.hasPrefix("/") ? argument : FileManager.default.currentDirectoryPath + "/" + argument)
        guard FilePath.exists(path) else {
            throw HuskError(.notFound, "\(argument): no such image (give a .sqsh or .sif file, a directory, or oci:/oci-archive:/docker-archive: source)")
        }
        if FilePath.isDirectory(path) { return try openDirectory(path) }
        return try KeptImage.image(at: path) { try openSquashfs(path) }
    }

    static func openSquashfs(_ path: String) throws -> RuntimeImage {
        if SIFFile.hasMagic(path: path) { return try openSIF(path) }
        return try openSquashfs(path, reader: try SquashReader(path: path), root: .squashfs(path: path, offset: 0))
    }

    /// A SIF file runs its primary partition where it lies in the file (the
    /// starter serves it through FUSE at that offset; extract mode reads it
    /// through the same range). It is keyed by its header and descriptors
    /// (a new build has a new UUID and times) and the file's size.
    static func openSIF(_ path: String) throws -> RuntimeImage {
        let sif = try SIFImage(path: path)
        var image = try openSquashfs(path, reader: sif.reader, root: .squashfs(path: path, offset: sif.primary.offset),
                                     fallbackKey: "sif-" + sif.file.identity)
        image.sif = sif.file
        return image
    }

    static func openSquashfs(_ path: String, reader: SquashReader, root: LaunchPlan.Root,
                             fallbackKey: String? = nil) throws -> RuntimeImage {
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
        } else if let fallbackKey {
            key = fallbackKey
        } else {
            var st = stat()
            stat(path, &st)
            key = Digest.sha256(of: Array("\(path)|\(st.st_size)|\(st.st_mtim.tv_sec)".utf8)).hex
        }
        // The same manifest converted with other options is other bytes.
        key += "-" + String(reader.bytesUsed, radix: 16)
        var image = RuntimeImage(root: root, name: displayName(path), path: path,
                                 config: full?.config, digests: digests, contentKey: key,
                                 fileReader: { try reader.readFile($0) }, squashReader: reader)
        if full == nil {
            image.singularity = try SingularityMetadata.read(readFile: { try reader.readFile($0, limit: 1 << 20) },
                                                             list: { try reader.directoryEntries($0) })
        }
        if full == nil, image.singularity == nil {
            image.config = try ForeignImageMetadata.config(image: path, readFile: { try reader.readFile($0, limit: 1 << 20) })
        }
        return image
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
        var image = RuntimeImage(root: .directory(path), name: displayName(path), path: path, config: full?.config,
                                 digests: digests, contentKey: path, fileReader: read, squashReader: nil)
        if full == nil {
            // An Apptainer sandbox (apptainer build --sandbox).
            image.singularity = try SingularityMetadata.read(readFile: { try read($0) }, list: { relative in
                var st = stat()
                guard lstat(path + "/" + relative, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
                return try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)
            })
        }
        if full == nil, image.singularity == nil {
            image.config = try ForeignImageMetadata.config(image: path, readFile: read)
        }
        return image
    }

    static func displayName(_ path: String) -> String {
        var name = String(path.split(separator: "/").last ?? "image")
        for suffix in [".sqsh", ".sif"] where name.hasSuffix(suffix) && name.count > suffix.count {
            name = String(name.dropLast(suffix.count))
        }
        return name
    }

    /// `${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}`, DESIGN.md §4.
    public static func defaultCacheDirectory(environment: [String: String]) -> String {
        HuskPaths(environment: environment).cache
    }

    /// Whether `open` converts `argument` into the cache (an OCI layout or
    /// archive); only then is the cache written by a start.
    public static func convertsIntoCache(_ argument: String) -> Bool {
        ["oci:", "oci-archive:", "docker-archive:"].contains { argument.hasPrefix($0) }
    }

    static func convertIntoCache(_ source: String, cacheDirectory: String) throws -> String {
        let image = try LocalImageResolver.resolve(try ImageReference(parsing: source), platform: nil)
        return try ImageCache(root: cacheDirectory).converted(image)
    }
}
