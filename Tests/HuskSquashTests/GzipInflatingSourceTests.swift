import Foundation
import Testing
import HuskCore
@testable import HuskSquash

@Suite struct GzipInflatingSourceTests {
    /// gzip bytes from the system's gzip, an independent encoder.
    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-n"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(result)
    }

    var payload: [UInt8] { (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 1000) } }

    func inflate(_ bytes: [UInt8]) throws -> [UInt8] {
        try GzipInflatingSource(ChunkedSource(bytes), what: "layer").readAll(what: "layer")
    }

    @Test func roundTrip() throws {
        #expect(try inflate(try gzip(payload)) == payload)
    }

    @Test func concatenatedMembers() throws {
        let a = Array("first member\n".utf8), b = Array("second member\n".utf8)
        #expect(try inflate(try gzip(a) + gzip(b)) == a + b)
    }

    @Test func truncatedStreamIsCorrupt() throws {
        let compressed = try gzip(payload)
        let error = try #require(throws: HuskError.self) { try inflate(Array(compressed.prefix(compressed.count / 2))) }
        #expect(error.code == .corruptArchive)
    }

    @Test func flippedByteIsCorrupt() throws {
        var compressed = try gzip(payload)
        compressed[compressed.count - 6] ^= 0xff  // inside the CRC32 trailer
        let error = try #require(throws: HuskError.self) { try inflate(compressed) }
        #expect(error.code == .corruptArchive)
    }

    @Test func notGzipIsCorrupt() throws {
        let error = try #require(throws: HuskError.self) { try inflate(Array("plain tar, not gzip".utf8)) }
        #expect(error.code == .corruptArchive)
    }
}

/// Hands out bytes in uneven chunks, as a pipe or network would.
final class ChunkedSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset, 1 + (offset % 5000))
        for i in 0..<n { buffer[i] = bytes[offset + i] }
        offset += n
        return n
    }
}
