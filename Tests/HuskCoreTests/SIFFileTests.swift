import Foundation
import Testing
@testable import HuskCore

/// Writes SIF bytes as the published format lays them out (see SIFFile),
/// so each test can damage exactly one field.
struct SIFBytes {
    struct Object {
        var type: Int32
        var data: [UInt8]
        var fileSystem: Int32 = 1
        var partitionType: Int32 = 2
        var arch = "02"
        var hashType: Int32 = 1
        var fingerprint: [UInt8] = []
        var link: UInt32 = 0
        var name = ""
    }

    var objects: [Object]
    var capacity = 48
    var version = "01"

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func padded(_ text: String, _ count: Int) -> [UInt8] {
        Array((Array(text.utf8) + [UInt8](repeating: 0, count: count)).prefix(count))
    }

    /// The file, and where each object's data starts.
    func build() -> (bytes: [UInt8], offsets: [Int]) {
        let tableOffset = 4096
        let dataOffset = tableOffset + capacity * SIFFile.descriptorSize
        var data: [UInt8] = []
        var offsets: [Int] = []
        var table: [UInt8] = []
        for (index, object) in objects.enumerated() {
            while (dataOffset + data.count) % 4096 != 0 { data.append(0) }
            offsets.append(dataOffset + data.count)
            var d = Self.le(object.type) + [1] + Self.le(UInt32(index + 1)) + Self.le(UInt32(0xf000_0001)) + Self.le(object.link)
            d += Self.le(Int64(dataOffset + data.count)) + Self.le(Int64(object.data.count)) + Self.le(Int64(object.data.count))
            d += Self.le(Int64(1_700_000_000)) + Self.le(Int64(1_700_000_000)) + Self.le(Int64(0)) + Self.le(Int64(0))
            d += Self.padded(object.name, 128)
            var extra: [UInt8] = []
            if object.type == 0x4004 {
                extra = Self.le(object.fileSystem) + Self.le(object.partitionType) + Self.padded(object.arch, 3)
            } else if object.type == 0x4005 {
                extra = Self.le(object.hashType) + object.fingerprint
            }
            d += extra + [UInt8](repeating: 0, count: 384 - extra.count)
            table += d
            data += object.data
        }
        table += [UInt8](repeating: 0, count: (capacity - objects.count) * SIFFile.descriptorSize)
        var header = Self.padded("#!/usr/bin/env run-singularity\n", 32) + Self.padded("SIF_MAGIC", 10)
        header += Self.padded(version, 3) + Self.padded("02", 3) + [UInt8](repeating: 0xab, count: 16)
        header += Self.le(Int64(1_700_000_000)) + Self.le(Int64(1_700_000_001))
        header += Self.le(Int64(capacity - objects.count)) + Self.le(Int64(capacity)) + Self.le(Int64(tableOffset))
        header += Self.le(Int64(table.count)) + Self.le(Int64(dataOffset)) + Self.le(Int64(data.count))
        return (header + [UInt8](repeating: 0, count: tableOffset - header.count) + table + data, offsets)
    }
}

@Suite struct SIFFileTests {
    static let squash = SIFBytes.Object(type: 0x4004, data: Array("hsqs-not-really".utf8))

