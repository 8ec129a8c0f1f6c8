import Foundation
import HuskTestSupport
import Testing
@testable import HuskCore

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
        _ = FileManager.default.createFile(atPath: path, contents: Data(SIFBytes(objects: [labels, Self.squash]).build().bytes))
        #expect(SIFFile.hasMagic(path: path))
        #expect(!SIFFile.hasMagic(path: "/etc/hostname"))
        let sif = try SIFFile(path: path)
        #expect(try sif.contents(of: sif.descriptors[0]) == labels.data)
        #expect(throws: HuskError.self) { try sif.contents(of: sif.descriptors[0], limit: 3) }
    }
}
