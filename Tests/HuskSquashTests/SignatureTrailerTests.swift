import Foundation
import Testing
import HuskCore
@testable import HuskSquash
import HuskTestSupport

/// The signature trailer after the squashfs (DESIGN.md §2), without GnuPG:
/// records are opaque bytes here (Integration/test-signatures.sh signs for real).
@Suite struct SignatureTrailerTests {
    func signedCopy() throws -> (path: String, bytesUsed: UInt64, layout: LayoutBuilder) {
        let layout = try LayoutBuilder()
        let path = try DamagedImageTests.makeImage(in: layout)
        return (path, try SquashReader(path: path).bytesUsed, layout)
    }

    @Test func recordsAppendAfterThePaddingAndReadBack() throws {
        let (path, used, layout) = try signedCopy()
        defer { layout.remove() }
        let before = try SignatureTrailer.squashfsDigest(path: path, bytesUsed: used)
        #expect(try SignatureTrailer.read(path: path, bytesUsed: used).records.isEmpty)
        try SignatureTrailer.append(path: path, bytesUsed: used, payload: Array("one".utf8), signature: [1, 2, 3])
        try SignatureTrailer.append(path: path, bytesUsed: used, payload: Array("two".utf8), signature: [4])
        let (records, end, incomplete) = try SignatureTrailer.read(path: path, bytesUsed: used)
        #expect(records.map(\.payload) == [Array("one".utf8), Array("two".utf8)])
        #expect(records.map(\.signature) == [[1, 2, 3], [4]])
        #expect(records[0].offset == SignatureTrailer.start(bytesUsed: used) && records[0].offset % 4096 == 0)
        let size = UInt64(try DamagedImageTests.bytes(path).count)
        #expect(!incomplete && end == size)
        let after = try SignatureTrailer.squashfsDigest(path: path, bytesUsed: used)
        #expect(after == before, "the squashfs is untouched")
        let passwd = try SquashReader(path: path).readFile("etc/passwd")
        #expect(passwd != nil, "still a readable image")
    }

    @Test func aHalfWrittenRecordIsReportedAndCutOffByTheNextAppend() throws {
        let (path, used, layout) = try signedCopy()
        defer { layout.remove() }
        try SignatureTrailer.append(path: path, bytesUsed: used, payload: [7], signature: [8])
        try DamagedImageTests.write(try DamagedImageTests.bytes(path) + Array("HUSKSIG1".utf8) + [9, 0], to: path)
        #expect(try SignatureTrailer.read(path: path, bytesUsed: used).incomplete)
        try SignatureTrailer.append(path: path, bytesUsed: used, payload: [10], signature: [11])
        let (records, _, incomplete) = try SignatureTrailer.read(path: path, bytesUsed: used)
        #expect(!incomplete && records.map(\.payload) == [[7], [10]])
    }

    @Test func aChangedPaddingByteOrForeignBytesAreDamage() throws {
        let (path, used, layout) = try signedCopy()
        defer { layout.remove() }
        try SignatureTrailer.append(path: path, bytesUsed: used, payload: [1], signature: [2])
        var bytes = try DamagedImageTests.bytes(path)
        let start = Int(SignatureTrailer.start(bytesUsed: used))
        if start > Int(used) {
            bytes[Int(used)] = 0xff
            try DamagedImageTests.write(bytes, to: path)
            #expect(throws: HuskError.self) { try SignatureTrailer.read(path: path, bytesUsed: used) }
            bytes[Int(used)] = 0
        }
        bytes[start] = UInt8(ascii: "X")  // the record's magic
        try DamagedImageTests.write(bytes, to: path)
        #expect(throws: HuskError.self) { try SignatureTrailer.read(path: path, bytesUsed: used) }
    }
}