    func parse(_ bytes: [UInt8]) throws -> SIFFile {
        try SIFFile(path: "test.sif", size: UInt64(bytes.count)) { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + count)])
        }
    }

    func error(_ bytes: [UInt8]) -> String {
        do {
            _ = try parse(bytes).primaryPartition()
            return "no error"
        } catch let error as HuskError {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("test.sif: "))
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func readsHeaderDescriptorsAndPrimaryPartition() throws {
        let labels = SIFBytes.Object(type: 0x4003, data: Array("{\"a\":\"b\"}".utf8))
        let (bytes, offsets) = SIFBytes(objects: [labels, Self.squash]).build()
        let sif = try parse(bytes)
        #expect(sif.version == "01")
        #expect(sif.arch == "amd64")
        #expect(sif.id == "abababab-abab-abab-abab-abababababab")
        #expect(sif.created == 1_700_000_000 && sif.modified == 1_700_000_001)
        #expect(sif.descriptors.map(\.id) == [1, 2])
        #expect(sif.descriptors[0].type == .labels)
        #expect(sif.descriptors[1].groupID == 1)
        let primary = try sif.primaryPartition()
        #expect(primary.id == 2)
        #expect(primary.offset == UInt64(offsets[1]))
        #expect(primary.size == UInt64(Self.squash.data.count))
        #expect(primary.partition == SIFFile.Partition(fileSystem: 1, type: 2, arch: "amd64"))
    }

    @Test func listsOtherPartitionsAndSignatures() throws {
        var data = Self.squash
        data.partitionType = 3
        let signature = SIFBytes.Object(type: 0x4005, data: Array("-----BEGIN PGP SIGNED MESSAGE-----".utf8),
                                        hashType: 1, fingerprint: Array(0..<20), link: 1)
        let sif = try parse(SIFBytes(objects: [Self.squash, data, signature]).build().bytes)
        #expect(sif.partitions.map(\.id) == [1, 2])
        #expect(sif.partitions[1].partition?.type == SIFFile.PartitionType.data.rawValue)
        #expect(sif.signatures.count == 1)
        #expect(sif.signatures[0].linkedID == 1 && !sif.signatures[0].linksGroup)
        #expect(sif.signatures[0].signature?.fingerprint == "000102030405060708090A0B0C0D0E0F10111213")
        #expect(sif.signatures[0].signature?.hashName == "SHA-256")
        #expect(try sif.primaryPartition().id == 1)
    }

    @Test func identityChangesWithTheDescriptors() throws {
        let one = try parse(SIFBytes(objects: [Self.squash]).build().bytes)
        var other = Self.squash
        other.data += [0]
        let two = try parse(SIFBytes(objects: [other]).build().bytes)
        #expect(one.identity != two.identity)
        #expect(one.identity == (try parse(SIFBytes(objects: [Self.squash]).build().bytes)).identity)
    }

    @Test func refusesWhatIsNotASIF() {
        #expect(error([]).contains("not a SIF file"))
        #expect(error(Array("hsqs".utf8) + [UInt8](repeating: 0, count: 200)).contains("not a SIF file"))
    }

    @Test func refusesATruncatedFile() {
        let bytes = SIFBytes(objects: [Self.squash]).build().bytes
        #expect(error(Array(bytes.prefix(100))).contains("truncated SIF file"))
        #expect(error(Array(bytes.prefix(5000))).contains("descriptor table ends at"))
        #expect(error(Array(bytes.dropLast(3))).contains("object 1 (descriptor 1) ends at"))
    }

    @Test func refusesAnotherVersion() {
        var builder = SIFBytes(objects: [Self.squash])
        builder.version = "99"
        #expect(error(builder.build().bytes).contains("SIF version \"99\""))
    }

    @Test func refusesDescriptorsOutOfBounds() {
        var bytes = SIFBytes(objects: [Self.squash]).build().bytes
        // The partition's offset (descriptor 1 at 4096, offset field at +17) past the end.
        bytes.replaceSubrange(4096 + 17..<4096 + 25, with: SIFBytes.le(Int64(1) << 40))
        #expect(error(bytes).contains("ends at"))
        bytes.replaceSubrange(4096 + 17..<4096 + 25, with: SIFBytes.le(Int64(-5)))
        #expect(error(bytes).contains("negative offset"))
        bytes.replaceSubrange(4096 + 17..<4096 + 25, with: SIFBytes.le(Int64(200)))
        #expect(error(bytes).contains("overlaps the header"))
        // An overflowing size.
        bytes.replaceSubrange(4096 + 17..<4096 + 25, with: SIFBytes.le(Int64(32768)))
        bytes.replaceSubrange(4096 + 25..<4096 + 33, with: SIFBytes.le(Int64.max))
        #expect(error(bytes).contains("ends at") || error(bytes).contains("truncated"))
    }

    @Test func refusesACraftedDescriptorTable() {
        var bytes = SIFBytes(objects: [Self.squash]).build().bytes
        bytes.replaceSubrange(88..<96, with: SIFBytes.le(Int64(1) << 33))  // total
        #expect(error(bytes).contains("descriptors (expected 1 to"))
        bytes.replaceSubrange(88..<96, with: SIFBytes.le(Int64(48)))
        bytes.replaceSubrange(96..<104, with: SIFBytes.le(Int64(10)))  // table inside the header
        #expect(error(bytes).contains("cannot hold 48 descriptors"))
        bytes.replaceSubrange(96..<104, with: SIFBytes.le(Int64.max - 10))
        #expect(error(bytes).contains("descriptor table ends at") || error(bytes).contains("cannot hold"))
    }

    @Test func refusesExt3AndEncryptedPartitions() {
        var ext3 = Self.squash
        ext3.fileSystem = 2
        #expect(error(SIFBytes(objects: [ext3]).build().bytes).contains("ext3"))
        var encrypted = Self.squash
        encrypted.fileSystem = 5
        let message = error(SIFBytes(objects: [encrypted]).build().bytes)
        #expect(message.contains("encrypted") && message.contains("apptainer"))
        var raw = Self.squash
        raw.fileSystem = 9
        #expect(error(SIFBytes(objects: [raw]).build().bytes).contains("file system type 9, not squashfs"))
    }

    @Test func refusesNoOrTwoPrimaryPartitions() {
        var data = Self.squash
        data.partitionType = 3
        #expect(error(SIFBytes(objects: [data]).build().bytes).contains("without a primary system partition"))
        #expect(error(SIFBytes(objects: [Self.squash, Self.squash]).build().bytes).contains("2 primary system partitions"))
    }

    @Test func everyPrefixAndByteFlipIsOneLine() {
        // Not a fuzzer, but every truncation and a sweep of byte changes over
        // the header and the first descriptor give a one-line error or a file.
        let bytes = SIFBytes(objects: [Self.squash]).build().bytes
        for length in stride(from: 0, to: bytes.count, by: 97) { _ = error(Array(bytes.prefix(length))) }
        for index in Array(0..<128) + Array(4096..<4096 + 585) {
            var changed = bytes
            changed[index] ^= 0xff
            _ = error(changed)
        }
    }

    @Test func readsARealFileAndItsObjects() throws {
        let labels = SIFBytes.Object(type: 0x4003, data: Array("{\"a\":\"b\"}".utf8))
        let path = NSTemporaryDirectory() + "husk-sif-\(UUID().uuidString).sif"
        defer { unlink(path) }
        FileManager.default.createFile(atPath: path, contents: Data(SIFBytes(objects: [labels, Self.squash]).build().bytes))
        #expect(SIFFile.hasMagic(path: path))
        #expect(!SIFFile.hasMagic(path: "/etc/hostname"))
        let sif = try SIFFile(path: path)
        #expect(try sif.contents(of: sif.descriptors[0]) == labels.data)
        #expect(throws: HuskError.self) { try sif.contents(of: sif.descriptors[0], limit: 3) }
    }
}
