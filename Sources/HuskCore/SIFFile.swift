#if canImport(Glibc)
import Glibc
#endif

/// The global header and descriptor table of a Singularity Image Format file
/// (Apptainer's and SingularityCE's `.sif`), read from untrusted bytes.
///
/// Layout, all little-endian (the format Sylabs publishes in its `sif`
/// repository, which Go's `encoding/binary` writes without padding):
///
///     header, 128 bytes at 0:   launch script [32], magic "SIF_MAGIC\0" [10],
///         version "01\0" [3], arch [3], uuid [16], created i64, modified i64,
///         descriptors free i64, total i64, offset i64, size i64,
///         data offset i64, data size i64
///     descriptor, 585 bytes each, `total` of them at `offset`:
///         type i32, used u8, id u32, group u32, link u32, offset i64,
///         size i64, size with padding i64, created i64, modified i64,
///         uid i64, gid i64, name [128], extra [384]
///     extra of a partition: fs type i32, partition type i32, arch [3]
///     extra of a signature: hash type i32, entity [256] (a 20-byte
///         OpenPGP fingerprint first)
///
/// Every offset and size is checked against the file before anything is
/// read through it, so a truncated or crafted file is one line naming the
/// file and what is wrong, never a crash or a read outside the file.
public struct SIFFile: Sendable {
    public static let headerSize = 128
    public static let descriptorSize = 585
    static let magic: [UInt8] = Array("SIF_MAGIC".utf8) + [0]
    static let magicOffset = 32
    /// Far beyond the 48 Sylabs' tools allocate; keeps a crafted count from
    /// asking for gigabytes.
    static let maximumDescriptors: UInt64 = 4096

    public enum DataType: Int32, Sendable, CaseIterable {
        case deffile = 0x4001, environment, labels, partition, signature, genericJSON, generic, cryptoMessage, sbom,
             ociRootIndex, ociBlob

        public var name: String {
            switch self {
            case .deffile: return "definition file"
            case .environment: return "environment"
            case .labels: return "labels (JSON)"
            case .partition: return "partition"
            case .signature: return "signature"
            case .genericJSON: return "JSON"
            case .generic: return "data"
            case .cryptoMessage: return "cryptographic message"
            case .sbom: return "SBOM"
            case .ociRootIndex: return "OCI root index"
            case .ociBlob: return "OCI blob"
            }
        }
    }

    public enum FileSystem: Int32, Sendable {
        case squashfs = 1, ext3, archive, raw, encryptedSquashfs

        public var name: String {
            switch self {
            case .squashfs: return "squashfs"
            case .ext3: return "ext3"
            case .archive: return "archive"
            case .raw: return "raw"
            case .encryptedSquashfs: return "encrypted squashfs"
            }
        }
    }

    public enum PartitionType: Int32, Sendable {
        case system = 1, primarySystem, data, overlay

        public var name: String {
            switch self {
            case .system: return "system"
            case .primarySystem: return "primary system"
            case .data: return "data"
            case .overlay: return "overlay"
            }
        }
    }

    public struct Partition: Sendable, Equatable {
        /// Raw values: a crafted or newer file may hold any number.
        public var fileSystem: Int32
        public var type: Int32
        public var arch: String
    }

    public struct Signature: Sendable, Equatable {
        public var hashType: Int32
        /// Upper-case hex of the signing key's fingerprint, nil when absent.
        public var fingerprint: String?

        public var hashName: String {
            switch hashType {
            case 1: return "SHA-256"
            case 2: return "SHA-384"
            case 3: return "SHA-512"
            case 4: return "BLAKE2s"
            case 5: return "BLAKE2b"
            default: return "hash \(hashType)"
            }
        }
    }

    public struct Descriptor: Sendable, Equatable {
        public var rawType: Int32
        public var id: UInt32
        /// Without the group mask; 0 when the object is in no group.
        public var groupID: UInt32
        /// The object (or, with `linksGroup`, the group) this one refers to; 0 for none.
        public var linkedID: UInt32
        public var linksGroup: Bool
        public var offset: UInt64
        public var size: UInt64
        public var created: Int64
        public var modified: Int64
        public var name: String
        public var partition: Partition?
        public var signature: Signature?

        public var type: DataType? { DataType(rawValue: rawType) }
        public var typeName: String { type?.name ?? "type 0x\(String(UInt32(bitPattern: rawType), radix: 16))" }
    }

    public var path: String
    public var fileSize: UInt64
    public var version: String
    /// Go's name for the primary partition's architecture (amd64, arm64, …).
    public var arch: String
    /// The image's UUID, as text.
    public var id: String
    public var created: Int64
    public var modified: Int64
    /// The descriptors in use, in table order.
    public var descriptors: [Descriptor]
    /// sha256 of the header and descriptor table as stored, and the file
    /// size: names this file's content for caches (a rebuilt SIF has a new
    /// UUID and times, so new bytes here).
    public var identity: String

