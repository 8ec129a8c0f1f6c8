import Testing
@testable import HuskCore

@Suite struct DigestTests {
    @Test func parsesAndPrintsSha256() throws {
        let text = "sha256:" + String(repeating: "ab", count: 32)
        let digest = try Digest(parsing: text)
        #expect(digest.algorithm == "sha256")
        #expect(digest.description == text)
        #expect(digest.short == String(repeating: "ab", count: 6))
    }

    @Test(arguments: [
        "sha256", "sha256:", "sha256:xyz", "md5:" + String(repeating: "0", count: 32),
        "sha256:" + String(repeating: "A", count: 64), "sha256:" + String(repeating: "0", count: 63),
        "sha256:../../etc/passwd",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: HuskError.self) { try Digest(parsing: text) }
    }

    @Test func computesKnownSha256() {
        #expect(Digest.sha256(of: Array("abc".utf8)).hex
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// A ByteSource over bytes, handed out in small pieces to exercise streaming.
final class BytesSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(7, buffer.count, bytes.count - offset)
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
}

@Suite struct VerifyingByteSourceTests {
    let payload = Array("layer content".utf8)

    @Test func passesMatchingContent() throws {
        let source = VerifyingByteSource(BytesSource(payload), digest: Digest.sha256(of: payload),
                                         size: Int64(payload.count), what: "blob")
        #expect(try source.readAll(what: "blob") == payload)
    }

    @Test func rejectsWrongDigest() throws {
        let source = VerifyingByteSource(BytesSource(payload), digest: Digest.sha256(of: Array("other".utf8)),
                                         size: Int64(payload.count), what: "blob")
        let error = try #require(throws: HuskError.self) { try source.readAll(what: "blob") }
        #expect(error.code == .digestMismatch)
        #expect(error.message.contains("digest mismatch"))
    }

    @Test func rejectsTruncatedAndOversizedContent() throws {
        let digest = Digest.sha256(of: payload)
        let short = VerifyingByteSource(BytesSource(payload), digest: digest, size: Int64(payload.count + 1), what: "blob")
        #expect(throws: HuskError.self) { try short.readAll(what: "blob") }
        let long = VerifyingByteSource(BytesSource(payload), digest: digest, size: Int64(payload.count - 1), what: "blob")
        #expect(throws: HuskError.self) { try long.readAll(what: "blob") }
    }
}
