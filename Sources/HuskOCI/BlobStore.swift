import HuskCore

/// Where the blobs of a local image live. Every blob handed out is wrapped in
/// a `VerifyingByteSource`: reading it to the end checks its size and digest.
public protocol BlobStore: AnyObject {
    /// Human-readable location for messages, e.g. `oci:/data/busybox`.
    var location: String { get }
    /// The raw (unverified) bytes of a blob, or nil when the store lacks it.
    func openRaw(_ digest: Digest) throws -> ByteSource?
}

extension BlobStore {
    public func open(_ descriptor: Descriptor, what: String) throws -> ByteSource {
        guard let raw = try openRaw(descriptor.digest) else {
            throw HuskError(.notFound, "\(what) \(descriptor.digest) is missing from \(location) (the image is incomplete; re-export it)")
        }
        return VerifyingByteSource(raw, digest: descriptor.digest, size: descriptor.size,
                                   what: "\(what) \(descriptor.digest) in \(location)")
    }

    /// A small JSON blob (manifest, index, config), verified.
    public func readVerified(_ descriptor: Descriptor, what: String) throws -> [UInt8] {
        try open(descriptor, what: what).readAll(what: "\(what) \(descriptor.digest)")
    }
}

/// An OCI image layout directory: `blobs/ALG/HEX`.
public final class LayoutBlobStore: BlobStore {
    public let root: String
    public var location: String { "oci:\(root)" }

    public init(root: String) { self.root = root }

    public func openRaw(_ digest: Digest) throws -> ByteSource? {
        let path = "\(root)/blobs/\(digest.algorithm)/\(digest.hex)"
        guard FilePath.exists(path) else { return nil }
        return try FileByteSource(path: path)
    }
}

/// A tar archive whose members are found by name (oci-archive, docker-archive).
/// Each open scans the headers from the start; libarchive seeks over member
/// data, so this costs a few reads per member, not a pass over the data.
public final class ArchiveMembers {
    public let path: String
    public let what: String

    public init(path: String, what: String) throws {
        guard FilePath.exists(path) else {
            throw HuskError(.notFound, "\(what): no such file \(path) (check the path)")
        }
        self.path = path
        self.what = what
    }

    static func normalize(_ name: String) -> String {
        var name = Substring(name)
        while name.hasPrefix("./") { name = name.dropFirst(2) }
        while name.hasPrefix("/") { name = name.dropFirst() }
        return String(name)
    }

    /// The member's data as a stream, or nil when the archive has no such member.
    public func open(_ member: String) throws -> ByteSource? {
        let wanted = ArchiveMembers.normalize(member)
        let reader = try TarReader(path: path, what: what)
        while let entry = try reader.next() {
            if ArchiveMembers.normalize(entry.path) == wanted, entry.kind == .regular {
                return TarMemberSource(positionedAt: reader)
            }
        }
        return nil
    }

    public func names() throws -> [String] {
        let reader = try TarReader(path: path, what: what)
        var result: [String] = []
        while let entry = try reader.next() { result.append(ArchiveMembers.normalize(entry.path)) }
        return result
    }
}

/// An oci-archive: an OCI layout inside a tar.
public final class ArchiveBlobStore: BlobStore {
    public let members: ArchiveMembers
    public let location: String

    public init(members: ArchiveMembers, location: String) {
        self.members = members
        self.location = location
    }

    public func openRaw(_ digest: Digest) throws -> ByteSource? {
        try members.open("blobs/\(digest.algorithm)/\(digest.hex)")
    }
}
