import FoundationEssentials
import HuskCore

/// What `husk inspect` shows of a SIF file: its header, every data object
/// (partitions, signatures, metadata), the primary partition's squashfs,
/// and the image's Singularity metadata (labels, help, runscript,
/// startscript, environment). Signatures are listed, never verified: Husk
/// does not trust them (`apptainer verify` checks them).
public struct SIFInfo: Codable, Sendable {
    public struct Object: Codable, Sendable {
        public var id: UInt32
        public var type: String
        public var name: String?
        public var offset: UInt64
        public var size: UInt64
        public var groupID: UInt32?
        public var linkedID: UInt32?
        public var linksGroup: Bool?
        /// Partitions: squashfs, ext3, …; primary system, system, data, overlay; arch.
        public var fileSystem: String?
        public var partitionType: String?
        public var arch: String?
        /// Signatures: hash and key fingerprint.
        public var hash: String?
        public var fingerprint: String?
    }

    public struct SignatureInfo: Codable, Sendable {
        public var id: UInt32
        /// "object 2" or "group 1".
        public var signs: String
        public var hash: String
        public var fingerprint: String?
        /// Always false: Husk reports SIF signatures, it does not check them.
        public var verified: Bool
    }

    public var path: String
    public var format = "sif"
    public var sifVersion: String
    public var id: String
    public var arch: String
    public var created: String
    public var modified: String
    public var size: Int64
    public var objects: [Object]
    public var primaryPartition: UInt32
    public var signatures: [SignatureInfo]
    public var compression: String
    public var blockSize: Int
    public var inodes: Int
    public var labels: [String: String]
    public var help: String?
    public var runscript: String?
    public var startscript: String?
    /// The environment scripts Husk reads, in order, and the variables they
    /// set over Husk's standard PATH.
    public var environmentScripts: [String]
    public var env: [String]
    /// Statements of those scripts Husk does not apply: "FILE:LINE: TEXT".
    public var environmentSkipped: [String]

    public static func read(path: String) throws -> SIFInfo {
        let image = try SIFImage(path: path)
        let sif = image.file, reader = image.reader
        func text(_ file: String) throws -> String? {
            try reader.readFile(file, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
        }
        let directory = SingularityMetadata.directory
        var labels: [String: String] = [:]
        if let bytes = try reader.readFile("\(directory)/labels.json", limit: 1 << 20) {
            labels = try SingularityMetadata.labels(from: bytes, image: path)
        } else if let object = sif.descriptors.first(where: { $0.type == .labels }) {
            labels = try SingularityMetadata.labels(from: try sif.contents(of: object), image: path)
        }
        let metadata = try image.singularity()
        let environment = metadata?.environment(base: ["PATH": StandardEnvironment.path]).environment ?? [:]
        return SIFInfo(
            path: path, sifVersion: sif.version, id: sif.id, arch: sif.arch,
            created: RFC3339.string(sif.created), modified: RFC3339.string(sif.modified), size: Int64(sif.fileSize),
            objects: sif.descriptors.map(Self.object),
            primaryPartition: image.primary.id,
            signatures: sif.signatures.map { descriptor in
                SignatureInfo(id: descriptor.id,
                              signs: descriptor.linkedID == 0 ? "nothing" : "\(descriptor.linksGroup ? "group" : "object") \(descriptor.linkedID)",
                              hash: descriptor.signature!.hashName, fingerprint: descriptor.signature!.fingerprint,
                              verified: false)
            },
            compression: reader.compressionName, blockSize: reader.blockSize, inodes: reader.inodeCount,
            labels: labels, help: try text("\(directory)/runscript.help"),
            runscript: try text("\(directory)/runscript"), startscript: try text("\(directory)/startscript"),
            environmentScripts: metadata?.environmentScripts.map(\.name) ?? [],
            env: environment.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { "\($0.key)=\($0.value)" },
            environmentSkipped: metadata?.environmentScripts.flatMap { script in
                script.assignments.skipped.map { "\(script.path):\($0.line): \($0.text)" }
            } ?? [])
    }

    static func object(_ descriptor: SIFFile.Descriptor) -> Object {
        var object = Object(id: descriptor.id, type: descriptor.typeName, name: descriptor.name.isEmpty ? nil : descriptor.name,
                            offset: descriptor.offset, size: descriptor.size,
                            groupID: descriptor.groupID == 0 ? nil : descriptor.groupID,
                            linkedID: descriptor.linkedID == 0 ? nil : descriptor.linkedID,
                            linksGroup: descriptor.linkedID == 0 ? nil : descriptor.linksGroup)
        if let partition = descriptor.partition {
            object.fileSystem = SIFFile.FileSystem(rawValue: partition.fileSystem)?.name ?? "type \(partition.fileSystem)"
            object.partitionType = SIFFile.PartitionType(rawValue: partition.type)?.name ?? "type \(partition.type)"
            object.arch = partition.arch
        }
        if let signature = descriptor.signature {
            object.hash = signature.hashName
            object.fingerprint = signature.fingerprint
        }
        return object
    }

    /// The line `husk inspect` prints for a signature.
    public static func describe(_ signature: SignatureInfo) -> String {
        let key = signature.fingerprint.map { "key \($0)" } ?? "an unnamed key"
        return "\(signature.signs) signed with \(key) (\(signature.hash), object \(signature.id)), not verified by Husk (apptainer verify checks it)"
    }
}