    /// Whether the file at `path` starts like a SIF file (its magic at 32).
    public static func hasMagic(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: magicOffset + magic.count)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return got == bytes.count && Array(bytes[magicOffset...]) == magic
    }

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw HuskError(.notFound, "\(path): no such image file") }
            throw HuskError(.io, "\(path): cannot open (check its permissions)")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw HuskError(.invalidImage, "\(path): not a regular file; give a .sif file")
        }
        try self.init(path: path, size: UInt64(st.st_size)) { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                done += got
            }
            return Array(bytes.prefix(done))
        }
    }

    /// `read(offset, count)` returns up to `count` bytes at `offset` of a
    /// file of `size` bytes (fewer only at its end).
    public init(path: String, size: UInt64, read: (UInt64, Int) -> [UInt8]) throws {
        self.path = path
        fileSize = size
        func bad(_ what: String) -> HuskError { HuskError(.invalidImage, "\(path): damaged SIF file: \(what)") }
        let again = "copy it again or rebuild it"

        let header = read(0, Self.headerSize)
        let hasMagic = header.count >= Self.magicOffset + Self.magic.count
            && Array(header[Self.magicOffset..<Self.magicOffset + Self.magic.count]) == Self.magic
        guard hasMagic else {
            throw HuskError(.invalidImage, "\(path): not a SIF file (no SIF_MAGIC at byte 32)")
        }
        guard header.count == Self.headerSize else {
            throw HuskError(.invalidImage, "\(path): truncated SIF file: \(size) bytes, shorter than its \(Self.headerSize)-byte header; \(again)")
        }
        let fields = LittleEndianFields(header)
        version = Self.text(header[42..<45])
        guard version == "01" else {
            throw HuskError(.invalidImage, "\(path): SIF version \"\(Self.printable(version))\", but Husk reads version 01; rebuild it with a current Apptainer or SingularityCE")
        }
        arch = Self.goArch(Self.text(header[45..<48]))
        id = Self.uuid(Array(header[48..<64]))
        created = fields.int64(64)
        modified = fields.int64(72)
        let total = fields.int64(88), tableOffset = fields.int64(96), tableSize = fields.int64(104)
        guard total > 0, UInt64(total) <= Self.maximumDescriptors else {
            throw bad("\(total) descriptors (expected 1 to \(Self.maximumDescriptors)); \(again)")
        }
        let tableBytes = UInt64(total) * UInt64(Self.descriptorSize)
        guard tableOffset >= Int64(Self.headerSize), tableSize >= 0, UInt64(tableSize) >= tableBytes else {
            throw bad("descriptor table at \(tableOffset), \(tableSize) bytes, cannot hold \(total) descriptors after the header; \(again)")
        }
        guard UInt64(tableOffset) <= size, tableBytes <= size - UInt64(tableOffset) else {
            throw HuskError(.invalidImage, "\(path): truncated SIF file: \(size) bytes, but its descriptor table ends at \(UInt64(tableOffset) + tableBytes); \(again)")
        }
        let table = read(UInt64(tableOffset), Int(tableBytes))
        guard table.count == Int(tableBytes) else {
            throw HuskError(.io, "\(path): cannot read its descriptor table (the file changed while being read?)")
        }
        let dataStart = UInt64(tableOffset) + tableBytes

        var descriptors: [Descriptor] = []
        for index in 0..<Int(total) {
            let raw = Array(table[index * Self.descriptorSize..<(index + 1) * Self.descriptorSize])
            guard raw[4] != 0 else { continue }  // unused slot
            let d = LittleEndianFields(raw)
            let rawType = Int32(bitPattern: d.uint32(0))
            let id = d.uint32(5), offset = d.int64(17), length = d.int64(25)
            let what = "object \(id) (descriptor \(index + 1))"
            guard offset >= 0, length >= 0 else {
                throw bad("\(what) has a negative offset or size (\(offset), \(length)); \(again)")
            }
            guard UInt64(offset) <= size, UInt64(length) <= size - UInt64(offset) else {
                throw HuskError(.invalidImage, "\(path): truncated or damaged SIF file: \(size) bytes, but \(what) ends at \(UInt64(offset) + UInt64(length)); \(again)")
            }
            guard length == 0 || UInt64(offset) >= dataStart else {
                throw bad("\(what) at \(offset) overlaps the header or descriptor table (which end at \(dataStart)); \(again)")
            }
            let group = d.uint32(9), link = d.uint32(13)
            var descriptor = Descriptor(
                rawType: rawType, id: id, groupID: group & ~Self.groupMask, linkedID: link & ~Self.groupMask,
                linksGroup: link & Self.groupMask == Self.groupMask, offset: UInt64(offset), size: UInt64(length),
                created: d.int64(41), modified: d.int64(49), name: Self.text(raw[73..<201]))
            let extra = LittleEndianFields(Array(raw[201..<585]))
            switch DataType(rawValue: rawType) {
            case .partition:
                descriptor.partition = Partition(fileSystem: Int32(bitPattern: extra.uint32(0)),
                                                 type: Int32(bitPattern: extra.uint32(4)),
                                                 arch: Self.goArch(Self.text(extra.bytes[8..<11])))
            case .signature:
                let entity = extra.bytes[4..<24]
                descriptor.signature = Signature(
                    hashType: Int32(bitPattern: extra.uint32(0)),
                    fingerprint: entity.allSatisfy { $0 == 0 } ? nil : entity.map { Self.hex($0) }.joined())
            default:
                break
            }
            if descriptors.contains(where: { $0.id == id }) {
                throw bad("two data objects have id \(id); \(again)")
            }
            descriptors.append(descriptor)
        }
        self.descriptors = descriptors
        var digest = DigestHasher(algorithm: "sha256")
        digest.update(header)
        digest.update(table)
        digest.update(Array("|\(size)".utf8))
        identity = digest.finalize().hex
    }

    static let groupMask: UInt32 = 0xf000_0000

    public var partitions: [Descriptor] { descriptors.filter { $0.partition != nil } }
    public var signatures: [Descriptor] { descriptors.filter { $0.signature != nil } }

    /// The partition Apptainer runs: the primary system partition, which
    /// must be a plain squashfs. Anything else is one line saying what to
    /// do instead.
    public func primaryPartition() throws -> Descriptor {
        let primary = partitions.filter { $0.partition?.type == PartitionType.primarySystem.rawValue }
        guard primary.count <= 1 else {
            throw HuskError(.invalidImage, "\(path): damaged SIF file: \(primary.count) primary system partitions (objects \(primary.map { "\($0.id)" }.joined(separator: ", "))); rebuild it")
        }
        guard let partition = primary.first, let info = partition.partition else {
            throw HuskError(.invalidImage, "\(path): a SIF file without a primary system partition (nothing to run); build it with apptainer build")
        }
        switch FileSystem(rawValue: info.fileSystem) {
        case .squashfs:
            return partition
        case .ext3:
            throw HuskError(.invalidImage, "\(path): its primary partition is an ext3 file system (a writable image), which Husk cannot serve without root; make a squashfs one with apptainer build new.sif \(path)")
        case .encryptedSquashfs:
            throw HuskError(.invalidImage, "\(path): its primary partition is encrypted, and Husk does not decrypt SIF files; run it with apptainer, or build it again without --passphrase or --pem-path")
        case .archive, .raw, nil:
            let name = FileSystem(rawValue: info.fileSystem)?.name ?? "file system type \(info.fileSystem)"
            throw HuskError(.invalidImage, "\(path): its primary partition is \(name), not squashfs; rebuild it with apptainer build")
        }
    }

    /// The content of a (small) data object: labels, a definition file.
    public func contents(of descriptor: Descriptor, limit: UInt64 = 1 << 20) throws -> [UInt8] {
        guard descriptor.size <= limit else {
            throw HuskError(.invalidImage, "\(path): SIF object \(descriptor.id) (\(descriptor.typeName)) is \(descriptor.size) bytes, more than the \(limit) Husk reads")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError(.io, "\(path): cannot open (check its permissions)") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(descriptor.size))
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(descriptor.offset)) }
        guard got == bytes.count else {
            throw HuskError(.invalidImage, "\(path): SIF object \(descriptor.id) is cut short (the file changed or was truncated); copy it again")
        }
        return bytes
    }

    // MARK: decoding helpers

    /// Bytes up to the first NUL, as UTF-8.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Text from the file for a message: printable ASCII only, short.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f }.prefix(16).map(Character.init))
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }

    static func uuid(_ bytes: [UInt8]) -> String {
        let digits = bytes.map { hex($0).lowercased() }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { digits[$0].joined() }.joined(separator: "-")
    }

    /// The SIF architecture codes ("02") by Go's names, as Apptainer shows them.
    static func goArch(_ code: String) -> String {
        let names = ["01": "386", "02": "amd64", "03": "arm", "04": "arm64", "05": "ppc64", "06": "ppc64le",
                     "07": "mips", "08": "mipsle", "09": "mips64", "10": "mips64le", "11": "s390x", "12": "riscv64"]
        return names[code] ?? "unknown"
    }
}

/// Little-endian integers at fixed offsets of a byte array whose length the
/// caller has checked.
private struct LittleEndianFields {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func uint32(_ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }

    func int64(_ at: Int) -> Int64 {
        Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) })
    }
}
